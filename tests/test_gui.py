"""The real window, driven as a user drives it (pytest-qt, run under Xvfb):

    xvfb-run -a .venv/bin/python -m pytest tests/test_gui.py

Real mouse clicks and drags on the 3D view and on list rows, keys through
QTest.keyClick, menu entries found in the menu bar by their text (QAction.trigger()
of the entry, as a click on it does) or a click on their toolbar button; dialogs are
answered by pressing their buttons (QTimer.singleShot while they are open). Every
test asserts what the user sees (list rows, labels, titles, files written, colours
on the screen). One window (1280x720) is shared by the module and the `fresh`
fixture puts it back in its start state before and after every test, whatever
the test did or where it failed. Needs the built pack and the referral patterns:
without them it fails (CI builds the pack), it does not skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

pytest.importorskip("pytestqt")
QtCore = pytest.importorskip("PySide6.QtCore")
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialogButtonBox  # noqa: E402

from pixels import screen_pos  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (1280, 720)
REFERENCES = REPO / "tests" / "reference"
TEST_ID = "FMA999001"
ANATOMY = """
anatomy:
  origin: External surface of the ilium between the anterior and inferior gluteal lines
  insertion: Anterior border of the greater trochanter
  action: Abducts and medially rotates the thigh
  innervation:
    nerve: Superior gluteal nerve
    segments: [L4, L5, S1]
  source: Test fixture, not clinical content (tests/test_gui.py)
"""


@pytest.fixture(scope="module")
def user_maps(tmp_path_factory):
    """A user map with the optional anatomy block: gluteus minimus's content under a test id."""
    d = tmp_path_factory.mktemp("maps")
    text = (REPO / "referral_maps" / "muscles" / "gluteus_minimus.yaml").read_text()
    text = text.replace("id: FMA22317", f"id: {TEST_ID}").replace("name: Gluteus minimus",
                                                                  "name: Testus anatomicus")
    text = text.replace("aliases: [glute min, glut min, G. min]", "aliases: []")
    # the test's own anatomy block replaces the built-in one (a key may appear once)
    text = re.sub(r"\nanatomy:\n(?:[ \t]+.*\n)+", "\n", text)
    text = text.rstrip() + "\n" + ANATOMY
    (d / "testus.yaml").write_text(text)
    return d


@pytest.fixture(scope="module")
def gui_model(user_maps):
    """The built pack's model with the test map. A missing pack or maps that do not load
    are failures, not skips: CI builds the pack, and a crash while loading user maps
    must show as the crash."""
    from conftest import field_cache_dir

    from viewer.anatomy import load_pack
    from viewer.referral import model as referral_model

    pack = load_pack()
    model = referral_model.load_model(pack, user_maps=user_maps, cache_dir=field_cache_dir(pack))
    assert model.patterns, [str(p) for p in model.problems[:3]]
    assert any(m.id == TEST_ID and m.anatomy for m in model.maps.maps), model.problems
    return model


def _make_window(qapp, model, autosave_dir, **kw):
    import pyvista as pv

    from viewer.gui.main_window import MainWindow

    pv.OFF_SCREEN = False
    w = MainWindow(model=model, autosave_dir=autosave_dir, confirm_close=False, **kw)
    w.view.fly_ms = 0                  # camera jumps: tests need deterministic frames
    w.errors = []
    w.error = lambda title, text: w.errors.append((title, text))      # message boxes, collected
    w.resize(*WINDOW_SIZE)
    w.show()
    QTest.qWaitForWindowExposed(w)
    w.activateWindow()
    QTest.qWaitForWindowActive(w)
    w.resizeDocks([w.left_dock, w.right_dock], [250, 380], Qt.Horizontal)   # a fixed 3D view size
    _settle(qapp)
    return w


@pytest.fixture(scope="module")
def window(qapp, gui_model, tmp_path_factory):
    w = _make_window(qapp, gui_model, tmp_path_factory.mktemp("autosave"))
    yield w
    w.close()


@pytest.fixture(autouse=True)
def fresh(request):
    """The shared window in its start state before each test and again after it, however
    the test ended (a failed assert included): no dialog left open, no mode on, default
    layers, an empty session, the front view."""
    if "window" not in request.fixturenames:
        yield
        return
    w = request.getfixturevalue("window")
    _restore(w)
    try:
        yield w
    finally:
        _restore(w)


def _restore(w):
    app = QApplication.instance()
    for top in app.topLevelWidgets():                        # dialogs a failed test left open
        if top is not w and top.isVisible() and hasattr(top, "reject"):
            top.reject()
    _settle(app)
    if not w.isActiveWindow():                               # other windows closed: shortcuts need focus
        w.activateWindow()
        QTest.qWaitForWindowActive(w)
    A = w.actions
    for act in (A.paint, A.eraser, A.patient):
        if act.isChecked():
            act.setChecked(False)
    for box, on in ((A.chk_muscles, True), (A.chk_bones, False), (A.chk_tps, True), (A.chk_other, False)):
        if box.isChecked() != on:
            box.setChecked(on)
    A.opacity.setValue(55)
    _menu(w, "Edit", "Clear search, then selection").trigger()
    _menu(w, "File", "New session").trigger()
    w.notes.clear()
    _menu(w, "Edit", "Clear search, then selection").trigger()
    _menu(w, "View", "Anterior view").trigger()
    w.statusBar().clearMessage()
    _settle(app)


