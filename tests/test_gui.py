"""The real window, driven by real mouse events (pytest-qt, run under Xvfb):

    xvfb-run -a .venv/bin/python -m pytest tests/test_gui.py

One window is shared by the module. Needs the built pack and referral patterns;
skips with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

pytest.importorskip("pytestqt")
QtCore = pytest.importorskip("PySide6.QtCore")
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (1500, 920)


@pytest.fixture(scope="module")
def gui_model():
    from viewer.anatomy import load_pack
    from viewer.errors import ViewerError
    from viewer.referral import model as referral_model

    try:
        pack = load_pack()
    except ViewerError as exc:
        pytest.skip(f"no mesh pack is built ({exc}); run `referral-viewer build` first")
    try:
        model = referral_model.load_model(pack)
    except Exception as exc:          # landmarks not measured yet, etc.
        pytest.skip(f"referral patterns cannot be loaded yet: {exc}")
    if not model.patterns:
        pytest.skip(f"no referral patterns loaded: {[str(p) for p in model.problems[:3]]}")
    return model


@pytest.fixture(scope="module")
def window(qapp, gui_model, tmp_path_factory):
    import pyvista as pv

    from viewer.gui.main_window import MainWindow

    pv.OFF_SCREEN = False
    w = MainWindow(model=gui_model, autosave=tmp_path_factory.mktemp("state") / "autosave.json",
                   confirm_close=False)
    w.fly_ms = 0                       # camera jumps: tests need deterministic frames
    w.errors = []
    w._error = lambda title, text: w.errors.append((title, text))
    w.resize(*WINDOW_SIZE)
    w.show()
    QTest.qWaitForWindowExposed(w)
    _settle(qapp)
    yield w
    w.close()


def _settle(qapp, ms=60):
    for _ in range(5):
        qapp.processEvents()
        QTest.qWait(ms // 5)


def _reset(w):
    w.set_paint_mode(False)
    w.clear_pain()
    w.select_pattern(None)
    w.notes.setPlainText("")
    w.set_view("anterior")


def _pattern(model):
    """Gluteus minimus (right) when present, else the first right-side pattern with a mesh."""
    for m in model.find_muscles("gluteus minimus"):
        try:
            return model.pattern(m.id, "right")
        except KeyError:
            pass
    return next(p for p in model.patterns if p.side == "right" and p.has_mesh)


def _essential(model, p, at=0.55):
    """Vertices inside a pattern's essential zone (0.55: where it is drawn in the flat zone colour)."""
    return np.flatnonzero(model.zone_weights(p)[0] >= at)


def _screen_pos(w, xyz) -> QPointF:
    """World point -> Qt widget position: WorldToDisplay, flip y, divide by devicePixelRatio."""
    ren = w.plotter.renderer
    ren.SetWorldPoint(*xyz, 1.0)
    ren.WorldToDisplay()
    dx, dy, _ = ren.GetDisplayPoint()
    dpr = w.plotter.devicePixelRatioF()
    return QPointF(dx / dpr, w.plotter.height() - 1 - dy / dpr)


def _visible_vertex(w, vertices):
    """A vertex of the set that faces the camera and is the first skin hit under its pixel."""
    model = w.model
    cam = np.array(w.plotter.camera.position)
    V, N = model.geo.vertices, model.geo.normals
    cand = [int(v) for v in vertices]
    facing = [v for v in cand if np.dot(N[v], (cam - V[v]) / np.linalg.norm(cam - V[v])) > 0.8]
    rng = np.random.default_rng(1)
    for v in rng.permutation(facing)[:200]:
        pos = _screen_pos(w, V[v])
        if not (20 < pos.x() < w.plotter.width() - 20 and 20 < pos.y() < w.plotter.height() - 20):
            continue
        hit = w.picker.pick(QPointF(round(pos.x()), round(pos.y())))
        if hit is not None and np.linalg.norm(np.array(hit[1]) - V[v]) < 6.0:
            return int(v), QPoint(round(pos.x()), round(pos.y()))
    pytest.fail("no visible vertex of the pattern in this view")


