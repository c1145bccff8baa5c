"""The download paths, end to end against a local HTTP server on 127.0.0.1 that
serves a copy of ../shared/anatomy laid out like its real hosts
(raw.githubusercontent.com/<repo>/<commit>/<path>, and DBCLS's archive)."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from viewer.anatomy import download as dl
from viewer.anatomy.sources import sha256_of
from viewer.errors import ViewerError


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture(scope="module")
def hosts(shared_anatomy, tmp_path_factory):
    """A server root laid out like the real hosts, files linked from shared/anatomy."""
    if not (shared_anatomy / "bodyparts3d-4.0").is_dir():
        pytest.skip("bodyparts3d-4.0 not present")
    root = tmp_path_factory.mktemp("hosts")
    for f in dl.pinned_files():
        target = root / f.repo / f.commit / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(shared_anatomy / f.local)
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_gives_exactly_the_shared_files(hosts, shared_anatomy, tmp_path, monkeypatch):
    root, url = hosts
    monkeypatch.setenv("REFERRAL_VIEWER_MIRROR", url)
    dest = dl.fetch_all(tmp_path / "cache", progress=False)
    pinned = dl.pinned_files()
    assert len(pinned) == 2 + 5 + 500 + 22 + 5   # skin, Z-Anatomy, tables, 4.0 elements, 3.0 muscles and organs
    for f in pinned:
        assert sha256_of(dest / f.local) == sha256_of(shared_anatomy / f.local), f.local
    # a second run downloads nothing: every file is present with the right hash
    _Handler.requests.clear()
    dl.fetch_all(dest, progress=False)
    assert _Handler.requests == []
    # a missing file is fetched again, alone (resume after an interrupted run)
    (dest / pinned[-1].local).unlink()
    dl.fetch_all(dest, progress=False)
    assert len(_Handler.requests) == 1 and sha256_of(dest / pinned[-1].local) == pinned[-1].sha256


def test_download_list_pins_every_3_0_file_by_sha256_and_commit(shared_anatomy):
    """The 3.0 muscles and organs come from the public repositories the 3.0 README names, as
    raw files at the source commit (spaces URL-encoded), each checked by its sha256."""
    import csv
    from urllib.parse import unquote

    from viewer.anatomy import bp3d30

    folder = shared_anatomy / bp3d30.DIR
    if not folder.is_dir():
        pytest.skip("bodyparts3d-3.0 not present")
    readme = {r["file"]: r for r in csv.DictReader(open(folder / "muscles" / "manifest.csv"))}
    readme |= {r["file"]: {**r, "source_commit": "b724f1a3054b49d8d27eec0d44eea200eba57f4c",
                           "source_path": f"client/3d-models/{r['file']}"}
               for r in csv.DictReader(open(folder / "organs" / "manifest.csv"))}
    pinned = {f.local: f for f in dl.pinned_files() if f.local.startswith(bp3d30.DIR + "/")}
    assert sorted(pinned) == sorted(r["local"] for r in bp3d30.pinned_rows())
    for local, f in pinned.items():
        ref = readme[local.rsplit("/", 1)[1]]
        assert (f.sha256, f.commit, f.path) == (ref["sha256"], ref["source_commit"], ref["source_path"]), local
        assert f.sha256 == sha256_of(shared_anatomy / local), local
        url = dl.url_of(f, dl.GITHUB_RAW)
        assert " " not in url and unquote(url) == f"{dl.GITHUB_RAW}/{f.repo}/{f.commit}/{f.path}", url
    repos = {f.repo for f in pinned.values()}
    assert repos == {"zlatnaspirala/matrix-engine-starter", "open-physiology/apinatomy-OLD"}
    assert any("%20" in dl.url_of(f) for f in pinned.values())


def test_downloaded_folder_builds_the_same_pack_as_shared(hosts, shared_anatomy, tmp_path, monkeypatch):
    """Same inputs, same pack key: the key hashes every input file and the builder."""
    from viewer.anatomy import build, sources

    root, url = hosts
    monkeypatch.setenv("REFERRAL_VIEWER_MIRROR", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    got = sources.resolve(None, progress=False)          # no --source: download
    ref = sources.resolve(shared_anatomy)
    params = {"target_vertices": 50_000, "voxel_mm": 4.0}
    assert got.sha256 == ref.sha256
    assert build._key(got, params) == build._key(ref, params)


def test_corrupt_download_is_refused(hosts, shared_anatomy, tmp_path, monkeypatch):
    root, url = hosts
    f = dl.pinned_files()[10]
    served = root / f.repo / f.commit / f.path
    served.unlink()
    served.write_bytes(b"not the file")
    try:
        monkeypatch.setenv("REFERRAL_VIEWER_MIRROR", url)
        with pytest.raises(ViewerError) as err:
            dl.fetch_all(tmp_path / "c", progress=False)
        assert f.path in str(err.value) and "Checksum mismatch" in str(err.value)
        assert not (tmp_path / "c" / f.local).exists()
    finally:
        served.unlink()
        served.symlink_to(shared_anatomy / f.local)


@pytest.fixture(scope="module")
def official_zip(shared_anatomy, tmp_path_factory):
    """A stand-in for isa_BP3D_4.0_obj_99.zip: every pinned element as an official OBJ."""
    from viewer.anatomy import bp3d40
    from viewer.anatomy.bp3d_elements import Tables, official_obj_text, read_glb

    d = shared_anatomy / "bodyparts3d-4.0"
    tables = Tables(d / "tables")
    path = tmp_path_factory.mktemp("dbcls") / "isa_BP3D_4.0_obj_99.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for row in bp3d40.pinned_elements():
            sel = tables.classify(row["element_file_id"])
            el = read_glb(d / row["file"], file_id=sel.file_id, concept=sel.concept, name=sel.name)
            zf.writestr(f"isa_BP3D_4.0_obj_99/{sel.file_id}.obj", official_obj_text(el))
    return path


def test_official_source_reads_the_same_elements(hosts, shared_anatomy, official_zip, tmp_path, monkeypatch):
    from viewer.anatomy import bp3d40, sources
    from viewer.anatomy.bp3d_elements import Tables

    root, url = hosts
    dbcls = root / "data" / "bodyparts3d" / "LATEST"
    dbcls.mkdir(parents=True, exist_ok=True)
    shutil.copy(official_zip, dbcls / official_zip.name)
    monkeypatch.setenv("REFERRAL_VIEWER_MIRROR", url)
    monkeypatch.setenv("REFERRAL_VIEWER_OFFICIAL_URL", f"{url}/data/bodyparts3d/LATEST/{official_zip.name}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    src = sources.resolve("official", sha256=sha256_of(official_zip), progress=False)
    # skin, Z-Anatomy muscles and tables were downloaded; no 4.0 element file was
    assert not (tmp_path / "xdg" / "referral-viewer" / "anatomy" / "bodyparts3d-4.0" / "muscles").exists()
    assert src.files["archive"].name == official_zip.name
    tables = Tables(src.files["bp40"] / "tables")
    ids = [r["element_file_id"] for r in bp3d40.pinned_elements()]
    from_zip = bp3d40.read_archive(src.files["archive"], tables, ids)
    from_glb = bp3d40.read_folder(shared_anatomy / "bodyparts3d-4.0", tables)
    assert len(from_zip) == len(from_glb) == 500
    for a, b in zip(from_zip, from_glb):
        assert a.sel == b.sel
        assert np.array_equal(a.el.faces, b.el.faces)
        assert np.abs(a.el.vertices - b.el.vertices).max() < 0.01, a.sel.file_id


def test_missing_element_fails_fast_and_keeps_the_previous_pack(shared_anatomy, tmp_path, capsys):
    """A missing element file: one clear error naming it, before any long step, and
    the pack in use stays."""
    from viewer.cli import main

    src = tmp_path / "src"
    src.mkdir()
    for name in ("skin_bodyparts3d.obj", "muscles_zanatomy.glb"):
        (src / name).symlink_to(shared_anatomy / name)
    shutil.copytree(shared_anatomy / "bodyparts3d-4.0", src / "bodyparts3d-4.0", symlinks=True)
    victim = src / "bodyparts3d-4.0" / "bones" / "FJ3152.glb"
    victim.unlink()
    meshes = tmp_path / "meshes"
    (meshes / "pack-old").mkdir(parents=True)
    (meshes / "pack-old" / "manifest.json").write_text("{}")
    (meshes / "current.json").write_text(json.dumps({"pack": "pack-old", "key": "x"}))
    rc = main(["build", "--source", str(src), "--meshes", str(meshes), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "FJ3152" in err and str(victim) in err
    assert json.loads((meshes / "current.json").read_text())["pack"] == "pack-old"
    # only the previous pack and the pointer (plus the build lock file, which is the app's own)
    assert sorted(p.name for p in meshes.iterdir() if p.name != ".build.lock") == ["current.json", "pack-old"]
    # a damaged one is named too
    victim.write_bytes(b"glTF broken")
    rc = main(["build", "--source", str(src), "--meshes", str(meshes), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "FJ3152" in err and "Checksum mismatch" in err


def _serve_archive(hosts, official_zip):
    root, url = hosts
    dbcls = root / "data" / "bodyparts3d" / "LATEST"
    dbcls.mkdir(parents=True, exist_ok=True)
    if not (dbcls / official_zip.name).exists():
        shutil.copy(official_zip, dbcls / official_zip.name)
    return f"{url}/data/bodyparts3d/LATEST/{official_zip.name}"


def test_a_local_or_downloaded_archive_builds_the_same_frame_as_official(hosts, official_zip, tmp_path,
                                                                         monkeypatch):
    """A copy of the archive on disk or at a URL is read like --source official: the
    4.0 elements from the archive, the skin, Z-Anatomy muscles and tables from their
    pinned homes, so the pack frame (and every landmark) is the same."""
    from viewer.anatomy import sources

    root, url = hosts
    monkeypatch.setenv("REFERRAL_VIEWER_MIRROR", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    local = sources.resolve(str(official_zip), progress=False)
    assert local.kind == "official" and local.files["archive"] == official_zip
    assert local.files["skin"].name == "skin_bodyparts3d.obj"
    assert local.sha256["muscles"] == sources.FOLDER_FILES["muscles_zanatomy.glb"]
    assert "bp40" in local.files
    remote = sources.resolve(_serve_archive(hosts, official_zip), sha256=sha256_of(official_zip),
                             progress=False)
    assert remote.kind == "official" and remote.files["archive"].parent == tmp_path / "xdg" / "referral-viewer"
    assert remote.sha256 == local.sha256            # same inputs, same pack key


def test_archive_download_with_wrong_checksum_keeps_nothing(hosts, official_zip, tmp_path, monkeypatch):
    from viewer.anatomy import sources

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ViewerError) as err:
        sources.download(_serve_archive(hosts, official_zip), expected_sha256="0" * 64, progress=False)
    assert "Checksum mismatch" in str(err.value) and "checksum (sha256)" in str(err.value)
    assert not list((tmp_path / "xdg").rglob("*.zip"))     # no half-written or bad download kept
    with pytest.raises(ViewerError) as err:
        sources.download(f"{hosts[1]}/missing.zip", expected_sha256=None, progress=False)
    assert "Download failed" in str(err.value)


def test_archive_missing_an_element_fails_at_once_naming_it(official_zip, tmp_path, capsys, monkeypatch):
    """Checked before anything is downloaded or built: the mirror here is dead, so
    only an up-front check can name the missing element."""
    from viewer.anatomy import sources
    from viewer.cli import main

    monkeypatch.setenv("REFERRAL_VIEWER_MIRROR", "http://127.0.0.1:9")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    z = tmp_path / "isa_BP3D_4.0_obj_99.zip"
    with zipfile.ZipFile(official_zip) as src, zipfile.ZipFile(z, "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith("/FJ3152.obj"):
                dst.writestr(info, src.read(info))
    meshes = tmp_path / "meshes"
    assert main(["build", "--source", str(z), "--meshes", str(meshes)]) == 2
    out, err = capsys.readouterr()
    assert "building pack" not in out + err
    assert "FJ3152.obj" in err and str(z) in err and "Fix:" in err
    assert not meshes.exists() or not any(p.name.startswith("pack-") for p in meshes.iterdir())
    bad = tmp_path / "not.zip"
    bad.write_bytes(b"this is not a zip file")
    assert main(["build", "--source", str(bad), "--meshes", str(meshes), "--quiet"]) == 2
    assert "not a zip archive" in capsys.readouterr().err