def _wait_until(cond, ms):
    for _ in range(ms // 20):
        if cond():
            return True
        QTest.qWait(20)
    return cond()


def _settle(qapp, ms=60):
    for _ in range(5):
        qapp.processEvents()
        QTest.qWait(ms // 5)


def _key(w, key, mod=Qt.NoModifier, target=None):
    QTest.keyClick(target or w.focusWidget() or w, key, mod)
    _settle(QtCore.QCoreApplication.instance())


def _menu(w, menu: str, entry: str):
    """The entry of a menu-bar menu, found by the texts the user reads (no & marks)."""
    m = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == menu)
    found = [a for a in m.actions() if a.text().replace("&", "").rstrip("…").startswith(entry)]
    assert found, f"no {entry!r} in the {menu} menu: {[a.text() for a in m.actions()]}"
    return found[0]


def _reset(w):
    w.activateWindow()             # keys reach the window's shortcuts after other windows were open
    QTest.qWaitForWindowActive(w)
    if w.actions.paint.isChecked():
        w.actions.paint.trigger()
    w.actions.patient.setChecked(False)
    w.actions.new.trigger()
    w.actions.escape.trigger()
    w.actions.views["anterior"].trigger()
    _settle(QtCore.QCoreApplication.instance())


def _pick(w, menu, entry):
    """Choose a menu entry as a click on it does (QAction.trigger of the entry found by its text)."""
    act = _menu(w, menu, entry)
    assert act.isEnabled(), f"{menu} > {entry} is disabled"
    act.trigger()
    _settle(QApplication.instance())


def _answer(title: str, act, timeout_ms=8000) -> dict:
    """When the modal dialog titled `title` opens, call act(dialog) (which presses its
    buttons); returns a dict that holds the dialog once seen."""
    seen = {}

    def poll(left=timeout_ms):
        dlg = QApplication.activeModalWidget()
        if dlg is not None and dlg.isVisible() and dlg.windowTitle() == title and "dialog" not in seen:
            seen["dialog"] = dlg
            act(dlg)
        elif left > 0 and "dialog" not in seen:
            QTimer.singleShot(40, lambda: poll(left - 40))

    QTimer.singleShot(0, poll)
    return seen


def _press(dlg, which):
    """A click on a QDialogButtonBox button (Save, Ok, Cancel)."""
    box = dlg.findChild(QDialogButtonBox)
    button = box.button(which)
    assert button is not None and button.isVisible()
    QTest.mouseClick(button, Qt.LeftButton)


def _type_into(field, text):
    field.setFocus()
    QTest.keyClick(field, Qt.Key_A, Qt.ControlModifier)
    QTest.keyClick(field, Qt.Key_Delete)
    QTest.keyClicks(field, text)


def _tick(box):
    """A click on a check box's or radio button's indicator."""
    QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, QPoint(8, box.height() // 2))


def _click_row(lst, item):
    """A click on a row of a list or tree, as the user does (scrolled into view first)."""
    lst.scrollToItem(item)
    rect = lst.visualItemRect(item)
    assert rect.isValid() and lst.viewport().rect().contains(rect.center())
    QTest.mouseClick(lst.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    _settle(QApplication.instance())


def _choose(w, query, side="right"):
    """Pick a muscle the user's way: Ctrl+F, type its name, click the first match in the
    browser; S for the left side. Returns the pattern shown."""
    _key(w, Qt.Key_F, Qt.ControlModifier)
    QTest.keyClicks(w.browser.search, query)
    _settle(QApplication.instance())
    items = w.browser.visible_items()
    assert items, f"nothing matches {query!r}"
    _click_row(w.browser.tree, items[0])
    assert w.state.selected is not None and w.state.selected.muscle.name == items[0].text(0).split(" (")[0]
    if side != w.state.selected.side:
        _key(w, Qt.Key_S, target=w.plotter)
    assert w.state.selected.side == side
    _settle(QApplication.instance(), 100)
    return w.state.selected


def _view(w, key):
    """A view key pressed over the 3D view (1 front, 2 back, 3 right, 4 left, 7 inner side)."""
    _key(w, key, target=w.plotter)


def _pattern(model, side="right", name="gluteus minimus"):
    return model.pattern(model.find_muscles(name)[0].id, side)


def _essential(model, p, at=0.55):
    return np.flatnonzero(model.zone_weights(p)[0] >= at)


_screen_pos = screen_pos


def _visible_vertex(w, vertices, seed=1):
    """A vertex of the set that faces the camera and is the first skin hit under its pixel."""
    model = w.model
    cam = np.array(w.plotter.camera.position)
    V, N = model.geo.vertices, model.geo.normals
    facing = [int(v) for v in vertices if np.dot(N[v], (cam - V[v]) / np.linalg.norm(cam - V[v])) > 0.8]
    for v in np.random.default_rng(seed).permutation(facing)[:300]:
        pos = _screen_pos(w, V[v])
        if not (30 < pos.x() < w.plotter.width() - 30 and 30 < pos.y() < w.plotter.height() - 30):
            continue
        hit = w.view.picker.pick(QPointF(round(pos.x()), round(pos.y())))
        if hit is not None and np.linalg.norm(np.array(hit[1]) - V[v]) < 6.0:
            return int(v), QPoint(round(pos.x()), round(pos.y()))
    pytest.fail("no visible vertex of the pattern in this view")


def _click(w, pos, mod=Qt.NoModifier):
    QTest.mouseClick(w.plotter, Qt.LeftButton, mod, pos)
    _settle(QtCore.QCoreApplication.instance())


def _essential_px(img):
    """Pixels of the essential-zone colour (crimson #c51b7d, shaded): strong red,
    little green, blue between (unlike the purple muscle, the blue marks or skin)."""
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (r > 120) & (g < 0.45 * r) & (b > 0.35 * r) & (b < 0.9 * r)


def _shot(w):
    _settle(QApplication.instance(), 100)
    return w.plotter.screenshot(return_img=True)


def _rows(w):
    return [w.candidates.list.item(i).data(Qt.UserRole + 1) for i in range(w.candidates.list.count())]


# -- clicks ---------------------------------------------------------------------------
def test_click_lists_candidates_and_paints_the_top_pattern(window, qapp):
    model = window.model
    p = _pattern(model)
    _view(window, Qt.Key_3)
    target, pos = _visible_vertex(window, _essential(model, p))
    _click(window, pos)

    rows = _rows(window)
    marks = window.state.marks
    assert len(marks) == 1
    v = marks[0].vertex
    assert np.linalg.norm(model.geo.vertices[v] - model.geo.vertices[target]) < 6.0   # the clicked spot
    # the rules the README states, checked on the memberships at the spot: every zone
    # covering the clicked vertex (membership >= 0.5) is listed (covering the fingertip or at
    # its edge), the clicked pattern's as essential; the zones covering or at the edge first,
    # by score in SCORE_STEP steps, then the near ones, by score (muscles: joints, roots,
    # nerves and organs are listed apart, under "Also consider")
    from viewer.referral.lookup import SCORE_STEP

    covering = {k for k in range(len(model.patterns)) if model.patterns[k].kind == "muscle"
                and (model.ess[v, k] >= 0.5 or model.spill[v, k] >= 0.5)}
    assert covering <= {c.pattern for c in rows if c.tier != "near"}
    assert (p.muscle.id, "right", "essential") in [(c.muscle_id, c.side, c.zone) for c in rows]
    tiers = [c.tier == "near" for c in rows]
    assert tiers == sorted(tiers), tiers
    for group in ([c for c in rows if c.tier != "near"], [c for c in rows if c.tier == "near"]):
        steps = [round(c.score / SCORE_STEP) for c in group]
        assert steps == sorted(steps, reverse=True), [(c.name, c.score) for c in group]
    assert "Pain at:" in window.candidates.title.text()
    # the top candidate's pattern is painted and its row highlighted
    top = model.patterns[rows[0].pattern]
    assert window.scene.pattern is top and window.candidates.list.currentRow() == 0
    assert _essential_px(_shot(window)).sum() > 300
    assert window.plotter.actors.get("marks") is not None
    # the clicked point in the status bar, and Copy lookup command gives that point
    label = window.point_status.label.text()
    assert label.startswith("Point: ") and label.endswith(" mm")
    _key(window, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier, target=window.plotter)
    cmd = QApplication.clipboard().text()
    assert cmd.startswith("referral-viewer lookup --point ")
    xyz = np.array([float(x) for x in cmd.split("--point ")[1].split()])
    assert np.linalg.norm(xyz - np.array(marks[0].point)) < 1.0


def test_a_new_click_replaces_the_old_pattern(window, qapp):
    from viewer.render import style

    model = window.model
    old = _choose(window, "gluteus minimus", side="left")    # a muscle chosen before the click
    _view(window, Qt.Key_4)                                   # the left side, where its zone is
    painted_before = _essential_px(_shot(window)).sum()
    left_only = _essential(model, old)
    assert painted_before > 300
    assert (np.abs(window.scene.skin_rgb[left_only].astype(int) - style.SKIN).sum(axis=1) > 60).all()
    _view(window, Qt.Key_3)
    _, pos = _visible_vertex(window, _essential(model, _pattern(model)))
    _click(window, pos)
    rows = _rows(window)
    assert window.scene.pattern is model.patterns[rows[0].pattern] and window.scene.pattern is not old
    # nothing of the left pattern stays painted: its skin is back to the skin colour
    shown = model.zone_weights(window.scene.pattern)
    still = left_only[(shown[0][left_only] < 0.3) & (shown[1][left_only] < 0.3)]
    assert len(still) > 50
    assert (np.abs(window.scene.skin_rgb[still].astype(int) - style.SKIN).sum(axis=1) <= 3).all()
    _view(window, Qt.Key_4)                                   # and on the screen
    assert _essential_px(_shot(window)).sum() < 0.05 * painted_before


def test_drag_rotates_and_never_marks(window, qapp):
    cam = window.plotter.camera
    before = (np.array(cam.position), np.array(cam.focal_point))
    c = window.plotter.rect().center()
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, c)
    for dx in range(0, 90, 10):
        QTest.mouseMove(window.plotter, c + QPoint(dx, dx // 3))
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, c + QPoint(90, 30))
    _settle(qapp, 300)
    after = (np.array(cam.position), np.array(cam.focal_point))
    assert window.state.marks == [] and window.candidates.list.count() == 0
    # the camera orbited: it moved, around the same focal point, at the same distance
    assert np.linalg.norm(after[0] - before[0]) > 100.0
    assert np.allclose(after[1], before[1], atol=1.0)
    assert abs(np.linalg.norm(after[0] - after[1]) - np.linalg.norm(before[0] - before[1])) < 1.0
    assert not window.scene.interacting          # the full meshes are back once the drag ends


def test_wheel_zooms_toward_the_cursor_and_coalesces(window, qapp, monkeypatch):
    from PySide6.QtGui import QWheelEvent

    model = window.model
    _, pos = _visible_vertex(window, np.flatnonzero(model.geo.vertices[:, 2] > 1300), seed=4)
    hit = np.array(window.view.picker.pick(QPointF(pos))[1])
    d0 = np.linalg.norm(np.array(window.plotter.camera.position) - hit)
    frames, zooms = [], []
    obs = window.plotter.render_window.AddObserver("EndEvent", lambda *a: frames.append(1))
    zoom_at = window.scene.zoom_at
    monkeypatch.setattr(window.scene, "zoom_at", lambda *a, **k: (zooms.append(a[1]), zoom_at(*a, **k)))
    try:
        for _ in range(6):                 # a fast wheel: six notches queued before any is handled
            qapp.postEvent(window.plotter, QWheelEvent(QPointF(pos), QPointF(window.plotter.mapToGlobal(pos)),
                                                       QPoint(0, 0), QPoint(0, 120), Qt.NoButton, Qt.NoModifier,
                                                       Qt.NoScrollPhase, False))
        _settle(qapp, 400)
    finally:
        window.plotter.render_window.RemoveObserver(obs)
    d1 = np.linalg.norm(np.array(window.plotter.camera.position) - hit)
    assert d1 < d0 / 1.5                                    # zoomed in by the six notches
    after = _screen_pos(window, hit)
    assert abs(after.x() - pos.x()) < 3 and abs(after.y() - pos.y()) < 3   # the point stayed under the cursor
    assert len(zooms) <= 2 and len(frames) < 6             # the queued notches make one or two zooms, not six


def test_status_bar_region_follows_camera_moves(window, qapp):
    model = window.model
    v, pos = _visible_vertex(window, np.arange(0, len(model.geo.vertices), 7))
    QTest.mouseMove(window.plotter, pos)
    _settle(qapp, 100)
    assert model.region_of(v).display in window.hover_label.text()
    _view(window, Qt.Key_2)                                  # posterior view, mouse not moved
    _settle(qapp, 100)
    hit = window.view.picker.pick(QPointF(pos))
    expected = "Not over the skin" if hit is None else model.region_of(window.state.snap(hit[1])).display
    assert expected in window.hover_label.text()


# -- keys, focus, search ---------------------------------------------------------------
def test_view_keys_work_at_start_and_escape_leaves_the_search(window, qapp):
    assert window.focusWidget() is not window.browser.search
    _key(window, Qt.Key_2)
    assert window.scene.current_view == "posterior" and window.browser.search.text() == ""
    _key(window, Qt.Key_F, Qt.ControlModifier)                # Find: focus the search box
    assert window.focusWidget() is window.browser.search
    QTest.keyClicks(window.browser.search, "knee")
    _settle(qapp)
    assert window.browser.visible_items()
    _key(window, Qt.Key_Escape)
    p = _choose(window, "gluteus minimus")                   # a click on the browser's row
    assert window.browser.search.text() == "gluteus minimus"
    _key(window, Qt.Key_Escape)                               # 1st Escape: clears the search
    assert window.browser.search.text() == "" and window.state.selected is p and window.scene.pattern is p
    _key(window, Qt.Key_Escape)                               # 2nd: clears the selection
    assert window.state.selected is None and window.scene.pattern is None
    assert window.focusWidget() is not window.browser.search
    _key(window, Qt.Key_3)
    assert window.scene.current_view == "right"


def test_inner_side_view_key_shows_an_inner_foot_zone_past_the_other_leg(window, qapp):
    """Key 7 turns to the inner side of the pattern's limbs with the other half of the
    body cut away: abductor hallucis' inner-heel zone, hidden from the left side (key 4)
    behind the left foot, fills the view; key 1 brings the whole body back."""
    _choose(window, "abductor hallucis")
    _view(window, Qt.Key_4)
    hidden = _essential_px(_shot(window)).sum()
    _view(window, Qt.Key_7)
    assert window.scene.current_view == "medial" and window.scene.half == -1.0
    inner = _essential_px(_shot(window)).sum()
    assert inner > 100 and inner > 3 * hidden, (inner, hidden)
    _view(window, Qt.Key_F)                                   # frame the pattern: its best view
    assert window.scene.current_view == "medial"
    assert _essential_px(_shot(window)).sum() > 1000
    _view(window, Qt.Key_1)
    assert window.scene.half is None
    assert window.scene.skin_actor.GetMapper().GetNumberOfClippingPlanes() == 0


@pytest.mark.parametrize("query, expect", [("glutues minimus", "Gluteus minimus"), ("knee", None),
                                           ("headache", None), ("sciatica", "nerve root"),
                                           ("trapz", "trapezius")])
def test_search_words_and_typos_and_enter_opens_the_first(window, qapp, query, expect):
    _key(window, Qt.Key_F, Qt.ControlModifier)
    QTest.keyClicks(window.browser.search, query)
    _settle(qapp)
    items = window.browser.visible_items()
    names = [it.text(0) for it in items]
    assert names and not window.browser.no_matches.isVisible()
    if expect:
        assert expect.lower() in names[0].lower()            # the best match comes first
    _key(window, Qt.Key_Down, target=window.browser.search)
    assert window.focusWidget() is window.browser.tree and window.browser.tree.currentItem() is items[0]
    _key(window, Qt.Key_F, Qt.ControlModifier)
    _key(window, Qt.Key_Return, target=window.browser.search)   # Enter opens the best match
    assert window.state.selected is not None and names[0].startswith(window.state.selected.muscle.name)
    assert window.state.selected.muscle.name in window.details.toPlainText()


def test_no_matches_line(window, qapp):
    _key(window, Qt.Key_F, Qt.ControlModifier)
    QTest.keyClicks(window.browser.search, "xyzzy")
    _settle(qapp)
    assert window.browser.visible_items() == []
    assert window.browser.no_matches.isVisible() and "No matches" in window.browser.no_matches.text()


# -- modes and tools ----------------------------------------------------------------------
def test_patient_mode_from_key_toolbar_and_menu(window, qapp):
    p = _choose(window, "gluteus minimus")
    if window.model.pack.bones:
        QTest.mouseClick(window.actions.chk_bones, Qt.LeftButton)    # the student's skeleton is on
        assert window.scene.bones_visible()
    assert window.scene.muscle_actor.GetVisibility() and window.tabs.isTabVisible(1)
    _key(window, Qt.Key_P, Qt.ControlModifier)
    _settle(qapp, 100)
    # the clinical panels and tools are gone, the Notes tab too; the body is clean: no
    # context muscles, no bones, only the chosen muscle and its pattern
    assert not window.left_dock.isVisible() and not window.actions.layerbar.isVisible()
    assert not window.actions.pain_tools.isVisible()
    assert not window.tabs.isTabVisible(1) and window.tabs.currentWidget() is window.details
    assert not window.scene.muscle_actor.GetVisibility() and not window.scene.bones_visible()
    assert window.scene.pattern is p and _essential_px(_shot(window)).sum() > 300
    html = window.details.toHtml()
    assert "Differential" not in html and "Sources" not in html
    assert "Patient mode" in window.mode_label.text()
    button = window.actions.viewbar.widgetForAction(window.actions.patient)
    QTest.mouseClick(button, Qt.LeftButton)
    _settle(qapp)
    assert window.left_dock.isVisible() and "Differential" in window.details.toHtml()
    assert window.tabs.isTabVisible(1) and window.scene.muscle_actor.GetVisibility()
    assert window.scene.bones_visible() == bool(window.model.pack.bones)   # back as the user left them
    _pick(window, "View", "Patient mode")
    assert not window.left_dock.isVisible() and "Patient mode" in window.mode_label.text()
    assert not window.tabs.isTabVisible(1) and not window.scene.muscle_actor.GetVisibility()
    _key(window, Qt.Key_P, Qt.ControlModifier)
    assert window.left_dock.isVisible() and "Patient mode" not in window.mode_label.text()


def test_undo_redo_marks_drawing_and_clear(window, qapp):
    p = _pattern(window.model)
    _view(window, Qt.Key_3)
    v, pos = _visible_vertex(window, _essential(window.model, p))
    _click(window, pos)
    assert len(window.state.marks) == 1
    _key(window, Qt.Key_D, target=window.plotter)            # pain drawing on
    assert window.actions.paint.isChecked()
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, pos + QPoint(0, 20))
    QTest.mouseMove(window.plotter, pos + QPoint(6, 26))
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, pos + QPoint(6, 26))
    _settle(qapp)
    painted = window.state.drawing_vertices()
    assert len(painted) > 10 and "Painted area" in window.candidates.title.text()
    drawing_blue = np.array([0, 114, 178])                   # Okabe-Ito blue, the drawing's colour
    blue = lambda: ((np.abs(window.scene.skin_rgb.astype(int) - drawing_blue).sum(axis=1) < 120)).sum()  # noqa
    assert blue() > 10
    button = next(b for b in window.actions.pain_tools.children()
                  if hasattr(b, "defaultAction") and b.defaultAction().text() == "Clear")
    QTest.mouseClick(button, Qt.LeftButton)
    _settle(qapp)
    assert window.state.marks == [] and blue() == 0 and window.candidates.list.count() == 0
    _key(window, Qt.Key_Z, Qt.ControlModifier)                # undo Clear
    assert np.array_equal(window.state.drawing_vertices(), painted) and len(window.state.marks) == 1
    assert blue() > 10 and window.candidates.list.count() > 0
    _key(window, Qt.Key_Z, Qt.ControlModifier)                # undo the stroke
    assert not window.state.drawing.any() and "Pain at:" in window.candidates.title.text()
    _key(window, Qt.Key_Z, Qt.ControlModifier)                # undo the mark
    assert window.state.marks == [] and window.plotter.actors.get("marks") is None
    _key(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)   # redo the mark
    assert len(window.state.marks) == 1
    _key(window, Qt.Key_D, target=window.plotter)
    assert not window.actions.paint.isChecked()


def test_skin_opacity_never_hides_the_pattern(window, qapp):
    p = _choose(window, "gluteus minimus")
    _view(window, Qt.Key_3)
    slider = window.actions.opacity
    slider.setFocus()
    _key(window, Qt.Key_Home, target=slider)                 # the slider's Home key: opacity 0
    assert slider.value() == 0
    ess = _essential(window.model, p, 0.9)
    assert window.scene.skin_alpha[ess].min() >= 200          # the zones stay opaque
    assert np.median(window.scene.skin_alpha) < 30            # the rest of the skin is see-through
    assert _essential_px(_shot(window)).sum() > 300


def test_candidate_list_rows_and_segments_at_1280x720(window, qapp):
    assert (window.width(), window.height()) == WINDOW_SIZE
    p = _pattern(window.model)
    _view(window, Qt.Key_3)
    _, pos = _visible_vertex(window, _essential(window.model, p, 0.9))
    _click(window, pos)
    lst = window.candidates.list
    row_h = lst.sizeHintForRow(0)
    assert lst.viewport().height() // row_h > 5               # more than five rows fit
    rows = _rows(window)
    test_row = next(i for i, c in enumerate(rows) if c.muscle_id == TEST_ID)
    assert lst.item(test_row).data(Qt.UserRole + 2) == "L4–S1"   # segmental level shown on the row
    assert "Spinal segments: L4–S1" in lst.item(test_row).toolTip()
    _click_row(lst, lst.item(test_row))                       # the user clicks the row
    assert window.state.selected.muscle.id == TEST_ID and lst.currentRow() == test_row
    assert window.scene.pattern is window.state.selected
    _settle(qapp, 100)
    text = window.details.toPlainText()
    assert "Superior gluteal nerve (L4, L5, S1)" in text and "Anterior border of the greater trochanter" in text


def test_help_page_lists_the_shortcuts(window, qapp):
    from viewer.gui.help import HelpDialog

    _key(window, Qt.Key_F1, target=window.plotter)
    dlg = next(w for w in qapp.topLevelWidgets() if isinstance(w, HelpDialog) and w.isVisible())
    try:
        text = dlg.text.toPlainText()
        for needle in ("Patient mode", "Ctrl+P", "Undo", "Ctrl+Z", "Anterior view", "Esc", "Wheel"):
            assert needle in text
    finally:
        dlg.close()


# -- sessions -------------------------------------------------------------------------------
def test_save_new_open_keeps_the_ranking(window, qapp, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    p = _pattern(window.model)
    _view(window, Qt.Key_3)
    _, pos = _visible_vertex(window, _essential(window.model, p))
    _click(window, pos)
    _key(window, Qt.Key_D, target=window.plotter)
    # a short stroke from the clicked spot
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, pos)
    QTest.mouseMove(window.plotter, pos + QPoint(3, 6))
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, pos + QPoint(6, 12))
    _key(window, Qt.Key_D, target=window.plotter)
    window.tabs.setCurrentWidget(window.notes)
    QTest.keyClicks(window.notes, "Pain since March.")
    _settle(qapp)
    area = [(c.muscle_id, c.side) for c in _rows(window)]
    assert "Painted area" in window.candidates.title.text()
    path = tmp_path / "patient.json"
    # the system's file chooser is answered by its static function (it can be a native dialog)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    _pick(window, "File", "Save session as")
    assert path.exists() and window.windowTitle().startswith("patient.json —")
    _key(window, Qt.Key_N, Qt.ControlModifier, target=window.plotter)
    assert window.windowTitle().startswith("untitled session") and window.candidates.list.count() == 0
    assert window.notes.toPlainText() == ""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    _pick(window, "File", "Open session")
    _settle(qapp)
    assert "Painted area" in window.candidates.title.text()          # ranked by the area, as saved
    assert [(c.muscle_id, c.side) for c in _rows(window)] == area
    assert window.notes.toPlainText() == "Pain since March." and window.windowTitle().startswith("patient.json —")
    # a corrupt file changes nothing and says why
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{\"format\": \"referral-viewer-session\", \"version\": 1, \"marks\": [{\"vertex\": ")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    _pick(window, "File", "Open session")
    assert "not valid JSON" in window.errors[-1][1]
    assert window.notes.toPlainText() == "Pain since March." and window.windowTitle().startswith("patient.json")


