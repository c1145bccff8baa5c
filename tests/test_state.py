"""ViewerState without a display: every user operation, its events, undo/redo and sessions."""

from __future__ import annotations

import sys

from types import SimpleNamespace

import numpy as np
import pytest

from viewer.session import Session, SessionError
from viewer.state import ViewerState


@pytest.fixture
def state(model):
    return ViewerState(model)


@pytest.fixture(scope="module")
def toy(model):
    """The real body and patterns with hand-set memberships and a hand-set frequency prior, so
    every expected ranking below is worked out by hand from the lookup's documented score
    (README "The click"), not asked of the lookup code itself:

        click:  score = zone weight (essential 1, spillover 0.5) x strength x F, ranked by
                score (within SCORE_STEP: the smaller zone, essential, the pain's side)
        area:   score = share of the area explained (spillover counts half) x F over the area

    Memberships are set on discs wider than everything a click reads (the fingertip's
    TIP_REACH_MM and the NEAR_DISC_MM neighbourhood of the strength S) around the right hip (H)
    and the right thigh (T), and the same values for the other side's pattern on the discs
    around their mirror spots, so the fingertip mean, S and the mirror average all give the
    set value:

        H: B essential 0.95, A essential 0.7, D essential 0.6, C spillover 1.0
        T: A essential 1.0, B essential 1.0, C spillover 1.0
        D is also essential on the top 400 vertices of the head (a wide zone).

    (A gluteus minimus, B tensor fasciae latae, C the LEFT piriformis, D quadratus lumborum.)
    The prior has one area around H (and its mirror), radius 40 mm, listing A alone: F = 1 for
    A within 40 mm of H, FLOOR (0.25) for every muscle elsewhere and for B, C, D everywhere.
    """
    import dataclasses

    from viewer.referral.frequency import AreaPrior
    from viewer.referral.lookup import NEAR_DISC_MM, TIP_REACH_MM
    from viewer.referral.points import MIRROR
    from viewer.referral.segments import ADJACENT

    disc_mm = max(TIP_REACH_MM, NEAR_DISC_MM) + 1.0
    ess, spill = np.zeros_like(model.ess), np.zeros_like(model.spill)
    V, tree = model.geo.vertices, model.geo.tree
    h = int(model.geo.snap(np.array([-165.0, -75.0, 801.0]))[0][0])       # the README's hip spot
    h2 = int(model.geo.snap(V[h] + np.array([0.0, 0.0, 10.0]))[0][0])     # 10 mm above it
    t = int(model.geo.snap(np.array([-120.0, -90.0, 600.0]))[0][0])       # the front of the right thigh
    a = model.pattern(model.find_muscles("gluteus minimus")[0].id, "right")
    b = model.pattern(model.find_muscles("tensor fasciae latae")[0].id, "right")
    c = model.pattern(model.find_muscles("piriformis")[0].id, "left")
    d = model.pattern(model.find_muscles("quadratus lumborum")[0].id, "right")
    other = {"right": "left", "left": "right"}

    def put(field, v, p, value):
        field[tree.query_ball_point(V[v], disc_mm), p.index] = value
        field[tree.query_ball_point(V[v] * MIRROR, disc_mm), model.pattern(p.muscle.id, other[p.side]).index] = value

    put(ess, h, b, 0.95), put(ess, h, a, 0.7), put(ess, h, d, 0.6), put(spill, h, c, 1.0)
    ess[np.argsort(V[:, 2])[-400:], d.index] = 1.0                         # the top of the head
    put(ess, t, a, 1.0), put(ess, t, b, 1.0), put(spill, t, c, 1.0)
    assert V[h, 0] < 0 and V[t, 0] < 0 and h != t
    m = dataclasses.replace(model, ess=ess, spill=spill, _sizes=None)
    row = np.zeros(len(model.patterns))
    row[[a.index, model.pattern(a.muscle.id, "left").index]] = 1.0
    m._prior = AreaPrior(points=np.vstack([V[h], V[h] * MIRROR]), owner=np.array([0, 1]),
                         radius=np.array([40.0, 40.0]), segments=np.ones((2, ADJACENT.shape[0]), bool),
                         weight=np.vstack([row, row]), names=["toy (right)", "toy (left)"])
    return SimpleNamespace(model=m, h=h, h2=h2, t=t, a=a, b=b, c=c, d=d,
                           h_disc=set(tree.query_ball_point(V[h], disc_mm)))


