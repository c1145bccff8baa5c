"""Regression tests for issue 10's reproducers: hostile maps, points, sessions, packs, writes, CLI."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from viewer import atomic, config
from viewer.errors import ViewerError

REPO = Path(__file__).resolve().parents[1]
BUILTIN = REPO / "referral_maps" / "muscles"
BUILTIN_ALL = sorted(BUILTIN.parent.glob("*/*.yaml"))   # every kind: muscles, joints, roots, nerves, organs
BASE = (BUILTIN / "adductor_longus.yaml").read_text()


def _sub(text: str, old: str, new: str, count: int = -1) -> str:
    """str.replace that fails loudly when the built-in file no longer holds `old`
    (a silent no-op would turn a hostile map into a valid one)."""
    assert old in text, f"adductor_longus.yaml no longer contains {old!r}: update this test's template"
    return text.replace(old, new, count)


NEW = _sub(_sub(_sub(BASE, "id: FMA22441", "id: FMA99999001"), "name: Adductor longus", "name: Test muscle"),
           "aliases: [adductors, add longus]", "aliases: [testy]")
# the first trigger point's offset, whatever its numbers are today
TP_OFFSET = re.search(r"offset: \[[^\]]*\]", NEW[NEW.index("trigger_points:"):]).group(0)
HIP = ["-165", "-75", "801"]     # the README's lookup point, on the skin over the greater trochanter


def _bomb() -> str:
    stroke = "&s {points: [groin, knee_medial], width: 50}"
    zone = "&z {description: bomb zone, strokes: [" + stroke + ", " + ", ".join(["*s"] * 199) + "]}"
    return (NEW.split("zones:")[0] + "zones:\n  essential: [" + zone + ", " + ", ".join(["*z"] * 199)
            + "]\nsources: [Travell and Simons 1999, chapter 1 figure 1]\n")


BAD_MAPS = {
    "nan": _sub(NEW, TP_OFFSET, "offset: [.nan, -25, 20]"),
    "inf": _sub(NEW, TP_OFFSET, "offset: [.inf, -25, 20]"),
    "1e308": _sub(NEW, TP_OFFSET, "offset: [1e308, -25, 20]"),
    "long_stroke": _sub(NEW, "offset: [0, -30, 10]}", "offset: [0, -30, 2000000000]}", 1),
    "long_id": _sub(NEW, "id: FMA99999001", "id: FMA" + "9" * 70000),
    "deep": "a: " + "[" * 100000 + "]" * 100000 + "\n",
    "alias_bomb": _bomb(),
    "steals_name": _sub(BASE, "id: FMA22441", "id: FMA99999002"),
    "steals_id": _sub(_sub(BASE, "name: Adductor longus", "name: Fake"), "aliases: [adductors, add longus]",
                                                                              "aliases: []"),
    "steals_alias": _sub(NEW, "aliases: [testy]", "aliases: [QL]"),
    "steals_fma": _sub(NEW, "aliases: [testy]", "aliases: [testy]\nalso_fma: [FMA22441]"),
    "off_skin": _sub(NEW, TP_OFFSET, "offset: [0, -400, 20]"),   # schema-valid, validate rejects
}


def _user_dir(tmp_path, name, text) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "m.yaml").write_text(text)
    return d


@pytest.mark.parametrize("name", [n for n in BAD_MAPS if n != "off_skin"])
def test_bad_user_map_is_reported_by_file_and_skipped(tmp_path, name):
    from viewer.referral.loader import load_maps

    user = _user_dir(tmp_path, name, BAD_MAPS[name])
    builtin = load_maps()
    ms = load_maps(user)
    assert [m.id for m in ms.maps] == [m.id for m in builtin.maps], "a built-in was hidden or a bad map kept"
    mine = [p for p in ms.problems if Path(p.file) == user / "m.yaml"]
    assert mine, [str(p) for p in ms.problems]
    if name.startswith("steals_"):
        assert "built-in" in mine[0].message or "duplicate id" in mine[0].message
        assert mine[0].field


def _load_in_subprocess(user: Path) -> subprocess.CompletedProcess:
    code = ("import sys; from viewer.referral.loader import load_maps; ms = load_maps(sys.argv[1]); "
            "print(len(ms.maps)); print(*ms.problems, sep='\\n')")
    # the timeout only guards against the old hang (a FIFO read forever); no speed is asserted
    return subprocess.run([sys.executable, "-c", code, str(user)], capture_output=True, text=True, timeout=120)


def test_fifo_and_dev_zero_maps_are_refused_not_read(tmp_path):
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "m.yaml")
    zero = tmp_path / "zero"
    zero.mkdir()
    os.symlink("/dev/zero", zero / "m.yaml")
    n_builtin = len(BUILTIN_ALL)
    for d in (fifo, zero):
        r = _load_in_subprocess(d)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == str(n_builtin)
        assert "not a regular file" in r.stdout and str(d / "m.yaml") in r.stdout


def test_model_skips_what_validate_rejects_and_keeps_every_builtin(tmp_path, model, pack):
    from viewer.referral.model import load_model
    from viewer.referral.validate import validate

    user = _user_dir(tmp_path, "off", BAD_MAPS["off_skin"])
    problems, _ = validate(user_maps=user)
    assert any(str(user / "m.yaml") == str(p.file) for p in problems)
    from conftest import field_cache_dir

    m2 = load_model(pack, user_maps=user, cache_dir=field_cache_dir(pack))
    assert len(m2.patterns) == len(model.patterns)
    assert "FMA99999001" not in {p.muscle.id for p in m2.patterns}
    assert any(str(user / "m.yaml") == str(p.file) for p in m2.problems)


def test_schema_refuses_non_finite_and_out_of_range(tmp_path):
    from viewer.referral.loader import parse_map

    for name in ("nan", "inf", "1e308", "long_stroke", "long_id"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(BAD_MAPS[name])
        m, problems, _ = parse_map(path)
        assert m is None and problems, name


def test_landmarks_and_regions_damaged_give_one_paragraph(tmp_path):
    from viewer.referral.loader import load_landmarks, load_regions

    for text in ("landmarks: [1, 2]\n", "a: " + "[" * 5000 + "]" * 5000, "landmarks:\n  x: {side: right, point: [.nan, 0, 0]}\n"):
        p = tmp_path / "landmarks.yaml"
        p.write_text(text)
        with pytest.raises(ViewerError, match="landmarks.yaml"):
            load_landmarks(p)
    p = tmp_path / "regions.yaml"
    p.write_text("regions: {a: {side: right}}\n")
    with pytest.raises(ViewerError, match="regions.yaml"):
        load_regions(p)


# -- CLI --------------------------------------------------------------------------
def _cli(capsys, *argv) -> tuple[int, str, str]:
    from viewer.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, flag", [
    (["lookup", "--point", "nan", "0", "800"], "--point"),
    (["lookup", "--point", "1e400", "0", "0"], "--point"),
    (["lookup", "--point", *HIP, "--radius", "inf"], "--radius"),
    (["lookup", "--point", *HIP, "--radius", "-1"], "--radius"),
    (["lookup", "--point", *HIP, "--top", "-3"], "--top"),
    (["lookup", "--point", *HIP, "--top", "0"], "--top"),
    (["export", "--muscle", "gluteus minimus", "--out", "x.jpg"], "--out"),
])
def test_cli_bad_arguments_are_one_paragraph_naming_the_flag(capsys, argv, flag):
    code, out, err = _cli(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and flag in err and "Traceback" not in err


@pytest.mark.parametrize("content", ["[]", "{}", "[[1,2]]", "[[1,2,3],[1,2]]", "[[NaN,0,900]]",
                                     "[" * 100000 + "]" * 100000, '[["a","b","c"]]', "[[1e400,0,0]]",
                                     "[[true,0,0]]", "not json", "[[4000,0,0]]"])
def test_cli_malformed_points_file(tmp_path, capsys, content):
    f = tmp_path / "area.json"
    f.write_text(content)
    code, out, err = _cli(capsys, "lookup", "--points", str(f))
    assert code == 2 and str(f) in err and "Traceback" not in err


def test_point_and_points_are_exclusive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _cli(capsys, "lookup", "--point", *HIP, "--points", str(tmp_path / "a.json"))
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_export_out_at_a_folder_or_under_a_file(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path, tmp_path / "afile" / "x.png"):
        code, _, err = _cli(capsys, "export", "--muscle", "gluteus minimus", "--out", str(out))
        assert code == 2 and "--out" in err
    code, _, err = _cli(capsys, "export", "--all", str(tmp_path / "afile"))
    assert code == 2 and "--all" in err
    assert (tmp_path / "afile").read_text() == "x"


def test_global_meshes_is_honoured_before_the_command(tmp_path, capsys):
    empty = tmp_path / "nopack"
    for argv in (["--meshes", str(empty), "info"], ["info", "--meshes", str(empty)]):
        code, _, err = _cli(capsys, *argv)
        assert code == 2 and str(empty) in err


def test_validate_without_a_pack_says_so_and_succeeds(tmp_path, capsys):
    code, out, err = _cli(capsys, "--meshes", str(tmp_path / "nopack"), "validate")
    assert code == 0
    assert ": OK" in out and "geometry checks skipped" in out


def test_readme_lookup_point_is_on_the_skin(capsys, model):
    code, out, err = _cli(capsys, "lookup", "--point", *HIP, "--json")
    assert code == 0, err
    assert json.loads(out)["snap_mm"] < 5


def test_broken_pipe_is_quiet(pack):
    # `referral-viewer info | head -1`: the reader has gone before the output is written
    code = "import sys; from viewer.cli import main; sys.exit(main(['info', '--json']))"
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()          # close our end at once: the child's first write gets EPIPE
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.fixture
def root_log_level():
    """The root logger's level and handlers, put back after the test whatever its outcome."""
    import logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    root.setLevel(level)
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)