def test_autosave_per_window_recovery_keeps_the_name(qapp, gui_model, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    live = tmp_path / "live"
    a = _make_window(qapp, gui_model, live)
    b = _make_window(qapp, gui_model, live)           # a second window shares the folder
    try:
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a_, **k: (str(tmp_path / "patient.json"), ""))
        _pick(a, "File", "Save session as")             # window a has a name
        assert a.windowTitle().startswith("patient.json")
        QTest.keyClicks(a.notes, "autosaved note")
        QTest.keyClicks(b.notes, "other window")
        _wait_until(lambda: a.sessions.slot.path.exists() and b.sessions.slot.path.exists(), 3000)
        assert a.sessions.slot.path != b.sessions.slot.path
        # a crash of window a: its autosave stays, its lock is gone (copied into a fresh folder)
        crashed = tmp_path / "crashed"
        crashed.mkdir()
        shutil.copy(a.sessions.slot.path, crashed / "autosave-123-deadbeef.json")
        (crashed / "autosave-999-unreadable.json").write_text("{\"format\": \"referral-viewer-session\", "
                                                             "\"version\": 7}")
        asked = []
        monkeypatch.setattr(QMessageBox, "question", lambda *a_, **k: asked.append(a_[2]) or QMessageBox.Yes)
        c = _make_window(qapp, gui_model, crashed)
        try:
            _settle(qapp, 200)
            assert c.notes.toPlainText() == "autosaved note"
            assert c.windowTitle().startswith("patient.json *")          # the name survives the crash
            assert "patient.json" in asked[0]
            kept = list(crashed.glob("autosave-999-unreadable.unreadable-*.json"))
            assert len(kept) == 1 and "newer referral-viewer" in c.errors[-1][1] and str(kept[0]) in c.errors[-1][1]
            assert not (crashed / "autosave-123-deadbeef.json").exists()   # adopted by window c
            _wait_until(lambda: c.sessions.slot.path.exists(), 3000)
        finally:
            c.close()
        assert not c.sessions.slot.path.exists() and kept[0].exists()
        # the live windows' locks hold: c did not offer (or touch) their autosaves
        assert a.sessions.slot.path.exists() and b.sessions.slot.path.exists()
        a.close()
        assert not a.sessions.slot.path.exists() and b.sessions.slot.path.exists()   # a deletes only its own
    finally:
        a.close()
        b.close()