def _essential_vertex(model, k=0):
    p = next(p for p in model.patterns if p.has_mesh)
    e = model.zone_weights(p)[0]
    return p, int(np.flatnonzero(e >= 0.9)[k])


def _events(state):
    seen = []
    for name in ("marks", "drawing", "candidates", "selected", "shown", "dirty", "history"):
        getattr(state.events, name).connect(lambda *a, n=name: seen.append(n))
    return seen


def test_no_module_outside_gui_imports_qt():
    """Import every viewer module outside viewer/gui in a fresh process (pytest-qt loads Qt here)."""
    import pkgutil
    import subprocess

    import viewer

    names = [m.name for m in pkgutil.walk_packages(viewer.__path__, "viewer.")
             if not m.name.startswith(("viewer.gui", "viewer.__main__"))]
    code = ("import importlib, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyvistaqt', 'PyQt')))\n"
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "viewer.state.model" in names


def test_mark_lists_candidates_and_shows_the_top_pattern(toy):
    model = toy.model
    state = ViewerState(model)
    seen = _events(state)
    state.mark(model.geo.vertices[toy.h])
    assert [m.vertex for m in state.marks] == [toy.h]
    assert state.origin == "spots"
    # by hand (weight x S x F): A 1 x 0.7 x 1 = 0.7, B 1 x 0.95 x 0.25 = 0.2375,
    # D 1 x 0.6 x 0.25 = 0.15, C (left, spillover) 0.5 x 1.0 x 0.25 = 0.125: the guide's
    # frequency puts A above the stronger B, and the spillover C still shows; no other zone
    # covers or nears H
    assert [(c.muscle_id, c.side, c.zone) for c in state.candidates] == [
        (toy.a.muscle.id, "right", "essential"), (toy.b.muscle.id, "right", "essential"),
        (toy.d.muscle.id, "right", "essential"), (toy.c.muscle.id, "left", "spillover")]
    assert [c.score for c in state.candidates] == pytest.approx([0.7, 0.2375, 0.15, 0.125], abs=2e-3)
    assert state.selected is toy.a and state.shown is toy.a
    assert {"marks", "candidates", "selected", "dirty", "history"} <= set(seen)
    assert state.dirty and state.heading() == f"Pain at: {model.region_of(toy.h).display}"
    assert state.last_point == tuple(model.geo.vertices[toy.h])


def test_a_new_click_replaces_the_old_pattern(toy):
    model = toy.model
    state = ViewerState(model)
    state.select(model.pattern(toy.b.muscle.id, "left"))
    state.mark(vertex=toy.h)
    assert state.selected is toy.a
    # a spot no pattern covers or nears (all memberships are zero away from H, T, their
    # mirrors and the head) clears the pattern instead of leaving the old one painted
    empty = int(model.geo.snap(np.array([0.0, -100.0, 1300.0]))[0][0])      # the chest
    assert not model.ess[empty].any() and not model.spill[empty].any()
    state.mark(vertex=empty)
    assert state.candidates == [] and state.selected is None and state.shown is None


def test_shift_adds_spots_and_ranks_by_them(toy):
    model = toy.model
    state = ViewerState(model)
    state.mark(vertex=toy.h)
    state.mark(vertex=toy.t, add=True)
    assert len(state.marks) == 2 and state.heading() == "Pain at 2 marked spots"
    # by hand, the share of the two spots each explains (spillover counts half) x F over them
    # (H lies in the toy area, T 200 mm away outside it: A's F = 0.25 + 0.75 x 1/2 = 0.625):
    # A (0.7 + 1.0) / 2 x 0.625 = 0.531, B (0.95 + 1.0) / 2 x 0.25 = 0.244,
    # C (0.5 + 0.5) / 2 x 0.25 = 0.125, D (0.6 + 0) / 2 x 0.25 = 0.075
    assert [(c.muscle_id, c.side) for c in state.candidates] == [
        (toy.a.muscle.id, "right"), (toy.b.muscle.id, "right"), (toy.c.muscle.id, "left"),
        (toy.d.muscle.id, "right")]
    assert [c.score for c in state.candidates] == pytest.approx([0.531, 0.244, 0.125, 0.075], abs=2e-3)


def test_stroke_is_one_undo_step_and_ranks_by_area(toy):
    model = toy.model
    state = ViewerState(model)
    state.begin_stroke()
    state.paint(toy.h)
    state.paint(toy.h2)
    state.end_stroke()
    painted = state.drawing_vertices()
    n = len(painted)
    assert n > 5 and state.origin == "area" and toy.h in painted and toy.t not in painted
    # by hand: the painted vertices inside H's disc (a share f of them; all of them here, the
    # brush being smaller than the disc) carry the set values, every painted vertex lies
    # within 40 mm of H (A's F = 1, the others' 0.25), so
    # A 0.7 f, B 0.95 x 0.25 f, D 0.6 x 0.25 f, C 0.5 x 1.0 x 0.25 f
    f = len(toy.h_disc & {int(v) for v in painted}) / n
    assert [(c.muscle_id, c.side) for c in state.candidates] == [
        (toy.a.muscle.id, "right"), (toy.b.muscle.id, "right"), (toy.d.muscle.id, "right"),
        (toy.c.muscle.id, "left")]
    assert [c.score for c in state.candidates] == pytest.approx([0.7 * f, 0.2375 * f, 0.15 * f, 0.125 * f],
                                                                rel=0.02, abs=1e-3)
    state.view.eraser = True
    state.begin_stroke()
    state.paint(toy.h)
    state.end_stroke()
    assert len(state.drawing_vertices()) < len(painted)
    assert state.undo()
    assert np.array_equal(state.drawing_vertices(), painted)
    assert state.undo()
    assert not state.drawing.any() and state.origin is None and not state.can_undo
    assert state.redo() and np.array_equal(state.drawing_vertices(), painted)


def test_clear_can_be_undone_and_redone(state, model):
    p, v = _essential_vertex(model)
    state.mark(vertex=v)
    state.begin_stroke()
    state.paint(v)
    state.end_stroke()
    before = (list(state.marks), state.drawing_vertices().copy(), state.origin, state.selected)
    state.clear()
    assert state.marks == [] and not state.drawing.any() and state.candidates == []
    assert state.selected is None
    assert state.undo()
    assert state.marks == before[0] and np.array_equal(state.drawing_vertices(), before[1])
    assert state.origin == before[2] and state.selected is before[3] and state.candidates
    assert state.redo() and state.marks == [] and state.can_undo and not state.can_redo
    # a new operation drops the redo history
    state.undo()
    state.mark(vertex=v)
    assert not state.can_redo


def test_hover_previews_and_leaving_restores(state, model):
    p, v = _essential_vertex(model)
    state.mark(vertex=v)
    top = state.selected
    other = next(q for q in model.patterns if q is not top)
    shown = []
    state.events.shown.connect(shown.append)
    state.hover(other)
    assert state.shown is other and state.selected is top
    state.hover(None)
    assert state.shown is top and shown == [other, top]


def test_select_muscle_and_other_side(state, model):
    p = next(p for p in model.patterns if p.side == "right")
    assert state.select_muscle(p.muscle.id)
    assert state.selected is p
    has_left = any(q.muscle.id == p.muscle.id and q.side == "left" for q in model.patterns)
    assert state.other_side() == has_left
    assert state.selected.side == ("left" if has_left else "right")
    assert not state.select_muscle("FMA0")


def test_session_round_trip_keeps_the_ranking_origin(state, model, tmp_path):
    p, v = _essential_vertex(model)
    state.mark(vertex=v)
    state.begin_stroke()
    state.paint(int(np.flatnonzero(model.zone_weights(model.patterns[-1])[0] > 0.9)[0]))
    state.end_stroke()
    assert state.origin == "area"
    state.set_notes("Pain since March.")
    path = state.to_session().save(tmp_path / "s.json")
    area_list = [(c.muscle_id, c.side) for c in state.candidates]

    again = ViewerState(model)
    again.apply_session(Session.load(path), path=path)
    assert again.origin == "area"
    assert [(c.muscle_id, c.side) for c in again.candidates] == area_list
    assert again.notes == "Pain since March." and not again.dirty and again.session_path == path
    assert again.selected is state.selected
    d1, d2 = state.to_session().to_json(), again.to_session().to_json()
    d1.pop("saved_at"), d2.pop("saved_at")
    assert d1 == d2
    # ranking by the spots is kept as well
    again.rank_by("spots")
    again.to_session().save(path)
    third = ViewerState(model)
    third.apply_session(Session.load(path), path=path)
    assert third.origin == "spots"


def test_recovered_session_keeps_its_name_and_stays_dirty(state, model, tmp_path):
    _, v = _essential_vertex(model)
    state.mark(vertex=v)
    state.set_clean(tmp_path / "patient.json")
    state.set_notes("x")
    auto = state.to_session(for_autosave=True)
    assert auto.session_path == str(tmp_path / "patient.json")
    assert state.to_session().session_path is None          # never in a saved file
    rec = ViewerState(model)
    rec.apply_session(Session.from_json(auto.to_json()), recovered=True)
    assert rec.session_path == tmp_path / "patient.json" and rec.dirty


def test_bad_session_changes_nothing(state, model):
    _, v = _essential_vertex(model)
    state.mark(vertex=v)
    before = state.to_session().to_json()
    with pytest.raises(SessionError, match="skin vertex"):
        state.apply_session(Session(pack_key=model.pack.key, drawing=[10 ** 9]))
    after = state.to_session().to_json()
    before.pop("saved_at"), after.pop("saved_at")
    assert after == before


def test_new_session_forgets_everything(state, model, tmp_path):
    _, v = _essential_vertex(model)
    state.mark(vertex=v)
    state.set_notes("n")
    state.set_clean(tmp_path / "a.json")
    state.new_session()
    assert state.is_empty() and state.session_path is None and not state.dirty
    assert not state.can_undo and state.selected is None and state.candidates == []


# -- view settings: layers, opacity, modes, brush, camera (no display) ----------------
def test_view_settings_emit_one_event_per_change_and_validate(state):
    seen = []
    for name in ("skin_opacity", "bones", "patient_mode", "paint_mode", "brush_mm", "camera", "eraser"):
        getattr(state.view.events, name).connect(lambda v, name=name: seen.append((name, v)))
    state.view.skin_opacity = 0.3
    state.view.bones = True
    state.view.patient_mode = True
    state.view.paint_mode = True
    state.view.brush_mm = 40
    state.view.camera = "posterior"
    state.view.eraser = True
    assert seen == [("skin_opacity", 0.3), ("bones", True), ("patient_mode", True), ("paint_mode", True),
                    ("brush_mm", 40.0), ("camera", "posterior"), ("eraser", True)]
    state.view.bones = True                      # no change, no event
    assert len(seen) == 7
    for field, bad in (("skin_opacity", 1.5), ("brush_mm", 2), ("camera", "sideways"), ("bones", "yes please")):
        with pytest.raises(ValueError):
            setattr(state.view, field, bad)
    assert state.view.skin_opacity == 0.3 and state.view.camera == "posterior"
    assert state.brush_mm == 40.0 and state.eraser is True   # the brush the drawing uses


def test_view_settings_round_trip_through_a_session_file(state, model, tmp_path):
    from viewer.session import Session
    from viewer.state import ViewerState

    state.view.apply({"skin_opacity": 0.2, "muscles": False, "bones": True, "other_side": True,
                      "brush_mm": 50, "camera": "right", "patient_mode": True})
    path = state.to_session().save(tmp_path / "s.json")
    fresh = ViewerState(model)
    events = []
    fresh.view.events.connect(lambda *a: events.append(a))
    fresh.apply_session(Session.load(path), path=path)
    assert fresh.view == state.view
    assert len(events) == 7                      # one event per changed setting, not more


def test_a_version_1_session_opens_and_keeps_the_current_view(state, model, tmp_path):
    import json

    from viewer.session import FORMAT, Session

    v = int(model.geo.snap(np.array([-165.0, -75.0, 801.0]))[0][0])
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format": FORMAT, "version": 1, "pack_key": model.pack.key,
                                "marks": [{"vertex": v, "point": model.geo.vertices[v].tolist()}],
                                "view": {"skin_opacity": 0.9}}))   # a v1 file has no view: ignored
    state.view.skin_opacity = 0.4
    state.apply_session(Session.load(path), path=path)
    assert len(state.marks) == 1 and state.candidates and state.view.skin_opacity == 0.4


