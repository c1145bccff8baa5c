"""The pack's BodyParts3D 3.0 layer: the muscles neither Z-Anatomy nor 4.0 has, and the
five organs (kind "organ"), in the skin's own frame, reachable by FMA id and by name."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from viewer.anatomy import bp3d30
from viewer.anatomy.pack import normalize
from viewer.errors import ViewerError

# Whole muscles of today's maps that no source here has (bodyparts3d-3.0/README.md: "Still in
# no source here"; the first dorsal interosseous of the hand is in neither 3.0 nor the pinned 4.0).
STILL_ABSENT = {"FMA13119": "sternalis", "FMA19087": "levator ani", "FMA49010": "lateral pterygoid",
                "FMA46694": "occipitofrontalis", "FMA46790": "orbicularis oculi",
                "FMA37418": "first dorsal interosseous (hand)",
                # the pelvic floor's superficial muscles: no element in any source
                "FMA19729": "bulbospongiosus", "FMA19730": "ischiocavernosus",
                # DBCLS's full 4.0 archive has FJ1322/FJ1373; the pinned elements do not
                "FMA49039": "superior oblique (eye)"}
# The maps' muscles that only BodyParts3D 3.0 has (no mesh before builder 17).
FROM_30 = {"FMA15569": "quadratus lumborum", "FMA13357": "latissimus dorsi", "FMA9628": "rectus abdominis",
           "FMA13891": "internal oblique", "FMA15570": "transversus abdominis", "FMA22827": "multifidus",
           "FMA15574": "pyramidalis", "FMA19088": "coccygeus", "FMA46834": "buccinator",
           "FMA46808": "zygomaticus major", "FMA49008": "medial pterygoid"}
ORGANS = {"Stomach": "midline", "Liver": "midline", "Kidney.r": "right", "Kidney.l": "left",
          "Trachea": "midline"}


@pytest.fixture(scope="module")
def pack30(pack, shared_anatomy):
    if not (shared_anatomy / bp3d30.DIR).is_dir():
        pytest.skip("bodyparts3d-3.0 not present")
    return pack


def test_3_0_muscles_and_organs_are_in_the_pack(pack30):
    rows = bp3d30.pinned_rows()
    assert len(rows) == 22 + 5
    by_id = {p.id: p for p in pack30.parts}
    for row in rows:
        pid = f"{row['part_base']}.{row['side'][0]}" if row["side"] != "midline" else row["part_base"]
        p = by_id.get(pid)
        assert p is not None, f"{row['name']} ({row['local']}) is not in the pack"
        assert (p.kind, p.source, p.side, p.fma, p.whole_fma) == (
            row["kind"], "bp3d-3.0", row["side"], row["concept"], row["whole_fma"]), pid
        v, f, n = pack30.part_arrays(p)
        assert len(f) >= 100 and f.max() < len(v) and v.shape == n.shape, pid
        cx = float(np.median(v[:, 0]))   # -X is the subject's right
        assert (p.side != "right" or cx < 0) and (p.side != "left" or cx > 0), pid
    assert {o.id: o.side for o in pack30.organs} == ORGANS
    assert all(o.kind == "organ" and o.region == "organ" for o in pack30.organs)
    assert not any(p.kind == "organ" for p in pack30.muscles)
    # by name and FMA id, like muscles
    assert [p.id for p in pack30.find("stomach")] == ["Stomach"]
    assert {p.id for p in pack30.find("fma7203")} == {"Kidney.r", "Kidney.l"}
    assert {p.side for p in pack30.muscle_parts("FMA15569")} == {"right", "left"}
    # organs are not drawn as muscles: the live view's muscle mesh indexes muscles only
    face_part = pack30.display_muscles()[3]
    assert face_part.max() < len(pack30.muscles)


def test_3_0_parts_are_inside_the_skin(pack30):
    """Native frame, no warp: every 3.0 muscle and organ lies inside the skin (generalized
    winding number), as the manifest says."""
    import igl

    report = pack30.manifest["bp3d30"]["inside_fraction"]
    sv, sf = pack30.skin_vertices.astype(np.float64), pack30.skin_faces.astype(np.int64)
    for p in pack30.parts:
        if p.source != "bp3d-3.0":
            continue
        v = pack30.part_arrays(p)[0].astype(np.float64)
        frac = float(np.mean(igl.fast_winding_number(sv, sf, v) > 0.5))
        assert frac >= 0.99, f"{p.id}: {frac:.3f} inside"
        assert abs(frac - report["per_part"][p.id]) < 2e-3, p.id
    assert report["muscles"] >= 0.99 and report["organs"] >= 0.99


def test_every_muscle_some_source_has_now_has_a_mesh(pack30, model):
    """A map's muscle that any source has gets a mesh; the maps still without one are
    exactly those no source has."""
    meshed = {p.muscle.id for p in model.patterns if p.part_ids and p.muscle.kind == "muscle"}
    muscles = [m for m in model.maps.maps if m.kind == "muscle"]
    without = {m.id for m in muscles if m.id not in meshed}
    assert without == set(STILL_ABSENT), sorted(m.name for m in muscles if m.id in without)
    for fma in FROM_30:
        parts = pack30.muscle_parts(fma)
        assert {p.side for p in parts} == {"right", "left"} and {p.source for p in parts} == {"bp3d-3.0"}, fma
    # a 3.0 part's own (sided) concept id never names another map's muscle
    ids = {i: m.id for m in muscles for i in (m.id, *m.also_fma)}
    for p in pack30.parts:
        if p.source == "bp3d-3.0" and p.kind == "muscle":
            assert ids.get(p.fma, p.whole_fma) == p.whole_fma, (p.id, p.fma, ids.get(p.fma))


def test_organ_maps_reach_organs_through_mesh_parts(pack30, model):
    """A map of kind organ names its organ in mesh_parts ("Stomach", "Kidney"): the
    referral layer finds it by base name and side, like a muscle part."""
    from viewer.referral.model import _part_ids
    from viewer.referral.validate import check_map

    organ_map = next(m for m in model.maps.maps if m.kind == "organ")
    kidney = organ_map.model_copy(update={"mesh_parts": ["Kidney"]})
    assert _part_ids(pack30, kidney, "right") == ["Kidney.r"]
    assert _part_ids(pack30, kidney, "left") == ["Kidney.l"]
    stomach = organ_map.model_copy(update={"mesh_parts": ["Stomach", "liver"]})
    assert sorted(_part_ids(pack30, stomach, "left")) == ["Liver", "Stomach"]
    bases = {normalize(p.base) for p in pack30.parts}
    path = model.maps.files[organ_map.id]
    assert not [p for p in check_map(stomach, path, {}, {}, None, bases) if "mesh_parts" in str(p)]
    assert [p for p in check_map(organ_map.model_copy(update={"mesh_parts": ["Spleen"]}), path, {}, {},
                                 None, bases) if "mesh_parts" in str(p)]


def test_weld_closes_sub_millimetre_cracks():
    """Two triangles of a re-exported file whose shared edge was split 0.3 mm apart."""
    v = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [10.3, 0, 0], [0.2, 10.1, 0], [10, 10, 0]], float)
    f = np.array([[0, 1, 2], [3, 5, 4]])
    wv, wf, merged = bp3d30.weld(v, f, 0.5)
    assert merged == 2 and len(wv) == 4
    edges = {tuple(sorted(e)) for t in wf for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0]))}
    assert len(edges) == 5   # the two triangles share an edge now
    assert bp3d30.weld(v, f, 0.01)[2] == 0


def test_damaged_3_0_file_fails_fast_naming_it(shared_anatomy, tmp_path):
    if not (shared_anatomy / bp3d30.DIR).is_dir():
        pytest.skip("bodyparts3d-3.0 not present")
    row = next(r for r in bp3d30.pinned_rows() if "quadratus" in r["name"])
    for r in bp3d30.pinned_rows():
        (tmp_path / r["local"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / r["local"]).symlink_to(shared_anatomy / r["local"])
    bp3d30.check_folder(tmp_path)
    target = tmp_path / row["local"]
    target.unlink()
    shutil.copyfile(shared_anatomy / row["local"], target)
    with open(target, "ab") as fh:
        fh.write(b"v 0 0 0\n")
    with pytest.raises(ViewerError) as exc:
        bp3d30.check_folder(tmp_path)
    assert "Checksum mismatch" in str(exc.value) and re.search(r"quadratus", str(exc.value), re.I)
    assert row["local"].rsplit("/", 1)[1] in str(exc.value.path)
    target.unlink()
    with pytest.raises(ViewerError, match="missing"):
        bp3d30.check_folder(tmp_path)
