"""The session model (no Qt): round trip, validation, atomic writes, autosave recovery."""

from __future__ import annotations

import json

import pytest

from viewer.session import FORMAT, Mark, Session, SessionError


def sample() -> Session:
    return Session(pack_key="abc123", marks=[Mark(10, (-170.0, 20.5, 930.25)), Mark(11, (1.0, 2.0, 3.0))],
                   drawing=[5, 3, 3, 9], selected=("FMA22317", "right"), notes="Pain after running.\nÉté")


def test_round_trip_is_exact(tmp_path):
    path = sample().save(tmp_path / "s.json")
    back = Session.load(path)
    assert back.marks == sample().marks
    assert back.drawing == [3, 5, 9]             # sorted, unique
    assert back.selected == ("FMA22317", "right")
    assert back.notes == sample().notes
    assert back.pack_key == "abc123"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["version"] == 2
    assert list(tmp_path.iterdir()) == [path]    # no temporary files left behind


def test_empty_session_round_trip(tmp_path):
    back = Session.load(Session().save(tmp_path / "e.json"))
    assert back.is_empty() and back.selected is None


@pytest.mark.parametrize("content, needle", [
    (b"\x00\x01garbage", "not valid JSON"),
    (b"{\"format\": \"something-else\", \"version\": 1}", "not a referral-viewer session"),
    (b"[1, 2, 3]", "not a referral-viewer session"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 99}", "newer referral-viewer"),
    # the spec (docs/session-format.md): this app reads format versions 1 and 2; 3 is newer, and
    # 0, -1, 1.0, true or none are no format version at all
    (b"{\"format\": \"referral-viewer-session\", \"version\": 3}", "newer referral-viewer"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 0}", "version"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": -1}", "version"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 1.0}", "version"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": true}", "version"),
    (b"{\"format\": \"referral-viewer-session\"}", "version"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 2, \"view\": [1]}", "view"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 1, \"marks\": [{\"vertex\": -1, \"point\": [0,0,0]}]}",
     "marks[0]"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 1, \"drawing\": [1, \"x\"]}", "drawing"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 1, \"selected\": {\"muscle_id\": \"X\", "
     b"\"side\": \"up\"}}", "selected"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 1, \"notes\": 5}", "notes"),
])
def test_broken_or_foreign_files_give_a_clear_error(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SessionError) as err:
        Session.load(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_version_1_is_read(tmp_path):
    """The one format version this app reads (the refusals above are not a blanket refusal)."""
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({"format": FORMAT, "version": 1, "notes": "v1"}))
    assert Session.load(path).notes == "v1"


def test_save_syncs_the_file_before_the_rename(tmp_path, monkeypatch):
    """Atomic write (docs/session-format.md: "written atomically"): the data reaches the disk
    (fsync of the temporary file) before it replaces the old file, and the folder is synced
    after the rename."""
    import os

    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    def replace(a, b):
        calls.append(("replace", os.path.basename(str(b))))
        return real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    sample().save(tmp_path / "s.json")
    names = [c[0] for c in calls]
    assert "replace" in names, calls
    r = names.index("replace")
    before = [n for kind, n in calls[:r] if kind == "fsync"]
    assert any(n.startswith(".s.json.") and n.endswith(".tmp") for n in before), calls   # the data
    assert ("fsync", tmp_path.name) in calls[r:], calls                                  # the folder


def test_missing_file(tmp_path):
    with pytest.raises(SessionError, match="cannot read"):
        Session.load(tmp_path / "nope.json")


def test_save_failure_keeps_the_old_file(tmp_path, monkeypatch):
    path = sample().save(tmp_path / "s.json")
    before = path.read_bytes()
    import os

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        Session(notes="new").save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


# -- per-window autosave slots ------------------------------------------------------------
def test_each_window_has_its_own_locked_autosave(tmp_path):
    from viewer.session import AutosaveSlot

    a, b = AutosaveSlot(tmp_path), AutosaveSlot(tmp_path)
    a.write(sample())
    b.write(Session(notes="b"))
    assert a.path != b.path and a.path.exists() and b.path.exists()
    assert a.orphans() == [] and b.orphans() == []          # both owners are alive: nothing to recover
    a.close()
    assert not a.path.exists() and b.path.exists()          # a window deletes only its own
    b.close()
    assert list(tmp_path.iterdir()) == []


def test_orphan_of_a_crashed_window_is_offered_once(tmp_path):
    from viewer.session import AutosaveSlot

    crashed = tmp_path / "autosave-1-dead.json"
    sample().save(crashed)                                   # no lock held: its window is gone
    me = AutosaveSlot(tmp_path)
    other = AutosaveSlot(tmp_path)
    found = me.orphans()
    assert [o.path for o in found] == [crashed] and found[0].session.notes == sample().notes
    assert other.orphans() == []                             # while `me` offers it, nobody else can
    found[0].adopted()
    assert not crashed.exists()
    assert me.orphans() == []
    me.close()
    other.close()


def test_unreadable_or_newer_autosave_is_kept_aside(tmp_path):
    from viewer.session import AutosaveSlot

    (tmp_path / "autosave-1-a.json").write_text("{broken")
    (tmp_path / "autosave-2-b.json").write_text(json.dumps({"format": FORMAT, "version": 99}))
    me = AutosaveSlot(tmp_path)
    found = me.orphans()
    assert all(o.session is None for o in found) and len(found) == 2
    kept = sorted(p.name for p in tmp_path.glob("*.unreadable-*.json"))
    assert len(kept) == 2 and all(o.moved_to.exists() for o in found)
    assert "newer referral-viewer" in " ".join(o.error for o in found)
    assert me.orphans() == []                                # kept aside, not offered again
    me.close()
    assert len(list(tmp_path.glob("*.unreadable-*.json"))) == 2   # never deleted


def test_ranked_by_and_session_path_round_trip(tmp_path):
    s = sample()
    s.ranked_by, s.session_path = "area", "/home/x/patient.json"
    back = Session.load(s.save(tmp_path / "a.json"))
    assert back.ranked_by == "area" and back.session_path == "/home/x/patient.json"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": FORMAT, "version": 1, "ranked_by": "elbow"}))
    with pytest.raises(SessionError, match="ranked_by"):
        Session.load(bad)
