"""The other sources in the real window, driven by real input (pytest-qt under Xvfb):

    xvfb-run -a .venv/bin/python -m pytest tests/test_gui_sources.py

A click on the left chest shows the cardiac warning above the candidates and lists the
heart; a click in the Fortin area lists the sacroiliac joint; typing "L5" in the search box
and pressing Enter paints the L5 dermatome; the segmental-level button paints its root.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from viewer.referral.loader import load_landmarks  # noqa: E402
from viewer.render import style  # noqa: E402

from pixels import screen_pos  # noqa: E402

SIZE = (1400, 860)


@pytest.fixture(scope="module")
def win(qapp, model, tmp_path_factory):
    import pyvista as pv

    from viewer.gui.main_window import MainWindow

    pv.OFF_SCREEN = False
    w = MainWindow(model=model, autosave_dir=tmp_path_factory.mktemp("autosave"), confirm_close=False)
    w.view.fly_ms = 0
    w.resize(*SIZE)
    w.show()
    QTest.qWaitForWindowExposed(w)
    w.activateWindow()
    QTest.qWait(200)
    yield w
    w.close()


@pytest.fixture
def fresh(win):
    """Every test starts from an empty session in the front view, whatever the last one did."""
    win.actions.new.trigger()
    win.actions.views["anterior"].trigger()
    QTest.qWait(50)
    yield win
    win.actions.new.trigger()


def skin_point(model, landmark, offset=(0, 0, 0), side="right"):
    p = np.asarray(load_landmarks()[landmark].point, float) + np.asarray(offset, float)
    p = p * np.array([-1.0, 1.0, 1.0]) if side == "left" else p
    return model.geo.vertices[model.geo.snap(p)[0][0]]


def pixel_of(w, xyz) -> QPoint:
    p = screen_pos(w, xyz)
    return QPoint(round(p.x()), round(p.y()))


def click_body(w, xyz):
    pos = pixel_of(w, xyz)
    assert 0 < pos.x() < w.plotter.width() and 0 < pos.y() < w.plotter.height(), pos
    QTest.mouseClick(w.plotter, Qt.LeftButton, Qt.NoModifier, pos)
    QTest.qWait(150)


def other_rows(w) -> list[str]:
    return [w.others.list.item(i).text() for i in range(w.others.list.count())]


def teal_pixels(img) -> np.ndarray:
    teal = np.array(style.hex_rgb(style.OTHER_ESSENTIAL_HEX), float)
    return np.linalg.norm(img[..., :3].astype(float) - teal, axis=-1) < 45


def test_left_chest_click_shows_the_cardiac_warning_and_lists_the_heart(fresh, model):
    w = fresh
    click_body(w, skin_point(model, "pectoral", (0, 0, -20), side="left"))
    assert w.red_flags.isVisible()
    banner = w.red_flags.text()
    assert "Heart" in banner and "emergency" in banner.lower()
    # the banner sits above the candidate list, where it cannot be missed
    assert w.red_flags.mapTo(w, QPoint(0, 0)).y() < w.candidates.list.mapTo(w, QPoint(0, 0)).y()
    rows = other_rows(w)
    assert any("Heart" in r and "red flag" in r for r in rows[:8]), rows
    # the muscle candidates are still listed beside them
    assert w.candidates.list.count() > 0


def test_red_flags_leave_the_candidate_rows_readable_at_1280x720(fresh, model):
    """Two red flags (lungs, heart) over the left chest take ~200 px above the candidates: at
    1280x720 the list still shows at least four whole rows (the details below give way), and
    the room goes back to the details once the flags are gone."""
    w = fresh
    w.resize(1280, 720)
    QTest.qWait(200)
    try:
        before = w.tabs.height()
        click_body(w, skin_point(model, "pectoral", (0, 0, -30), side="left"))
        QTest.qWait(150)
        assert w.red_flags.isVisible() and len(w.red_flags.flags) >= 2
        lst = w.candidates.list
        assert lst.count() >= 4
        assert lst.viewport().height() >= 4 * lst.sizeHintForRow(0), (lst.viewport().height(),
                                                                       lst.sizeHintForRow(0))
        # the banner is still whole above them, and "Also consider" still shows rows
        assert w.red_flags.height() >= w.red_flags.heightForWidth(w.red_flags.width()) - 1
        assert w.others.list.viewport().height() >= w.others.list.sizeHintForRow(0)
        click_body(w, skin_point(model, "anterior_thigh_mid"))          # no red flag here
        QTest.qWait(150)
        assert not w.red_flags.isVisible()
        assert abs(w.tabs.height() - before) <= 2, (w.tabs.height(), before)
    finally:
        w.resize(*SIZE)
        QTest.qWait(100)


def test_fortin_area_click_lists_the_sacroiliac_joint(fresh, model):
    w = fresh
    w.actions.views["posterior"].trigger()
    QTest.qWait(100)
    click_body(w, skin_point(model, "psis", (0, 0, -30)))
    rows = other_rows(w)
    assert any("Sacroiliac" in r for r in rows[:8]), rows


def test_typing_l5_and_enter_paints_the_l5_dermatome(fresh, model, qapp):
    w = fresh
    QTest.mouseClick(w.browser.search, Qt.LeftButton)
    QTest.keyClicks(w.browser.search, "L5")
    QTest.keyClick(w.browser.search, Qt.Key_Return)
    QTest.qWait(200)
    shown = w.scene.pattern
    assert shown is not None and shown.kind == "root" and shown.muscle.level == "L5"
    w.actions.views["anterior"].trigger()
    QTest.qWait(150)
    img = w.plotter.screenshot(return_img=True)
    # the dorsum of the foot (L5) is painted in the other sources' colour on screen
    foot = pixel_of(w, skin_point(model, "foot_dorsal", side=shown.side))
    dpr = w.plotter.devicePixelRatioF()
    y, x = int(foot.y() * dpr), int(foot.x() * dpr)
    patch = teal_pixels(img[max(0, y - 6):y + 7, max(0, x - 6):x + 7])
    assert patch.mean() > 0.5, patch.mean()
    assert teal_pixels(img).sum() > 500
    assert "L5" in w.details.toPlainText()


def test_the_segmental_level_button_paints_its_root(fresh, model):
    w = fresh
    click_body(w, skin_point(model, "foot_dorsal"))
    assert "L5" in w.state.dermatomes and w.others.level.isVisible()
    button = next(b for b in w.others.level_buttons if b.text() == "L5")
    for _ in range(2):              # Esc clears the search box, then the selection: the click must paint it
        QTest.keyClick(w.plotter, Qt.Key_Escape)
        QTest.qWait(50)
    assert w.scene.pattern is None
    QTest.mouseClick(button, Qt.LeftButton)
    QTest.qWait(100)
    assert w.scene.pattern.kind == "root" and w.scene.pattern.muscle.level == "L5"


def test_layer_widgets_and_view_settings_follow_each_other(fresh, model, tmp_path):
    """A click on the Bones box sets the view settings; a session opened with other settings
    moves the widgets and the scene (the state is the one truth)."""
    from viewer.session import Session

    w = fresh
    box = w.actions.chk_bones
    was = box.isChecked()
    QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, QPoint(6, box.height() // 2))
    QTest.qWait(100)
    assert box.isChecked() != was and w.state.view.bones == box.isChecked()
    assert w.scene.bones_visible() == box.isChecked()
    QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, QPoint(6, box.height() // 2))
    QTest.qWait(50)
    path = tmp_path / "v.json"
    s = w.state.to_session()
    s.view = {**s.view, "skin_opacity": 0.2, "muscles": False, "brush_mm": 60.0}
    s.save(path)
    w.state.apply_session(Session.load(path), path=path)
    QTest.qWait(100)
    assert w.actions.opacity.value() == 20 and not w.actions.chk_muscles.isChecked()
    assert w.actions.brush.value() == 60 and "60 mm" in w.actions.brush_label.text()
    assert abs(w.scene.skin_opacity - 0.2) < 1e-6 and not w.scene.muscles_visible


def test_make_room_takes_from_the_details_first_and_keeps_the_floors():
    from viewer.gui.widgets import make_room

    got = make_room([400, 140, 100], 50, [0, 120, 60])
    assert got == [450, 130, 60] and sum(got) == 640          # 40 from the details, 10 from the next
    assert make_room([400, 140, 100], 500, [0, 120, 60]) == [460, 120, 60]    # floors hold
    assert make_room([400, 140, 100], 0, [0, 120, 60]) == [400, 140, 100]
