"""ViewerState: what the user is doing, with change events (no Qt).

The window only wires widgets to this object and this object to the 3D scene
(napari's ViewerModel / 3D Slicer's Logic-Widget split): every user operation
is a method here, so it is tested without a display and the window cannot keep
a second copy of the truth.

Events (psygnal signals, connect with ``state.events.<name>.connect(fn)``):

- ``marks``: the marked spots changed
- ``drawing``: the pain drawing changed
- ``candidates``: the candidate list (or where it came from) changed; the other sources,
  the dermatome levels and the red flags change with it
- ``selected``: the chosen pattern changed (argument: Pattern or None)
- ``shown``: the pattern to paint changed (hovered candidate, else the selection)
- ``notes``, ``dirty``, ``session_path``, ``history`` (undo/redo availability)

A batch change (a new session, an opened one) emits each of these at most once, after the
whole change, so a listener never sees a half-reset state.

What the user sees besides the pain (layers, skin opacity, patient and paint mode, brush,
eraser, camera preset) is ``state.view``, a `ViewSettings` with an event per field
(``state.view.events.skin_opacity`` ...), saved in sessions with the rest.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from psygnal import Signal, SignalGroup

from viewer.constants import OTHER_SIDE, SIDES
from viewer.referral import lookup
from viewer.session import Mark, Session, SessionError, resolve, session_from_state
from viewer.state.view import ViewSettings

MAX_UNDO = 100


class StateEvents(SignalGroup):
    marks = Signal()
    drawing = Signal()
    candidates = Signal()
    selected = Signal(object)
    shown = Signal(object)
    notes = Signal(str)
    dirty = Signal(bool)
    session_path = Signal(object)
    history = Signal()


# the signals in the order they are declared: the order a batch emits them in
_SIGNALS = tuple(k for k, v in vars(StateEvents).items() if isinstance(v, Signal))


@dataclass(frozen=True)
class _Snapshot:
    """What undo restores: marks, drawing, where the candidates came from and the selection."""
    marks: tuple
    drawing: np.ndarray = field(compare=False)
    origin: str | None
    selected: object


class ViewerState:
    """Marks, pain drawing, selection, candidates, notes and session bookkeeping.

    Parameters
    ----------
    model : ReferralModel or None
        The loaded patterns and skin; None until the window has loaded them.
    """

    def __init__(self, model=None):
        self.events = StateEvents()
        self.model = None
        self.marks: list[Mark] = []
        self._drawing = np.zeros(0, dtype=bool)
        self.view = ViewSettings()
        self.selected = None             # Pattern chosen by the user (browser, candidate, muscle, click)
        self.hovered = None              # Pattern previewed (mouse over a candidate)
        self.candidates: list = []
        self.other_sources: list = []    # joints, roots, nerves, organs at the spot or area
        self.dermatomes: list[str] = []  # levels of the roots whose dermatome covers the spot
        self.red_flags: list = []        # urgent sources whose zone covers the spot or area
        self.origin: str | None = None   # "spots" | "area" | None: what the candidates are ranked by
        self.notes = ""
        self.dirty = False
        self.session_path: Path | None = None
        self.last_point: tuple | None = None   # canonical mm of the last clicked spot
        self._undo: list[_Snapshot] = []
        self._redo: list[_Snapshot] = []
        self._stroke: _Snapshot | None = None
        self._batching = 0               # depth of nested batch() blocks
        if model is not None:
            self.set_model(model)

    # -- model ----------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Attach a loaded ReferralModel and start an empty session on it."""
        self.model = model
        self._drawing = np.zeros(len(model.geo.vertices), dtype=bool)
        self.new_session()

    # the brush belongs to the view settings (saved with the session, evented)
    @property
    def brush_mm(self) -> float:
        """Radius of the pain-drawing brush in mm (the view settings' ``brush_mm``)."""
        return self.view.brush_mm

    @property
    def eraser(self) -> bool:
        """Whether painting erases (the view settings' ``eraser``)."""
        return self.view.eraser

    @property
    def shown(self):
        """The pattern painted on the body: the hovered candidate, else the selection."""
        return self.hovered if self.hovered is not None else self.selected

    @property
    def drawing(self) -> np.ndarray:
        """Painted skin vertices as a boolean mask (read-only view)."""
        v = self._drawing.view()
        v.flags.writeable = False
        return v

    def drawing_vertices(self) -> np.ndarray:
        """Ids of the painted skin vertices, ascending."""
        return np.flatnonzero(self._drawing)

    # -- pain: spots ----------------------------------------------------------------
    def snap(self, xyz) -> int:
        """The skin vertex nearest to a canonical point in mm."""
        return int(self.model.geo.snap(np.asarray(xyz, dtype=float))[0][0])

    def mark(self, xyz=None, *, vertex: int | None = None, add: bool = False) -> None:
        """Mark a painful spot (replacing the marks, or adding one); lists its candidates and
        shows the top one's pattern, so the body never shows a pattern unrelated to the list."""
        v = self.snap(xyz) if vertex is None else int(vertex)
        self._push()
        mark = Mark(v, tuple(float(x) for x in self.model.geo.vertices[v]))
        self.marks = self.marks + [mark] if add else [mark]
        self.last_point = tuple(float(x) for x in (xyz if xyz is not None else mark.point))
        self.events.marks.emit()
        self._rank("spots")
        self._touch()

    # -- pain: drawing --------------------------------------------------------------
    def begin_stroke(self) -> None:
        """Start a pain-drawing stroke: what undo restores when the stroke ends."""
        self._stroke = self._snapshot()

    def paint(self, vertex: int) -> None:
        """Paint (or erase, with `eraser`) the brush disc around a skin vertex."""
        if self._stroke is None:
            self.begin_stroke()
        self._drawing[lookup.disc(self.model, int(vertex), self.brush_mm)] = not self.eraser
        self.events.drawing.emit()

    def paint_many(self, vertices) -> None:
        """Paint (or erase) the brush disc around each vertex of a path: one change event."""
        if self._stroke is None:
            self.begin_stroke()
        for v in dict.fromkeys(int(v) for v in vertices):
            self._drawing[lookup.disc(self.model, v, self.brush_mm)] = not self.eraser
        self.events.drawing.emit()

    def end_stroke(self) -> None:
        """A stroke is one undo step; the candidates are re-ranked by the painted area."""
        if self._stroke is None:
            return
        snap, self._stroke = self._stroke, None
        if np.array_equal(snap.drawing, self._drawing):
            return
        self._undo.append(snap)
        self._trim()
        self._rank("area" if self._drawing.any() else ("spots" if self.marks else None))
        self._touch()

    def clear(self) -> None:
        """Clear marks and drawing (one undo step)."""
        if not self.marks and not self._drawing.any():
            return
        with self.batch():
            self._push()
            self.marks = []
            self._drawing[:] = False
            self.events.marks.emit()
            self.events.drawing.emit()
            self._rank(None)
            self._touch()

    # -- candidates -----------------------------------------------------------------
    def _rank(self, origin: str | None, *, select_top: bool = True) -> None:
        m = self.model
        others, levels, flags = [], [], []
        if origin == "spots" and self.marks:
            if len(self.marks) == 1:
                cands, others, levels, flags = lookup.lookup_spot(m, self.marks[0].vertex)
            else:
                res = lookup.area_result(m, [k.vertex for k in self.marks])
                cands, others, levels, flags = res.candidates, res.other_sources, res.dermatomes, res.red_flags
        elif origin == "area" and self._drawing.any():
            res = lookup.area_result(m, self.drawing_vertices())
            cands, others, levels, flags = res.candidates, res.other_sources, res.dermatomes, res.red_flags
        else:
            origin, cands = None, []
        self.origin, self.candidates = origin, cands
        self.other_sources, self.dermatomes, self.red_flags = others, levels, flags
        self.events.candidates.emit()
        if select_top:
            self.hovered = None
            self._set_selected(m.patterns[cands[0].pattern] if cands else None)

    def rank_by(self, origin: str) -> None:
        """Rank by the spots or by the painted area (both may exist)."""
        self._rank(origin, select_top=False)
        self._touch()

    def heading(self) -> str | None:
        """The candidate list's title, or None before any pain is marked."""
        if self.origin == "spots":
            if len(self.marks) == 1:
                return f"Pain at: {self.model.region_of(self.marks[0].vertex).display}"
            return f"Pain at {len(self.marks)} marked spots"
        if self.origin == "area":
            return "Painted area: muscles ranked by how much of it they explain"
        return None

    # -- selection ------------------------------------------------------------------
    def select(self, pattern) -> None:
        """Choose the pattern shown (a Pattern, or None for none); emits ``selected``."""
        if pattern is self.selected:
            return
        self._set_selected(pattern)
        self._touch()

    def _set_selected(self, pattern) -> None:
        before = self.shown
        self.selected = pattern
        self.events.selected.emit(pattern)
        if self.shown is not before:
            self.events.shown.emit(self.shown)

    def select_muscle(self, muscle_id: str, side: str | None = None) -> bool:
        """Select a muscle's pattern on a side (default: the current side, else right, else the other)."""
        side = side or (self.selected.side if self.selected else SIDES[0])
        for s in (side, OTHER_SIDE.get(side, SIDES[0])):
            try:
                self.select(self.model.pattern(muscle_id, s))
                return True
            except KeyError:
                continue
        return False

    def other_side(self) -> bool:
        """The selected muscle on the other side; False when it has no pattern there."""
        if self.selected is None:
            return False
        other = OTHER_SIDE.get(self.selected.side)
        try:
            self.select(self.model.pattern(self.selected.muscle.id, other))
        except KeyError:
            return False
        return True

    def hover(self, pattern) -> None:
        """Preview a pattern (mouse over a candidate); None returns to the selection."""
        before = self.shown
        self.hovered = pattern
        if self.shown is not before:
            self.events.shown.emit(self.shown)

    def candidate_pattern(self, candidate):
        """The pattern of a candidate muscle or of another source in the lists."""
        return self.model.patterns[candidate.pattern]

    def select_level(self, level: str) -> bool:
        """Select the nerve root of a spinal level ("L5"): its dermatome is painted. The root on
        the side of the marked pain, else the right. False when no root map has that level."""
        roots = [p for p in self.model.patterns if p.kind == "root" and p.muscle.level == level]
        if not roots:
            return False
        side = "right"
        if self.marks:
            side = lookup.side_of_point(self.model, self.marks[-1].vertex)
        self.select(next((p for p in roots if p.side == side), roots[0]))
        return True

    # -- notes ----------------------------------------------------------------------
    def set_notes(self, text: str) -> None:
        """Replace the session notes; emits ``notes`` when they change."""
        if text != self.notes:
            self.notes = text
            self.events.notes.emit(text)
            self._touch()

    # -- undo -----------------------------------------------------------------------
    def _snapshot(self) -> _Snapshot:
        return _Snapshot(tuple(self.marks), self._drawing.copy(), self.origin, self.selected)

    def _push(self) -> None:
        self._undo.append(self._snapshot())
        self._trim()

    def _trim(self) -> None:
        del self._undo[:-MAX_UNDO]
        self._redo.clear()
        self.events.history.emit()

    def _restore(self, s: _Snapshot) -> None:
        self.marks = list(s.marks)
        self._drawing[:] = s.drawing
        self.events.marks.emit()
        self.events.drawing.emit()
        self._rank(s.origin, select_top=False)
        self.hovered = None
        self._set_selected(s.selected)
        self._touch()

    @property
    def can_undo(self) -> bool:
        """Whether there is a mark, stroke or Clear to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone step to redo."""
        return bool(self._redo)

    def undo(self) -> bool:
        """Undo the last mark, stroke or Clear."""
        return self._step(self._undo, self._redo)

    def redo(self) -> bool:
        """Redo the last undone step; False when there is none."""
        return self._step(self._redo, self._undo)

    def _step(self, source: list, target: list) -> bool:
        """Restore the latest snapshot of `source`, keeping today's in `target`."""
        if not source:
            return False
        with self.batch():
            target.append(self._snapshot())
            self._restore(source.pop())
            self.events.history.emit()
        return True

    # -- session --------------------------------------------------------------------
    @contextmanager
    def batch(self):
        """Change several things with each event emitted at most once, at the end.

        Inside the block every signal of ``events`` is paused; when it ends each signal that
        fired emits once, with its last arguments, in the order the signals are declared, so
        listeners see the finished state. Nested blocks emit when the outermost ends.

        Yields
        ------
        None
        """
        self._batching += 1
        if self._batching == 1:
            for name in _SIGNALS:
                getattr(self.events, name).pause()
        try:
            yield
        finally:
            self._batching -= 1
            if not self._batching:
                for name in _SIGNALS:
                    getattr(self.events, name).resume(reducer=_last)

    def _touch(self) -> None:
        self.dirty = True
        self.events.dirty.emit(True)          # on every change, not only the first: autosave listens

    def set_clean(self, path=None) -> None:
        """After a save (or open): not dirty, editing `path`."""
        if path is not None:
            self.session_path = Path(path)
            self.events.session_path.emit(self.session_path)
        self.dirty = False
        self.events.dirty.emit(False)

    def is_empty(self) -> bool:
        """Whether the session holds nothing worth saving (no marks, drawing, selection or notes)."""
        return self.to_session().is_empty()

    def to_session(self, *, for_autosave: bool = False) -> Session:
        """The Session this state stands for (``for_autosave`` keeps the file being edited)."""
        return session_from_state(self, for_autosave=for_autosave)

    def new_session(self) -> None:
        """Forget everything: no marks, drawing, selection, notes or file; history cleared.

        Each event is emitted once, after the reset.
        """
        with self.batch():
            self.marks, self.candidates, self.origin, self.hovered = [], [], None, None
            self.other_sources, self.dermatomes, self.red_flags = [], [], []
            self._drawing[:] = False
            self.notes, self.last_point = "", None
            self._undo.clear()
            self._redo.clear()
            for e in (self.events.marks, self.events.drawing, self.events.candidates, self.events.history):
                e.emit()
            self.events.notes.emit("")
            self._set_selected(None)
            self.session_path = None
            self.events.session_path.emit(None)
            self.dirty = False
            self.events.dirty.emit(False)

    def apply_session(self, s: Session, *, path=None, recovered: bool = False) -> list[str]:
        """Restore a session. Everything is checked before anything changes (SessionError).

        The candidates are ranked as saved (spots or area). A recovered autosave keeps the
        name of the file it was editing and stays dirty. Each event is emitted once, after
        the whole session is in place.

        Parameters
        ----------
        s : Session
            The session to open.
        path : path-like, optional
            The file it was read from (named in errors; the file being edited afterwards).
        recovered : bool
            Whether `s` is an autosave recovered after a crash.

        Returns
        -------
        list of str
            Warnings for the user (patterns or muscles the maps no longer have).

        Raises
        ------
        SessionError
            When the session does not fit the loaded pack or maps; nothing has changed.
        """
        r = resolve(s, self.model, path=path)
        if s.view is not None:     # checked before anything changes, like the rest of the session
            try:
                ViewSettings(**{**self.view.model_dump(), **s.view})
            except (ValueError, TypeError) as exc:
                raise SessionError(f"its \"view\" settings are invalid ({_first_error(exc)}).", path=path,
                                   fix="open a file saved by referral-viewer, or remove the \"view\" field.") from None
        with self.batch():     # one event of each kind, once the session is in place
            self.new_session()
            if s.view is not None:
                self.view.apply(s.view)
            self.marks = list(r.marks)
            self._drawing[np.asarray(r.drawing, dtype=np.int64)] = True
            self.notes = s.notes
            self.events.marks.emit()
            self.events.drawing.emit()
            self.events.notes.emit(s.notes)
            self._rank(r.ranked_by, select_top=False)
            self._set_selected(r.pattern)
            if self.marks:
                self.last_point = self.marks[-1].point
            if recovered:
                self.session_path = Path(s.session_path) if s.session_path else None
                self.events.session_path.emit(self.session_path)
                self._touch()
            else:
                self.set_clean(path)
        return r.warnings


def _last(a: tuple, b: tuple) -> tuple:
    """Reducer for paused signals: keep the last emission's arguments."""
    return b


def _first_error(exc) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        e = errors()[0]
        return f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
    return str(exc)