def test_a_session_with_bad_view_settings_changes_nothing(state, model, tmp_path):
    import json

    from viewer.session import FORMAT, Session, SessionError

    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": FORMAT, "version": 2, "view": {"skin_opacity": 7}}))
    state.view.skin_opacity = 0.4
    state.set_notes("keep me")
    with pytest.raises(SessionError) as exc:
        state.apply_session(Session.load(path), path=path)
    assert "skin_opacity" in str(exc.value) and state.notes == "keep me" and state.view.skin_opacity == 0.4


# -- batch changes: one event per kind of change --------------------------------------
def _count_all(state):
    """Every ViewerState signal, counted, with what the state holds when it fires."""
    counts, seen = {}, []
    for name in state.events:
        def on(*_, name=name):
            counts[name] = counts.get(name, 0) + 1
            seen.append((name, len(state.marks), state.notes, state.selected))
        getattr(state.events, name).connect(on)
    return counts, seen


def test_new_session_emits_each_event_once(state, model, tmp_path):
    _, v = _essential_vertex(model)
    state.mark(vertex=v)
    state.set_notes("n")
    state.set_clean(tmp_path / "a.json")
    counts, seen = _count_all(state)
    state.new_session()
    assert counts and max(counts.values()) == 1, counts
    assert all(s[1:] == (0, "", None) for s in seen)       # listeners see the finished reset


