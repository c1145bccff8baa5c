"""The pack's BodyParts3D 4.0 layer: bones, the muscles Z-Anatomy lacks, the
whole-muscle catalogue, and the registration measured in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# Whole muscles of today's maps that no source has (neither Z-Anatomy, 4.0 nor 3.0; the
# quadratus lumborum, rectus abdominis, multifidus and latissimus dorsi come from 3.0 now:
# test_anatomy_bp30.py).
ABSENT = {"FMA13119": "sternalis", "FMA19087": "levator ani", "FMA49010": "lateral pterygoid"}


@pytest.fixture(scope="module")
def pack40(pack):
    if not pack.bones:
        pytest.skip("the pack was built without bodyparts3d-4.0")
    return pack


def test_bones_reachable_with_names_fma_sides_and_arrays(pack40):
    bones = pack40.bones
    assert len(bones) >= 200
    lo, hi = pack40.skin_vertices.min(axis=0), pack40.skin_vertices.max(axis=0)
    for b in bones:
        assert b.name and b.fma and b.fma.startswith("FMA") and b.side in ("right", "left", "midline")
        v, f, n = pack40.bone_arrays(b)
        assert len(f) and f.max() < len(v) and v.shape == n.shape
        assert (v.min(axis=0) > lo - 30).all() and (v.max(axis=0) < hi + 30).all(), b.id
        cx = float(np.median(v[:, 0]))
        assert (b.side != "right" or cx < 0) and (b.side != "left" or cx > 0), b
    names = {b.name.lower() for b in bones}
    for landmark_bone in ("right hip bone", "right femur", "left scapula", "seventh cervical vertebra"):
        assert landmark_bone in names, landmark_bone


def test_inside_fractions_in_manifest_are_measured(pack40):
    """The manifest's per-band fractions are what the winding number says now."""
    from viewer.anatomy.warp import inside_by_band

    rep = pack40.manifest["bp3d40"]["inside_fraction"]
    v = np.vstack([pack40.bone_arrays(b)[0] for b in pack40.bones])
    got = inside_by_band(v, pack40.skin_vertices, pack40.skin_faces)
    # stored meshes are the warped ones; the manifest measured the same vertices
    assert abs(got["all"] - rep["bones"]["all"]) < 0.01
    assert set(rep["bones"]) == {"feet", "legs", "knees_thighs", "pelvis_trunk", "chest_arms_head", "all"}


def test_whole_muscles_with_both_sides(pack40):
    from viewer.cli import _whole_muscles

    wholes = _whole_muscles(pack40)
    both = [w for w in wholes if {"right", "left"} <= set(w["sides"]) or w["sides"] == ["midline"]]
    assert len(both) >= 150
    # every whole muscle: both sides, or one midline element spanning both (the longus
    # colli, whose parts the set has for the left only, is mirrored to the right)
    assert [w["name"] for w in wholes if w not in both] == []
    trap = pack40.muscle_parts("FMA9626", side="right")
    assert len(trap) == 3     # descending, transverse and ascending parts (4.0; see the misnamed twin)
    assert "upper trapezius" in {a for p in trap for a in p.aliases}


def test_mirrored_muscles_are_marked(pack40):
    mirrored = [p for p in pack40.parts if p.mirrored]
    # 87 right-only 4.0 muscles were mirrored; those with a Z-Anatomy twin are not in the pack
    assert pack40.manifest["bp3d40"]["mirrored"] >= 86
    assert len(mirrored) >= 50 and all(p.source == "bp3d-4.0" for p in mirrored)
    assert {p.side for p in mirrored} == {"left", "right"}
    for p in mirrored:
        other = "right" if p.side == "left" else "left"
        twin = [q for q in pack40.parts if q.base == p.base and q.side == other and not q.mirrored]
        assert twin, p.id


def map_meshes(pack, d) -> list:
    """Parts a map gets: its mesh_parts (today) or every part of its FMA ids (catalogue)."""
    from viewer.anatomy.pack import normalize

    wanted = {normalize(b) for b in d.get("mesh_parts") or []}
    by_name = [p for p in pack.parts if normalize(p.base) in wanted]
    by_fma = [p for i in [d["id"], *(d.get("also_fma") or [])] for p in pack.muscle_parts(i)]
    return by_name + by_fma


