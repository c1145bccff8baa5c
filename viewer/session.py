"""Therapist sessions: marked points, pain drawing, selected muscle and notes, as JSON.

No Qt here: the window converts its state to a `Session` and back.

File format (version 2), UTF-8 JSON, written atomically (see docs/session-format.md):

    {
      "format": "referral-viewer-session",   # fixed; anything else is a foreign file
      "version": 2,                          # files from a newer version are refused; 1 is read
      "app_version": "0.1.0",                # informative
      "saved_at": "2025-01-31T10:15:00+00:00",
      "pack_key": "5c04f2ab...",             # anatomy pack the vertex ids refer to
      "marks": [                             # clicked spots, in click order
        {"vertex": 1234, "point": [-170.0, 20.0, 930.0]}   # skin vertex id, canonical mm
      ],
      "drawing": [1200, 1201, 1305],         # painted skin vertex ids, sorted, unique
      "selected": {"muscle_id": "FMA22317", "side": "right"} | null,
      "ranked_by": "spots" | "area" | null,  # what the candidate list was ranked by
      "notes": "free text",
      "view": {"skin_opacity": 0.55, "muscles": true, ...},  # version 2: what the window showed
      "session_path": "/home/me/patient.json" # autosaves only: the file the window was editing
    }

Vertex ids are only meaningful for the pack named by pack_key; points are kept
in millimetres so marks survive a rebuilt pack (they are re-snapped), while a
drawing made on another pack cannot be restored and is reported.

Autosave: every window owns one `AutosaveSlot` (a file and a lock under the
per-user state directory); it writes after every change and deletes only its
own file on a clean exit. A slot file whose lock nobody holds was left by a
crashed window and is offered for recovery; one that cannot be read (damaged,
or from another format version) is moved aside under a new name, never deleted.

`session_from_state` / `resolve` convert between a session and the Qt-free
`viewer.state.ViewerState` (duck-typed here, so this module imports no state).
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from viewer import __version__, atomic, config, safeio
from viewer.constants import PATTERN_SIDES
from viewer.errors import ViewerError

FORMAT = "referral-viewer-session"
VERSION = 2            # 2: the view settings ("view"); version 1 files open with the window's current view
SIDES = PATTERN_SIDES
RANKED_BY = ("spots", "area")
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
    ranked_by: str | None = None                   # "spots" | "area": what the candidates were ranked by
    session_path: str | None = None                # autosaves only: the file the window was editing
    view: dict | None = None                       # ViewSettings fields; None: keep the window's view

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
            "ranked_by": self.ranked_by,
            "notes": self.notes,
            **({"view": dict(self.view)} if self.view is not None else {}),
            **({"session_path": self.session_path} if self.session_path else {}),
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
        if version < 1:
            raise bad(f"the session's format version {version} does not exist (versions start at 1).")
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
                raise bad("\"selected\" must be null or {\"muscle_id\": str, \"side\": \"right\"|\"left\"|\"midline\"}.")
            sel = (sel["muscle_id"], sel["side"])
        notes = data.get("notes", "")
        if not isinstance(notes, str) or len(notes) > MAX_NOTES:
            raise bad("\"notes\" must be a string (at most 1,000,000 characters).")
        for key in ("notes", "pack_key", "session_path"):
            try:
                str(data.get(key) or "").encode("utf-8")
            except UnicodeEncodeError:   # a lone surrogate ("\ud800") cannot be shown or saved
                raise bad(f"\"{key}\" holds an invalid character (a lone UTF-16 surrogate).") from None
        if sel is not None:
            try:
                sel[0].encode("utf-8")
            except UnicodeEncodeError:
                raise bad("\"selected\" holds an invalid character (a lone UTF-16 surrogate).") from None
        saved_at = data.get("saved_at", "")
        ranked_by = data.get("ranked_by")
        if ranked_by is not None and ranked_by not in RANKED_BY:
            raise bad("\"ranked_by\" must be null, \"spots\" or \"area\".")
        spath = data.get("session_path")
        if spath is not None and not isinstance(spath, str):
            raise bad("\"session_path\" must be a string.")
        view = data.get("view") if version >= 2 else None     # version 1 had no view settings
        if view is not None and (not isinstance(view, dict) or len(view) > 50):
            raise bad("\"view\" must be an object of view settings (skin_opacity, muscles, ...).")
        return cls(pack_key, marks, sorted({int(v) for v in drawing}), sel, notes,
                   saved_at if isinstance(saved_at, str) else "", ranked_by, spath, view)

    # -- files ----------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        atomic.write_json(path, self.to_json())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Session":
        """Read a session file: regular file, at most 50 MB, JSON nested at most as deep as the
        format needs; every failure is a SessionError naming this file (never the previous one)."""
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


# -- session <-> state ---------------------------------------------------------------
def session_from_state(state, *, for_autosave: bool = False) -> Session:
    """The session a `ViewerState` stands for (what Save writes)."""
    sel = state.selected
    return Session(pack_key=state.model.pack.key if state.model is not None else "",
                   marks=list(state.marks), drawing=state.drawing_vertices().tolist(),
                   selected=(sel.muscle.id, sel.side) if sel is not None else None,
                   notes=state.notes, ranked_by=state.origin,
                   session_path=str(state.session_path) if for_autosave and state.session_path else None,
                   view=state.view.to_json())


@dataclass
class Resolved:
    """A session checked against a loaded model: everything needed to apply it, nothing applied yet."""
    marks: list[Mark]
    drawing: list[int]
    pattern: object
    ranked_by: str | None
    warnings: list[str]


def resolve(s: Session, model, *, path=None) -> Resolved:
    """Check a session against the model before anything changes; SessionError if it cannot apply."""
    n = len(model.geo.vertices)
    warnings = []
    if s.pack_key == model.pack.key:
        bad = [m.vertex for m in s.marks if m.vertex >= n] + [v for v in s.drawing if v >= n]
        if bad:
            raise SessionError(f"the session refers to skin vertex {bad[0]}, but this anatomy pack has "
                               f"only {n}; the file is damaged.", path=path)
        marks, drawing = list(s.marks), list(s.drawing)
    else:   # another pack: marks are re-snapped by position; a drawing cannot be mapped
        marks = []
        for m in s.marks:
            v = int(model.geo.snap(np.array(m.point))[0][0])
            marks.append(Mark(v, tuple(float(x) for x in model.geo.vertices[v])))
        drawing = []
        warnings.append("The session was saved with another anatomy pack: marks were placed by "
                        "position" + (" and the pain drawing could not be restored." if s.drawing else "."))
    pattern = None
    if s.selected:
        try:
            pattern = model.pattern(*s.selected)
        except KeyError:
            warnings.append(f"The selected muscle {s.selected[0]} ({s.selected[1]}) has no pattern "
                            "in the loaded maps.")
    ranked_by = s.ranked_by
    if ranked_by is None or (ranked_by == "spots" and not marks) or (ranked_by == "area" and not drawing):
        ranked_by = "spots" if marks else ("area" if drawing else None)   # files saved before ranked_by
    return Resolved(marks, drawing, pattern, ranked_by, warnings)


# -- autosave -------------------------------------------------------------------
def autosave_dir() -> Path:
    return config.state_dir() / "autosave"


class _Lock:
    """An exclusive lock on a file, held while the process lives (the OS drops it on a crash)."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:        # no fcntl (Windows): fall back to "the owner's pid is gone"
            try:
                pid = int(os.read(fd, 32) or b"0")
            except ValueError:
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                os.close(fd)
                return False
            os.lseek(fd, 0, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:            # held by a live window
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self, *, delete: bool = False) -> None:
        if self.fd is None:
            return
        if delete:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        os.close(self.fd)
        self.fd = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@dataclass