def test_click_on_skin_lists_the_candidates_of_lookup_vertex(window, qapp):
    from viewer.referral.lookup import lookup_vertex

    _reset(window)
    p = _pattern(window.model)
    window.scene.show_pattern(p)
    window.set_view(window.scene.best_view())
    window.scene.show_pattern(None)
    _settle(qapp)
    target, pos = _visible_vertex(window, _essential(window.model, p))

    QTest.mouseClick(window.plotter, Qt.LeftButton, Qt.NoModifier, pos)
    _settle(qapp)

    assert len(window.marks) == 1
    picked = window.marks[0].vertex
    assert np.linalg.norm(window.model.geo.vertices[picked] - window.model.geo.vertices[target]) < 8.0
    shown = window.candidates.candidates
    assert [(c.muscle_id, c.side, c.zone) for c in shown] == \
        [(c.muscle_id, c.side, c.zone) for c in lookup_vertex(window.model, picked)]
    assert shown and window.candidates.list.count() == len(shown)
    assert "Pain at:" in window.candidates.title.text()
    # the spot is in the pattern's essential zone, so its muscle is listed
    if window.model.zone_weights(p)[0][picked] >= 0.5:
        assert (p.muscle.id, p.side) in [(c.muscle_id, c.side) for c in shown]
    assert window.scene.plotter.actors.get("marks") is not None


