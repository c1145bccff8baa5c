"""The published pain-area reference (tests/data/pain_areas.yaml) as a test.

For every pain area of Travell & Simons' pain guides, the lookup runs at the
area's skin point (both sides of the body where the area is sided). Of the
muscles the guide names that the app has, at least 90% must be in the top 10
distinct muscles of the answer, and every primary (most frequent) one in the
top 5, overall. Muscles the app does not have are reported, not counted.
Per-area failures are printed, grouped by cause.

The 90%/100% goal is marked `content`: it cannot pass before the content work of
issue 9 lands (strict xfail by default; `pytest --content tests/test_pain_areas.py -s`
shows today's figures). Today's figures are a floor every run enforces
(test_pain_areas_do_not_fall_below_todays_figures).

The same reference painted as a therapist paints it (issue 18): each area's
extent (its landmark points and disc radius, as the guide's chart shows it)
through the area lookup; measured floors enforced, the 90%/100% levels a strict
xfail until met. Reading the file, matching names and painting an area are
viewer.referral.pain_areas (shared with scripts/pain_area_slack.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from viewer.errors import ViewerError
from viewer.referral import pain_areas as pa
from viewer.referral.loader import load_landmarks
from viewer.referral.lookup import lookup_point
from viewer.referral.pain_areas import TOP, TOP_PRIMARY, app_ids, listed_muscles, matches, rank_of, zone_distance

DATA = Path(__file__).parent / "data" / "pain_areas.yaml"
LEVEL, LEVEL_PRIMARY = 0.90, 1.0


def load_areas() -> tuple[dict, list[dict]]:
    return pa.load_areas(DATA)


def area_spots():
    """(area, side, point mm) for every pain area on each side it is tested on."""
    return pa.area_spots(load_areas()[1])


@dataclass
class Report:
    listed: int = 0
    in_top: int = 0
    primary: int = 0
    primary_in_top: int = 0
    missing: Counter = field(default_factory=Counter)          # listed muscles the app lacks
    low: list = field(default_factory=list)                    # (area, side, muscle, rank, primary, cause)


# Why a listed muscle misses its rank, so that the report separates what content can fix
# from what the ranking rules themselves decide (essential zones come before spillover).
BEHIND_ESSENTIAL = "spillover here, behind essential zones"
SPILL_LOW = "spillover here, outranked by stronger or smaller spillover zones"
ESSENTIAL_LOW = "essential here, outranked by stronger or smaller essential zones"
EDGE_LOW = "at the edge, after the covering zones"
TOO_FAR = "its zones end away from the spot"


def failure_cause(model, vertex: int, ids: list[str], order_kinds: dict, n_essential: int, need: int) -> str:
    """Classify a ranking failure at a skin vertex (see the constants above)."""
    kind = min((order_kinds[i] for i in ids if i in order_kinds), default=None)
    if kind == 0:
        return ESSENTIAL_LOW
    if kind == 1:
        return BEHIND_ESSENTIAL if n_essential >= need else SPILL_LOW
    if kind == 2:
        return EDGE_LOW
    return f"{TOO_FAR} ({zone_distance(model, vertex, ids):.0f} mm in a straight line)"


# A therapist paints the painful area: each area's extent is its centre point plus the
# `extent` points given in the data file (landmark + offset, the chart's spread of the
# area), each a disc of the extent radius (pain_areas.DEFAULT_RADIUS_MM when not given).
def painted_candidates(model, area, side, pt):
    """The area lookup's answer for the painted extent of an area (discs along the skin)."""
    from viewer.referral.lookup import area_result

    return area_result(model, pa.paint_area(model, area, side)).candidates, int(model.geo.snap(pt)[0][0])


def evaluate(model, painted: bool = False) -> Report:
    ids_of = app_ids(model)
    rep = Report()
    for area, side, pt in area_spots():
        order, kinds = [], {}          # kinds: 0 essential, 1 spillover, 2 at the edge
        if painted:
            cands, vertex = painted_candidates(model, area, side, pt)
            res = type("R", (), {"candidates": cands, "vertex": vertex})
        else:
            res = lookup_point(model, pt)
        for c in res.candidates:
            if c.muscle_id not in order:
                order.append(c.muscle_id)
                kinds[c.muscle_id] = 2 if c.at_edge else (0 if c.zone == "essential" else 1)
        n_essential = sum(k == 0 for k in kinds.values())
        for listed, is_primary in listed_muscles(area):
            ids = ids_of(listed)
            if not ids:
                if side != "left":
                    rep.missing[listed] += 1
                continue
            rank = rank_of(order, ids)
            rep.listed += 1
            ok = rank is not None and rank < TOP
            rep.in_top += ok
            if is_primary:
                rep.primary += 1
                rep.primary_in_top += rank is not None and rank < TOP_PRIMARY
            if not ok or (is_primary and (rank is None or rank >= TOP_PRIMARY)):
                need = TOP_PRIMARY if is_primary else TOP
                cause = failure_cause(model, res.vertex, ids, kinds, n_essential, need)
                rep.low.append((area["name"], side, listed, rank, is_primary, cause))
    return rep


