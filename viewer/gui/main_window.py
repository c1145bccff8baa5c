"""The main window: body in the centre, muscle browser left, candidates and details right."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QFont, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (QApplication, QCheckBox, QDockWidget, QFileDialog, QHBoxLayout, QLabel,
                               QMainWindow, QMessageBox, QPlainTextEdit, QProgressDialog, QPushButton,
                               QSlider, QSplitter, QStackedWidget, QTabWidget, QToolBar, QToolButton, QVBoxLayout,
                               QWidget)

from viewer import ATTRIBUTION, DISCLAIMER, __version__
from viewer.errors import ViewerError
from viewer.gui.browser import MuscleBrowser
from viewer.gui.candidates import CandidateList
from viewer.gui.details import DetailsPanel
from viewer.gui.painting import PainDrawing
from viewer.gui.workers import Task, load_pack_and_model
from viewer.referral import lookup
from viewer.render import style
from viewer.session import Mark, Session, SessionError, autosave_path, clear_autosave, read_recovery

VIEW_KEYS = {"anterior": "1", "posterior": "2", "right": "3", "left": "4", "superior": "5"}
FLY_MS = 350


def _swatch(color, round_=False) -> QLabel:
    pm = QPixmap(14, 14)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(QColor("#666"))
    p.setBrush(QColor(*[int(c) for c in color]) if not isinstance(color, str) else QColor(color))
    p.drawEllipse(1, 1, 12, 12) if round_ else p.drawRect(0, 0, 13, 13)
    p.end()
    lab = QLabel()
    lab.setPixmap(pm)
    return lab


class MainWindow(QMainWindow):
    loaded = Signal()

    def __init__(self, *, meshes=None, model=None, autosave: Path | None = None, confirm_close: bool = True):
        super().__init__()
        self.meshes = meshes
        self.model = None
        self.scene = None
        self.picker = None
        self.drawing = None
        self.marks: list[Mark] = []
        self.selected = None               # Pattern the user chose (browser, candidate, muscle click)
        self.candidates_from = None        # "spot" | "area" | None
        self.session_path: Path | None = None
        self.autosave_file = Path(autosave) if autosave else autosave_path()
        self.confirm_close = confirm_close
        self.dirty = False
        self.fly_ms = FLY_MS
        self.first_frame_s = None          # perf_counter when the body was first drawn
        self.timings = {}                  # latest measured latencies (ms), for scripts/gui_timings.py
        self._task = None
        self._fly = None
        self._closing = False
        self._render_pending = False
        self.setWindowTitle("Referral viewer")
        self.resize(1500, 920)
        self._build_ui()
        self._build_actions()
        self._set_enabled(False)
        self._autosave_timer = QTimer(self, singleShot=True, interval=700, timeout=self.write_autosave)
        self._hover_timer = QTimer(self, singleShot=True, interval=30, timeout=self._do_hover)
        self._hover_pos = None
        if model is not None:
            self._on_loaded((model.pack, model, None))
        else:
            self.start_loading()

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        from pyvistaqt import QtInteractor

        self.stack = QStackedWidget()
        self.message = QLabel("Loading the anatomy…", alignment=Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 14pt; color: #444; padding: 40px;")
        self.first_run = self._first_run_page()
        # auto_update off: render on demand only (a 5 fps timer would waste CPU)
        self.plotter = QtInteractor(self, auto_update=False)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.first_run)
        self.stack.addWidget(self.plotter)

        self.disclaimer = QLabel(f"⚠ {DISCLAIMER}")
        self.disclaimer.setWordWrap(True)
        self.disclaimer.setStyleSheet("background: #fff6d8; color: #5a4500; padding: 5px 10px; "
                                      "border-top: 1px solid #e6d49a;")
        self.legend = self._legend()
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("background: #fde8e8; color: #7a1010; padding: 4px 10px;")
        self.warning.hide()
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.warning)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.legend)
        lay.addWidget(self.disclaimer)
        self.setCentralWidget(centre)

        self.browser = MuscleBrowser()
        self.browser.muscleSelected.connect(self.select_muscle)
        self.left_dock = QDockWidget("Muscles", self)
        self.left_dock.setObjectName("muscles")
        self.left_dock.setWidget(self.browser)
        self.left_dock.setFeatures(QDockWidget.DockWidgetMovable)
        self.left_dock.setTitleBarWidget(QWidget())
        self.left_dock.setMinimumWidth(250)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.left_dock)

        self.candidates = CandidateList()
        self.candidates.hovered.connect(self._candidate_hovered)
        self.candidates.activated.connect(self._candidate_activated)
        self.details = DetailsPanel()
        self.notes = QPlainTextEdit(placeholderText="Session notes (saved with the session)…")
        self.notes.textChanged.connect(self.mark_dirty)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.details, "Details")
        self.tabs.addTab(self.notes, "Notes")
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.candidates)
        right.addWidget(self.tabs)
        right.setSizes([330, 560])
        self.right_dock = QDockWidget("Details", self)
        self.right_dock.setObjectName("details")
        self.right_dock.setWidget(right)
        self.right_dock.setFeatures(QDockWidget.DockWidgetMovable)
        self.right_dock.setTitleBarWidget(QWidget())
        self.right_dock.setMinimumWidth(360)
        self.addDockWidget(Qt.RightDockWidgetArea, self.right_dock)
        self.resizeDocks([self.left_dock, self.right_dock], [270, 400], Qt.Horizontal)

        self.hover_label = QLabel("")
        self.hover_label.setMinimumWidth(320)
        self.statusBar().addWidget(self.hover_label, 1)
        self.mode_label = QLabel("")
        self.statusBar().addPermanentWidget(self.mode_label)

    def _legend(self) -> QWidget:
        w = QWidget()
        w.setStyleSheet("QLabel { color: #333; }")
        lay = QHBoxLayout(w)
        lay.setContentsMargins(10, 3, 10, 3)
        for color, text, rnd in ((style.ESSENTIAL, "Essential zone", False),
                                 (style.SPILLOVER, "Spillover zone", False),
                                 (style.DRAWING, "Pain drawing", False),
                                 (style.MARK, "Marked spot", True),
                                 (style.TRIGGER_POINT, "Trigger point", True),
                                 (style.MUSCLE, "Selected muscle", False)):
            lay.addWidget(_swatch(color, rnd))
            lay.addWidget(QLabel(text))
            lay.addSpacing(10)
        lay.addStretch(1)
        return w

    def _first_run_page(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.addStretch(1)
        self.first_run_text = QLabel(alignment=Qt.AlignCenter)
        self.first_run_text.setWordWrap(True)
        self.first_run_text.setStyleSheet("font-size: 13pt; color: #333;")
        lay.addWidget(self.first_run_text)
        row = QHBoxLayout()
        row.addStretch(1)
        dl = QPushButton("Download BodyParts3D and build (about 136 MB)")
        dl.clicked.connect(lambda: self.build_pack("official"))
        local = QPushButton("Build from a local folder or archive…")
        local.clicked.connect(self._build_from_folder)
        row.addWidget(dl)
        row.addWidget(local)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(2)
        return w

    def _build_actions(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        self.act_open = file.addAction("&Open session…", self.open_session, QKeySequence.Open)
        self.act_save = file.addAction("&Save session", self.save_session, QKeySequence.Save)
        self.act_save_as = file.addAction("Save session &as…", self.save_session_as, QKeySequence.SaveAs)
        file.addSeparator()
        self.act_export = file.addAction("&Export image…", self.export_image_dialog, QKeySequence("Ctrl+E"))
        self.act_export_all = file.addAction("Export &all patterns to a folder…", self.export_all_dialog)
        file.addSeparator()
        file.addAction("&Quit", self.close, QKeySequence.Quit)

        view = mb.addMenu("&View")
        tb = QToolBar("View")
        tb.setObjectName("viewbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        self.view_actions = {}
        for name, key in VIEW_KEYS.items():
            a = view.addAction(name.capitalize(), lambda n=name: self.set_view(n), QKeySequence(key))
            a.setToolTip(f"{name.capitalize()} view ({key})")
            tb.addAction(a)
            self.view_actions[name] = a
        self.act_reset = view.addAction("Reset view", self.reset_view, QKeySequence("R"))
        self.act_frame = view.addAction("Frame pattern", lambda: self.fly_to_pattern(), QKeySequence("F"))
        tb.addAction(self.act_reset)
        tb.addAction(self.act_frame)
        tb.addSeparator()
        self.act_side = view.addAction("Left / right", self.switch_side, QKeySequence("S"))
        self.act_side.setToolTip("Show the same muscle on the other side (S)")
        tb.addAction(self.act_side)
        tb.addSeparator()
        view.addSeparator()
        self.act_patient = view.addAction("&Patient mode", self.set_patient_mode, QKeySequence("Ctrl+P"))
        self.act_patient.setCheckable(True)
        tb.addAction(self.act_patient)

        lb = QToolBar("Layers")
        lb.setObjectName("layers")
        lb.setMovable(False)
        self.addToolBar(lb)
        self.layer_bar = lb
        lb.addWidget(QLabel(" Skin "))
        self.opacity = QSlider(Qt.Horizontal, minimum=0, maximum=100, value=55)
        self.opacity.setFixedWidth(110)
        self.opacity.setToolTip("Skin opacity")
        self.opacity.valueChanged.connect(lambda v: self.scene and self.scene.set_skin_opacity(v / 100.0))
        lb.addWidget(self.opacity)
        self.chk_muscles = QCheckBox("Muscles", checked=True)
        self.chk_muscles.toggled.connect(lambda on: self.scene and self.scene.set_muscles_visible(on))
        self.chk_tps = QCheckBox("Trigger points", checked=True)
        self.chk_tps.toggled.connect(lambda on: self.scene and self.scene.set_trigger_points_visible(on))
        self.chk_other = QCheckBox("Other side", checked=False)
        self.chk_other.toggled.connect(self._other_side)
        for c in (self.chk_muscles, self.chk_tps, self.chk_other):
            lb.addWidget(c)
        self.act_paint = QAction("Pain drawing", self, checkable=True, shortcut=QKeySequence("D"),
                                 toolTip="Paint the painful area with the left button (D)",
                                 triggered=self.set_paint_mode)
        self.brush = QSlider(Qt.Horizontal, minimum=5, maximum=80, value=25)
        self.brush.setToolTip("Brush radius")
        self.brush.valueChanged.connect(self._brush_size)
        self.brush_label = QLabel("25 mm")
        self.brush_label.setMinimumWidth(42)
        self.act_eraser = QAction("Eraser", self, checkable=True, shortcut=QKeySequence("X"),
                                  toolTip="Erase parts of the drawing (X)",
                                  toggled=lambda on: self.drawing and setattr(self.drawing, "eraser", on))
        self.act_clear = QAction("Clear", self, triggered=self.clear_pain, toolTip="Clear marks and drawing")
        for a in (self.act_paint, self.act_eraser, self.act_clear):
            self.addAction(a)
        # the pain tools sit above the candidate list they feed
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        for a in (self.act_paint, self.act_eraser, self.act_clear):
            b = QToolButton()
            b.setDefaultAction(a)
            b.setToolButtonStyle(Qt.ToolButtonTextOnly)
            rl.addWidget(b)
        rl.addWidget(QLabel("Brush"))
        rl.addWidget(self.brush, 1)
        rl.addWidget(self.brush_label)
        self.pain_tools = row
        self.candidates.layout().insertWidget(1, row)

        help_ = mb.addMenu("&Help")
        help_.addAction("&About referral-viewer", self.about)

    def _set_enabled(self, on: bool) -> None:
        for a in (self.act_save, self.act_save_as, self.act_open, self.act_export, self.act_export_all,
                  self.act_reset, self.act_frame, self.act_side, self.act_patient, self.act_paint,
                  self.act_eraser, self.act_clear, *self.view_actions.values()):
            a.setEnabled(on)
        self.layer_bar.setEnabled(on)
        self.pain_tools.setEnabled(on)

    # ------------------------------------------------------------------ loading
    def start_loading(self) -> None:
        self.stack.setCurrentWidget(self.message)
        self.message.setText("Loading the anatomy…")
        self._task = Task(load_pack_and_model, self.meshes, parent=self)
        self._task.progress.connect(lambda m: self.message.setText(m + "…"))
        self._task.done.connect(self._on_loaded)
        self._task.failed.connect(self._on_load_failed)
        self._task.start()

    def _on_load_failed(self, exc) -> None:
        if isinstance(exc, ViewerError) and "No mesh pack" in str(exc):
            self.first_run_text.setText(
                "<b>No anatomy pack is built yet.</b><br><br>The app builds its 3D body from "
                "BodyParts3D (DBCLS, CC BY 4.0) on your computer, once.<br>Download it, or use a folder "
                "holding skin_bodyparts3d.obj and muscles_zanatomy.glb, or a downloaded "
                "isa_BP3D_4.0_obj_99.zip.")
            self.stack.setCurrentWidget(self.first_run)
        else:
            self.message.setText(f"The anatomy could not be loaded.\n\n{exc}")
            self.stack.setCurrentWidget(self.message)

    def _build_from_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder with the anatomy source")
        if path:
            self.build_pack(path)

    def build_pack(self, source) -> None:
        from viewer import config
        from viewer.gui.build_dialog import BuildDialog

        dlg = BuildDialog(source, config.meshes_dir(self.meshes), self)
        dlg.exec()
        if dlg.report is not None:
            self.start_loading()

    def _on_loaded(self, result) -> None:
        from viewer.gui.picking import MouseRouter, Picker
        from viewer.render.scene import BodyScene

        pack, model, warning = result
        self.model = model
        self.stack.setCurrentWidget(self.plotter)
        self.scene = BodyScene(self.plotter, model, skin_opacity=self.opacity.value() / 100.0)
        # Depth peeling in Qt's framebuffer object drops the translucent skin entirely (seen with
        # Mesa); without it, culling the skin's back faces keeps one clean translucent layer.
        self.plotter.disable_depth_peeling()
        self.scene.skin_actor.GetProperty().BackfaceCullingOn()
        self.picker = Picker(self.plotter, self.scene)
        self.drawing = PainDrawing(model, self.brush.value())
        self.router = MouseRouter(self.plotter)
        self.router.clicked.connect(self._clicked)
        self.router.hovered.connect(self._hover)
        self.router.left.connect(lambda: self.hover_label.setText(""))
        self.router.paint.connect(self._paint)
        self.router.paintEnded.connect(self._paint_ended)
        self.browser.set_model(model)
        self.candidates.set_candidates([], None)
        if warning:
            self.warning.setText(warning)
            self.warning.setToolTip("\n".join(str(p) for p in model.problems[:30]))
            self.warning.show()
        self._set_enabled(True)
        self.plotter.render_window.AddObserver("EndEvent", self._first_frame)
        self.plotter.render()
        self._update_mode_label()
        self.loaded.emit()
        QTimer.singleShot(0, self.offer_recovery)

    def _first_frame(self, *_):
        if self.first_frame_s is None:
            self.first_frame_s = time.perf_counter()

    # ------------------------------------------------------------------ hover & click
    def _hover(self, pos: QPointF) -> None:
        self._hover_pos = pos
        if not self._hover_timer.isActive():      # coalesce mouse moves: one pick per 30 ms
            self._hover_timer.start()

    def _do_hover(self) -> None:
        if self.picker is None or self._hover_pos is None:
            return
        hit = self.picker.pick(self._hover_pos)
        if hit is None:
            self.hover_label.setText("Not over the skin")
            return
        v = int(self.model.geo.snap(np.array(hit[1]))[0][0])
        self.hover_label.setText(f"Over: <b>{self.model.region_of(v).display}</b>")

    def _clicked(self, pos: QPointF, modifiers) -> None:
        t = time.perf_counter()
        if modifiers & Qt.ControlModifier or self.opacity.value() == 0:
            self.pick_muscle(pos)
            return
        hit = self.picker.pick(pos)
        if hit is None:
            return
        self.mark_point(hit[1], add=bool(modifiers & Qt.ShiftModifier), t0=t)

    def mark_point(self, xyz, *, add: bool = False, t0: float | None = None) -> None:
        """Mark a painful spot (replacing the marks, or adding with Shift) and list candidates."""
        v = int(self.model.geo.snap(np.asarray(xyz, dtype=float))[0][0])
        mark = Mark(v, tuple(float(x) for x in self.model.geo.vertices[v]))
        self.marks = (self.marks + [mark]) if add else [mark]
        self.refresh_candidates("spot")
        if t0 is not None:      # click -> candidates listed (the frame render follows)
            self.timings["pick_to_candidates_ms"] = (time.perf_counter() - t0) * 1000
        self.scene.set_marks(np.array([m.point for m in self.marks]))
        self.mark_dirty()

    def pick_muscle(self, pos: QPointF) -> None:
        if not self.scene.muscle_actor.GetVisibility():
            return
        hit = self.picker.pick(pos, "muscles")
        if hit is None:
            return
        part = self.scene.part_at_cell(hit[0])
        for p in self.model.patterns:
            if part.id in p.part_ids:
                self.select_pattern(p, fly=True)
                return
        self.statusBar().showMessage(f"{part.name}: no referral pattern in the loaded maps.", 5000)

    def refresh_candidates(self, source: str) -> None:
        """Candidates for the marked spot(s) ('spot') or the pain drawing ('area')."""
        self.candidates_from = source
        if source == "spot" and self.marks:
            if len(self.marks) == 1:
                v = self.marks[0].vertex
                cands = lookup.lookup_vertex(self.model, v)
                heading = f"Pain at: {self.model.region_of(v).display}"
            else:
                cands = lookup.lookup_area(self.model, [m.vertex for m in self.marks])
                heading = f"Pain at {len(self.marks)} marked spots"
        elif source == "area" and self.drawing.vertices.size:
            cands = lookup.lookup_area(self.model, self.drawing.vertices)
            heading = "Painted area: muscles ranked by how much of it they explain"
        else:
            self.candidates_from = None
            cands, heading = [], None
        self.candidates.set_candidates(cands, heading)

    # ------------------------------------------------------------------ painting
    def set_paint_mode(self, on: bool) -> None:
        self.act_paint.setChecked(on)
        self.router.painting = on
        self.plotter.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)
        self._update_mode_label()

    def _brush_size(self, v: int) -> None:
        self.brush_label.setText(f" {v} mm ")
        if self.drawing:
            self.drawing.radius_mm = float(v)

    def _paint(self, pos: QPointF, start: bool) -> None:
        hit = self.picker.pick(pos)
        if hit is None:
            return
        v = int(self.model.geo.snap(np.array(hit[1]))[0][0])
        self.drawing.dab(v)
        self.scene.set_drawing(self.drawing.mask, render=False)
        self.request_render()

    def request_render(self) -> None:
        """Render once the pending mouse events are handled (a software renderer can take
        longer per frame than the mouse takes per move)."""
        if not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(0, self._deferred_render)

    def _deferred_render(self) -> None:
        self._render_pending = False
        if not self._closing:
            self.plotter.render()

    def _paint_ended(self) -> None:
        self.refresh_candidates("area")
        self.mark_dirty()

    def clear_pain(self) -> None:
        self.marks = []
        self.drawing.clear()
        self.scene.set_marks(None)
        self.scene.set_drawing(self.drawing.mask)
        self.refresh_candidates("spot")
        self.mark_dirty()

    # ------------------------------------------------------------------ selection
    def select_muscle(self, muscle_id: str, side: str | None = None) -> None:
        """Explore a muscle: pattern on the skin, trigger points, camera turned to face them."""
        side = side or (self.selected.side if self.selected else "right")
        try:
            p = self.model.pattern(muscle_id, side)
        except KeyError:
            try:
                p = self.model.pattern(muscle_id, "left" if side == "right" else "right")
            except KeyError:
                return
        self.select_pattern(p, fly=True)

    def select_pattern(self, pattern, *, fly: bool = False) -> None:
        self.selected = pattern
        t = time.perf_counter()
        self.scene.show_pattern(pattern)
        self.timings["recolor_ms"] = (time.perf_counter() - t) * 1000
        self.details.show_pattern(pattern)
        self.tabs.setCurrentWidget(self.details)
        self.browser.select(pattern.muscle.id if pattern else None)
        if fly and pattern is not None:
            self.fly_to_pattern()
        self.mark_dirty()

    def _candidate_hovered(self, c) -> None:
        if self.scene is None:
            return
        target = self.model.patterns[c.pattern] if c is not None else self.selected
        if target is not self.scene.pattern:
            self.scene.show_pattern(target)

    def _candidate_activated(self, c) -> None:
        if c is not None:
            self.select_pattern(self.model.patterns[c.pattern])

    def switch_side(self) -> None:
        if self.selected is not None:
            other = "left" if self.selected.side == "right" else "right"
            try:
                self.select_pattern(self.model.pattern(self.selected.muscle.id, other), fly=True)
            except KeyError:
                self.statusBar().showMessage("This muscle has no pattern on the other side.", 4000)

    def _other_side(self, on: bool) -> None:
        if self.scene:
            self.scene.set_other_side_visible(on)

    # ------------------------------------------------------------------ camera
    def set_view(self, name: str) -> None:
        self._animate(lambda: self.scene.set_view(name, render=False))

    def reset_view(self) -> None:
        self._animate(lambda: self.scene.set_view("anterior", render=False))

    def fly_to_pattern(self) -> None:
        if self.scene is None or self.scene.pattern is None:
            return
        self._animate(lambda: self.scene.set_view(self.scene.best_view(), focus="pattern", render=False))

    def _animate(self, set_target) -> None:
        """Fly the camera: orbit direction slerped, focal point and distance interpolated."""
        cam = self.plotter.camera
        start = (np.array(cam.position), np.array(cam.focal_point), np.array(cam.up))
        set_target()
        end = (np.array(cam.position), np.array(cam.focal_point), np.array(cam.up))
        if self._fly:
            self._fly.stop()
        if self.fly_ms <= 0:
            self.plotter.render()
            return
        t0 = time.perf_counter()

        def step():
            s = min(1.0, (time.perf_counter() - t0) * 1000 / self.fly_ms)
            s = s * s * (3 - 2 * s)
            (p0, f0, u0), (p1, f1, u1) = start, end
            d0, d1 = p0 - f0, p1 - f1
            n0, n1 = np.linalg.norm(d0), np.linalg.norm(d1)
            dirn = _slerp(d0 / n0, d1 / n1, s)
            focal = f0 + s * (f1 - f0)
            cam.focal_point = focal
            cam.position = focal + dirn * (n0 + s * (n1 - n0))
            up = u0 + s * (u1 - u0)
            cam.up = up / (np.linalg.norm(up) or 1.0)
            cam.OrthogonalizeViewUp()
            self.plotter.renderer.ResetCameraClippingRange()
            self.plotter.render()
            if s >= 1.0:
                self._fly.stop()

        cam.position, cam.focal_point, cam.up = start
        self._fly = QTimer(self, interval=16, timeout=step)
        self._fly.start()

    def finish_animation(self) -> None:
        """Jump to the end of a camera flight (tests, screenshots)."""
        while self._fly is not None and self._fly.isActive():
            QApplication.processEvents()
            time.sleep(0.005)

    # ------------------------------------------------------------------ patient mode
    def set_patient_mode(self, on: bool) -> None:
        self.act_patient.setChecked(on)
        self.left_dock.setVisible(not on)
        self.layer_bar.setVisible(not on)
        self.tabs.setTabVisible(1, not on)
        self.details.set_patient_mode(on)
        self.candidates.set_scale(1.35 if on else 1.0)
        f = QFont(self.font())
        f.setPointSizeF(13 if on else QApplication.font().pointSizeF())
        self.candidates.title.setFont(f)
        self.hover_label.setFont(f)
        if self.scene:
            self.scene.label_font_size = 22 if on else 14
            # a clean body: context muscles hidden, only the selected muscle stays
            self.scene.set_muscles_visible(False if on else self.chk_muscles.isChecked())
            self.scene.set_trigger_points_visible(self.chk_tps.isChecked())
        self._update_mode_label()

    def _update_mode_label(self) -> None:
        parts = []
        if self.act_patient.isChecked():
            parts.append("Patient mode")
        if self.act_paint.isChecked():
            parts.append("Pain drawing: left button paints, middle drag pans, wheel zooms")
        else:
            parts.append("Click: mark pain · Ctrl+click: select muscle · drag: rotate")
        self.mode_label.setText("  |  ".join(parts) + "  ")

    # ------------------------------------------------------------------ sessions
    def current_session(self) -> Session:
        return Session(pack_key=self.model.pack.key if self.model else "",
                       marks=list(self.marks),
                       drawing=self.drawing.vertices.tolist() if self.drawing else [],
                       selected=(self.selected.muscle.id, self.selected.side) if self.selected else None,
                       notes=self.notes.toPlainText())

    def apply_session(self, s: Session) -> list[str]:
        """Restore a session; checks everything before changing anything. Returns warnings."""
        n = len(self.model.geo.vertices)
        warnings = []
        same_pack = s.pack_key == self.model.pack.key
        if same_pack:
            bad = [m.vertex for m in s.marks if m.vertex >= n] + [v for v in s.drawing if v >= n]
            if bad:
                raise SessionError(f"the session refers to skin vertex {bad[0]}, but this anatomy pack has "
                                   f"only {n}; the file is damaged.", path=self.session_path)
            marks = list(s.marks)
            drawing = list(s.drawing)
        else:   # another pack: marks are re-snapped by position; a drawing cannot be mapped
            marks = []
            for m in s.marks:
                v = int(self.model.geo.snap(np.array(m.point))[0][0])
                marks.append(Mark(v, tuple(float(x) for x in self.model.geo.vertices[v])))
            drawing = []
            warnings.append("The session was saved with another anatomy pack: marks were placed by "
                            "position" + (" and the pain drawing could not be restored." if s.drawing else "."))
        pattern = None
        if s.selected:
            try:
                pattern = self.model.pattern(*s.selected)
            except KeyError:
                warnings.append(f"The selected muscle {s.selected[0]} ({s.selected[1]}) has no pattern "
                                "in the loaded maps.")
        # -- everything checked: apply
        self.marks = marks
        self.drawing.set_vertices(drawing)
        self.scene.set_drawing(self.drawing.mask, render=False)
        self.scene.set_marks(np.array([m.point for m in marks]) if marks else None)
        self.notes.blockSignals(True)
        self.notes.setPlainText(s.notes)
        self.notes.blockSignals(False)
        self.selected = None
        if pattern is not None:
            self.select_pattern(pattern)
        else:
            self.scene.show_pattern(None)
            self.details.show_pattern(None)
            self.browser.select(None)
        self.refresh_candidates("spot" if marks else "area")
        return warnings

    def open_session(self, path=None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open session", str(Path.home()),
                                                  "Referral sessions (*.json);;All files (*)")
            if not path:
                return False
        try:
            s = Session.load(path)
            warnings = self.apply_session(s)
        except SessionError as exc:
            self._error("The session could not be opened", str(exc))
            return False
        self.session_path = Path(path)
        self.dirty = False
        self._update_title()
        for w in warnings:
            self.statusBar().showMessage(w, 8000)
        return True

    def save_session(self, path=None) -> bool:
        path = path or self.session_path
        if path is None:
            return self.save_session_as()
        try:
            self.current_session().save(path)
        except OSError as exc:
            self._error("The session could not be saved", f"{path}: {exc}")
            return False
        self.session_path = Path(path)
        self.dirty = False
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def save_session_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", str(Path.home() / "session.json"),
                                              "Referral sessions (*.json)")
        if not path:
            return False
        return self.save_session(path if path.endswith(".json") else path + ".json")

    def mark_dirty(self) -> None:
        if self.model is None:
            return
        self.dirty = True
        self._update_title()
        self._autosave_timer.start()

    def write_autosave(self) -> None:
        if self.model is None:
            return
        try:
            self.current_session().save(self.autosave_file)
        except OSError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 8000)

    def offer_recovery(self) -> None:
        s = read_recovery(self.autosave_file)
        if s is None:
            return
        when = s.saved_at.replace("T", " ")[:16] if s.saved_at else "an earlier run"
        answer = QMessageBox.question(
            self, "Recover session?",
            f"The previous session (autosaved {when}) was not closed normally.\n\nRecover it?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer == QMessageBox.Yes:
            try:
                self.apply_session(s)
                self.dirty = True
                self._update_title()
            except SessionError as exc:
                self._error("The autosaved session could not be recovered", str(exc))
        else:
            clear_autosave(self.autosave_file)

    def _update_title(self) -> None:
        name = self.session_path.name if self.session_path else "untitled session"
        self.setWindowTitle(f"{name}{' *' if self.dirty else ''} — Referral viewer")

    # ------------------------------------------------------------------ export
    def export_image(self, out, **options) -> Path:
        """Same render as the CLI export, off-screen, at any size up to 3840x2160."""
        from viewer.render.export import render_pattern

        return render_pattern(self.model, self.selected, out, **options)

    def export_image_dialog(self) -> None:
        from viewer.gui.export_dialog import ExportImageDialog

        name = "body.png"
        if self.selected:
            name = f"{self.selected.muscle.name.lower().replace(' ', '_')}_{self.selected.side}.png"
        dlg = ExportImageDialog(self, default_name=name, current_view=getattr(self.scene, "current_view", None))
        if not dlg.exec():
            return
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            path = self.export_image(dlg.out_path(), **dlg.options())
        except (OSError, ValueError) as exc:
            QApplication.restoreOverrideCursor()
            self._error("The image could not be exported", str(exc))
            return
        QApplication.restoreOverrideCursor()
        self.plotter.render()
        self.statusBar().showMessage(f"Exported {path}", 6000)

    def export_all_dialog(self, out_dir=None) -> list:
        """Export all: the options dialog (size, theme, views, sides, muscles or
        regions, contact sheets), or the defaults into ``out_dir`` when given."""
        from viewer.gui.export_dialog import export_all

        try:
            written = export_all(self, self.model, out_dir=out_dir, options={} if out_dir else None)
        except OSError as exc:
            self._error("Export failed", str(exc))
            written = []
        self.plotter.render()
        if written:
            self.statusBar().showMessage(f"{len(written)} images written to {written[0].parent}", 8000)
        return written

    # ------------------------------------------------------------------ misc
    def about(self) -> None:
        QMessageBox.about(self, "About referral-viewer", about_html())

    def _error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def closeEvent(self, ev) -> None:
        if self.confirm_close and self.dirty and not self.current_session().is_empty():
            answer = QMessageBox.question(
                self, "Save the session?", "The session has unsaved changes. Save them before closing?",
                QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
            if answer == QMessageBox.Cancel or (answer == QMessageBox.Save and not self.save_session()):
                ev.ignore()
                return
        self.shutdown()
        ev.accept()

    def shutdown(self) -> None:
        """Stop timers and threads, remove the autosave (clean exit), finalize the render window."""
        if self._closing:
            return
        self._closing = True
        for t in (self._autosave_timer, self._hover_timer, self._fly):
            if t is not None:
                t.stop()
        if self._task is not None and self._task.running():
            self._task.wait(120_000)
        if self.model is not None:
            clear_autosave(self.autosave_file)
        # close the interactor explicitly: finalizing VTK's GL context before Qt tears
        # down the widget avoids the segfault at interpreter exit
        self.plotter.close()


def _slerp(a, b, t):
    dot = float(np.clip(np.dot(a, b), -1.0, 1.0))
    if dot > 0.9995:
        v = a + t * (b - a)
        return v / np.linalg.norm(v)
    if dot < -0.9995:            # opposite: orbit around any perpendicular axis
        perp = np.cross(a, [0.0, 0.0, 1.0])
        if np.linalg.norm(perp) < 1e-6:
            perp = np.cross(a, [1.0, 0.0, 0.0])
        perp /= np.linalg.norm(perp)
        ang = np.pi * t
        return a * np.cos(ang) + perp * np.sin(ang)
    om = np.arccos(dot)
    return (np.sin((1 - t) * om) * a + np.sin(t * om) * b) / np.sin(om)


def about_html() -> str:
    return (f"<h3>referral-viewer {__version__}</h3>"
            "<p>Myofascial trigger points and referred-pain patterns on a real 3D body, with a reverse "
            "lookup: <i>it hurts here, which muscles could refer here?</i></p>"
            f"<p><b>{DISCLAIMER}</b></p>"
            "<p><b>Credits and licences</b></p><ul>"
            "<li>Code: MIT licence.</li>"
            "<li>Anatomy: <b>BodyParts3D</b>, (c) The Database Center for Life Science (DBCLS), "
            "licensed <b>CC BY 4.0</b> (older releases CC BY-SA 2.1 JP).</li>"
            "<li>Muscle meshes derived from <b>Z-Anatomy</b> (<b>CC BY-SA 4.0</b>), based on "
            "BodyParts3D (c) DBCLS.</li>"
            "<li>Referral patterns summarised in our own words from the sources cited for each muscle, "
            "chiefly Travell &amp; Simons, <i>Myofascial Pain and Dysfunction: The Trigger Point "
            "Manual</i>.</li>"
            "<li>Built with Qt (PySide6, LGPL), VTK and PyVista (BSD/MIT).</li></ul>"
            f"<p style='color:#666'>{ATTRIBUTION}</p>")