def test_verbose_turns_on_logging(capsys, root_log_level):
    import logging

    root_log_level.setLevel(logging.WARNING)
    _cli(capsys, "-v", "--meshes", "/nonexistent-rv", "info")
    assert logging.getLogger().getEffectiveLevel() == logging.INFO


def test_every_option_has_help():
    import argparse

    from viewer.cli import build_parser

    parser = build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)][0]
    for p in [parser, *subs.choices.values()]:
        for a in p._actions:
            if a.option_strings and a.dest != "help":
                assert a.help, f"{p.prog} {a.option_strings} has no help text"


# -- atomic writes ----------------------------------------------------------------
def test_atomic_write_follows_symlink_and_keeps_mode(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("{}")
    os.chmod(target, 0o644)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    atomic.write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    os.chmod(target, 0o640)
    atomic.write_text(target, "again")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_atomic_write_cleans_temp_files_of_dead_writers(tmp_path):
    target = tmp_path / "s.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".s.json.{dead}-0123abcd.tmp"
    stale.write_text("half")
    alive = tmp_path / f".s.json.{os.getppid()}-0123abcd.tmp"   # a live writer's file is kept
    alive.write_text("busy")
    other = tmp_path / "notes.tmp"
    other.write_text("mine")
    atomic.write_text(target, "ok")
    assert not stale.exists() and alive.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "notes.tmp", "s.json"])


