"""Therapist sessions: marked points, pain drawing, selected muscle and notes, as JSON.

No Qt here: the window converts its state to a `Session` and back.

File format (version 1), UTF-8 JSON, written atomically (see docs/session-format.md):

    {
      "format": "referral-viewer-session",   # fixed; anything else is a foreign file
      "version": 1,                          # files from a newer version are refused
      "app_version": "0.1.0",                # informative
      "saved_at": "2025-01-31T10:15:00+00:00",
      "pack_key": "5c04f2ab...",             # anatomy pack the vertex ids refer to
      "marks": [                             # clicked spots, in click order
        {"vertex": 1234, "point": [-170.0, 20.0, 930.0]}   # skin vertex id, canonical mm
      ],
      "drawing": [1200, 1201, 1305],         # painted skin vertex ids, sorted, unique
      "selected": {"muscle_id": "FMA22317", "side": "right"} | null,
      "notes": "free text"
    }

Vertex ids are only meaningful for the pack named by pack_key; points are kept
in millimetres so marks survive a rebuilt pack (they are re-snapped), while a
drawing made on another pack cannot be restored and is reported.

Autosave: `autosave_path()` under the per-user state directory holds the last
state; it is written after every change and deleted on a clean exit, so a file
found at start-up means the previous run crashed and can be recovered.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from viewer import __version__, atomic, config
from viewer.errors import ViewerError

FORMAT = "referral-viewer-session"
VERSION = 1
SIDES = ("right", "left")
MAX_NOTES = 1_000_000
MAX_SESSION_BYTES = 50_000_000
MAX_MARKS = 10_000
MAX_DRAWING = 5_000_000


class SessionError(ViewerError):
    """A session file that cannot be read: broken, foreign or from a newer version."""


@dataclass
class Mark:
    vertex: int
    point: tuple[float, float, float]


@dataclass
class Session:
    pack_key: str = ""
    marks: list[Mark] = field(default_factory=list)
    drawing: list[int] = field(default_factory=list)
    selected: tuple[str, str] | None = None        # (muscle_id, side)
    notes: str = ""
    saved_at: str = ""

    def is_empty(self) -> bool:
        return not (self.marks or self.drawing or self.selected or self.notes.strip())

    # -- JSON -----------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "app_version": __version__,
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "pack_key": self.pack_key,
            "marks": [{"vertex": int(m.vertex), "point": [round(float(x), 3) for x in m.point]}
                      for m in self.marks],
            "drawing": sorted({int(v) for v in self.drawing}),
            "selected": None if self.selected is None else
            {"muscle_id": self.selected[0], "side": self.selected[1]},
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data, *, source="session") -> "Session":
        """Validate a parsed JSON document; raises SessionError naming the first problem."""
        def bad(what: str) -> SessionError:
            return SessionError(what, path=source,
                                fix="open a file saved by referral-viewer (File > Save session).")

        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise bad("this is not a referral-viewer session file (no \"format\": "
                      f"\"{FORMAT}\" field).")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise bad("the session has no valid \"version\" number.")
        if version > VERSION:
            raise SessionError(f"the session was saved by a newer referral-viewer (format version "
                               f"{version}; this one reads up to {VERSION}).", path=source,
                               fix="update referral-viewer.")
        pack_key = data.get("pack_key", "")
        if not isinstance(pack_key, str) or len(pack_key) > 200:
            raise bad("\"pack_key\" must be a string.")
        marks = []
        raw_marks = data.get("marks", [])
        if not isinstance(raw_marks, list) or len(raw_marks) > MAX_MARKS:
            raise bad(f"\"marks\" must be a list of at most {MAX_MARKS:,} marks.")
        for i, m in enumerate(raw_marks):
            if not isinstance(m, dict) or not _is_index(m.get("vertex")) or not _is_point(m.get("point")):
                raise bad(f"marks[{i}] must be {{\"vertex\": int >= 0, \"point\": [x, y, z]}}.")
            marks.append(Mark(int(m["vertex"]), tuple(float(x) for x in m["point"])))
        drawing = data.get("drawing", [])
        if (not isinstance(drawing, list) or len(drawing) > MAX_DRAWING
                or not all(_is_index(v) for v in drawing)):
            raise bad("\"drawing\" must be a list of skin vertex ids (integers >= 0).")
        sel = data.get("selected")
        if sel is not None:
            if (not isinstance(sel, dict) or not isinstance(sel.get("muscle_id"), str)
                    or len(sel["muscle_id"]) > 200 or sel.get("side") not in SIDES):
                raise bad("\"selected\" must be null or {\"muscle_id\": str, \"side\": \"right\"|\"left\"}.")
            sel = (sel["muscle_id"], sel["side"])
        notes = data.get("notes", "")
        if not isinstance(notes, str) or len(notes) > MAX_NOTES:
            raise bad("\"notes\" must be a string (at most 1,000,000 characters).")
        saved_at = data.get("saved_at", "")
        return cls(pack_key, marks, sorted({int(v) for v in drawing}), sel, notes,
                   saved_at if isinstance(saved_at, str) else "")

    # -- files ----------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        atomic.write_json(path, self.to_json())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Session":
        """Read a session file: regular file, at most 50 MB, JSON nested at most as deep as the
        format needs; every failure is a SessionError naming this file (never the previous one)."""
        from viewer import safeio

        path = Path(path)
        try:
            data = safeio.load_json(path, what="session file", max_bytes=MAX_SESSION_BYTES,
                                    fix="open a file saved by referral-viewer (File > Save session).")
        except SessionError:
            raise
        except ViewerError as exc:
            raise SessionError(str(exc)) from None
        return cls.from_json(data, source=path)


def _is_index(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31


def _is_point(p) -> bool:
    return (isinstance(p, list) and len(p) == 3
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and abs(x) < 3000 for x in p))


# -- autosave -------------------------------------------------------------------
def autosave_path() -> Path:
    return config.state_dir() / "autosave.json"


def read_recovery(path: Path | None = None) -> Session | None:
    """The session a crashed run left behind, or None (nothing there, empty, or unreadable)."""
    path = Path(path or autosave_path())
    if not path.exists():
        return None
    try:
        s = Session.load(path)
    except SessionError:
        return None
    return None if s.is_empty() else s


def clear_autosave(path: Path | None = None) -> None:
    try:
        Path(path or autosave_path()).unlink()
    except FileNotFoundError:
        pass