def test_opening_a_session_emits_each_event_once_with_the_final_state(state, model, tmp_path):
    _, v = _essential_vertex(model)
    state.mark(vertex=v)
    state.set_notes("Pain since March.")
    state.view.apply({"skin_opacity": 0.2, "bones": True})
    path = state.to_session().save(tmp_path / "s.json")
    fresh = ViewerState(model)
    fresh.mark(vertex=int(np.flatnonzero(model.zone_weights(model.patterns[-1])[0] > 0.9)[0]))
    fresh.set_notes("another patient")
    counts, seen = _count_all(fresh)
    view_events = []
    fresh.view.events.connect(lambda *a: view_events.append(a))
    fresh.apply_session(Session.load(path), path=path)
    assert max(counts.values()) == 1, counts
    for name in ("marks", "drawing", "candidates", "selected", "notes", "dirty", "session_path", "history"):
        assert counts.get(name) == 1, (name, counts)
    assert all(s[1:] == (1, "Pain since March.", state.selected) for s in seen), seen
    assert len(view_events) == 2                            # one per changed setting
    # a recovered autosave as well
    counts.clear()
    fresh.apply_session(Session.from_json(fresh.to_session(for_autosave=True).to_json()), recovered=True)
    assert max(counts.values()) == 1, counts


def test_clear_undo_and_redo_emit_each_event_once(toy):
    st = ViewerState(toy.model)
    st.mark(vertex=toy.h)
    st.mark(vertex=toy.t, add=True)
    counts, seen = _count_all(st)
    for step in (st.clear, st.undo, st.redo, st.undo):
        counts.clear()
        step()
        assert max(counts.values()) == 1, (step.__name__, counts)
    assert len(st.marks) == 2 and seen
    for name, marks, _, selected in seen:          # listeners see marks and selection that belong together
        assert (marks == 0) == (selected is None), (name, marks, selected)