# -- export: the File menu's dialogs, answered by pressing their buttons ----------------------
def test_file_export_image_writes_the_png_the_dialog_asked_for(window, qapp, tmp_path):
    from PIL import Image

    _choose(window, "gluteus minimus")
    out = tmp_path / "slide.png"

    def fill(dlg):
        _type_into(dlg.w, "1280")
        _type_into(dlg.h, "720")
        _tick(dlg.transparent)
        _type_into(dlg.path, str(out))
        _press(dlg, QDialogButtonBox.Save)

    seen = _answer("Export image", fill)
    _pick(window, "File", "Export image")
    assert "dialog" in seen, "File > Export image opened no dialog"
    assert out.exists(), window.errors
    with Image.open(out) as img:
        assert img.size == (1280, 720) and img.mode == "RGBA"
        assert img.getextrema()[3][0] == 0                    # the transparent background asked for
        rgb = np.asarray(img.convert("RGBA"))
    assert _essential_px(rgb[..., :3] * (rgb[..., 3:] > 0)).sum() > 500   # the pattern is on it
    assert str(out) in window.statusBar().currentMessage()
    # Cancel writes nothing
    other = tmp_path / "cancelled.png"

    def cancel(dlg):
        _type_into(dlg.path, str(other))
        _press(dlg, QDialogButtonBox.Cancel)

    seen = _answer("Export image", cancel)
    _key(window, Qt.Key_E, Qt.ControlModifier, target=window.plotter)      # the shortcut opens it too
    assert "dialog" in seen and not other.exists()


