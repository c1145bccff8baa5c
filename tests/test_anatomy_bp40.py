"""The pack's BodyParts3D 4.0 layer: bones, the muscles Z-Anatomy lacks, the
whole-muscle catalogue, and the registration measured in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# Whole muscles of today's maps that neither BodyParts3D 4.0 nor Z-Anatomy has.
ABSENT = {"FMA15569": "quadratus lumborum", "FMA9628": "rectus abdominis",
          "FMA22827": "multifidus", "FMA13357": "latissimus dorsi"}


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
    trap = pack40.muscle_parts("FMA9626", side="right")
    assert len(trap) == 3     # descending (Z-Anatomy) + transverse and ascending (4.0)
    assert "upper trapezius" in {a for p in trap for a in p.aliases}


def test_mirrored_muscles_are_marked(pack40):
    mirrored = [p for p in pack40.parts if p.mirrored]
    # 87 right-only 4.0 muscles were mirrored; those with a Z-Anatomy twin are not in the pack
    assert pack40.manifest["bp3d40"]["mirrored"] >= 86
    assert len(mirrored) >= 50 and all(p.side == "left" and p.source == "bp3d-4.0" for p in mirrored)
    for p in mirrored[:10]:
        right = [q for q in pack40.parts if q.base == p.base and q.side == "right"]
        assert right, p.id


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
