"""The official-archive path end to end, against a local HTTP server on 127.0.0.1
serving a small archive built here in the official format."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
import zipfile

import pytest
import trimesh

from viewer.cli import main


def _obj(file_id: str, concept: str, name: str, mesh: trimesh.Trimesh) -> str:
    lo, hi = mesh.bounds
    lines = [
        "# Compatibility version : 4.0",
        f"# File ID : {file_id}",
        "# Representation ID : BP0000",
        "# Build-up logic : FMA 3.0 is_a",
        f"# Concept ID : {concept}",
        f"# English name : {name}",
        f"# Bounds(mm): ({lo[0]:.6f},{lo[1]:.6f},{lo[2]:.6f})-({hi[0]:.6f},{hi[1]:.6f},{hi[2]:.6f})",
        f"# Volume(cm3): {mesh.volume / 1000:.6f}",
    ]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces]
    return "\n".join(lines) + "\n"


def make_archive(path, *, with_skin=True, with_muscles=True):
    body = trimesh.creation.icosphere(subdivisions=3, radius=220.0)
    body.apply_translation([0, -80, 900])
    right = trimesh.creation.box([60, 60, 120])
    right.apply_translation([-90, -80, 900])
    left = trimesh.creation.box([60, 60, 120])
    left.apply_translation([90, -80, 900])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if with_skin:
            zf.writestr("isa_BP3D_4.0_obj_99/FJ0001.obj", _obj("FJ0001", "FMA7163", "skin", body))
        if with_muscles:
            zf.writestr("isa_BP3D_4.0_obj_99/FJ1431.obj",
                        _obj("FJ1431", "FMA22316", "Right gluteus medius", right))
            zf.writestr("isa_BP3D_4.0_obj_99/FJ1431M.obj",
                        _obj("FJ1431M", "FMA22317X", "Left gluteus medius", left))
        zf.writestr("isa_parts_list_e.txt", "FMA22315\tgluteus medius\n")
    return path


@pytest.fixture()
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_checksum_and_build(server, tmp_path, capsys):
    root, url = server
    zpath = make_archive(root / "isa_BP3D_4.0_obj_99.zip")
    digest = hashlib.sha256(zpath.read_bytes()).hexdigest()
    meshes = tmp_path / "meshes"
    code = main(["build", "--source", f"{url}/isa_BP3D_4.0_obj_99.zip", "--sha256", digest,
                 "--meshes", str(meshes), "--skin-vertices", "3000"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "downloading isa_BP3D_4.0_obj_99.zip" in captured.err     # the progress bar ran
    assert main(["info", "--json", "--meshes", str(meshes)]) == 0
    info = json.loads(capsys.readouterr().out)
    sides = {m["id"]: (m["side"], m["fma"]) for m in info["muscles"]}
    assert sides == {"Gluteus_medius.r": ("right", "FMA22316"), "Gluteus_medius.l": ("left", "FMA22317X")}
    assert info["skin_vertices"] >= 2500 and info["inside_fraction"] == 1.0
    assert info["source"]["kind"] == "archive"
    assert info["source"]["files"]["archive"]["sha256"] == digest
    # The downloaded copy is cached: a second build is a no-op.
    assert main(["build", "--source", f"{url}/isa_BP3D_4.0_obj_99.zip", "--sha256", digest,
                 "--meshes", str(meshes), "--skin-vertices", "3000"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_download_checksum_mismatch_leaves_nothing(server, tmp_path, capsys):
    root, url = server
    make_archive(root / "isa_BP3D_4.0_obj_99.zip")
    meshes = tmp_path / "meshes"
    code = main(["build", "--source", f"{url}/isa_BP3D_4.0_obj_99.zip", "--sha256", "0" * 64,
                 "--meshes", str(meshes)])
    err = capsys.readouterr().err
    assert code == 2 and "Checksum mismatch" in err and "--sha256" in err
    assert not meshes.exists()
    assert not list((tmp_path / "cache").rglob("*.zip"))     # no half-written download


def test_download_failure_is_clear(server, tmp_path, capsys):
    _, url = server
    code = main(["build", "--source", f"{url}/missing.zip", "--meshes", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "Download failed" in err and "Fix:" in err


def test_zip_without_expected_parts(tmp_path, capsys):
    z = make_archive(tmp_path / "isa_BP3D_4.0_obj_99.zip", with_muscles=False)
    code = main(["build", "--source", str(z), "--meshes", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "no sided muscle parts" in err and str(z) in err


def test_not_a_zip(tmp_path, capsys):
    z = tmp_path / "isa_BP3D_4.0_obj_99.zip"
    z.write_bytes(b"this is not a zip file")
    assert main(["build", "--source", str(z), "--meshes", str(tmp_path / "m")]) == 2
    assert "not a zip archive" in capsys.readouterr().err