def test_drag_rotates_without_marking(window, qapp):
    _reset(window)
    _settle(qapp)
    before = np.array(window.plotter.camera.position)
    c = window.plotter.rect().center()
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, c)
    for dx in range(0, 80, 10):
        QTest.mouseMove(window.plotter, c + QPoint(dx, dx // 3))
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, c + QPoint(80, 26))
    _settle(qapp)
    assert window.marks == []
    assert window.candidates.candidates == []
    del before     # rotation itself is VTK's; the point is that a drag never marks


def test_hover_names_the_region(window, qapp):
    _reset(window)
    _settle(qapp)
    model = window.model
    v, pos = _visible_vertex(window, np.arange(0, len(model.geo.vertices), 7))
    window.router.hovered.emit(QPointF(pos))
    QTest.qWait(80)
    assert model.region_of(v).display.split(" (")[0] in window.hover_label.text()


def test_candidate_hover_and_click_paint_the_pattern(window, qapp):
    from viewer.render import style

    _reset(window)
    p = _pattern(window.model)
    window.mark_point(window.model.geo.vertices[int(_essential(window.model, p)[0])])
    row = [i for i, c in enumerate(window.candidates.candidates) if c.pattern == p.index][0]
    window.candidates.hovered.emit(window.candidates.candidates[row])
    assert window.scene.pattern is p and window.selected is None
    window.candidates.hovered.emit(None)          # leaving the list restores the selection
    assert window.scene.pattern is None
    window.candidates.select_row(row)
    assert window.selected is p and window.scene.pattern is p
    ess = _essential(window.model, p)
    assert np.all(window.scene.skin_rgb[ess] == style.ESSENTIAL.astype(np.uint8))


def test_selecting_a_muscle_colours_the_skin(window, qapp):
    from viewer.render import style

    _reset(window)
    _settle(qapp)
    blank = window.plotter.screenshot(return_img=True)
    p = _pattern(window.model)
    window.browser.search.setText(p.muscle.name)
    item = window.browser.tree.findItems(p.muscle.name, Qt.MatchStartsWith | Qt.MatchRecursive)[0]
    window.browser.tree.setCurrentItem(item)      # as a user click in the browser would
    _settle(qapp)
    assert window.selected is not None and window.selected.muscle.id == p.muscle.id
    e, s = window.model.zone_weights(window.selected)
    rgb = np.asarray(window.scene.skin.point_data["rgb"])
    assert (e >= 0.55).any()
    assert np.all(rgb[e >= 0.55] == style.ESSENTIAL.astype(np.uint8))
    assert np.all(rgb[(e <= 0.35) & (s <= 0.35)] == style.SKIN.astype(np.uint8))
    # the actor renders these scalars: red appears on screen
    img = window.plotter.screenshot(return_img=True)
    reddish = lambda a: ((a[..., 0] > 120) & (a[..., 1] < 90) & (a[..., 2] < 90)).sum()  # noqa: E731
    assert reddish(img) > reddish(blank) + 500
    assert p.muscle.name in window.details.toPlainText()
    assert window.plotter.actors.get("tp_points") is not None
    window.switch_side()
    assert window.selected.side == "left" and window.selected.muscle.id == p.muscle.id
    window.browser.search.setText("")


def test_pain_drawing_ranks_by_area(window, qapp):
    from viewer.referral.lookup import lookup_area

    _reset(window)
    p = _pattern(window.model)
    window.select_pattern(p)
    window.set_view(window.scene.best_view())
    window.select_pattern(None)
    _settle(qapp)
    v, pos = _visible_vertex(window, _essential(window.model, p))
    window.set_paint_mode(True)
    QTest.mousePress(window.plotter, Qt.LeftButton, Qt.NoModifier, pos)
    QTest.mouseMove(window.plotter, pos + QPoint(6, 6))
    QTest.mouseRelease(window.plotter, Qt.LeftButton, Qt.NoModifier, pos + QPoint(6, 6))
    _settle(qapp)
    painted = window.drawing.vertices
    assert len(painted) > 10 and window.marks == []
    got = [(c.muscle_id, c.side) for c in window.candidates.candidates]
    assert got == [(c.muscle_id, c.side) for c in lookup_area(window.model, painted)]
    window.act_eraser.setChecked(True)
    window._paint(QPointF(pos), True)
    assert len(window.drawing.vertices) < len(painted)
    window.act_eraser.setChecked(False)
    window.set_paint_mode(False)


def test_export_png_at_the_requested_size(window, tmp_path):
    from PIL import Image

    window.select_pattern(_pattern(window.model))
    out = window.export_image(tmp_path / "slide.png", size=(1280, 720), transparent=True)
    with Image.open(out) as img:
        assert img.size == (1280, 720) and img.mode == "RGBA"
        assert img.getextrema()[3][0] == 0       # some fully transparent background


def test_export_all_is_cancellable(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QProgressDialog

    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda self: self.value() >= 2)
    written = window.export_all_dialog(tmp_path / "gallery")
    assert len(written) == 2 and all(p.exists() for p in written)


def test_session_round_trip_and_corrupt_file(window, qapp, tmp_path):
    _reset(window)
    model = window.model
    p = _pattern(model)
    window.mark_point(model.geo.vertices[100])
    window.mark_point(model.geo.vertices[2000], add=True)
    window.drawing.dab(5000)
    window._paint_ended()
    window.select_pattern(model.pattern(p.muscle.id, "left"))
    window.notes.setPlainText("Left buttock pain since March.\nSleeps on the left.")
    saved = window.current_session().to_json()
    path = tmp_path / "patient.json"
    assert window.save_session(path)
    assert not window.dirty

    _reset(window)
    assert window.current_session().is_empty()
    assert window.open_session(path)
    again = window.current_session().to_json()
    for d in (saved, again):
        d.pop("saved_at")
    assert again == saved
    assert window.selected.side == "left" and window.scene.pattern is window.selected

    # a corrupt file changes nothing and says why
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{\"format\": \"referral-viewer-session\", \"version\": 1, \"marks\": [{\"vertex\": ")
    before = window.current_session().to_json()
    before.pop("saved_at")
    assert not window.open_session(bad)
    after = window.current_session().to_json()
    after.pop("saved_at")
    assert after == before and window.session_path == path
    assert "not valid JSON" in window.errors[-1][1]
    # a valid file pointing outside the skin is refused before anything changes
    bad.write_text(json.dumps({"format": "referral-viewer-session", "version": 1,
                               "pack_key": model.pack.key, "drawing": [10 ** 9]}))
    assert not window.open_session(bad)
    after = window.current_session().to_json()
    after.pop("saved_at")
    assert after == before


def test_autosave_and_recovery(window, qapp, gui_model, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from viewer.gui.main_window import MainWindow

    window.notes.setPlainText("autosaved note")
    window.write_autosave()
    assert window.autosave_file.exists()
    crashed = tmp_path / "autosave.json"
    crashed.write_bytes(window.autosave_file.read_bytes())     # as if the app had crashed
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    w2 = MainWindow(model=gui_model, autosave=crashed, confirm_close=False)
    try:
        w2.show()
        QTest.qWait(100)
        assert w2.notes.toPlainText() == "autosaved note"
    finally:
        w2.close()
    assert not crashed.exists()          # clean exit removes the autosave


def test_patient_mode(window, qapp):
    window.select_pattern(_pattern(window.model))
    window.set_patient_mode(True)
    _settle(qapp)
    try:
        assert not window.left_dock.isVisible() and not window.layer_bar.isVisible()
        html = window.details.toHtml()
        assert "Differential" not in html and "Sources" not in html
        m = window.selected.muscle
        if m.patient_description:
            assert m.patient_description.split()[0] in window.details.toPlainText()
    finally:
        window.set_patient_mode(False)
    assert window.left_dock.isVisible()


# -- screenshot regression ------------------------------------------------------------
def _reference_dir(request, model) -> Path:
    """References are rendered by this suite from the real pack, cached per pack, maps and code."""
    h = hashlib.sha256()
    h.update(model.pack.key.encode())
    h.update(model.maps.digest.encode())
    for f in ("referral_maps/landmarks.yaml", "referral_maps/regions.yaml", "viewer/render/scene.py",
              "viewer/render/style.py", "viewer/gui/main_window.py"):
        h.update((REPO / f).read_bytes())
    import vtk

    h.update(vtk.vtkVersion.GetVTKVersion().encode())
    return Path(request.config.cache.mkdir("gui-reference")) / h.hexdigest()[:16]


def _state(window, name):
    _reset(window)
    p = _pattern(window.model)
    if name == "anterior":
        window.set_view("anterior")
    elif name == "pattern":
        window.select_pattern(p)
        window.set_view(window.scene.best_view())
    elif name == "spot":
        window.set_view("right")
        window.mark_point(window.model.geo.vertices[int(_essential(window.model, p)[0])])


@pytest.mark.parametrize("name", ["anterior", "pattern", "spot"])
def test_screenshot_regression(window, qapp, request, name):
    from PIL import Image

    ref_dir = _reference_dir(request, window.model)
    ref_dir.mkdir(parents=True, exist_ok=True)
    ref = ref_dir / f"{name}.png"
    _state(window, name)
    _settle(qapp)
    img = window.plotter.screenshot(return_img=True)
    if not ref.exists():
        Image.fromarray(img).save(ref)
    # leave the state and come back: the same state must render the same image
    _state(window, "anterior" if name != "anterior" else "pattern")
    _state(window, name)
    _settle(qapp)
    img = window.plotter.screenshot(return_img=True)
    expected = np.asarray(Image.open(ref).convert("RGB"))
    assert img.shape == expected.shape, f"window size changed; delete {ref_dir}"
    diff = np.abs(img.astype(np.int16) - expected.astype(np.int16)).max(axis=2)
    assert diff.mean() < 2.0 and (diff > 40).mean() < 0.01, \
        f"{name}: {(diff > 40).mean():.2%} of pixels differ from {ref}"


def test_first_run_offers_to_build(qapp, tmp_path):
    from viewer.gui.main_window import MainWindow

    w = MainWindow(meshes=tmp_path / "no-pack", autosave=tmp_path / "a.json", confirm_close=False)
    try:
        w.show()
        QTest.qWaitForWindowExposed(w)
        for _ in range(200):
            if w.stack.currentWidget() is w.first_run:
                break
            QTest.qWait(20)
        assert w.stack.currentWidget() is w.first_run
        assert "No anatomy pack" in w.first_run_text.text()
        assert not w.act_export.isEnabled()
    finally:
        w.close()


def test_about_mentions_licences():
    from viewer.gui.main_window import about_html

    html = about_html()
    for needle in ("BodyParts3D", "DBCLS", "CC BY 4.0", "Z-Anatomy", "CC BY-SA 4.0", "0.1.0"):
        assert needle in html