def test_file_export_all_writes_the_chosen_muscles(window, qapp, tmp_path):
    from PIL import Image

    folder = tmp_path / "patterns"

    def fill(dlg):
        _type_into(dlg.w, "640")
        _type_into(dlg.h, "360")
        _tick(dlg.pick_muscles)
        lst = dlg.muscles
        item = next(lst.item(i) for i in range(lst.count()) if lst.item(i).text() == "Piriformis")
        lst.scrollToItem(item)
        rect = lst.visualItemRect(item)
        QTest.mouseClick(lst.viewport(), Qt.LeftButton, Qt.NoModifier,
                         QPoint(rect.left() + rect.height() // 2, rect.center().y()))   # its check box
        assert item.checkState() == Qt.Checked
        _type_into(dlg.folder, str(folder))
        QTest.mouseClick(dlg.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)

    seen = _answer("Export all patterns", fill)
    _pick(window, "File", "Export all patterns")
    assert "dialog" in seen, "File > Export all opened no dialog"
    files = sorted(folder.glob("*.png"))
    assert [f.name for f in files] and all("piriformis" in f.name for f in files), files
    assert len(files) == 1                                   # one muscle, the right side, the best view
    with Image.open(files[0]) as img:
        assert img.size == (640, 360)
        assert _essential_px(np.asarray(img.convert("RGB"))).sum() > 100
    assert "1 images written to" in window.statusBar().currentMessage()


def test_file_patient_handout_writes_the_pdf(window, qapp, tmp_path):
    _menu(window, "File", "Patient handout")                 # the entry is there (the module ships)
    _pick(window, "File", "Patient handout")                 # nothing chosen: says what to do
    assert "Choose a muscle or mark the painful spot first" in window.statusBar().currentMessage()
    _choose(window, "gluteus minimus")
    out = tmp_path / "handout.pdf"

    def fill(dlg):
        notes = dlg.findChild(type(window.notes), "handout_notes")
        notes.setFocus()
        QTest.keyClicks(notes, "Ball on the hip twice daily.")
        from PySide6.QtWidgets import QLineEdit

        _type_into(dlg.findChild(QLineEdit, "handout_path"), str(out))
        _press(dlg, QDialogButtonBox.Save)

    seen = _answer("Patient handout", fill)
    _pick(window, "File", "Patient handout")
    assert "dialog" in seen
    assert out.exists() and out.read_bytes()[:5] == b"%PDF-"
    assert str(out) in window.statusBar().currentMessage()
    if shutil.which("pdftotext"):
        import unicodedata

        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        text = " ".join(unicodedata.normalize("NFKC", text).split())
        assert "Gluteus minimus" in text and "Ball on the hip twice daily." in text
        assert "not a diagnosis" in text


# -- screenshot regression ----------------------------------------------------------------------
def _state(window, name):
    """The three reference states, reached the user's way."""
    _restore(window)
    model = window.model
    p = _pattern(model)
    if name == "pattern":
        _choose(window, "gluteus minimus")
        _view(window, Qt.Key_3)
    elif name == "spot":
        _view(window, Qt.Key_3)
        v = int(_essential(model, p, 0.95)[0])
        pos = _screen_pos(window, model.geo.vertices[v])
        _click(window, QPoint(round(pos.x()), round(pos.y())))
        assert window.state.marks and np.linalg.norm(
            model.geo.vertices[window.state.marks[0].vertex] - model.geo.vertices[v]) < 6.0
    _settle(QtCore.QCoreApplication.instance(), 200)
    return window.plotter.screenshot(return_img=True)


def _compare(img, ref) -> str | None:
    """None when the images match; else what differs."""
    if img.shape != ref.shape:
        return f"size {img.shape} != {ref.shape}"
    diff = np.abs(img.astype(np.int16) - ref.astype(np.int16)).max(axis=2)
    if diff.mean() > 2.0 or (diff > 40).mean() > 0.005:
        return f"{(diff > 40).mean():.2%} of pixels differ by more than 40 (mean {diff.mean():.2f})"
    return None


def _reference(window, name):
    """tests/reference/<name>.png, made on this pack and view size. A reference made on
    another pack or size no longer applies: that fails (never a skip), and the images are
    only rewritten on request (REFERRAL_VIEWER_UPDATE_REFERENCES=1), which fails too, so a
    rewrite is never silent: look at the new images, commit them, run again without it."""
    from PIL import Image

    meta = REFERENCES / "references.json"
    key = {"pack": window.model.pack.key, "size": list(window.plotter.render_window.GetSize())}
    if os.environ.get("REFERRAL_VIEWER_UPDATE_REFERENCES") == "1":
        REFERENCES.mkdir(exist_ok=True)
        Image.fromarray(_state(window, name)).save(REFERENCES / f"{name}.png")
        meta.write_text(json.dumps(key))
        pytest.fail(f"rewrote {REFERENCES / (name + '.png')} (REFERRAL_VIEWER_UPDATE_REFERENCES=1): look at it, "
                    "commit it, and run the tests again without the variable")
    if not meta.exists():
        pytest.fail(f"no reference images in {REFERENCES}: make them once with "
                    "REFERRAL_VIEWER_UPDATE_REFERENCES=1 and look at them")
    made = json.loads(meta.read_text())
    assert made == key, (f"the references in {REFERENCES} were made with another pack or view size "
                         f"({made}, here {key}): they no longer apply. Remake them with "
                         "REFERRAL_VIEWER_UPDATE_REFERENCES=1, look at them and commit them")
    return np.asarray(Image.open(REFERENCES / f"{name}.png").convert("RGB"))


@pytest.mark.parametrize("name", ["anterior", "pattern", "spot"])
def test_screenshot_regression(window, qapp, name):
    ref = _reference(window, name)
    img = _state(window, name)
    problem = _compare(img, ref)
    if problem and os.environ.get("REFERRAL_VIEWER_SAVE_FAILED"):
        from PIL import Image

        Image.fromarray(img).save(Path(os.environ["REFERRAL_VIEWER_SAVE_FAILED"]) / f"{name}.png")
    assert problem is None, f"{name}: {problem} (compare with {REFERENCES / (name + '.png')})"


def test_screenshot_comparison_catches_a_missing_overlay(window, qapp):
    """The comparison is not blind: the pattern state without its overlay must fail it."""
    ref = _reference(window, "pattern")
    img = _state(window, "pattern")
    window.scene.show_pattern(None)          # a broken render: overlay off
    broken = window.plotter.screenshot(return_img=True)
    assert _compare(img, ref) is None
    assert _compare(broken, ref) is not None


def test_first_run_offers_to_build(qapp, tmp_path):
    from viewer.gui.main_window import MainWindow

    w = MainWindow(meshes=tmp_path / "no-pack", autosave_dir=tmp_path / "a", confirm_close=False)
    try:
        w.show()
        QTest.qWaitForWindowExposed(w)
        _wait_until(lambda: w.stack.currentWidget() is w.first_run, 4000)
        assert "No anatomy pack" in w.first_run.text.text()
        assert not w.actions.export.isEnabled()
    finally:
        w.close()


def test_about_mentions_licences():
    from viewer.gui.help import about_html

    html = about_html()
    for needle in ("BodyParts3D", "DBCLS", "CC BY 4.0", "Z-Anatomy", "CC BY-SA 4.0", "0.1.0"):
        assert needle in html


# -- bones layer (issue 8) --------------------------------------------------------------
def test_bones_layer_toggle_and_bone_named_in_the_status_bar(window, qapp):
    model, chk = window.model, window.actions.chk_bones
    assert model.pack.bones, "the built pack has a skeleton (BodyParts3D 4.0)"
    assert chk.isEnabled() and not chk.isChecked() and not window.scene.bones_visible()   # off by default
    QTest.mouseClick(chk, Qt.LeftButton)                     # the user ticks "Bones"
    _settle(qapp, 100)
    assert window.scene.bones_visible()
    _view(window, Qt.Key_1)                                  # anterior view
    _settle(qapp, 100)
    patella = next(b for b in model.pack.bones if "patella" in b.name.lower() and b.side == "right")
    centre = model.pack.bone_arrays(patella)[0].mean(axis=0)
    V = model.geo.vertices                                   # skin straight in front of it (-Y)
    # within 6 mm of the kneecap's centre: the BodyParts3D patella is only ~20 mm tall here,
    # so a skin point 12 mm off-centre can look past its edge onto the femur
    near = np.flatnonzero((np.abs(V[:, 0] - centre[0]) < 6) & (np.abs(V[:, 2] - centre[2]) < 6)
                          & (V[:, 1] < centre[1]))
    v, pos = _visible_vertex(window, near)
    QTest.mouseMove(window.plotter, pos)
    _settle(qapp, 150)
    text = window.hover_label.text()
    assert "bone:" in text and "patella" in text.lower(), text   # the bone under the skin is named
    QTest.mouseClick(chk, Qt.LeftButton)                     # and off again
    _settle(qapp, 100)
    QTest.mouseMove(window.plotter, pos + QPoint(1, 0))
    _settle(qapp, 150)
    assert not window.scene.bones_visible() and "bone:" not in window.hover_label.text()


def test_a_zone_passing_beside_the_click_is_listed_as_at_the_edge(window, qapp):
    model = window.model
    _view(window, Qt.Key_3)
    spot = model.geo.snap(np.array([[-165.0, -75.0, 801.0]]))[0][0]     # the README's outer-hip spot
    near = np.flatnonzero(np.linalg.norm(model.geo.vertices - model.geo.vertices[spot], axis=1) < 6)
    v, pos = _visible_vertex(window, near)
    _click(window, pos)
    rows = _rows(window)
    edge = [i for i, c in enumerate(rows) if c.tier == "edge"]
    assert edge, [c.name for c in rows]
    # the edge rows rank with the covering ones by score (README "The click"); the near ones
    # (zones within NEAR_MM) follow them all
    near = [i for i, c in enumerate(rows) if c.tier == "near"]
    assert near and min(near) > max(i for i, c in enumerate(rows) if c.tier != "near"), [c.name for c in rows]
    tip = window.candidates.list.item(edge[0]).toolTip()
    assert "at the edge" in tip and f"{rows[edge[0]].edge_mm:.0f} mm" in tip


# -- issue 19: patient mode, labels, strokes, wheel, views ------------------------------------
CLINICAL_DETAIL = r"essential|spillover|score|edge \d+ mm|TrP|\b[CTLS]\d{1,2}\b|\bmm\b|Copy lookup|lookup --point"


def _visible_texts(w) -> list[str]:
    """What the window shows in words: every visible widget's text (labels, buttons, tabs,
    text panels, list rows as painted, tree items), the status bar and the 3D view's labels."""
    import re

    from PySide6.QtWidgets import (QAbstractButton, QLabel, QLineEdit, QListWidget, QMenuBar, QTabBar,
                                   QTextEdit, QTreeWidget, QWidget)

    strip = lambda t: re.sub(r"<[^>]+>", " ", t or "")  # noqa: E731
    out = [w.statusBar().currentMessage()]
    for c in [w, *w.findChildren(QWidget)]:
        if not c.isVisible():
            continue
        if isinstance(c, QLabel):
            out.append(strip(c.text()))
        elif isinstance(c, QAbstractButton):
            out.append(c.text())
        elif isinstance(c, QTextEdit):
            out.append(c.toPlainText())
        elif isinstance(c, QLineEdit):
            out += [c.text(), c.placeholderText()]
        elif isinstance(c, QTabBar):
            out += [c.tabText(i) for i in range(c.count()) if c.isTabVisible(i)]
        elif isinstance(c, QMenuBar):
            out += [a.text() for a in c.actions()]
        elif isinstance(c, QListWidget):
            delegate = c.itemDelegate()
            out += [delegate.row_text(c.model().index(i, 0)) if hasattr(delegate, "row_text") else c.item(i).text()
                    for i in range(c.count())]
        elif isinstance(c, QTreeWidget):
            out += [it.text(0) for it in c.findItems("", Qt.MatchContains | Qt.MatchRecursive) if not it.isHidden()]
    if w.scene is not None:
        out += [text for text, shown, _ in w.scene.tp_labels if shown]
    return [t for t in out if t]


def test_patient_mode_shows_no_clinical_detail(window, qapp):
    import re

    _reset(window)
    p = _pattern(window.model)
    window.actions.views["right"].trigger()
    _, pos = _visible_vertex(window, _essential(window.model, p, 0.9))
    _click(window, pos)
    _click_row(window.candidates.list, window.candidates.list.item(0))   # a candidate chosen: its details shown
    _settle(qapp)
    clinical = " | ".join(_visible_texts(window))
    # the clinician's window shows all of it (the reading below is not blind)
    for word in ("essential", "Copy lookup", " mm", "L4"):
        assert word in clinical, word
    assert window.scene.muscle_actor.GetVisibility()
    QTest.keyClick(window, Qt.Key_P, Qt.ControlModifier)          # the real shortcut, on the window
    _settle(qapp, 150)
    assert window.actions.patient.isChecked()
    texts = _visible_texts(window)
    found = [(t, m.group()) for t in texts for m in [re.search(CLINICAL_DETAIL, t)] if m]
    assert not found, found
    assert re.search(r"\d+\.\d+", " ".join(texts)) is None       # no coordinates, no scores
    assert window.candidates.list.count() > 0 and "Where it hurts" in window.candidates.title.text()
    assert "Where it can be felt" in window.details.toPlainText()
    # a clean body: no context muscles, no trigger-point labels; large type
    assert not window.scene.muscle_actor.GetVisibility()
    assert not [t for t, shown, _ in window.scene.tp_labels if shown]
    assert window.candidates.delegate.scale >= 1.4 and window.candidates.title.font().pointSizeF() >= 13
    assert "font-size:16pt" in window.details.toHtml().replace(" ", "")
    QTest.keyClick(window, Qt.Key_P, Qt.ControlModifier)
    _settle(qapp, 150)
    assert not window.actions.patient.isChecked() and "essential" in " | ".join(_visible_texts(window))


def _path_vertices(w, a: QPoint, b: QPoint, step_px=2):
    out = []
    n = max(1, int(np.hypot(b.x() - a.x(), b.y() - a.y()) / step_px))
    for k in range(n + 1):
        hit = w.view.picker.pick(QPointF(a) + (QPointF(b) - QPointF(a)) * (k / n))
        if hit is not None:
            out.append(np.array(hit[1]))
    return out


def test_sparse_drag_paints_a_continuous_band_to_its_end(window, qapp):
    _reset(window)
    window.actions.views["posterior"].trigger()
    _settle(qapp, 100)
    model = window.model
    V = model.geo.vertices
    # down the right side of the back, over the buttock: 4 mouse events ~19 cm apart, from a
    # back point 38 cm above z 1000 to one 38 cm below it (pixels from the body itself, so the
    # drag stays on the back whatever the zoom a previous test left)
    def back_at(z):
        return np.flatnonzero((np.abs(V[:, 0] + 60) < 15) & (np.abs(V[:, 2] - z) < 15) & (V[:, 1] > -40))
    _, top = _visible_vertex(window, back_at(1150))
    _, bottom = _visible_vertex(window, back_at(850))
    jumps = 4
    start, step = top, (bottom - top) / jumps
    path = _path_vertices(window, start, start + step * jumps)   # the skin under the drag's line
    _key(window, Qt.Key_D, target=window.plotter)
    assert window.actions.paint.isChecked()
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, start)
    for k in range(1, jumps + 1):
        QTest.mouseMove(window.plotter, start + step * k)
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, start + step * jumps)
    _settle(qapp)
    _key(window, Qt.Key_D, target=window.plotter)
    painted = model.geo.vertices[window.state.drawing_vertices()]
    line_px = np.hypot((step * jumps).x(), (step * jumps).y())
    assert len(path) >= 0.9 * (line_px / 2 + 1) and line_px > 60     # the whole line lies on the skin
    from scipy.spatial import cKDTree

    gap = cKDTree(painted).query(np.array(path))[0]
    brush = window.state.brush_mm
    # every point of the path (the end point too) lies within the band: no gap wider than the brush
    assert gap.max() < brush, f"gap of {gap.max():.0f} mm (brush {brush:.0f} mm) at sample {int(gap.argmax())}"
    window.actions.clear.trigger()