def test_killed_writer_leaves_nothing_after_next_save(tmp_path):
    target = tmp_path / "session.json"
    code = ("import sys, os, signal; from viewer import atomic; import viewer.atomic as a; "
            "orig = os.replace\n"
            "def die(*x): os.kill(os.getpid(), signal.SIGKILL)\n"
            "os.replace = die\n"
            f"atomic.write_text({str(target)!r}, 'x' * 100000)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert r.returncode == -9
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())   # the crash left its temp file
    atomic.write_text(target, "saved")
    assert [p.name for p in tmp_path.iterdir()] == ["session.json"]


# -- the pack folder --------------------------------------------------------------
def test_build_housekeeping_deletes_only_its_own_folders(tmp_path):
    from viewer.anatomy import packfs

    photos = tmp_path / "pack-photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_text("precious")
    lookalike = tmp_path / "pack-0123456789ab-abcdef"       # right pattern, no marker, no manifest
    lookalike.mkdir()
    mine = tmp_path / "pack-aaaaaaaaaaaa-bbbbbb"
    mine.mkdir()
    (mine / packfs.MARKER).write_text("x")
    foreign_work = tmp_path / ".building-notours"
    foreign_work.mkdir()
    work = packfs.new_workdir(tmp_path)
    packfs.clean_stale(tmp_path)
    packfs.remove_old_packs(tmp_path, keep=tmp_path / "pack-cccccccccccc-dddddd")
    assert photos.exists() and (photos / "holiday.jpg").exists()
    assert lookalike.exists() and foreign_work.exists()
    assert not mine.exists() and not work.exists()


