"""The session model (no Qt): round trip, validation, atomic writes, autosave recovery."""

from __future__ import annotations

import json

import pytest

from viewer.session import (FORMAT, Mark, Session, SessionError, clear_autosave, read_recovery)


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
    assert data["format"] == FORMAT and data["version"] == 1
    assert list(tmp_path.iterdir()) == [path]    # no temporary files left behind


def test_empty_session_round_trip(tmp_path):
    back = Session.load(Session().save(tmp_path / "e.json"))
    assert back.is_empty() and back.selected is None


@pytest.mark.parametrize("content, needle", [
    (b"\x00\x01garbage", "not valid JSON"),
    (b"{\"format\": \"something-else\", \"version\": 1}", "not a referral-viewer session"),
    (b"[1, 2, 3]", "not a referral-viewer session"),
    (b"{\"format\": \"referral-viewer-session\", \"version\": 99}", "newer referral-viewer"),
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


def test_autosave_recovery(tmp_path):
    auto = tmp_path / "state" / "autosave.json"
    assert read_recovery(auto) is None
    Session().save(auto)
    assert read_recovery(auto) is None           # nothing worth recovering
    sample().save(auto)
    rec = read_recovery(auto)
    assert rec is not None and rec.notes == sample().notes and rec.saved_at
    auto.write_text("{broken")
    assert read_recovery(auto) is None           # a damaged autosave never blocks start-up
    clear_autosave(auto)
    clear_autosave(auto)                         # idempotent
    assert not auto.exists()