def _wheel_event(w, pos, delta):
    from PySide6.QtGui import QWheelEvent

    return QWheelEvent(QPointF(pos), QPointF(w.plotter.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, delta),
                       Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)


@pytest.mark.parametrize("how", ["one event of four notches", "four events in a row"])
def test_wheel_notches_keep_the_point_under_the_cursor(window, qapp, how):
    _reset(window)
    model = window.model
    knee = np.flatnonzero((np.abs(model.geo.vertices[:, 2] - 480) < 20) & (model.geo.vertices[:, 0] < -40))
    _, pos = _visible_vertex(window, knee, seed=2)
    _settle(qapp, 300)                   # the camera has stopped: full meshes
    hit = np.array(window.view.picker.pick(QPointF(pos))[1])
    d0 = np.linalg.norm(np.array(window.plotter.camera.position) - hit)
    if how == "one event of four notches":
        QtCore.QCoreApplication.sendEvent(window.plotter, _wheel_event(window, pos, 480))
        _settle(qapp, 40)
    else:
        # each handled before the next, within the settle time (a slow machine's frames must not
        # let the full meshes come back between them): the coarse meshes are on for notches 2-4
        interval = window.view._settle.interval()
        window.view._settle.setInterval(10_000)
        try:
            for _ in range(4):
                QtCore.QCoreApplication.sendEvent(window.plotter, _wheel_event(window, pos, 120))
                _settle(qapp, 40)
                assert window.scene.interacting
        finally:
            window.view._settle.setInterval(interval)
            window.view._settle.start()
    d1 = np.linalg.norm(np.array(window.plotter.camera.position) - hit)
    assert d1 < d0 / 1.5
    after = _screen_pos(window, hit)
    moved = np.hypot(after.x() - pos.x(), after.y() - pos.y())
    assert moved <= 5.0, f"the point under the cursor moved {moved:.0f} px"
    _settle(qapp, 300)


def _label_ok_on_screen(w, img, anchor, dy, text, size):
    """The label's box on the screenshot holds dark text pixels (not an empty box)."""
    ren = w.plotter.renderer
    ren.SetWorldPoint(*anchor, 1.0)
    ren.WorldToDisplay()
    x, y, _ = ren.GetDisplayPoint()
    h_img = img.shape[0]
    half_w, h = 0.3 * size * len(text) + 4, 1.3 * size + 4
    top, bottom = int(h_img - 1 - (y + dy + h)), int(h_img - 1 - (y + dy))
    box = img[max(0, top):max(0, bottom), max(0, int(x - half_w)):int(x + half_w)]
    return box.size and (box.max(axis=2) < 90).sum() >= 3 * len(text)


@pytest.mark.parametrize("muscle, views", [("Temporalis", ("right", "posterior", "anterior")),
                                           ("Deltoid", ("right", "anterior", "posterior")),
                                           ("Gluteus minimus", ("right", "posterior")),
                                           ("Piriformis", ("anterior", "posterior"))])
def test_trigger_point_labels_only_for_visible_points_and_never_empty(window, qapp, muscle, views):
    _reset(window)
    p = _choose(window, muscle)                  # typed in the search box, the row clicked
    keys = {"anterior": Qt.Key_1, "posterior": Qt.Key_2, "right": Qt.Key_3}
    seen = {True: 0, False: 0}
    for view in views:
        _key(window, keys[view], target=window.plotter)
        _settle(qapp, 100)
        labels = window.scene.tp_labels
        assert [t for t, _, _ in labels] == [t for t, _ in p.trigger_points]
        img = window.plotter.screenshot(return_img=True)
        cam = np.array(window.plotter.camera.position)
        for (text, shown, anchor), (_, xyz) in zip(labels, p.trigger_points):
            assert text.strip()
            # independently: is the skin the camera sees at the point's pixel the point's own?
            pos = _screen_pos(window, np.array(xyz))
            inside = 0 <= pos.x() < window.plotter.width() and 0 <= pos.y() < window.plotter.height()
            hit = window.view.picker.pick(pos) if inside else None
            d = np.inf if hit is None else np.linalg.norm(np.array(hit[1]) - np.array(xyz))
            nearer = hit is not None and np.linalg.norm(np.array(hit[1]) - cam) < np.linalg.norm(np.array(xyz) - cam)
            if d < 20:
                expect = True
            elif d > 60 and nearer:
                expect = False          # other skin in front of it
            else:
                continue                # a silhouette: either answer is right
            assert shown == expect, f"{muscle} {view}: label {text!r} shown={shown}, skin at its pixel {d:.0f} mm away"
            seen[shown] += 1
            if shown:
                dy = next(a.GetPositionCoordinate().GetValue()[1] for a in window.scene._tp_labels
                          if a.GetInput() == text)
                assert _label_ok_on_screen(window, img, anchor, dy, text, window.scene.label_font_size), \
                    f"{muscle} {view}: label {text!r} drawn without its text"
    assert seen[True] > 0
    if muscle in ("Temporalis", "Piriformis"):
        assert seen[False] > 0          # some of these points are behind the body in these views