def test_build_lock_serialises_two_builds(tmp_path):
    from viewer.anatomy import packfs

    order = []
    waiting = []
    with packfs.build_lock(tmp_path):
        def second():
            with packfs.build_lock(tmp_path, say=waiting.append):
                order.append("second")
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.5)
        order.append("first done")
    t.join(timeout=30)
    assert order == ["first done", "second"]
    assert waiting and "another build" in waiting[0]


def _with_checksums(pack_dir: Path) -> None:
    from viewer.anatomy import packfs

    m = json.loads((pack_dir / "manifest.json").read_text())
    m["files"] = packfs.checksums(pack_dir)
    (pack_dir / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize("checksummed", [False, True])
@pytest.mark.parametrize("name", ["skin.npz", "muscles.npz", "muscles_display.npz"])
def test_truncated_pack_file_is_one_clear_error(pack_copy, name, checksummed):
    from viewer.anatomy.pack import load_pack

    root, pack_dir = pack_copy
    if checksummed:
        _with_checksums(pack_dir)
    data = (pack_dir / name).read_bytes()
    (pack_dir / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ViewerError) as exc:
        load_pack(root)
    msg = str(exc.value)
    assert "damaged" in msg and name in msg and "referral-viewer build" in msg


@pytest.mark.parametrize("edit", [
    lambda m: "{not json",
    lambda m: json.dumps({**m, "parts": "x"}),
    lambda m: json.dumps({**m, "parts": [1, 2]}),
    lambda m: json.dumps({k: v for k, v in m.items() if k != "skin"}),
    lambda m: json.dumps({**m, "parts": m["parts"][:-5]}),
    lambda m: json.dumps([]),
])
def test_damaged_manifest_is_one_clear_error(pack_copy, edit):
    from viewer.anatomy.pack import load_pack

    root, pack_dir = pack_copy
    m = json.loads((pack_dir / "manifest.json").read_text())
    (pack_dir / "manifest.json").write_text(edit(m))
    with pytest.raises(ViewerError, match="damaged|JSON|manifest"):
        load_pack(root)


@pytest.mark.parametrize("pointer", ["{not json", "[]", '{"pack": "pack-gone", "key": "x"}', ""])
def test_damaged_pointer_is_named_not_taken_for_no_pack(pack_copy, pointer):
    from viewer.anatomy.pack import load_pack

    root, _ = pack_copy
    (root / "current.json").write_text(pointer)
    with pytest.raises(ViewerError) as exc:
        load_pack(root)
    msg = str(exc.value)
    assert "current.json" in msg and "damaged" in msg and "referral-viewer build" in msg
    assert "No mesh pack is built yet" not in msg


def test_build_rebuilds_a_damaged_pack_instead_of_saying_up_to_date(pack_copy, shared_anatomy, monkeypatch):
    from viewer.anatomy import build

    root, pack_dir = pack_copy

    class Rebuilding(Exception):
        pass

    def refuse(*a, **k):
        raise Rebuilding

    # same inputs as the copied pack: an undamaged copy is "up to date"
    monkeypatch.setattr(build, "_read_source", refuse)
    report = build.build_pack(shared_anatomy, root)
    assert report.skipped
    data = (pack_dir / "skin.npz").read_bytes()
    (pack_dir / "skin.npz").write_bytes(data[:1000])
    with pytest.raises(Rebuilding):
        build.build_pack(shared_anatomy, root)


# -- referral cache ---------------------------------------------------------------
def test_unreadable_cache_means_recompute(tmp_path):
    from viewer.referral.model import CacheDamaged, FieldColumns

    for content in (b"", b"PK\x03\x04 truncated", b"garbage"):
        f = tmp_path / "referral-x.npz"
        f.write_bytes(content)
        assert list(FieldColumns(f, 10)) == []
    np.savez(tmp_path / "ok.npz", good=np.zeros(10), wrong_length=np.zeros(3), matrix=np.zeros((10, 2)))
    cols = FieldColumns(tmp_path / "ok.npz", 10)
    assert list(cols) == ["good", "matrix", "wrong_length"] and len(cols["good"]) == 10
    for bad in ("wrong_length", "matrix"):       # found when read: the model is then recomputed
        with pytest.raises(CacheDamaged):
            cols[bad]


def test_a_damaged_column_in_the_field_cache_is_recomputed(tmp_path):
    """A column of the wrong length in the cache (a hand-edited file, another pack's) is found
    when the start reads it: the model is built as from an empty cache, with the same fields,
    and the cache is written again whole."""
    import shutil

    from viewer.anatomy import load_pack
    from viewer.referral.loader import load_maps
    from viewer.referral.model import FieldColumns, load_model

    pack = load_pack()
    maps_dir = tmp_path / "maps"
    maps_dir.mkdir()
    for name in ("gluteus_minimus.yaml", "infraspinatus.yaml"):
        shutil.copy(REPO / "referral_maps" / "muscles" / name, maps_dir / name)
    cache = tmp_path / "cache"
    first = load_model(pack, maps=load_maps(builtin_dir=maps_dir), cache_dir=cache)
    assert len(first.patterns) == 4 and first.timings.get("fields_computed") == 2
    f = cache / f"referral-{pack.key[:12]}.npz"
    with np.load(f) as z:
        cols = {k: z[k] for k in z.files}
    victim = next(k for k in cols if k.startswith("ess-") and "-left-" in k)
    cols[victim] = cols[victim][:-7]
    np.savez(f, **cols)
    second = load_model(pack, maps=load_maps(builtin_dir=maps_dir), cache_dir=cache)
    assert second.timings.get("fields_computed") == 2
    assert [(p.muscle.id, p.side) for p in second.patterns] == [(p.muscle.id, p.side) for p in first.patterns]
    assert np.array_equal(second.ess, first.ess) and np.array_equal(second.spill, first.spill)
    assert len(FieldColumns(f, len(pack.skin_vertices))[victim]) == len(pack.skin_vertices)


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nobody can write, root included: as root (CI) a read-only bind mount of a
    folder over itself (mount --bind, then remount ro); else a folder without write permission."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(ro), str(ro)], check=True, capture_output=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True, capture_output=True)
            yield ro
        finally:
            subprocess.run(["umount", str(ro)], check=True, capture_output=True)
    else:
        ro.chmod(0o500)
        try:
            yield ro
        finally:
            ro.chmod(0o700)


def test_unwritable_cache_warns_and_keeps_going(read_only_dir):
    from viewer.referral.model import _write_cache

    with pytest.raises(OSError):                         # the folder really is read-only
        (read_only_dir / "probe").write_text("x")
    problems = []
    _write_cache(read_only_dir / "cache" / "referral-x.npz", {"a": np.zeros(3)}, problems)
    assert problems and "kept in memory" in problems[0].message
    assert str(read_only_dir / "cache") in str(problems[0].file) or "referral-x.npz" in str(problems[0].file)
    assert list(read_only_dir.iterdir()) == []


def test_full_disk_cache_write_warns(tmp_path, monkeypatch):
    import errno

    from viewer.referral import model as M

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(M.atomic, "write_bytes", full)
    problems = []
    M._write_cache(tmp_path / "c.npz", {"a": np.zeros(3)}, problems)
    assert problems and "No space left" in problems[0].message


# -- sessions ---------------------------------------------------------------------
@pytest.mark.parametrize("content", ["[" * 100000 + "]" * 100000, '{"format": 1' * 3, "\xff\xfe", "1" * 5000])
def test_broken_session_names_this_file(tmp_path, content):
    from viewer.session import Session, SessionError

    f = tmp_path / "broken.json"
    f.write_text(content, encoding="latin-1")
    with pytest.raises(SessionError) as exc:
        Session.load(f)
    assert str(f) in str(exc.value)


def test_session_fifo_is_refused(tmp_path):
    from viewer.session import Session, SessionError

    f = tmp_path / "s.json"
    os.mkfifo(f)
    with pytest.raises(SessionError, match="not a regular file"):
        Session.load(f)


def test_session_rejects_out_of_range_numbers(tmp_path):
    from viewer.session import FORMAT, Session, SessionError

    base = {"format": FORMAT, "version": 1}
    for bad in ({"marks": [{"vertex": 2**40, "point": [0, 0, 0]}]},
                {"marks": [{"vertex": 1, "point": [1e300, 0, 0]}]},
                {"drawing": [-1]}):
        with pytest.raises(SessionError):
            Session.from_json({**base, **bad})


def test_maps_are_found_through_importlib_resources():
    d = config.builtin_maps_dir()
    assert (d / "landmarks.yaml").is_file() and (d / "regions.yaml").is_file()
    assert len(list((d / "muscles").glob("*.yaml"))) >= 40