def format_report(rep: Report) -> str:
    lines = [f"listed muscles the app has: {rep.in_top}/{rep.listed} in the top {TOP} "
             f"({rep.in_top / max(rep.listed, 1):.0%}, need {LEVEL:.0%}); primary in the top {TOP_PRIMARY}: "
             f"{rep.primary_in_top}/{rep.primary} ({rep.primary_in_top / max(rep.primary, 1):.0%}, need 100%)",
             f"missing from the app ({len(rep.missing)} muscles, areas naming them): "
             + ", ".join(f"{k} ({v})" for k, v in rep.missing.most_common())]
    causes: dict = {}
    for *_, primary, cause in rep.low:
        key = (cause.split(" (")[0], primary)
        causes[key] = causes.get(key, 0) + 1
    lines.append("why they miss (primary / other):")
    for c in (BEHIND_ESSENTIAL, SPILL_LOW, ESSENTIAL_LOW, EDGE_LOW, TOO_FAR):
        lines.append(f"  {c}: {causes.get((c, True), 0)} / {causes.get((c, False), 0)}")
    by_area: dict = {}
    for area, side, muscle, rank, primary, cause in rep.low:
        by_area.setdefault(area, []).append(
            f"{muscle}{'*' if primary else ''} [{side}] {'not listed' if rank is None else f'#{rank + 1}'}"
            f" - {cause}")
    lines.append("present but ranked low (* primary, needs top 5; others top 10):")
    for a, v in by_area.items():
        lines.append(f"  {a}:")
        lines += [f"    {x}" for x in v]
    return "\n".join(lines)


def test_reference_is_well_formed():
    sources, areas = load_areas()
    lms = load_landmarks()
    assert len(areas) >= 60
    for a in areas:
        assert a["source"] in sources and a["point"]["at"] in lms, a["name"]
        assert a["primary"], a["name"]
        ext = a.get("extent") or {}
        assert ext.get("radius", 0) > 0, f"{a['name']}: no extent (the chart's area a therapist paints)"
        assert all(q["at"] in lms for q in ext.get("points", [])), a["name"]
    for key, s in sources.items():
        assert re.search(r"Vol\. [12]", s) and re.search(r"(1st|2nd) ed\.", s), key
        assert re.search(r"Chapter \d+", s) and re.search(r"Figure \d+\.\d+", s), key
    regions = {a["region"] for a in areas}
    for need in ("head", "face", "jaw", "neck", "shoulder", "arm", "elbow", "forearm", "wrist", "hand",
                 "fingers", "chest", "abdomen", "upper back", "mid back", "low back", "buttock", "hip",
                 "groin", "pelvis", "thigh front", "thigh back", "thigh side", "thigh inner", "knee front",
                 "knee back", "knee side", "leg", "ankle", "heel", "sole", "toes"):
        assert need in regions, f"no pain area for {need}"


def test_matching_rules():
    assert matches("trapezius", "Upper trapezius") and matches("sternocleidomastoid", "Sternocleidomastoid (sternal division)")
    assert matches("scalene", "Scalenes") and matches("multifidus", "Multifidi")
    assert not matches("extensor digitorum", "Extensor digitorum longus")
    assert not matches("gluteus medius", "Gluteus minimus") and not matches("pectoralis major", "Pectoralis minor")
    assert not matches("serratus anterior", "Serratus posterior superior")
    assert matches("interossei foot", "Interossei of the foot") and not matches("tibialis anterior", "Tibialis posterior")


def test_a_bad_pain_areas_file_names_the_area_and_the_field(tmp_path):
    bad = tmp_path / "areas.yaml"
    bad.write_text("sources: {s: x}\nareas:\n  - {name: neck pain, primary: [a], muscles: []}\n")
    with pytest.raises(ViewerError) as exc:
        pa.load_areas(bad)
    assert "neck pain" in str(exc.value) and "`point`" in str(exc.value) and "areas[0].point" in str(exc.value)
    bad.write_text("areas: []\n")
    with pytest.raises(ViewerError, match="sources"):
        pa.load_areas(bad)