def test_a_label_stacked_away_from_its_point_is_tied_to_it_by_a_line(window, qapp):
    """Pectoralis major's trigger points lie close together in the front view at 1280x720:
    their labels are stacked upwards, away from the points (over the neck and face), so each
    moved label gets a leader line from its point, drawn on the screen; a label left on its
    point gets none."""
    _reset(window)
    _choose(window, "Pectoralis major")
    _key(window, Qt.Key_1, target=window.plotter)
    _settle(qapp, 100)
    scene = window.scene
    labels, leaders = scene.tp_labels, scene.tp_leaders
    assert len(leaders) == len(labels) >= 4
    img = window.plotter.screenshot(return_img=True).astype(int)
    # the same frame without the lines: where they are drawn, the two differ
    shown_before = [a.GetVisibility() for a in scene._tp_leaders]
    for a in scene._tp_leaders:
        a.SetVisibility(False)
    window.plotter.render()
    bare = window.plotter.screenshot(return_img=True).astype(int)
    for a, v in zip(scene._tp_leaders, shown_before):
        a.SetVisibility(v)
    window.plotter.render()
    drawn = np.abs(img[..., :3] - bare[..., :3]).max(axis=-1) > 30
    dpr = window.plotter.devicePixelRatioF()
    stacked = 0
    for (text, shown, anchor), (line_shown, (_, end_dy)), actor in zip(labels, leaders, scene._tp_labels):
        dy = actor.GetPositionCoordinate().GetValue()[1]
        assert line_shown == (shown and dy != 0), text
        if not line_shown:
            continue
        stacked += 1
        assert end_dy == dy if dy > 0 else dy < end_dy < 0      # the label's bottom, or top when below
        # along the segment from the point to the label's edge, the line is on the screen
        start = _screen_pos(window, np.asarray(scene._tp_anchor[[t for t, _, _ in labels].index(text)]))
        top = _screen_pos(window, np.asarray(anchor))
        hits = 0
        for f in np.linspace(0.25, 0.75, 9):
            x = start.x() + f * (top.x() - start.x())
            y = start.y() + f * (top.y() - end_dy / dpr - start.y())
            px, py = int(round(x * dpr)), int(round(y * dpr))
            hits += bool(drawn[py - 1:py + 2, px - 1:px + 2].any())
        assert hits >= 5, f"the leader of {text!r} is not on the screen ({hits}/9 samples)"
    assert stacked >= 2


def test_soles_view_frames_the_feet_and_the_inner_view_the_limb(window, qapp):
    _reset(window)
    model = window.model
    V = model.geo.vertices
    _key(window, Qt.Key_6, target=window.plotter)
    _settle(qapp, 100)
    feet = V[V[:, 2] < V[:, 2].min() + 80]
    xs = np.array([_screen_pos(window, v).x() for v in feet[::20]])
    assert xs.max() - xs.min() > 0.5 * window.plotter.width(), "the feet fill less than half the view"
    _choose(window, "gastrocnemius")
    _key(window, Qt.Key_7, target=window.plotter)
    _settle(qapp, 100)
    leg = V[(V[:, 0] < -30) & (V[:, 2] < 900)]
    ys = np.array([_screen_pos(window, v).y() for v in leg[::25]])
    assert ys.max() - ys.min() > 0.6 * window.plotter.height(), "the leg fills less than 60% of the view's height"
    window.actions.views["anterior"].trigger()


def test_patient_text_of_every_pattern_is_plain(gui_model):
    """Every pattern's patient-mode details, not only the one a test clicks: no clinical detail."""
    import html
    import re

    from viewer.gui.details import patient_html

    bad = {}
    for p in gui_model.patterns:
        text = html.unescape(re.sub(r"<style.*?</style>|<[^>]+>", " ", patient_html(p, gui_model), flags=re.S))
        hits = re.findall(CLINICAL_DETAIL, text)
        if hits:
            bad[f"{p.muscle.name} ({p.side})"] = hits
        assert "Where it can be felt" in text or not p.muscle.zones.essential, p.muscle.name
    assert not bad, bad


# -- the body stays under the mouse: picks after strokes and other recolours ---------------------
def _ray(w, pos):
    """A pixel's ray from the near to the far clipping plane (world points)."""
    ren = w.plotter.renderer
    x, y = w.view.picker.display_xy(QPointF(pos))
    ends = []
    for z in (0.0, 1.0):
        ren.SetDisplayPoint(x, y, z)
        ren.DisplayToWorld()
        p = np.array(ren.GetWorldPoint())
        ends.append(p[:3] / p[3])
    return ends


def _skin_truth(w, pos):
    """The skin nearest the camera along a pixel's ray (an OBB tree on the skin's own
    triangles, apart from the window's picker), or None off the body."""
    from vtkmodules.vtkCommonCore import vtkIdList, vtkPoints
    from vtkmodules.vtkFiltersGeneral import vtkOBBTree

    tree = getattr(w, "_test_obb", None)
    if tree is None:
        import pyvista as pv

        tree = vtkOBBTree()
        tree.SetDataSet(pv.PolyData(w.model.pack.skin_vertices.astype(float), w.scene.skin.faces.copy()))
        tree.BuildLocator()
        w._test_obb = tree
    near, far = _ray(w, pos)
    pts = vtkPoints()
    tree.IntersectWithLine(near, far, pts, vtkIdList())
    if not pts.GetNumberOfPoints():
        return None
    h = np.array([pts.GetPoint(i) for i in range(pts.GetNumberOfPoints())])
    return h[np.linalg.norm(h - near, axis=1).argmin()]


def _pick_grid(w, n=14, size=None):
    """What the window's skin picker returns on an n x n grid of pixels over the 3D view (of
    `size`, else its size now; None off the body), and the pixels where it is not the skin
    nearest the camera."""
    W, H = size or (w.plotter.width(), w.plotter.height())
    picks, wrong = {}, []
    for gx in np.linspace(15, W - 15, n):
        for gy in np.linspace(15, H - 15, n):
            pos = QPointF(float(round(gx)), float(round(gy)))
            hit = w.view.picker.pick(pos)
            truth = _skin_truth(w, pos)
            picks[(pos.x(), pos.y())] = None if hit is None else np.array(hit[1])
            if (hit is None) != (truth is None) or (hit is not None and np.linalg.norm(hit[1] - truth) > 3.0):
                # at a silhouette the picker's tolerance (half a pixel) may graze the skin beside the
                # ray or miss it: wrong only if the pick lies behind the nearest skin, or off the ray
                near, far = _ray(w, pos)
                if hit is None:
                    ok = any(_skin_truth(w, pos + QPointF(dx, dy)) is None for dx in (-1, 1) for dy in (-1, 1))
                else:
                    d = (far - near) / np.linalg.norm(far - near)
                    q = np.array(hit[1]) - near
                    near1, far1 = _ray(w, pos + QPointF(1, 0))
                    t = np.dot(q, d) / np.linalg.norm(far - near)
                    px = (1 - t) * np.linalg.norm(near1 - near) + t * np.linalg.norm(far1 - far)  # a pixel there
                    behind = truth is not None and np.dot(q, d) > np.dot(truth - near, d) + 3.0
                    ok = not behind and np.linalg.norm(q - np.dot(q, d) * d) < max(px, 1.0)
                if not ok:
                    wrong.append((pos.x(), pos.y()))
    return picks, wrong


def _moved(a, b):
    """Pixels of two pick grids whose skin point differs by more than 3 mm (or hit/miss)."""
    return [k for k in a if k not in b or (a[k] is None) != (b[k] is None)
            or (a[k] is not None and np.linalg.norm(a[k] - b[k]) > 3.0)]


def _back_pixels(w):
    V = w.model.geo.vertices

    def back_at(x, z):
        return np.flatnonzero((np.abs(V[:, 0] - x) < 15) & (np.abs(V[:, 2] - z) < 15) & (V[:, 1] > -40))
    return _visible_vertex(w, back_at(-70, 1000))[1], _visible_vertex(w, back_at(70, 1000))[1]


def test_a_stroke_leaves_the_body_under_the_mouse(window, qapp):
    """Click the back, paint a stroke across the low back, click the same pixel again: the same
    spot (a stroke's dermatome levels, L1 T12 L2 T11 L3, widened the right panel by 87 px, the
    3D view shrank 638 -> 569 px and the second click landed on the hanging arm 12 cm away)."""
    _reset(window)
    window.actions.views["posterior"].trigger()
    _settle(qapp, 100)
    right, left = _back_pixels(window)
    probe = right + QPoint(0, -60)                          # the back above the stroke
    size = (window.plotter.width(), window.plotter.height())
    grid0, wrong0 = _pick_grid(window)
    _click(window, probe)
    first = np.array(window.state.marks[-1].point)
    _key(window, Qt.Key_D, target=window.plotter)           # pain drawing on
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, right)
    for k in range(1, 6):
        QTest.mouseMove(window.plotter, right + (left - right) * (k / 5))
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, left)
    _settle(qapp, 200)
    _key(window, Qt.Key_D, target=window.plotter)           # pain drawing off
    assert len(window.state.drawing_vertices()) > 50
    assert len(window.others.level_buttons) >= 3           # the stroke spans several dermatomes
    _click(window, probe)
    second = np.array(window.state.marks[-1].point)
    assert np.linalg.norm(second - first) < 4.0, (
        f"same pixel, {np.linalg.norm(second - first):.0f} mm apart: {first.round()} then {second.round()}; "
        f"3D view {size} -> {(window.plotter.width(), window.plotter.height())}")
    grid1, wrong1 = _pick_grid(window, size=size)          # the same pixels as before the stroke
    assert (window.plotter.width(), window.plotter.height()) == size
    assert sum(p is not None for p in grid0.values()) > 25          # the grid covers the body (32 of 196)
    assert not wrong0 and not wrong1, f"picks not on the nearest skin: {wrong0[:5]} {wrong1[:5]}"
    assert not _moved(grid0, grid1), f"{len(_moved(grid0, grid1))} of {len(grid0)} pixels show another spot"
    window.actions.clear.trigger()