def test_every_map_muscle_has_a_mesh_unless_it_says_no_mesh(pack40, model):
    """What the app shows (the model's parts per pattern) agrees with each map's
    `no_mesh`; the muscles neither anatomy source has are among the no-mesh ones."""
    no_mesh, wrong = set(), []
    for m in model.maps.maps:
        if m.kind != "muscle":   # joints, roots, nerves and organs are drawn on the skin only
            continue
        has = any(p.part_ids for p in model.patterns if p.muscle.id == m.id)
        if m.no_mesh:
            no_mesh.add(m.id)
        if has == m.no_mesh:
            wrong.append(f"{m.name}: no_mesh={m.no_mesh} but {'a' if has else 'no'} mesh in the pack")
    assert not wrong, wrong
    assert set(ABSENT) <= no_mesh
    # the maps that had no mesh before and now do, through the catalogue
    for fma in ("FMA22443", "FMA22440"):   # adductor magnus, pectineus
        assert {p.side for p in pack40.muscle_parts(fma)} == {"right", "left"}


def test_info_json_lists_bones_and_parts(pack40, capsys):
    from viewer.cli import main

    assert main(["info", "--json", "--meshes", str(pack40.dir.parent)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["bones"]["count"] == len(pack40.bones) >= 200
    deltoid = next(w for w in info["whole_muscles"] if w["fma"] == "FMA32521")
    assert len(deltoid["parts"]) >= 4 and deltoid["sides"] == ["left", "right"]
    assert info["bp3d40"]["inside_fraction"]["bones"]["feet"] is not None


def test_catalogue_gives_every_meshed_map_both_sides(pack40):
    """By FMA id or part names, a map gets every part, on both sides (right-only
    BodyParts3D muscles are mirrored); midline muscles (diaphragm) have one."""
    for path in sorted((REPO / "referral_maps" / "muscles").glob("*.yaml")):
        d = yaml.safe_load(path.read_text())
        parts = map_meshes(pack40, d)
        if d.get("no_mesh"):
            assert not parts, d["name"]
            continue
        assert parts, d["name"]
        sides = {p.side for p in parts}
        if d["id"] not in ("FMA13385",) and sides != {"midline"}:   # scalenes: Z-Anatomy's right-only medius+posterior
            assert sides >= {"right", "left"}, d["name"]


# Issue 8: share of warped 4.0 vertices inside the skin, per height band. The README
# promises 0.997 (bones) and 0.998 (muscles) in every band; today's pack measures at least
# 0.9966 (bones, legs: 0.997 to three places) and 0.9986 (muscles, legs). The floors hold
# the promise, the bones' at the measured value's precision; raise them as the fit improves.
BONES_MIN, MUSCLES_MIN = 0.9965, 0.998


def _inside(pack40):
    return pack40.manifest["bp3d40"]["inside_fraction"]


def test_muscles_inside_the_skin_in_every_band(pack40):
    low = {b: f for b, f in _inside(pack40)["muscles"].items() if f is not None and f < MUSCLES_MIN}
    assert not low, f"4.0 muscle bands under {MUSCLES_MIN}: {low}"


def test_bones_inside_the_skin_in_every_band(pack40):
    """Hands included (the knees/thighs band, where they hang): the skin's hands are
    rebuilt around their source fingers (skin.py), and the hand skeleton is posed into them."""
    bones = _inside(pack40)["bones"]
    low = {b: f for b, f in bones.items() if f < BONES_MIN}
    assert not low, f"bone bands under {BONES_MIN}: {low}"


def test_hands_and_toes_posed_within_joint_ranges(pack40):
    """The posing is a skeleton's: a uniform scale of the hand of at least 0.85 and every
    joint angle inside its range (bp3d40 *_LIMITS)."""
    from viewer.anatomy import bp3d40

    posed = pack40.manifest["bp3d40"]["posed"]
    assert {"hand:right", "hand:left", "foot:right", "foot:left"} <= set(posed)
    for key, rep in posed.items():
        assert 0.85 - 1e-3 <= rep["root_scale"] <= 1.0
        for ray in rep["joint_flex_spread_deg"]:
            limits = (bp3d40.TOE_LIMITS if key.startswith("foot") else
                      bp3d40.THUMB_LIMITS if len(ray) == 3 else bp3d40.FINGER_LIMITS)
            for (flex, spread), (flo, fhi, slo, shi) in zip(ray, limits):
                assert flo - 0.1 <= flex <= fhi + 0.1 and slo - 0.1 <= spread <= shi + 0.1, (key, ray)


def test_articulated_fit_bends_a_finger_rigidly_into_a_bent_tube():
    """A straight three-bone 'finger' and a skin that is a tube bent 60 degrees at the middle
    joint: the fit bends that joint, every bone moves rigidly (its shape is kept) and the
    bones stay joined."""
    from viewer.anatomy import warp as W

    def rod(z0, z1, r=3.0):
        t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        return np.vstack([np.column_stack([r * np.cos(t), r * np.sin(t), np.full(12, z)])
                          for z in np.linspace(z0, z1, 8)])

    bones = [rod(0, -40), rod(-42, -70), rod(-72, -90)]
    bend = np.radians(60)
    axis_pt = np.array([0.0, 0.0, -41.0])

    def seg(p, a, b):   # distance from points p to the segment a-b
        ab = b - a
        t = np.clip((p - a) @ ab / (ab @ ab), 0, 1)
        return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)

    u = np.array([0.0, np.sin(bend), -np.cos(bend)])

    def sdf(p):   # a tube of radius 8 down to the joint, then bent 60 degrees toward +y
        p = np.asarray(p, float)
        return np.minimum(seg(p, np.array([0, 0, 10.0]), axis_pt), seg(p, axis_pt, axis_pt + 80 * u)) - 8.0

    ray = W.Ray([0, 1, 2], np.array([[0, 0, 0.0], [0, 0, -41.0], [0, 0, -71.0]]),
                np.array([[1.0, 0, 0]] * 3), np.array([[0, 1.0, 0]] * 3),
                np.array([[-5, 5, -5, 5], [0, 90, 0, 0], [0, 90, 0, 0]], float), np.array([20.0, 0.1, 0.1]))
    pose, rep = W.fit_articulated(bones, [ray], sdf, root_centre=[0, 0, 0], root=False, margin_mm=1.0)
    moved = [W.apply_rigid(b, Rt) for b, Rt in zip(bones, pose)]
    assert rep["joint_flex_spread_deg"][0][1][0] > 30          # the middle joint bent
    assert np.mean(sdf(np.vstack(moved)) < 0) > 0.99           # into the tube
    for b, m in zip(bones, moved):                             # rigidly: same shape
        d0 = np.linalg.norm(b[:, None] - b[None], axis=2)
        d1 = np.linalg.norm(m[:, None] - m[None], axis=2)
        assert np.abs(d0 - d1).max() < 1e-6
    for a, b in zip(moved, moved[1:]):                         # and joined
        assert np.linalg.norm(a[-12:].mean(axis=0) - b[:12].mean(axis=0)) < 4.0


def test_bench_prints_the_inside_fraction_of_every_band(pack40):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    inside = bench.inside_fractions(pack40.dir.parent)
    text = bench.inside_table(inside)
    for band, f in _inside(pack40)["bones"].items():
        line = next(ln for ln in text.splitlines() if ln.startswith(band))
        assert f"{f:.4f}" in line and f"{_inside(pack40)['muscles'][band]:.4f}" in line
    assert ("MISS" in text) == any(f < bench.INSIDE_MIN[k] for k in ("bones", "muscles")
                                   for b, f in _inside(pack40)[k].items() if b != "all" and f is not None)


def test_misnamed_zanatomy_twin_is_replaced_by_the_4_0_element(pack40):
    """Z-Anatomy's 'Descending part of trapezius' lies where the ascending part is (89 mm
    from the 4.0 descending part after the warp): the pack keeps the 4.0 element for upper
    trapezius, on both sides, and says so in the manifest."""
    replaced = pack40.manifest["bp3d40"]["replaced_zanatomy"]
    assert set(replaced) == {"Descending_part_of_trapezius_muscle.r", "Descending_part_of_trapezius_muscle.l"}
    assert all(r["twin_distance_mm"] > 40 for r in replaced.values())
    ids = {p["id"] for p in pack40.manifest["parts"]}
    assert not ids & set(replaced)
    for side in ("right", "left"):
        parts = pack40.muscle_parts("FMA33586", side)
        assert parts and all(p.source == "bp3d-4.0" for p in parts), [p.id for p in parts]
        top = np.vstack([pack40.part_arrays(p)[0] for p in parts])[:, 2].max()
        assert top > 1450, (side, top)     # reaches the occiput, not just the shoulder
