"""Content rules of issue 9, checked over every built-in muscle map file.

- Trigger points of a muscle with a mesh lie within 15 mm of that muscle's surface. The
  point measured is the *authored* point (landmark + offset, or the raw point), before it
  is snapped to the skin: authors place deep trigger points with an offset into the body;
  the distance is to the nearest vertex of the muscle's right-side mesh parts in the pack
  (vertex spacing ~1-3 mm, so it may overstate the surface distance by about that much).
- One-sided features (`mirror: false` zones and trigger points) never reach the left pattern.
- Every Travell & Simons citation gives the volume ("Vol. 1"/"Vol. 2"), the edition
  ("1st ed."/"2nd ed."), "Chapter N" and "Figure N.M". A Travell & Simons citation is a
  source naming the Trigger Point Manual with Travell or Simons as first author (Donnelly's
  3rd edition, a single volume, is another book and is not held to this form).
- At least two sources, one of which is not Travell & Simons (no "Travell"/"Simons" in it).
- `anatomy` present, with the innervation's spinal segments (empty only for a cranial nerve).

Rules today's files do not meet are marked `content` (strict xfail by default; run
`pytest --content tests/test_content_rules.py` to see the offenders).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.spatial import cKDTree

from viewer.anatomy.pack import normalize
from viewer.referral import fields as F
from viewer.referral.loader import load_landmarks, load_maps
from viewer.referral.model import _part_ids
from viewer.referral.points import resolve
from viewer.referral.schema import Stroke, TriggerPoint, Zone

MAX_TRP_MM = 15.0
MAPS = load_maps(user_dir=None)
# These are the muscle chapters' rules; joints, roots, nerves and organs cite their papers'
# figures or tables (checked by the schema and in tests/test_sources.py).
MUSCLES = [m for m in MAPS.maps if m.kind == "muscle"]
CRANIAL = re.compile(r"cranial|facial|trigeminal|mandibular|maxillary|hypoglossal|oculomotor|vagus|glossopharyngeal",
                     re.I)


def _name(m) -> str:
    return f"{MAPS.files[m.id].name} ({m.name})"


def is_ts(source: str) -> bool:
    return ("Trigger Point Manual" in source and re.match(r"\s*(Travell|Simons)", source) is not None
            and "Donnelly" not in source)


def ts_citation_problem(source: str) -> str | None:
    missing = [what for what, rx in [("volume", r"\bVol\. [12]\b"), ("edition", r"\b(1st|2nd) ed\."),
                                      ("chapter", r"\bChapter \d+\b"), ("figure", r"\bFigure \d+\.\d+\b")]
               if not re.search(rx, source)]
    return f"no {', '.join(missing)}" if missing else None


def test_citation_rule_itself():
    good = ("Simons DG, Travell JG, Simons LS. Travell & Simons' Myofascial Pain and Dysfunction: The Trigger "
            "Point Manual. Vol. 1: Upper Half of Body. 2nd ed. Baltimore: Williams & Wilkins; 1999. "
            "Chapter 9, Figure 9.1.")
    assert is_ts(good) and ts_citation_problem(good) is None
    assert ts_citation_problem(good.replace("Chapter 9, Figure 9.1.", "Chapter: Temporalis.")) == "no chapter, figure"
    assert not is_ts("Donnelly JM, et al. Travell, Simons & Simons' Myofascial Pain and Dysfunction: The Trigger "
                     "Point Manual. 3rd ed. 2019.")


def test_travell_simons_citations_give_volume_edition_chapter_and_figure():
    bad = []
    for m in MUSCLES:
        for s in m.sources:
            if is_ts(s) and (p := ts_citation_problem(s)):
                bad.append(f"{_name(m)}: {p}: {s[:90]}...")
    assert not bad, f"{len(bad)} citations:\n" + "\n".join(bad)


def test_two_sources_one_not_travell_simons():
    bad = []
    for m in MUSCLES:
        others = [s for s in m.sources if "Travell" not in s and "Simons" not in s]
        if len(m.sources) < 2 or not others:
            bad.append(f"{_name(m)}: {len(m.sources)} source(s), {len(others)} not by Travell & Simons")
    assert not bad, f"{len(bad)} files:\n" + "\n".join(bad)


def test_anatomy_with_innervation_segments():
    bad = []
    for m in MUSCLES:
        if m.anatomy is None:
            bad.append(f"{_name(m)}: no anatomy")
        elif not m.anatomy.innervation.segments and not CRANIAL.search(m.anatomy.innervation.nerve):
            bad.append(f"{_name(m)}: no spinal segments for {m.anatomy.innervation.nerve}")
    assert not bad, f"{len(bad)} files:\n" + "\n".join(bad)


def trp_distances(pack) -> list[tuple[str, str, float]]:
    """(file (muscle), trigger point, mm from the muscle's right-side mesh) for every muscle
    the pack has a mesh for, found as the viewer finds it (by FMA id through the pack's
    catalogue, and by `mesh_parts`), so `mesh_parts: []` does not hide a mesh."""
    lms = load_landmarks()
    out = []
    for m in MUSCLES:
        parts = [pack.part(i) for i in _part_ids(pack, m, "right")]
        if not parts:
            continue
        tree = cKDTree(np.vstack([pack.part_arrays(p)[0] for p in parts]).astype(float))
        for tp in m.trigger_points:
            d = float(tree.query(resolve(tp.ref, lms))[0])
            out.append((_name(m), tp.label, d))
    return out


def test_trigger_points_within_15_mm_of_their_muscle(pack):
    dist = trp_distances(pack)
    assert dist, "no muscle with a mesh"
    bad = [f"{f} {label}: {d:.0f} mm" for f, label, d in dist if d > MAX_TRP_MM]
    assert not bad, f"{len(bad)} of {len(dist)} trigger points more than {MAX_TRP_MM:.0f} mm from their muscle:\n" \
        + "\n".join(sorted(bad, key=lambda s: -float(s.rsplit(' ', 2)[-2])))


def test_trigger_point_distance_is_measured_from_the_authored_point(pack):
    """The rule's yardstick: a point on a muscle's own vertex is 0 mm away, 40 mm off it is not."""
    m = next(m for m in MUSCLES if m.mesh_parts)
    part = next(p for p in pack.parts if p.side == "right" and normalize(p.base) in {normalize(b) for b in m.mesh_parts})
    v = pack.part_arrays(part)[0][0].astype(float)
    tree = cKDTree(pack.part_arrays(part)[0].astype(float))
    assert tree.query(v)[0] == 0.0 and tree.query(v + np.array([-40.0, 0, 0]))[0] > MAX_TRP_MM


def _without(m, zone_kind, zi):
    zones = m.zones.model_copy(update={zone_kind: [z for i, z in enumerate(getattr(m.zones, zone_kind)) if i != zi]})
    return m.model_copy(update={"zones": zones})


def _one_sided_cases(model):
    """(muscle map, zone kind, index) of every mirror:false zone in the maps, plus one made here
    (a one-sided spot added to the first map), so the rule is exercised even while no file has one."""
    cases = [(m, kind, i) for m in MUSCLES for kind in ("essential", "spillover")
             for i, z in enumerate(getattr(m.zones, kind)) if not z.mirror]
    base = MUSCLES[0]
    spot = Zone(description="one-sided test spot", strokes=[Stroke(points=["nipple"], width=40)], mirror=False)
    tp = TriggerPoint(label="one-sided", at="nipple", description="test point", mirror=False)
    made = base.model_copy(update={"zones": base.zones.model_copy(update={"spillover": [*base.zones.spillover, spot]}),
                                   "trigger_points": [*base.trigger_points, tp]})
    return cases + [(made, "spillover", len(made.zones.spillover) - 1)]


def test_one_sided_features_are_never_mirrored(model):
    lms = load_landmarks()
    ri = F.region_lookup(model.regions)
    for m, kind, zi in _one_sided_cases(model):
        f = F.muscle_fields(m, model.geo, lms, model.region_labels, ri, model.segment_labels)
        g = F.muscle_fields(_without(m, kind, zi), model.geo, lms, model.region_labels, ri, model.segment_labels)
        k = 0 if kind == "essential" else 1
        assert np.array_equal(f["left"][k], g["left"][k]), f"{m.name}: one-sided {kind} zone {zi} reaches the left"
        assert not np.array_equal(f["right"][k], g["right"][k]), f"{m.name}: one-sided zone {zi} missing on the right"
    # one-sided trigger points: only on the right pattern of the model
    for p in model.patterns:
        one_sided = {t.label for t in p.muscle.trigger_points if not t.mirror}
        if p.side == "left":
            assert not one_sided & {label for label, _ in p.trigger_points}, p.title
