"""The mesh pack built from ../shared/anatomy: counts, frame, sides, registration, errors."""

from __future__ import annotations

import errno
import json
import shutil

import numpy as np
import pytest

from viewer.anatomy import build as build_mod
from viewer.anatomy.build import build_pack, current_pack
from viewer.anatomy.pack import Pack
from viewer.cli import main
from viewer.errors import ViewerError


def test_skin_is_large_closed_and_in_native_frame(pack):
    v = pack.skin_vertices
    assert len(v) >= 40_000
    # native BodyParts3D frame: mm, feet near z=0, head near z=1670, face toward -Y
    assert -30 < v[:, 2].min() < 30 and 1600 < v[:, 2].max() < 1700
    nose_height = v[(v[:, 2] > 1500) & (v[:, 2] < 1560)]
    assert nose_height[:, 1].min() < -150 and nose_height[:, 1].max() < 60  # face looks to -Y
    assert pack.manifest["skin"]["inner_sheets_removed_faces"] > 1000   # duplicate sheet dropped
    assert pack.manifest["skin"]["fragments_merged"] > 500              # head, hands, feet kept


def test_muscles_count_sides_and_no_placeholder(pack):
    parts = pack.parts
    assert len(parts) >= 110
    assert not any("placeholder" in p.id.lower() for p in parts)
    for p in parts:
        v, _, _ = pack.part_arrays(p)
        cx = float(np.median(v[:, 0]))
        if p.side == "right":
            assert cx < 0, f"{p.id} is right but lies at x={cx:.0f}"
        elif p.side == "left":
            assert cx > 0, f"{p.id} is left but lies at x={cx:.0f}"


def test_inside_fraction_measured_by_winding_number(pack):
    from viewer.anatomy.register import inside_fraction

    allv = np.vstack([pack.part_arrays(p)[0] for p in pack.parts if p.source == "z-anatomy"])
    frac = inside_fraction(allv, pack.skin_vertices, pack.skin_faces)
    assert frac >= 0.95
    assert abs(frac - pack.manifest["inside_fraction"]) < 1e-3
    reg = pack.manifest["registration"]
    assert 0.9 < reg["scale"] < 1.05 and reg["inside_fraction_before"] < frac


def test_lookup_by_id_fma_name_alias(pack):
    gmed = pack.find("Gluteus_medius_muscle.r")
    assert [p.side for p in gmed] == ["right"]
    by_fma = pack.find("fma22315")
    assert {p.side for p in by_fma} == {"right", "left"}
    assert {p.id for p in pack.find("gluteus medius")} == {p.id for p in by_fma}
    assert [p.id for p in pack.find("RIGHT GLUTEUS MEDIUS")] == ["Gluteus_medius_muscle.r"]
    assert pack.find("no such muscle") == []


def test_manifest_records_sources_and_attribution(pack):
    m = pack.manifest
    assert m["frame"]["units"] == "mm" and m["frame"]["anterior"] == "-Y"
    assert "DBCLS" in m["attribution"] and "Z-Anatomy" in m["attribution"]
    for e in m["parts"]:
        assert len(e["source_sha256"]) == 64 and e["vertices"] > 0 and e["faces"] > 0
    assert m["excluded_parts"] == ["Triceps_medial_head_PLACEHOLDER.l", "Triceps_medial_head_PLACEHOLDER.r"]


def test_info_json(pack, capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["skin_vertices"] >= 40_000 and info["inside_fraction"] >= 0.95
    assert len(info["muscles"]) >= 110
    assert {"id", "name", "side", "fma"} <= set(info["muscles"][0])
    assert "BodyParts3D" in info["attribution"]


def test_second_build_is_a_noop(pack, shared_anatomy):
    root = pack.dir.parent
    report = build_pack(shared_anatomy, root)
    assert report.skipped and report.pack_dir == pack.dir


def _copy_source(shared_anatomy, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(shared_anatomy, src)
    return src


def test_corrupt_source_gives_clear_error_and_keeps_pack(pack, shared_anatomy, tmp_path, capsys):
    # a copy of the built pack folder: the test never builds into the default (shared) one
    root = tmp_path / "meshes"
    root.mkdir()
    shutil.copytree(pack.dir, root / pack.dir.name)
    shutil.copy(pack.dir.parent / "current.json", root / "current.json")
    before = (root / "current.json").read_text()
    src = _copy_source(shared_anatomy, tmp_path)
    with open(src / "muscles_zanatomy.glb", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00garbage\x00" * 10)
    code = main(["build", "--source", str(src), "--meshes", str(root), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0
    assert "muscles_zanatomy.glb" in err and "Checksum mismatch" in err and "Fix:" in err
    assert "Traceback" not in err
    assert (root / "current.json").read_text() == before and current_pack(root) == root / pack.dir.name
    assert sorted(p.name for p in root.iterdir()) == sorted(["current.json", pack.dir.name])


def test_corrupt_glb_with_unverified_flag_names_the_file(shared_anatomy, tmp_path, capsys):
    src = _copy_source(shared_anatomy, tmp_path)
    (src / "muscles_zanatomy.glb").write_bytes(b"glTF not really")
    code = main(["build", "--source", str(src), "--meshes", str(tmp_path / "m"), "--allow-unverified",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "muscles_zanatomy.glb" in err and "could not be read" in err


def test_missing_source(tmp_path, capsys):
    code = main(["build", "--source", str(tmp_path / "nowhere"), "--meshes", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and "Fix:" in err
    assert not (tmp_path / "m").exists()


def test_missing_pack_is_a_clear_error(tmp_path, capsys):
    assert main(["info", "--meshes", str(tmp_path / "empty")]) == 2
    assert "No mesh pack is built yet" in capsys.readouterr().err


def test_disk_full_mid_write_keeps_previous_pack(pack, tmp_path, monkeypatch):
    """A failing write discards the half-built pack; the pack in use is untouched."""
    root = tmp_path / "packs"
    shutil.copytree(pack.dir, root / pack.dir.name)
    (root / "current.json").write_text(json.dumps({"pack": pack.dir.name, "key": pack.key}))

    calls = {"n": 0}
    real_savez = np.savez

    def failing_savez(path, **arrays):
        calls["n"] += 1
        if calls["n"] == 2:                      # after the skin, while writing muscles
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_savez(path, **arrays)

    monkeypatch.setattr(build_mod.np, "savez", failing_savez)

    class Skin:
        vertices = pack.skin_vertices
        faces = pack.skin_faces
        normals = pack.skin_normals

    from viewer.anatomy.muscles import MusclePart

    parts = [MusclePart("A.r", "A", "A", "right", None, "other", *pack.part_arrays(pack.parts[0]))]
    with pytest.raises(ViewerError, match="disk is full"):
        build_mod._write(root, "f" * 64, Skin, parts, {"key": "f" * 64})
    assert current_pack(root) == root / pack.dir.name
    assert Pack(current_pack(root)).key == pack.key
    assert not list(root.glob(".building-*")) and len(list(root.glob("pack-*"))) == 1