def test_a_long_stroke_keeps_the_view_and_every_dermatome_level_reachable(window, qapp):
    """A stroke down the back covers 17 dermatome levels: the 3D view keeps its size, the first
    level buttons show whole in the panel, and a click on "+N" then on a level in its menu
    paints that root's dermatome."""
    _reset(window)
    window.actions.views["posterior"].trigger()
    _settle(qapp, 100)
    V = window.model.geo.vertices
    size = (window.plotter.width(), window.plotter.height())

    def back_at(x, z):
        return np.flatnonzero((np.abs(V[:, 0] - x) < 15) & (np.abs(V[:, 2] - z) < 15) & (V[:, 1] > -40))
    _, top = _visible_vertex(window, back_at(-100, 1350))
    _, bottom = _visible_vertex(window, back_at(80, 800))
    _key(window, Qt.Key_D, target=window.plotter)
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, top)
    for k in range(1, 9):
        QTest.mouseMove(window.plotter, top + (bottom - top) * (k / 8))
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, bottom)
    _settle(qapp, 200)
    _key(window, Qt.Key_D, target=window.plotter)
    levels = window.state.dermatomes
    assert len(levels) > 8, levels
    assert (window.plotter.width(), window.plotter.height()) == size
    panel, more = window.others.level, window.others.level_more
    assert more is not None and more.isVisible()
    for b in window.others.level_buttons + [more]:             # whole, inside the row
        assert b.isVisible() and panel.rect().contains(b.geometry()), (b.text(), b.geometry(), panel.rect())
    menu = more.menu()
    listed = [b.text() for b in window.others.level_buttons] + [a.text().split()[2] for a in menu.actions()]
    assert listed == levels
    want = levels[-1]
    clicked = {}

    def choose():
        popup = QApplication.activePopupWidget()
        if popup is None:
            QTimer.singleShot(50, choose)
            return
        act = next(a for a in popup.actions() if a.text().split()[2] == want)
        clicked["menu"] = popup
        QTest.mouseClick(popup, Qt.LeftButton, Qt.NoModifier, popup.actionGeometry(act).center())

    QTimer.singleShot(50, choose)
    QTest.mouseClick(more, Qt.LeftButton)                       # opens the menu (runs until it closes)
    _settle(qapp, 200)
    assert "menu" in clicked
    assert window.scene.pattern.kind == "root" and window.scene.pattern.muscle.level == want
    window.actions.clear.trigger()


def test_picks_stay_on_the_nearest_skin_after_recolours(window, qapp):
    """Opacity, layers and the other side change only the colours: every pixel shows the same
    skin spot; a chosen muscle (camera flight) and patient mode (panels hidden) move the body,
    and the picks are still the skin nearest the camera."""
    _reset(window)
    window.actions.views["posterior"].trigger()
    _settle(qapp, 100)
    A = window.actions
    size = (window.plotter.width(), window.plotter.height())
    grid0, wrong = _pick_grid(window, 10)
    assert not wrong
    for what, act in (("opacity", lambda: A.opacity.setValue(20)), ("muscles off", lambda: _tick(A.chk_muscles)),
                      ("bones on", lambda: _tick(A.chk_bones)), ("trigger points off", lambda: _tick(A.chk_tps)),
                      ("other side", lambda: _tick(A.chk_other))):
        act()
        _settle(qapp, 100)
        grid, wrong = _pick_grid(window, 10)
        assert not wrong, f"{what}: picks not on the nearest skin at {wrong[:5]}"
        assert not _moved(grid0, grid), f"{what}: {len(_moved(grid0, grid))} pixels show another spot"
        assert (window.plotter.width(), window.plotter.height()) == size, what
    _choose(window, "quadratus lumborum")
    _settle(qapp, 200)
    assert not _pick_grid(window, 10)[1], "picks after choosing a muscle"
    assert (window.plotter.width(), window.plotter.height()) == size, "choosing a muscle"
    _key(window, Qt.Key_P, Qt.ControlModifier)             # patient mode
    assert A.patient.isChecked()
    _settle(qapp, 200)
    assert not _pick_grid(window, 10)[1], "picks in patient mode"
    _key(window, Qt.Key_P, Qt.ControlModifier)


# -- the command line opens the window (last: it runs a real window in another process) ----------
def test_command_line_opens_a_session(gui_model, tmp_path):
    """`referral-viewer SESSION.json` as the user types it (cli.main, then the real entry point
    and its event loop) in a child process under the same display; a timer in the child
    reports what the window shows once the session is open, then quits."""
    from viewer.session import Mark, Session

    path = tmp_path / "cli.json"
    Session(pack_key=gui_model.pack.key, marks=[Mark(100, tuple(gui_model.geo.vertices[100]))],
            notes="from the command line").save(path)
    code = f"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
seen = {{}}
def poll():
    from viewer.gui.main_window import MainWindow
    wins = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
    if wins and wins[0].windowTitle().startswith("cli.json") and wins[0].notes.toPlainText():
        w = wins[0]
        seen.update(title=w.windowTitle(), notes=w.notes.toPlainText(), marks=len(w.state.marks),
                    drawn=w.plotter.actors.get("marks") is not None)
        w.close()
        app.quit()
    else:
        QTimer.singleShot(100, poll)
QTimer.singleShot(100, poll)
QTimer.singleShot(90000, app.quit)
from viewer import cli
rc = cli.main([{str(path)!r}])
print("SEEN " + json.dumps(seen))
sys.exit(rc)
"""
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env,
                         cwd=tmp_path)
    line = next((x for x in res.stdout.splitlines() if x.startswith("SEEN ")), None)
    assert line, res.stdout[-2000:] + res.stderr[-3000:]
    seen = json.loads(line[5:])
    assert seen == {"title": seen.get("title"), "notes": "from the command line", "marks": 1, "drawn": True}, seen
    assert seen["title"].startswith("cli.json")


def test_body_shows_before_the_patterns_and_a_click_meanwhile_is_answered(qapp, tmp_path):
    """The window draws the body from the pack alone, then reads the patterns: a click made
    while they load is held and answered when they come (the user's click is not lost and
    does not say 'no muscle')."""
    import pyvista as pv
    from conftest import field_cache_dir

    from viewer.anatomy import load_pack
    from viewer.gui.loading import EarlyLoad
    from viewer.gui.main_window import MainWindow
    from viewer.referral.lookup import lookup_point

    class HeldLoad(EarlyLoad):
        """The real loader, whose patterns wait until the test lets them go."""
        asked = False

        def start_model(self):
            self.asked = True

    early = HeldLoad(cache_dir=field_cache_dir(load_pack()))
    pv.OFF_SCREEN = False
    w = MainWindow(early=early, autosave_dir=tmp_path / "a", confirm_close=False)
    try:
        w.resize(*WINDOW_SIZE)
        w.show()
        QTest.qWaitForWindowExposed(w)
        assert _wait_until(lambda: w.first_frame_s is not None and early.asked, 60_000)
        assert w.stack.currentWidget() is w.plotter and w.model is None
        assert not w.actions.export.isEnabled()
        # a point over the right shoulder blade, seen from behind (the view keys work at once)
        _menu(w, "View", "Posterior view").trigger()
        _settle(qapp)
        geo = early.pack.skin_vertices
        target = np.array([-110.0, 60.0, 1330.0])           # the right infraspinous fossa
        v = int(np.argmin(np.linalg.norm(geo - target, axis=1)))
        pos = _screen_pos(w, geo[v])
        _click(w, QPoint(round(pos.x()), round(pos.y())))
        assert w.state.marks == [] and w.candidates.list.count() == 0
        EarlyLoad.start_model(early)                        # the patterns may come now
        assert _wait_until(lambda: w.patterns_ready_s is not None, 120_000), (early.error, early.progress,
                                                                            w.message.text())
        _settle(qapp)
        assert len(w.state.marks) == 1
        assert np.linalg.norm(np.array(w.state.marks[0].point) - geo[v]) < 15.0
        names = [c.name for c in _rows(w)]        # the rows' muscles, as the list draws them
        expected = [c.name for c in lookup_point(w.model, w.state.marks[0].point).candidates]
        assert len(names) >= 3 and names == expected
        assert w.actions.export.isEnabled()
    finally:
        w.close()


def test_legend_words_are_whole_in_a_small_window(window, qapp):
    """At 1280x720 the legend under the view wraps onto a second line instead of cutting its
    words ("Essenti", "Spillove"): every label has the width its text needs."""
    from PySide6.QtWidgets import QLabel

    labels = [lb for lb in window.legend.findChildren(QLabel) if lb.isVisible()]
    assert len(labels) >= 6
    cut = [lb.text() for lb in labels if lb.width() < lb.fontMetrics().horizontalAdvance(lb.text())]
    assert cut == []
    assert window.legend.geometry().bottom() <= window.disclaimer.geometry().top()