# Ratchet: today's figures (612/769 listed muscles in the top 10, 253/290 primaries in the
# top 5), less a small margin for content edits. A fall below them fails; raise them as the
# content improves (never lower them to make a change pass). Lowered once, from 254 to 251
# primaries, by issue 18's review fixes: zones were corrected to their drawings (the
# digastric's incisor zone off the upper teeth; gluteus medius' and quadratus lumborum's
# own-side sacral zones stop at the midline, so the midline sacral point lies at their
# edge) and seven new muscles take rows near the eye, fingers and wrist (618/258 -> 612/253).
FLOOR_IN_TOP, FLOOR_PRIMARY = 608, 251
FLOOR_LISTED, FLOOR_PRIMARIES = 760, 285     # the reference's muscles the app has (no silent drop)


@pytest.fixture(scope="module")
def report(model):
    return evaluate(model)


def test_pain_areas_do_not_fall_below_todays_figures(report):
    text = format_report(report)
    assert report.listed >= FLOOR_LISTED and report.primary >= FLOOR_PRIMARIES, text
    assert report.in_top >= FLOOR_IN_TOP, f"{report.in_top} < {FLOOR_IN_TOP} in the top {TOP}\n{text}"
    assert report.primary_in_top >= FLOOR_PRIMARY, \
        f"{report.primary_in_top} < {FLOOR_PRIMARY} primaries in the top {TOP_PRIMARY}\n{text}"


@pytest.mark.content(reason="needs the issue-9 content (110+ muscles, fixed widths/landmarks)")
def test_published_pain_areas_rank_their_muscles(report):
    """The single centre click of each area (reported; the painted test below is the gate)."""
    rep = report
    text = format_report(rep)
    print("\ncentre click:\n" + text)
    assert rep.in_top >= LEVEL * rep.listed and rep.primary_in_top >= LEVEL_PRIMARY * rep.primary, text


# Measured floors of the painted test (issue 18): the levels above are not reached yet; these
# are the figures measured when the test was written, so any regression fails. Raise them as
# content and ranking improve (never lower them to make a change pass). Measured 664/769 and
# 264/290 on the ranking branch; 659/263 after merging main's review fixes of issue 18 (zones
# corrected to their drawings, one-sided sacral zones stopping at the midline, seven new
# muscles taking rows), which this branch's ranking did not change; 657/263 after merging
# main's six new muscle maps (abductor pollicis brevis and longus, bulbospongiosus,
# ischiocavernosus, omohyoid, superior oblique of the eye), which take rows in the areas
# they refer to (the area lookup is unchanged on this branch). Each area then got its extent
# as the chart draws it (until then only the 30 mm disc around its centre was painted):
# 657/263 -> 689/265 (painted as one stroke through its points), the lookup unchanged.
PAINTED_FLOOR_IN_TOP, PAINTED_FLOOR_PRIMARY = 689, 265


@pytest.fixture(scope="module")
def painted_report(model):
    return evaluate(model, painted=True)


def test_painted_pain_areas_do_not_fall_below_measured_floors(painted_report):
    """Each area painted as a therapist paints it (its extent), through the area lookup."""
    rep = painted_report
    text = format_report(rep)
    print("\npainted:\n" + text)
    assert rep.listed >= FLOOR_LISTED and rep.primary >= FLOOR_PRIMARIES, text
    assert rep.in_top >= PAINTED_FLOOR_IN_TOP and rep.primary_in_top >= PAINTED_FLOOR_PRIMARY, text


@pytest.mark.xfail(strict=True, reason="issue 18: painted areas at 90% in the top 10 / every primary in the top 5 "
                                       "not reached yet (see the floors above)")
def test_painted_pain_areas_rank_their_muscles(painted_report):
    rep = painted_report
    text = format_report(rep)
    assert rep.in_top >= LEVEL * rep.listed and rep.primary_in_top >= LEVEL_PRIMARY * rep.primary, text


def test_an_area_is_painted_as_one_stroke_through_its_points():
    """A limb area given by two points 100 mm apart is painted as a band, not two discs."""
    lms = {"a": type("L", (), {"point": (0.0, 0.0, 0.0)})(), "b": type("L", (), {"point": (0.0, 0.0, 100.0)})()}
    area = {"name": "test area", "point": {"at": "a"}, "extent": {"points": [{"at": "b"}], "radius": 20}}
    pts, radius = pa.area_extent_points(area, "right", lms)
    assert radius == 20 and len(pts) >= 6
    assert pts[0].tolist() == [0, 0, 0] and pts[-1].tolist() == [0, 0, 100]
    assert np.all(np.linalg.norm(np.diff(pts, axis=0), axis=1) <= 20 + 1e-9)
    left, _ = pa.area_extent_points(area, "left", lms)
    assert np.allclose(left, pts * [-1, 1, 1])