class Orphan:
    """An autosave left by a window that did not close normally."""
    path: Path
    session: Session | None            # None: unreadable, moved aside
    moved_to: Path | None = None
    error: str = ""
    lock: _Lock | None = None          # held while the orphan is being offered, so two windows never both take it

    def discard(self) -> None:
        """The user declined: remove the orphan (a file a window of this app made)."""
        for p in (self.path, self.path.with_suffix(".lock")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        if self.lock:
            self.lock.release()

    def adopted(self) -> None:
        """The user recovered it into a live window: that window's own autosave replaces it."""
        self.discard()


class AutosaveSlot:
    """One window's autosave: `<dir>/autosave-<id>.json`, locked by `<dir>/autosave-<id>.lock`."""

    def __init__(self, directory: Path | None = None):
        self.disabled = ""           # why autosave is off ("" when it works)
        self.id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            self.dir = Path(directory) if directory is not None else autosave_dir()
            self.path = self.dir / f"autosave-{self.id}.json"
            self.lock = _Lock(self.path.with_suffix(".lock"))
            self.lock.acquire()
        except (OSError, RuntimeError) as exc:
            # the state folder is a file, read-only, full or a symlink loop: the window still
            # starts, with autosave off and a visible warning (SessionController shows it)
            where = getattr(exc, "filename", None) or (directory if directory is not None else "the state folder")
            self.disabled = f"{where} cannot be used ({getattr(exc, 'strerror', None) or exc})"
            self.dir = Path(directory) if directory is not None else Path(os.devnull)
            self.path = self.dir / f"autosave-{self.id}.json"
            self.lock = _Lock(self.path.with_suffix(".lock"))

    def write(self, session: Session) -> None:
        if self.disabled:
            return
        if session.is_empty():
            self.remove()
        else:
            session.save(self.path)

    def remove(self) -> None:
        if self.disabled:
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass   # the folder became unusable: nothing of ours can be there to remove

    def close(self) -> None:
        """Clean exit: delete this window's autosave and lock, nobody else's."""
        self.remove()
        self.lock.release(delete=True)

    def orphans(self) -> list[Orphan]:
        """Autosaves of crashed windows (their lock is free), oldest first. Unreadable ones are
        renamed `*.unreadable-<time>.json` (kept, never deleted) and returned with the error."""
        found = []
        if self.disabled:
            return found
        try:
            candidates = sorted(self.dir.glob("autosave-*.json"), key=lambda p: p.stat().st_mtime) \
                if self.dir.is_dir() else []
        except OSError:
            return found
        legacy = self.dir.parent / "autosave.json"
        if self.dir == autosave_dir() and legacy.exists():
            candidates.insert(0, legacy)
        for path in candidates:
            if path == self.path or ".unreadable-" in path.name:
                continue
            lock = _Lock(path.with_suffix(".lock"))
            if path.name.startswith("autosave-") and not lock.acquire():
                continue                      # its window is alive
            try:
                s = Session.load(path)
            except SessionError as exc:
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                aside = path.with_name(f"{path.stem}.unreadable-{stamp}.json")
                os.replace(path, aside)
                found.append(Orphan(path, None, aside, str(exc), lock))
                lock.release(delete=True)
                continue
            if s.is_empty():
                Orphan(path, s, lock=lock).discard()
                continue
            found.append(Orphan(path, s, lock=lock))
        return found
