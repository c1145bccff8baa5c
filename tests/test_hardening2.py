"""Regression tests for issue 20's reproducers ("Hardening 2"): full disks, special files,
unusable folders, maps that validate but stall, names that hide built-ins, garbage input.

Full and read-only disks are real: a 64 KB tmpfs (filled up) and a tmpfs remounted
read-only (chmod does not stop root). Without the right to mount, those tests skip.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from viewer import atomic
from viewer.errors import ViewerError

REPO = Path(__file__).resolve().parents[1]
BUILTIN = REPO / "referral_maps" / "muscles"
BASE = (BUILTIN / "adductor_longus.yaml").read_text()
PY = sys.executable
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def _sub(text: str, old: str, new: str, count: int = -1) -> str:
    assert old in text, f"adductor_longus.yaml no longer contains {old!r}: update this test's template"
    return text.replace(old, new, count)


def _new_map(fma="FMA99999001", name="Test muscle", aliases="[testy]") -> str:
    t = _sub(BASE, "id: FMA22441", f"id: {fma}")
    t = _sub(t, "name: Adductor longus", f"name: {name}")
    return _sub(t, "aliases: [adductors, add longus]", f"aliases: {aliases}")


NEW = _new_map()
HEAD, _ZONES = NEW.split("zones:\n")
TAIL = "sources: [\"Travell and Simons 1999, chapter 1 figure 1 (test fixture)\"]\n"


def _zones_map(essential: str, spillover: str = "", head: str = HEAD) -> str:
    return head + "zones:\n  essential:\n" + essential + (("  spillover:\n" + spillover) if spillover else "") + TAIL


def _zone(strokes: list[tuple[list[str], float]]) -> str:
    z = "    - description: a test zone\n      strokes:\n"
    for pts, w in strokes:
        z += "        - points: [" + ", ".join(pts) + f"]\n          width: {w}\n"
    return z


def _env(**extra) -> dict:
    env = dict(os.environ)
    env.setdefault("REFERRAL_VIEWER_MESHES", str(REPO / "meshes"))
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def _run(args, timeout=90, **kw) -> subprocess.CompletedProcess:
    """The CLI in a child process; the timeout only turns an old hang into a failure."""
    return subprocess.run([PY, "-m", "viewer", *args], capture_output=True, text=True, timeout=timeout,
                          env=_env(**kw.pop("env", {})), **kw)


def _cache_copy(tmp_path, pack) -> Path:
    """A private copy of the pack's field cache: only the test's own maps are computed, and
    the shared cache is never rewritten with them."""
    d = tmp_path / "cache"
    d.mkdir()
    src = pack.dir.parent / "cache" / f"referral-{pack.key[:12]}.npz"
    if src.is_file():
        shutil.copy(src, d / src.name)
    return d


def _one_paragraph(err: str) -> None:
    assert "Traceback" not in err, err
    assert err.startswith("error: ") and err.strip().count("\n") == 0, err


# -- real full and read-only disks ------------------------------------------------
def _mount_tmpfs(d: Path, size="64k") -> None:
    d.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(d)], capture_output=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()}); needs root")


def _umount(d: Path) -> None:
    subprocess.run(["umount", "-l", str(d)], capture_output=True)


def _fill(d: Path) -> None:
    """Fill the file system of d to the last byte."""
    fd = os.open(d / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    if os.write(fd, b"\0" * size) < size:
                        break
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)


@pytest.fixture()
def full_dir(tmp_path):
    d = tmp_path / "full"
    _mount_tmpfs(d)
    try:
        yield d
    finally:
        _umount(d)


@pytest.fixture()
def ro_dir(tmp_path):
    d = tmp_path / "ro"
    _mount_tmpfs(d, "1m")
    (d / "old.png").write_bytes(PNG)
    (d / "old.pdf").write_bytes(b"%PDF-1.4 old handout %%EOF")
    r = subprocess.run(["mount", "-o", "remount,ro", str(d)], capture_output=True)
    if r.returncode:
        _umount(d)
        pytest.skip("cannot remount read-only")
    try:
        yield d
    finally:
        _umount(d)


# == 1. data loss ===================================================================
def test_atomic_full_disk_is_a_clear_error_and_keeps_the_old_file(full_dir):
    old = full_dir / "h.pdf"
    old.write_bytes(b"%PDF-1.4 the old handout %%EOF")
    os.chmod(old, 0o644)
    _fill(full_dir)
    with pytest.raises(ViewerError) as exc:
        atomic.write_bytes(old, b"%PDF-1.7 " + b"x" * 200_000 + b"%%EOF")
    assert isinstance(exc.value, OSError) and exc.value.errno == errno.ENOSPC
    msg = str(exc.value)
    assert str(old) in msg and "disk is full" in msg and "Fix:" in msg
    assert old.read_bytes() == b"%PDF-1.4 the old handout %%EOF"
    assert stat.S_IMODE(old.stat().st_mode) == 0o644
    assert not [p for p in full_dir.iterdir() if p.name.endswith(".tmp")]


def test_atomic_read_only_folder_is_a_clear_error(ro_dir):
    with pytest.raises(ViewerError) as exc:
        atomic.write_bytes(ro_dir / "new.png", PNG)
    assert "read-only" in str(exc.value) and str(ro_dir / "new.png") in str(exc.value)
    with pytest.raises(ViewerError):
        atomic.write_bytes(ro_dir / "old.png", PNG + b"more")
    assert (ro_dir / "old.png").read_bytes() == PNG


def test_atomic_short_write_is_never_success(tmp_path, monkeypatch):
    target = tmp_path / "s.json"
    target.write_text("old")
    real = os.write
    monkeypatch.setattr(atomic.os, "write", lambda fd, data: 0 if len(data) > 3 else real(fd, data))
    with pytest.raises(ViewerError, match="short write|disk"):
        atomic.write_text(target, "a longer new text")
    assert target.read_text() == "old"


def test_symlink_to_a_file_of_another_kind_is_not_written_through(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my precious notes")
    link = tmp_path / "innocent.png"
    link.symlink_to(notes)
    with pytest.raises(ViewerError, match="symlink"):
        atomic.write_bytes(link, PNG)
    assert notes.read_text() == "my precious notes" and link.is_symlink()
    dev = tmp_path / "dev.png"
    dev.symlink_to("/dev/null")
    with pytest.raises(ViewerError, match="not a regular file"):
        atomic.write_bytes(dev, PNG)
    session = tmp_path / "session.json"             # text over text, but not a session file
    session.symlink_to(notes)
    with pytest.raises(ViewerError, match="symlink"):
        atomic.write_text(session, "{}")
    assert notes.read_text() == "my precious notes"
    old_png = tmp_path / "real.png"                 # a link to a file of the same kind is followed
    old_png.write_bytes(PNG)
    (tmp_path / "same.png").symlink_to(old_png)
    atomic.write_bytes(tmp_path / "same.png", PNG + b"new")
    assert old_png.read_bytes() == PNG + b"new"


def test_handout_on_a_full_disk_fails_and_keeps_the_old_pdf(full_dir, model):
    from viewer.gui.handout import make_handout

    old = full_dir / "h.pdf"
    old.write_bytes(b"%PDF-1.4 the old handout %%EOF")
    _fill(full_dir)
    with pytest.raises(OSError):
        make_handout(model, "soleus", "", old)
    assert old.read_bytes() == b"%PDF-1.4 the old handout %%EOF"
    with pytest.raises(OSError):
        make_handout(model, "soleus", "", full_dir / "new.pdf")
    assert not (full_dir / "new.pdf").exists()


def test_handout_pdf_gets_the_umask_mode_and_keeps_an_old_mode(tmp_path, model):
    from viewer.gui.handout import make_handout

    old = os.umask(0o022)
    try:
        out = make_handout(model, "soleus", "", tmp_path / "h.pdf")
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        data = out.read_bytes()
        assert data.startswith(b"%PDF-") and b"%%EOF" in data[-64:]
        os.chmod(out, 0o664)
        make_handout(model, "soleus", "again", out)
        assert stat.S_IMODE(out.stat().st_mode) == 0o664
    finally:
        os.umask(old)


def _cli(capsys, *argv):
    from viewer.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_refuses_to_replace_an_existing_output_without_force(tmp_path, capsys, pack):
    png, pdf = tmp_path / "old.png", tmp_path / "old.pdf"
    png.write_bytes(PNG)
    pdf.write_bytes(b"%PDF-1.4 old %%EOF")
    code, _, err = _cli(capsys, "export", "--muscle", "soleus", "--out", str(png))
    assert code == 2 and "--force" in err and png.read_bytes() == PNG
    _one_paragraph(err)
    code, _, err = _cli(capsys, "handout", "--muscle", "soleus", "--out", str(pdf))
    assert code == 2 and "--force" in err and pdf.read_bytes() == b"%PDF-1.4 old %%EOF"
    code, out, err = _cli(capsys, "handout", "--muscle", "soleus", "--out", str(pdf), "--force")
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF-1.") and pdf.stat().st_size > 10_000


def test_cli_export_through_a_symlink_to_notes_is_refused(tmp_path, capsys, pack):
    notes = tmp_path / "notes.txt"
    notes.write_text("my precious notes")
    link = tmp_path / "innocent.png"
    link.symlink_to(notes)
    code, _, err = _cli(capsys, "export", "--muscle", "soleus", "--out", str(link), "--size", "64x48")
    assert code == 2 and notes.read_text() == "my precious notes"
    code, _, err = _cli(capsys, "export", "--muscle", "soleus", "--out", str(link), "--size", "64x48", "--force")
    assert code == 2 and "symlink" in err and "text file" in err
    assert notes.read_text() == "my precious notes"


def test_window_asks_before_replacing_a_file(tmp_path, qapp, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from viewer.gui.handout import confirm_overwrite

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.No)
    assert confirm_overwrite(None, tmp_path / "new.pdf", "t")
    assert not asked
    (tmp_path / "old.pdf").write_bytes(b"x")
    assert not confirm_overwrite(None, tmp_path / "old.pdf", "t")
    assert asked and "already exists" in asked[0][2]


# == 2. hangs =======================================================================
def _flow_zones(n_zones: int, n_strokes: int) -> str:
    """Zones in flow style (as compact as the issue's 240 KB reproducer), 8 landmarks a stroke."""
    stroke = "{points: [groin, pubis, asis, groin, pubis, asis, groin, pubis], width: 400}"
    zone = "    - {description: a test zone, strokes: [" + ", ".join([stroke] * n_strokes) + "]}\n"
    return zone * n_zones


BUDGET_BOMB = _zones_map(_flow_zones(30, 50), _flow_zones(30, 50))      # 60 zones x 50 strokes x 8 landmarks
SLICE_150 = _zones_map(_flow_zones(3, 50))                              # its 150-stroke slice (62 s before)


@pytest.mark.parametrize("text", [BUDGET_BOMB, SLICE_150], ids=["60x50x8_width400", "150_strokes"])
def test_validate_refuses_a_map_over_the_work_budget(tmp_path, text, pack):
    from viewer.referral.validate import validate

    f = tmp_path / "bomb.yaml"
    f.write_text(text)
    t = time.perf_counter()
    problems, _ = validate([f])
    assert any(p.field == "zones" and "too long to compute" in p.message for p in problems), \
        [str(p) for p in problems]
    assert time.perf_counter() - t < 30


def test_model_skips_a_map_over_the_budget_without_computing_it(tmp_path, pack, monkeypatch):
    from viewer.referral import fields as F
    from viewer.referral.model import load_model

    d = tmp_path / "maps"
    d.mkdir()
    (d / "slice.yaml").write_text(SLICE_150)
    computed = []
    real = F.muscle_fields
    monkeypatch.setattr(F, "muscle_fields", lambda m, *a, **k: computed.append(m.id) or real(m, *a, **k))
    m = load_model(pack, user_maps=d, cache_dir=_cache_copy(tmp_path, pack))
    assert "FMA99999001" not in computed
    assert any("too long to compute" in p.message for p in m.problems)


def _budget_maps() -> dict[str, str]:
    """Maps that sit at the work budget in each of its dimensions."""
    from viewer.referral.validate import MAX_WORK, REGION_WORK, STROKE_WORK, ZONE_WORK

    n_tiny = int((MAX_WORK - ZONE_WORK) // STROKE_WORK)
    n_reg = int(MAX_WORK // (ZONE_WORK + REGION_WORK))
    region_zone = "    - description: a test zone\n      regions: [temporal]\n"
    return {"strokes": _zones_map(_zone([(["groin"], 1)] * n_tiny)),
            "regions": _zones_map(region_zone * n_reg),
            "wide": _zones_map(_zone([(["groin", "medial_thigh_mid", "knee_medial"], 400)] * 3))}


def test_any_map_at_the_budget_computes_about_as_fast_as_the_largest_builtin(model, tmp_path):
    """The budget's promise: what validate accepts costs no more than the largest built-in map
    (~0.5 s on a quiet machine); timed in the same process so a loaded machine slows both alike."""
    from viewer.referral import fields as F
    from viewer.referral.loader import load_landmarks, load_maps, load_regions, parse_map
    from viewer.referral.validate import MAX_WORK, check_map, map_work

    geo, rl, sl = model.geo, model.region_labels, model.segment_labels
    lm, rd = load_landmarks(), load_regions()
    ri = F.region_lookup(model.regions)

    def seconds(m) -> float:
        t = time.perf_counter()
        F.muscle_fields(m, geo, lm, rl, ri, sl)
        return time.perf_counter() - t

    largest = max(load_maps().maps, key=lambda m: map_work(m, lm))
    seconds(largest)                                    # warm up the solver
    ref = min(seconds(largest) for _ in range(2))
    for name, text in _budget_maps().items():
        f = tmp_path / f"{name}.yaml"
        f.write_text(text)
        m, problems, _ = parse_map(f)
        assert m is not None and not problems, problems
        assert not check_map(m, f, lm, rd), name
        assert map_work(m, lm) <= MAX_WORK
        took = min(seconds(m) for _ in range(2))
        print(f"at the budget, {name}: work {map_work(m, lm):.1f}, {took:.2f} s; "
              f"{largest.name}: work {map_work(largest, lm):.1f}, {ref:.2f} s")
        assert took < 2.0 * ref + 0.2, f"{name}: {took:.2f} s against {ref:.2f} s for {largest.name}"


def test_notes_file_fifo_or_dev_zero_does_not_hang(tmp_path):
    fifo = tmp_path / "notes.fifo"
    os.mkfifo(fifo)
    for notes in (fifo, Path("/dev/zero")):
        r = _run(["handout", "--muscle", "soleus", "--out", str(tmp_path / "h.pdf"), "--notes-file", str(notes)],
                 timeout=60)
        assert r.returncode == 2 and "not a regular file" in r.stderr and str(notes) in r.stderr
        _one_paragraph(r.stderr)


@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_pack_pointer_fifo_or_dev_zero_does_not_hang(pack_copy, kind):
    root, _ = pack_copy
    (root / "current.json").unlink()
    if kind == "fifo":
        os.mkfifo(root / "current.json")
    else:
        (root / "current.json").symlink_to("/dev/zero")
    r = _run(["info", "--meshes", str(root)], timeout=60)
    assert r.returncode == 2 and "current.json" in r.stderr
    _one_paragraph(r.stderr)


@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_build_source_fifo_or_dev_zero_does_not_hang(tmp_path, kind):
    src = Path("/dev/zero")
    if kind == "fifo":
        src = tmp_path / "src.zip"
        os.mkfifo(src)
    r = _run(["build", "--meshes", str(tmp_path / "m"), "--quiet"], timeout=60,
             env={"REFERRAL_VIEWER_SOURCE": str(src)})
    assert r.returncode == 2 and "not a regular file" in r.stderr and str(src) in r.stderr
    _one_paragraph(r.stderr)


# == 4. the window with an unusable state folder =====================================
@pytest.mark.parametrize("kind", ["file", "read_only"])
def test_window_starts_with_autosave_off_and_says_so(tmp_path, qapp, model, monkeypatch, kind, request):
    from PySide6.QtWidgets import QLabel

    from viewer.gui.main_window import MainWindow

    if kind == "file":
        state = tmp_path / "state"
        state.write_text("I am a file")
    else:
        state = request.getfixturevalue("ro_dir")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    w = MainWindow(model=model, confirm_close=False)
    try:
        label = w.findChild(QLabel, "autosave_warning")
        assert label is not None and "Autosave is off" in label.text() and str(state) in label.text()
        w.sessions.write_autosave()              # does nothing, raises nothing
    finally:
        w.close()
    if kind == "file":
        assert state.read_text() == "I am a file"


# == 5. output errors, symlink loops, full disks, the pack ===========================
def test_info_into_a_full_or_closed_stdout_is_one_paragraph():
    for shell in ("{py} -m viewer info > /dev/full", "{py} -m viewer info >&-"):
        r = subprocess.run(["sh", "-c", shell.format(py=PY)], capture_output=True, text=True, timeout=120,
                           env=_env())
        assert r.returncode == 2, (shell, r.stderr)
        _one_paragraph(r.stderr)


def test_export_and_handout_into_a_read_only_folder(ro_dir, capsys, pack):
    code, _, err = _cli(capsys, "export", "--muscle", "soleus", "--out", str(ro_dir / "x.png"), "--size", "64x48")
    assert code == 2 and "read-only" in err and str(ro_dir / "x.png") in err
    _one_paragraph(err)
    code, _, err = _cli(capsys, "handout", "--muscle", "soleus", "--out", str(ro_dir / "old.pdf"), "--force")
    assert code == 2 and "read-only" in err
    assert (ro_dir / "old.pdf").read_bytes() == b"%PDF-1.4 old handout %%EOF"


def test_export_all_and_handout_on_a_full_disk(full_dir, capsys, pack):
    _fill(full_dir)
    code, _, err = _cli(capsys, "export", "--all", str(full_dir / "g"), "--muscles", "soleus", "--size", "64x48")
    assert code == 2 and "disk is full" in err
    _one_paragraph(err)
    code, out, err = _cli(capsys, "handout", "--muscle", "soleus", "--out", str(full_dir / "h.pdf"))
    assert code == 2 and "disk is full" in err and "Wrote" not in out
    assert not (full_dir / "h.pdf").exists()


@pytest.mark.parametrize("how", ["--meshes", "--maps", "REFERRAL_VIEWER_MESHES", "REFERRAL_VIEWER_MAPS"])
def test_symlink_loops_are_one_paragraph(tmp_path, how):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    if how.startswith("--"):
        r = _run([how, str(a), "lookup", "--point", "-165", "-75", "801"], timeout=120)
    else:
        r = _run(["lookup", "--point", "-165", "-75", "801"], timeout=120, env={how: str(a)})
    assert r.returncode == 2 and "symlink loop" in r.stderr.lower() and str(a) in r.stderr
    _one_paragraph(r.stderr)


def test_build_on_a_full_disk_leaves_no_working_folder(full_dir):
    from viewer.anatomy import build, packfs

    _fill(full_dir)
    with pytest.raises(ViewerError, match="disk is full|space"):
        build._write(full_dir, "0" * 64, None, [], {})
    assert not list(full_dir.glob(".building-*"))     # the unmarked folder no cleanup would remove
    (full_dir / "filler").unlink()                      # with room again, the next build works
    work = packfs.new_workdir(full_dir)
    assert (work / packfs.MARKER).is_file()
    packfs.clean_stale(full_dir)
    assert not work.exists()


def test_read_only_download_cache_is_one_paragraph(ro_dir):
    from viewer.anatomy import sources

    with pytest.raises(ViewerError, match="download cache") as exc:
        sources.download("http://127.0.0.1:9/x.zip", expected_sha256=None, progress=False,
                         dest_dir=ro_dir / "cache")
    assert str(ro_dir / "cache") in str(exc.value)


@pytest.mark.parametrize("name", ["bones.npz", "bones_display.npz"])
def test_truncated_bones_are_noticed_by_load_and_by_build(pack_copy, shared_anatomy, monkeypatch, name):
    from viewer.anatomy import build
    from viewer.anatomy.pack import load_pack

    root, pack_dir = pack_copy
    if not (pack_dir / name).exists():
        pytest.skip(f"this pack has no {name}")
    data = (pack_dir / name).read_bytes()
    (pack_dir / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ViewerError) as exc:
        load_pack(root)
    assert "damaged" in str(exc.value) and name in str(exc.value)

    class Rebuilding(Exception):
        pass

    def refuse(*a, **k):
        raise Rebuilding

    monkeypatch.setattr(build, "_read_source", refuse)
    with pytest.raises(Rebuilding):
        build.build_pack(shared_anatomy, root)


def test_bones_are_in_the_manifest_checksums(tmp_path):
    from viewer.anatomy import packfs

    for name in ("skin.npz", "muscles.npz", "muscles_display.npz", "bones.npz", "bones_display.npz"):
        np.savez(tmp_path / name, a=np.arange(3))
    assert set(packfs.checksums(tmp_path)) == {"skin.npz", "muscles.npz", "muscles_display.npz", "bones.npz",
                                               "bones_display.npz"}
    manifest = {"files": packfs.checksums(tmp_path)}
    (tmp_path / "bones.npz").write_bytes((tmp_path / "bones.npz").read_bytes()[:50])
    assert any("bones.npz" in p for p in packfs.problems(tmp_path, manifest))


# == 6. names: the clash check is the name search's rule ==============================
@pytest.mark.parametrize("name, aliases", [("Gluteus minimus muscle", "[testy]"), ("Gluteus  minimus", "[testy]"),
                                           ("Gluteus_minimus", "[testy]"), ("Test muscle", "[QL muscle]"),
                                           ("Test muscle", "[gluteus_MINIMUS]")])
def test_user_map_cannot_hide_a_builtin(tmp_path, name, aliases):
    from viewer.referral.loader import load_maps

    d = tmp_path / "maps"
    d.mkdir()
    (d / "m.yaml").write_text(_new_map(name=name, aliases=aliases))
    ms = load_maps(d)
    assert "FMA99999001" not in {m.id for m in ms.maps}
    mine = [p for p in ms.problems if Path(p.file) == d / "m.yaml"]
    assert mine and "built-in" in mine[0].message and mine[0].field in ("name", "aliases.0")


def test_an_exact_name_wins_over_a_loose_match(tmp_path, pack):
    from viewer.referral.loader import load_maps
    from viewer.referral.model import load_model

    d = tmp_path / "maps"
    d.mkdir()
    (d / "a.yaml").write_text(_new_map("FMA99999001", "Testus", "[]"))
    (d / "b.yaml").write_text(_new_map("FMA99999002", "Testus muscle", "[]"))
    model = load_model(pack, maps=load_maps(d), cache_dir=_cache_copy(tmp_path, pack))
    assert [m.id for m in model.find_muscles("testus")] == ["FMA99999001"]
    assert [m.id for m in model.find_muscles("Testus muscle")] == ["FMA99999002"]
    assert len(model.find_muscles("gluteus minimus")) == 1


def test_export_all_file_names_are_unique_and_never_empty(tmp_path, pack):
    from viewer.referral.loader import load_maps
    from viewer.referral.model import load_model
    from viewer.render.export import gallery

    d = tmp_path / "maps"
    d.mkdir()
    (d / "a.yaml").write_text(_new_map("FMA99999001", "Testus one!", "[]"))
    (d / "b.yaml").write_text(_new_map("FMA99999002", "Testus one?", "[]"))
    (d / "c.yaml").write_text(_new_map("FMA99999003", "\U0001F600\U0001F600", "[]"))
    model = load_model(pack, maps=load_maps(d), cache_dir=_cache_copy(tmp_path, pack))
    out = tmp_path / "gallery"
    paths = gallery(model, out, muscles=["FMA99999001", "FMA99999002", "FMA99999003"], size=(64, 48),
                    views=("anterior",))
    assert len(paths) == 3 and len({p.name for p in paths}) == 3
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert not any(p.name.startswith("_") for p in paths)
    with pytest.raises(ViewerError, match="already exist"):
        gallery(model, out, muscles=["FMA99999001"], size=(64, 48), views=("anterior",), overwrite=False)


# == 3. caps: area lookups, notes, echoed arguments ==================================
def _limited(args, timeout=60) -> subprocess.CompletedProcess:
    """The CLI with 3 GB of address space, so the old blow-up fails fast instead of eating the machine."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    return subprocess.run([PY, "-m", "viewer", *args], capture_output=True, text=True, timeout=timeout,
                          env=_env(), preexec_fn=limit)


def test_lookup_points_over_the_cap_is_refused_at_once(tmp_path, pack):
    rng = np.random.default_rng(0)
    pts = pack.skin_vertices[rng.integers(0, len(pack.skin_vertices), 99_999)].round(1).tolist()
    f = tmp_path / "area.json"
    f.write_text(json.dumps(pts))
    r = _limited(["lookup", "--points", str(f), "--radius", "300"])
    assert r.returncode == 2 and "--points" in r.stderr and "694" in r.stderr
    _one_paragraph(r.stderr)


def test_huge_notes_are_refused_at_once(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("Keep walking every day.\n" * 400_000)        # ~10 MB
    r = _limited(["handout", "--muscle", "soleus", "--out", str(tmp_path / "h.pdf"), "--notes-file", str(f)],
                 timeout=60)
    assert r.returncode == 2 and "notes file" in r.stderr and not (tmp_path / "h.pdf").exists()
    _one_paragraph(r.stderr)
    f.write_text("Keep walking every day.\n" * 1000)           # 24 KB: no longer fits one page
    r = _limited(["handout", "--muscle", "soleus", "--out", str(tmp_path / "h.pdf"), "--notes-file", str(f)])
    assert r.returncode == 2 and "--notes-file" in r.stderr and "one-page" in r.stderr


def test_a_huge_muscle_argument_is_not_echoed(capsys, pack, tmp_path):
    code, _, err = _cli(capsys, "export", "--muscle", "x" * 100_000, "--out", str(tmp_path / "x.png"))
    assert code == 2 and "--muscle" in err and len(err) < 1000


# == 7. garbage in maps and sessions ================================================
def _parse(tmp_path, text, name="m.yaml", encoding="utf-8"):
    from viewer.referral.loader import parse_map

    f = tmp_path / name
    f.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return parse_map(f)


@pytest.mark.parametrize("width", ["1e-300", "1e-9", "0.5"])
def test_absurd_widths_are_refused_naming_the_field(tmp_path, width):
    m, problems, _ = _parse(tmp_path, _sub(NEW, "width: 70", f"width: {width}"))
    assert m is None and any(p.field.endswith("width") for p in problems), [str(p) for p in problems]


def test_duplicate_yaml_keys_are_refused_naming_the_key(tmp_path):
    m, problems, _ = _parse(tmp_path, _sub(NEW, "body_region: thigh", "body_region: thigh\nbody_region: hip"))
    assert m is None and "body_region" in problems[0].message and "twice" in problems[0].message
    assert problems[0].line is not None


@pytest.mark.parametrize("edit", [
    ("name: Test muscle", "name: \"Test \\e[31mmuscle\""),        # ANSI escape
    ("id: FMA99999001", "id: FMA9999900\u0663"),                    # an Arabic-Indic digit
    ("aliases: [testy]", "aliases: [testy]\nalso_fma: [FMA\uff11\uff12]"),   # full-width digits
    ("aliases: [testy]", "aliases: !!binary aGVsbG8="),
    ("aliases: [testy]", "aliases: !!set {a, b}"),
], ids=["ansi", "arabic_digit", "fullwidth_digits", "binary", "set"])
def test_garbage_values_are_refused(tmp_path, edit):
    m, problems, _ = _parse(tmp_path, _sub(NEW, *edit))
    assert m is None and problems


def test_a_stroke_across_the_body_is_refused_naming_the_point(tmp_path):
    from viewer.referral.loader import load_landmarks, load_regions
    from viewer.referral.validate import check_map

    lm, rd = load_landmarks(), load_regions()
    for pts, what in ((["knee_medial", "forehead"], "from the one before"),
                      (["heel", "knee_medial", "groin", "umbilicus", "sternum", "chin", "forehead", "chin",
                        "sternum", "umbilicus"], "longer than the body")):
        if not all(p in lm for p in pts):
            pytest.skip("landmarks renamed")
        text = _zones_map(_zone([(pts, 40)]))
        m, problems, _ = _parse(tmp_path, text)
        assert m is not None, problems
        found = check_map(m, tmp_path / "m.yaml", lm, rd)
        assert any(what in p.message and "strokes" in p.field for p in found), [str(p) for p in found]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_utf16_and_bom_maps_are_read(tmp_path, encoding):
    m, problems, _ = _parse(tmp_path, NEW, encoding=encoding)
    assert m is not None and not problems and m.name == "Test muscle"


def _session_doc(**kw) -> dict:
    from viewer.session import FORMAT

    return {"format": FORMAT, "version": 1, "notes": "walk daily", **kw}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-16-be"])
def test_utf16_and_bom_sessions_are_read(tmp_path, encoding):
    from viewer.session import Session

    f = tmp_path / "s.json"
    f.write_bytes(json.dumps(_session_doc(notes="Fußgewölbe")).encode(encoding))
    assert Session.load(f).notes == "Fußgewölbe"


@pytest.mark.parametrize("text, needle", [
    (json.dumps(_session_doc(version=0)), "version"),
    (json.dumps(_session_doc(version=-3)), "version"),
    (json.dumps(_session_doc(version=3)), "newer"),   # VERSION + 1 (2 added the view settings)
    ('{"format": "referral-viewer-session", "version": 1, "notes": "a", "notes": "b"}', "twice"),
    ('{"format": "referral-viewer-session", "version": 1, "notes": "bad \\ud800 surrogate"}', "surrogate"),
])
def test_session_loader_refuses_bad_versions_duplicates_and_surrogates(tmp_path, text, needle):
    from viewer.session import Session, SessionError

    f = tmp_path / "s.json"
    f.write_text(text)
    with pytest.raises(SessionError) as exc:
        Session.load(f)
    assert needle in str(exc.value) and str(f) in str(exc.value)


def test_window_export_all_asks_before_replacing_images(tmp_path, model, qapp, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from viewer.gui.export_dialog import ExportAllDialog, export_all

    out = tmp_path / "out"
    out.mkdir()
    old = out / "contact_sheet_leg_right.png"
    old.write_bytes(PNG)
    dlg = ExportAllDialog(model, out_dir=str(out))
    opts = {**dlg.options(), "regions": ["leg"], "muscles": None, "sides": ("right",), "contact_sheets": True,
            "images": False, "size": (640, 360)}
    monkeypatch.setattr(dlg, "options", lambda: opts)
    answers = [QMessageBox.No, QMessageBox.Yes]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answers.pop(0))
    assert export_all(None, model, dialog=dlg) == []
    assert old.read_bytes() == PNG and "already exist" in asked[0]
    written = export_all(None, model, dialog=dlg)
    assert written == [old] and old.read_bytes() != PNG and len(asked) == 2
