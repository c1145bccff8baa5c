"""Other sources of referred pain (joints, nerve roots, nerves, organs): the maps, the lookup,
the red flags and the segmental level, on the real pack, without a display.

The clinical spots below are the ones the other-sources issue names, each placed from the
body's landmarks (landmark + offset in mm, right-side frame, mirrored for the left); the
expected source is the one the cited clinical literature names for that spot (Fortin 1994
for the sacroiliac joint, Lesher 2008 for the hip, dermatome and nerve-territory teaching,
Head's zones and standard teaching for the organs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from viewer.referral.loader import load_landmarks
from viewer.referral.lookup import lookup_point

REPO = Path(__file__).resolve().parents[1]
TOP = 8          # the expected source must be among the first 8 other sources

# (name, landmark, offset mm, sides, expected source ids: any one of them)
SPOTS = [
    ("Fortin area below the PSIS", "psis", (0, 0, -30), ("right", "left"), {"joint_sacroiliac"}),
    ("buttock", "buttock_center", (0, 0, 0), ("right", "left"), {"joint_hip"}),
    ("groin", "groin", (0, 0, 0), ("right", "left"), {"joint_hip"}),
    ("lower neck beside the spine", "posterior_neck", (0, 0, -35), ("right", "left"),
     {"joint_facet_c4_c5", "joint_facet_c5_c6", "joint_facet_c6_c7"}),
    ("suprascapular area", "suprascapular", (0, 0, 0), ("right", "left"),
     {"joint_facet_c4_c5", "joint_facet_c5_c6", "joint_facet_c6_c7", "joint_facet_c7_t1"}),
    ("low back beside L5", "l5_paraspinal", (0, 0, 0), ("right", "left"),
     {"joint_facet_l4_l5", "joint_facet_l5_s1"}),
    ("top of the foot", "foot_dorsal", (0, 0, 0), ("right", "left"), {"root_l5"}),
    ("little finger", "little_finger", (0, 0, 0), ("right", "left"), {"root_c8"}),
    ("left chest", "pectoral", (0, 0, -20), ("left",), {"organ_heart"}),
    ("right shoulder tip", "acromion", (0, 0, 0), ("right",), {"organ_gallbladder_liver", "organ_diaphragm"}),
    ("tip of the right shoulder blade", "scapula_inferior_angle", (0, 0, 0), ("right",),
     {"organ_gallbladder_liver"}),
    ("flank", "flank", (0, 0, 0), ("right", "left"), {"organ_kidney_ureter"}),
    ("McBurney's point", "mcburney", (0, 0, 0), ("right",), {"organ_appendix"}),
]
RED_FLAG_SPOTS = [("left chest", "pectoral", (0, 0, -20), "left", "organ_heart"),
                  ("McBurney's point", "mcburney", (0, 0, 0), "right", "organ_appendix")]


def spot(landmark: str, offset, side: str) -> np.ndarray:
    p = np.asarray(load_landmarks()[landmark].point, float) + np.asarray(offset, float)
    return p * np.array([-1.0, 1.0, 1.0]) if side == "left" else p


@pytest.mark.parametrize("name, landmark, offset, sides, expected", SPOTS, ids=[s[0] for s in SPOTS])
def test_clinical_spot_lists_its_source(model, name, landmark, offset, sides, expected):
    ids = {m.id for m in model.maps.maps}
    missing = expected - ids
    assert not missing or expected & ids, f"no map for {sorted(expected)}"
    for side in sides:
        res = lookup_point(model, spot(landmark, offset, side))
        top = [(o.source_id, o.side) for o in res.other_sources[:TOP]]
        hit = [(sid, s) for sid, s in top if sid in expected and s in (side, "midline")]
        assert hit, f"{name} ({side}): expected one of {sorted(expected)} on that side in {top}"
        # the muscle list is unchanged by the other kinds: muscles only
        assert all(model.patterns[c.pattern].kind == "muscle" for c in res.candidates)


@pytest.mark.parametrize("name, landmark, offset, side, source", RED_FLAG_SPOTS,
                         ids=[s[0] for s in RED_FLAG_SPOTS])
def test_red_flag_spots_raise_their_flag(model, name, landmark, offset, side, source):
    res = lookup_point(model, spot(landmark, offset, side))
    flags = [f.source_id for f in res.red_flags]
    assert source in flags, f"{name}: flags {flags}"
    data = res.to_json()
    flag = next(f for f in data["red_flags"] if f["source_id"] == source)
    assert flag["action"] and flag["patient"] and flag["warning"]
    other = next(o for o in data["other_sources"] if o["source_id"] == source)
    assert other["red_flag"] is True and other["kind"] == "organ" and other["sources"]


def test_validate_counts_every_kind_and_each_map_cites_a_figure_or_table(model):
    from viewer.referral.schema import FIGURE_OR_TABLE

    by_kind: dict[str, list] = {}
    for m in model.maps.maps:
        by_kind.setdefault(m.kind, []).append(m)
    facets = [m for m in by_kind.get("joint", []) if "facet" in m.id]
    levels = {m.level for m in facets}
    assert {"C2-C3", "C3-C4", "C4-C5", "C5-C6", "C6-C7", "C7-T1",
            "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"} <= levels, sorted(levels)
    joints = {m.id for m in by_kind.get("joint", [])}
    assert {"joint_sacroiliac", "joint_hip"} <= joints
    roots = {m.level for m in by_kind.get("root", [])}
    expected_roots = {f"C{i}" for i in range(2, 9)} | {f"T{i}" for i in range(1, 13)} | \
        {f"L{i}" for i in range(1, 6)} | {"S1", "S2", "S3", "S4-S5"}
    assert len(expected_roots) == 28 and expected_roots <= roots, sorted(expected_roots - roots)
    assert len(by_kind.get("nerve", [])) >= 14
    assert len(by_kind.get("organ", [])) >= 12
    for m in model.maps.maps:
        if m.kind != "muscle":
            assert any(FIGURE_OR_TABLE.search(s) for s in m.sources), m.id
    for must in ("organ_heart", "organ_appendix", "organ_abdominal_aorta"):
        assert next(m for m in by_kind["organ"] if m.id == must).red_flag is not None, must


def test_one_sided_organs_have_one_pattern_on_their_side(model):
    heart = model.patterns_of("organ_heart")
    assert [p.side for p in heart] == ["left"]
    # the heart's zone lies on the subject's left (+x) chest
    e, _ = model.zone_weights(heart[0])
    xs = model.geo.vertices[e >= 0.5, 0]
    assert len(xs) and np.median(xs) > 0
    assert model.pattern("organ_heart", "right") is heart[0]   # the only pattern, whatever side


def test_dermatome_level_at_the_spot_and_select_level_paints_it(model):
    from viewer.state import ViewerState

    state = ViewerState(model)
    state.mark(spot("foot_dorsal", (0, 0, 0), "right"))
    assert "L5" in state.dermatomes
    assert state.select_level("L5")
    shown = state.selected
    assert shown.kind == "root" and shown.muscle.level == "L5" and shown.side == "right"
    e, _ = model.zone_weights(shown)
    assert e[state.marks[0].vertex] >= 0.5          # the dermatome painted covers the spot
    assert not state.select_level("X9")


def test_frequencies_rank_the_sacroiliac_joint_first_in_the_buttock_over_the_groin(model):
    """Slipman 2000: the SI joint refers to the buttock in 94% and to the groin in 14%;
    Lesher 2008: the hip joint to the buttock in 71% and to the groin in 55%. In the buttock the
    SI joint must come before the hip joint, in the groin the hip joint before the SI joint."""
    def rank(res, sid):
        ids = [o.source_id for o in res.other_sources]
        return ids.index(sid) if sid in ids else 99

    butt = lookup_point(model, spot("buttock_center", (0, 0, 0), "right"))
    groin = lookup_point(model, spot("groin", (0, 0, 0), "right"))
    si_b = next(o for o in butt.other_sources if o.source_id == "joint_sacroiliac")
    assert si_b.frequency == pytest.approx(0.94, abs=0.005)
    assert rank(butt, "joint_sacroiliac") < rank(butt, "joint_hip")
    assert rank(groin, "joint_hip") < rank(groin, "joint_sacroiliac")


@pytest.mark.parametrize("kind, text, source_id, name, at, side", [
    ("joint", "TEST_JOINT", "joint_testus", "Testus joint", "greater_trochanter", "right"),
    ("organ", "TEST_ORGAN", "organ_testus", "Testus organ", "umbilicus", "midline"),
])
def test_a_joint_or_organ_added_as_data_alone_is_listed_picked_painted_framed_and_exported(
        pack, tmp_path, kind, text, source_id, name, at, side):
    """Data alone, no code: a map file in a user maps folder is loaded, listed, picked by the
    lookup, painted in the render scene in its kind's colours, framed by the scene's camera and
    exported to a PNG by the API, through the code a muscle takes."""
    import pyvista as pv
    from PIL import Image

    from viewer import api
    from viewer.referral.model import load_model
    from viewer.render import style
    from viewer.render.scene import BodyScene

    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / f"test_{kind}.yaml").write_text(globals()[text])
    model = load_model(pack, user_maps=maps, cache_dir=tmp_path / "cache")
    assert not [p for p in model.problems if f"test_{kind}" in str(p.file)], model.problems
    # listed with its kind, found by name
    assert source_id in [r["id"] for r in api.sources(model, kind)]
    pattern = api.find(model, name)
    assert (pattern.muscle.id, pattern.kind, pattern.side) == (source_id, kind, side)
    # picked: a click on its zone lists it among the other sources, never among the muscles
    where = spot(at, (0, 0, 0), "right")
    res = lookup_point(model, where)
    assert (source_id, side) in [(o.source_id, o.side) for o in res.other_sources]
    assert source_id not in [c.muscle_id for c in res.candidates]
    other = next(o for o in res.other_sources if o.source_id == source_id)
    assert other.frequency == pytest.approx(0.5, abs=0.01) and other.score == pytest.approx(0.5, abs=0.01)
    vertex = int(model.geo.snap(where)[0][0])
    essential = np.array(style.hex_rgb(style.palette(kind)[0]), float)
    assert style.palette(kind) != style.palette("muscle")
    plotter = pv.Plotter(off_screen=True, window_size=(480, 360))
    try:
        # painted in the scene, in the kind's colour
        scene = BodyScene(plotter, model, skin_opacity=1.0, show_muscles=False)
        scene.show_pattern(pattern, render=False)
        assert scene.skin_value[vertex] > 0.5
        assert np.linalg.norm(scene.skin_rgb[vertex].astype(float) - essential) < 40
        # framed: the best view turns to the zone, centred, much closer than the whole body's frame
        ren = plotter.renderer
        painted = model.geo.vertices[scene.skin_value > 0.5]
        sample = painted[np.linspace(0, len(painted) - 1, min(len(painted), 200)).astype(int)]

        def on_screen(points):
            out = []
            for xyz in points:
                ren.SetWorldPoint(*xyz, 1.0)
                ren.WorldToDisplay()
                out.append(ren.GetDisplayPoint()[:2])
            return np.array(out)

        view = scene.best_view()
        scene.set_view(view, focus="body", render=False)
        whole = np.ptp(on_screen(sample), axis=0).max()
        scene.set_view(view, focus="pattern", render=False)
        (x, y), = on_screen([model.geo.vertices[vertex]])
        assert 0.2 * 480 < x < 0.8 * 480 and 0.2 * 360 < y < 0.8 * 360, (x, y)
        assert np.ptp(on_screen(sample), axis=0).max() > 2 * whole, whole
    finally:
        plotter.close()
    # exported off-screen to a PNG by the API, its zone in the kind's colour
    out = api.export(model, name, tmp_path / f"{kind}.png", size=(480, 270))
    with Image.open(out) as im:
        img = np.asarray(im.convert("RGB"), float)
    assert (np.linalg.norm(img - essential, axis=-1) < 40).sum() > 200
    muscle = np.array(style.hex_rgb(style.palette("muscle")[0]), float)
    assert (np.linalg.norm(img - muscle, axis=-1) < 40).sum() < 20          # not in a muscle's colours


def test_cli_lookup_json_and_text_carry_other_sources(model):
    p = spot("pectoral", (0, 0, -20), "left")
    cmd = [sys.executable, "-m", "viewer", "lookup", "--point", *map(str, p), "--json", "--top", "5"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"candidates", "other_sources", "dermatomes", "red_flags"} <= set(data)
    assert len(data["other_sources"]) <= 5
    o = data["other_sources"][0]
    assert {"kind", "name", "level", "side", "zone", "score", "red_flag", "sources"} <= set(o)
    assert any(f["source_id"] == "organ_heart" for f in data["red_flags"])
    text = subprocess.run(cmd[:-3], capture_output=True, text=True, timeout=300, cwd=REPO).stdout
    assert "RED FLAG" in text and "Also consider" in text


def test_one_resolver_typos_and_kinds_everywhere(model):
    from viewer import api as rv
    from viewer.errors import ViewerError

    assert rv.find(model, "glutues minimus").muscle.name == "Gluteus minimus"
    assert rv.find(model, "SI joint").muscle.id == "joint_sacroiliac"
    assert rv.find(model, "L5").muscle.id == "root_l5"
    assert rv.find(model, "meralgia").muscle.id == "nerve_lateral_femoral_cutaneous"
    assert rv.find(model, "gallbladder").muscle.id == "organ_gallbladder_liver"
    with pytest.raises(ViewerError) as exc:
        rv.find(model, "facet")
    assert str(exc.value).startswith("muscle:") and "referral-viewer list" in str(exc.value)
    kinds = {r["kind"] for r in rv.sources(model)}
    assert kinds == {"muscle", "joint", "root", "nerve", "organ"}




def test_levels_name_their_vertebrae():
    from viewer.referral.levels import level_vertebrae, vertebra_name

    assert vertebra_name("L5") == "Fifth lumbar vertebra" and vertebra_name("C2") == "Axis"
    assert vertebra_name("T12") == "Twelfth thoracic vertebra" and vertebra_name("S3") == "Sacrum"
    assert vertebra_name("C8") is None and vertebra_name("L6") is None and vertebra_name("C0") is None
    assert level_vertebrae("L5-S1") == ["Fifth lumbar vertebra", "Sacrum"]
    assert level_vertebrae("S4-S5") == ["Sacrum"] and level_vertebrae("C0-C1") == ["Atlas"]


def test_a_root_shows_its_vertebra_with_the_bones_layer(model):
    import pyvista as pv

    from viewer.render.scene import BodyScene

    plotter = pv.Plotter(off_screen=True, window_size=(200, 150))
    try:
        scene = BodyScene(plotter, model)
        scene.show_pattern(model.pattern("root_l5", "right"), render=False)
        assert "level_bones" not in plotter.actors            # bones hidden: nothing to mark
        scene.set_bones_visible(True, render=False)
        mesh = plotter.actors["level_bones"].GetMapper().GetInput()
        bone = next(b for b in model.pack.bones if b.name == "Fifth lumbar vertebra")
        v = model.pack.bone_arrays(bone)[0]
        centre = (v.min(axis=0) + v.max(axis=0)) / 2          # the bounding-box centre, as mesh.center
        assert np.linalg.norm(np.asarray(mesh.center) - centre) < 1.0
        scene.show_pattern(model.pattern(model.find_muscles("gluteus minimus")[0].id),
                           render=False)
        assert "level_bones" not in plotter.actors            # a muscle has no level to mark
    finally:
        plotter.close()


def test_levels_sort_in_spinal_order():
    from types import SimpleNamespace

    from viewer.referral.levels import level_key

    maps = [SimpleNamespace(level=lv, name=n) for lv, n in
            [("T10-T11", "a"), ("T3-T4", "b"), ("L1-L2", "c"), ("C2-C3", "d"), ("", "Gluteus"), ("S4-S5", "e")]]
    assert [m.level for m in sorted(maps, key=level_key)] == ["C2-C3", "T3-T4", "T10-T11", "L1-L2", "S4-S5", ""]


def test_a_slide_prints_the_drawing_source_without_authors_notes(model):
    """Issue 18: an exported slide printed "figure number inferred, not seen"; such notes stay in
    the map file. The slide cites the source that names the drawing's figure or table."""
    from viewer import api as rv
    from viewer.render.export import attribution_text

    sp = attribution_text(rv.find(model, "serratus posterior inferior"))
    assert "Figure 47.5" in sp and "inferred" not in sp and "not seen" not in sp
    assert "not a diagnosis" in sp
    heart = attribution_text(rv.find(model, "heart"))
    src = next(s for s in rv.find(model, "heart").muscle.sources if "Fig" in s or "Table" in s)
    assert src.split(".")[0] in heart


def _source_map(kind: str, name: str, at: str, *, body_region: str, segments: str, extra: str = "",
             width: int = 60) -> str:
    """A minimal map of a source of `kind` (not clinical content): one essential disc at `at`
    felt by half of the patients, and a site marker there."""
    return f"""
kind: {kind}
id: {kind}_testus
name: {name}
aliases: []
body_region: {body_region}
segments: [{segments}]
{extra}sites:
  - label: Testus
    at: {at}
    description: A test {kind} at the {at.replace("_", " ")}.
zones:
  essential:
    - description: A disc at the {at.replace("_", " ")}.
      frequency: 0.5
      strokes:
        - points: [{at}]
          width: {width}
description: A test source, not clinical content (tests/test_sources.py).
sources:
  - Test fixture for tests/test_sources.py, not a clinical source; drawn as in Fig. 1 of nothing.
"""


TEST_JOINT = _source_map("joint", "Testus joint", "greater_trochanter", body_region="hip", segments="L4, L5",
                         extra="level: L4-L5\n")
TEST_ORGAN = _source_map("organ", "Testus organ", "umbilicus", body_region="abdomen", segments="T10",
                         extra="sides: midline\nmesh_parts: []\n", width=70)
