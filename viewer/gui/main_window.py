"""The main window: body in the centre, muscle browser left, candidates and details right.

Only wiring: widgets -> ViewerState (viewer.state) and state -> widgets; the 3D view
glue is view3d.py, actions and menus actions.py, session dialogs sessions.py.
"""

from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QPlainTextEdit, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from viewer import DISCLAIMER
from viewer.gui import actions, modes
from viewer.gui.browser import MuscleBrowser
from viewer.gui.candidates import CandidateList, segments_text
from viewer.gui.details import DetailsPanel
from viewer.gui.exporting import ExportController
from viewer.gui.help import HelpDialog, about_html
from viewer.gui.other_sources import OtherSourcesPanel, RedFlagBanner, agrees
from viewer.gui.sessions import SessionController
from viewer.gui.view3d import View3D
from viewer.gui.widgets import FirstRunPage, PointStatus, legend, make_room
from viewer.gui.loading import EarlyLoad, NoPack, empty_model
from viewer.state import ViewerState

class MainWindow(QMainWindow):
    loaded = Signal()

    def __init__(self, *, meshes=None, model=None, autosave_dir=None, confirm_close: bool = True,
                 session=None, early=None):
        """`early`: a viewer.gui.loading.EarlyLoad already reading the pack and patterns."""
        super().__init__()
        from viewer.gui.interactor import Interactor

        self.meshes, self.confirm_close, self._open_after_load = meshes, confirm_close, session
        self.first_frame_s = None          # perf_counter when the body was first drawn
        self.patterns_ready_s = None       # perf_counter when the patterns were loaded
        self._after_first_frame = None     # what waits for the first frame (reading the patterns)
        self._closing = False
        self.state = ViewerState()
        # auto_update off: render on demand only (a 5 fps timer would waste CPU). No multisampling:
        # 4x MSAA made every software-OpenGL frame about 3x slower (bench: 750 -> 264 ms under load)
        self.plotter = Interactor(self, auto_update=False, multi_samples=0)
        self.view = View3D(self.plotter, self.state, self)
        self.sessions = SessionController(self, self.state, autosave_dir)
        self.exports = ExportController(self, self.state)
        self._build_ui()
        self.actions = actions.build(self)
        self.candidates.layout().insertWidget(1, self.actions.pain_tools)
        self.candidates.layout().insertWidget(0, self.red_flags)     # above everything in the list
        # (not add_banner, which puts it just above the rows: a red flag goes above the title too)
        self._wire()
        self._set_enabled(False)
        self.resize(1500, 920)
        self.sessions.update_title()
        if model is not None:
            self._on_loaded((model.pack, model, None))
        elif early is not None:
            self.stack.setCurrentWidget(self.message)
            self._wait_early(early)
        else:
            self.start_loading()

    @property
    def model(self):
        return self.state.model

    @property
    def scene(self):
        return self.view.scene

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        self.stack = QStackedWidget()
        self.message = QLabel("Loading the anatomy…", alignment=Qt.AlignCenter, wordWrap=True)
        self.message.setStyleSheet("font-size: 14pt; color: #444; padding: 40px;")
        self.first_run = FirstRunPage()
        self.first_run.buildRequested.connect(self.build_pack)
        for w in (self.message, self.first_run, self.plotter):
            self.stack.addWidget(w)
        self.disclaimer = QLabel(f"⚠ {DISCLAIMER}", wordWrap=True)
        self.disclaimer.setStyleSheet("background: #fff6d8; color: #5a4500; padding: 4px 10px; "
                                      "border-top: 1px solid #e6d49a;")
        self.warning = QLabel(wordWrap=True)
        self.warning.setStyleSheet("background: #fde8e8; color: #7a1010; padding: 4px 10px;")
        self.warning.hide()
        self.legend = legend()
        self.patient_legend = legend(patient=True)
        self.patient_legend.hide()
        centre = QWidget()
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        for w, stretch in ((self.warning, 0), (self.stack, 1), (self.legend, 0), (self.patient_legend, 0),
                           (self.disclaimer, 0)):
            lay.addWidget(w, stretch)
        self.setCentralWidget(centre)

        self.browser = MuscleBrowser()
        self.left_dock = self._dock("muscles", self.browser, Qt.LeftDockWidgetArea, 250)
        self.candidates = CandidateList()
        self.red_flags = RedFlagBanner()
        self.others = OtherSourcesPanel()
        self.details = DetailsPanel()
        self.notes = QPlainTextEdit(placeholderText="Session notes (saved with the session)…")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.details, "Details")
        self.tabs.addTab(self.notes, "Notes")
        for w in (self.details, self.notes):      # may shrink to a few lines when red flags need room
            w.setMinimumHeight(36)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.candidates)
        right.addWidget(self.others)
        right.addWidget(self.tabs)
        # the candidate list gets the larger share (6+ rows at 720 px), then "Also consider"
        right.setStretchFactor(0, 5)
        right.setStretchFactor(1, 2)
        right.setStretchFactor(2, 2)
        right.setSizes([500, 200, 200])
        self.right_split = right
        self._room = None          # (sizes before, sizes after) while the red flags took room
        self.right_dock = self._dock("details", right, Qt.RightDockWidgetArea, 360)
        self.resizeDocks([self.left_dock, self.right_dock], [260, 390], Qt.Horizontal)
        self.hover_label = QLabel("")
        self.hover_label.setMinimumWidth(300)
        self.statusBar().addWidget(self.hover_label, 1)
        self.point_status = PointStatus()
        self.statusBar().addPermanentWidget(self.point_status)
        self.mode_label = QLabel("")
        self.statusBar().addPermanentWidget(self.mode_label)
        self.statusBar().setFixedHeight(28)          # the copy button appearing must not resize the view
        # widgets that stay in patient mode and switch to plain words (viewer.gui.modes): the
        # red-flag banner above the candidate list registers here
        self.patient_widgets = [self.red_flags]

    def _dock(self, name, widget, area, width) -> QDockWidget:
        d = QDockWidget(name.capitalize(), self, objectName=name)
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetMovable)
        d.setTitleBarWidget(QWidget())
        d.setMinimumWidth(width)
        self.addDockWidget(area, d)
        return d

    def _wire(self) -> None:
        s, ev, A, v = self.state, self.state.events, self.actions, self.view
        self.browser.muscleSelected.connect(self._browser_chose)
        self.candidates.hovered.connect(self._row_hovered)
        self.candidates.activated.connect(self._row_chosen)
        self.notes.textChanged.connect(self._notes_typed)
        ev.candidates.connect(self._candidates_changed)
        ev.shown.connect(self._shown_changed)
        self.others.hovered.connect(self._row_hovered)
        self.others.activated.connect(self._row_chosen)
        self.others.levelChosen.connect(self.show_level)
        ev.selected.connect(self._selected)
        ev.notes.connect(self._notes_changed)
        ev.marks.connect(self._marks_changed)
        ev.history.connect(self._history_changed)
        v.hoverText.connect(self.hover_label.setText)
        v.muscleClicked.connect(self._muscle_clicked)
        self.point_status.copy.clicked.connect(self.copy_lookup)
        # the layer and mode widgets set the view settings; the scene and the widgets follow them
        # (a session opened with other settings updates both)
        A.opacity.valueChanged.connect(self._opacity_slider)
        for box, name in ((A.chk_muscles, "muscles"), (A.chk_tps, "trigger_points"), (A.chk_bones, "bones"),
                          (A.chk_other, "other_side")):
            box.toggled.connect(partial(self._set_view, name))
        vev = s.view.events
        vev.skin_opacity.connect(self._show_opacity)
        vev.muscles.connect(self._show_muscles)
        vev.trigger_points.connect(self._show_trigger_points)
        vev.bones.connect(self._show_bones)
        vev.other_side.connect(self._show_other_side)
        vev.brush_mm.connect(self._show_brush)
        vev.patient_mode.connect(partial(self._sync_action, A.patient))
        vev.paint_mode.connect(partial(self._sync_action, A.paint))
        vev.eraser.connect(partial(self._sync_action, A.eraser))
        vev.camera.connect(self._show_camera)
        A.brush.valueChanged.connect(self._brush)
        A.undo.setEnabled(False)
        A.redo.setEnabled(False)

    def _set_enabled(self, on: bool) -> None:
        for a in self.actions.needs_body:
            a.setEnabled(on)
        self.actions.layerbar.setEnabled(on)
        self.actions.pain_tools.setEnabled(on)

    # ------------------------------------------------------------------ loading
    def start_loading(self) -> None:
        """Read the pack and the patterns in a thread: the body shows first, the patterns after."""
        self.stack.setCurrentWidget(self.message)
        self._wait_early(EarlyLoad(self.meshes))

    def _wait_early(self, early) -> None:
        """Poll the loading thread (every 15 ms): the body as soon as the pack is read, then
        the patterns; the loader's progress in the status bar meanwhile."""
        if self._closing:
            return
        if self.view.scene is None and early.pack is not None:
            self._show_body(early.pack)
            # the patterns are read once the first frame is on screen (they would share the
            # interpreter with it); 1 s at the most, should the window not be shown
            self._after_first_frame = early.start_model
            QTimer.singleShot(1000, early.start_model)
        if early.done():
            self.statusBar().clearMessage()
            if early.error is not None:
                self._on_load_failed(early.error)
            else:
                self._on_loaded(early.result)
            return
        if early.progress:
            if self.view.scene is None:
                self.message.setText(early.progress + "…")
            else:
                self.statusBar().showMessage(early.progress + "…")
        QTimer.singleShot(15, partial(self._wait_early, early))

    def _show_body(self, pack, model=None) -> None:
        """The body on screen: the scene is made on `model`, or before the patterns are loaded
        on a model without patterns; the view holds clicks until the patterns come (_on_loaded)."""
        self.stack.setCurrentWidget(self.plotter)
        self.view.attach(model or empty_model(pack), skin_opacity=self.actions.opacity.value() / 100.0)
        self.actions.chk_bones.setEnabled(self.view.scene.has_bones)
        for a in (self.actions.reset, *self.actions.views.values()):    # the camera works at once
            a.setEnabled(True)
        self.plotter.render_window.AddObserver("EndEvent", self._first_frame)
        if self.isVisible():        # else showing the window draws it: a frame now would be drawn
            self.plotter.render()   # again at the shown size (0.2 s of the first frame)

    def _on_load_failed(self, exc) -> None:
        if isinstance(exc, NoPack):
            self.first_run.text.setText(
                "<b>No anatomy pack is built yet.</b><br><br>The app builds its 3D body from "
                "BodyParts3D (DBCLS, CC BY 4.0) on your computer, once.<br>Download it, or use a folder "
                "holding skin_bodyparts3d.obj and muscles_zanatomy.glb, or a downloaded "
                "isa_BP3D_4.0_obj_99.zip.")
            self.stack.setCurrentWidget(self.first_run)
        else:
            self.message.setText(f"The anatomy could not be loaded.\n\n{exc}")
            self.stack.setCurrentWidget(self.message)

    def build_pack(self, source) -> None:
        from viewer import config
        from viewer.gui.build_dialog import BuildDialog

        source = source or QFileDialog.getExistingDirectory(self, "Folder with the anatomy source")
        if source:
            dlg = BuildDialog(source, config.meshes_dir(self.meshes), self)
            dlg.exec()
            if dlg.report is not None:
                self.start_loading()

    def _on_loaded(self, result) -> None:
        _, model, warning = result
        self.state.set_model(model)
        if self.view.scene is None:         # a model given to the window: no body shown yet
            self._show_body(model.pack, model)
        self.browser.set_model(model)
        self.details.model = model
        self.candidates.set_candidates([], None)
        if warning:
            self.warning.setText(warning)
            self.warning.setToolTip("\n".join(str(p) for p in model.problems[:30]))
            self.warning.show()
        self._set_enabled(True)
        self._update_mode_label()
        self.plotter.setFocus(Qt.OtherFocusReason)      # the view keys work at once, not the search box
        self.view.set_model(model)                     # after the state: a held click is looked up now
        self.patterns_ready_s = time.perf_counter()
        self.loaded.emit()
        QTimer.singleShot(0, partial(self.sessions.open, self._open_after_load) if self._open_after_load
                          else self.sessions.offer_recovery)

    def _first_frame(self, *_):
        self.first_frame_s = self.first_frame_s or time.perf_counter()
        then, self._after_first_frame = self._after_first_frame, None
        if then is not None:
            QTimer.singleShot(0, then)      # after this frame is put on the screen

    # ------------------------------------------------------------------ state -> widgets
    def _candidates_changed(self) -> None:
        s = self.state
        self.red_flags.set_flags(s.red_flags)
        self.candidates.set_candidates(s.candidates, s.heading(), self._segments)
        self.others.set_sources(s.other_sources, s.dermatomes, s.heading())
        self._keep_candidate_rows()

    MIN_CANDIDATE_ROWS = 4

    def _keep_candidate_rows(self) -> None:
        """Keep MIN_CANDIDATE_ROWS candidate rows in sight while the red-flag banner takes the top
        of their panel (two flags take ~200 px: at 1280x720 two rows were left): the details
        below give way first, then "Also consider" down to one row. The room goes back when the
        flags go, unless the splitter was moved since."""
        split = self.right_split
        if not self.red_flags.isVisible():
            if self._room is not None and all(abs(a - b) <= 2 for a, b in zip(split.sizes(), self._room[1])):
                split.setSizes(self._room[0])
            self._room = None
            return
        self.candidates.layout().activate()          # the banner just appeared: lay the panel out now
        lst, ol = self.candidates.list, self.others.list
        rows = min(self.MIN_CANDIDATE_ROWS, lst.count())
        need = rows * lst.sizeHintForRow(0) - lst.viewport().height() if rows else 0
        if need <= 0:
            return
        one_row = ol.sizeHintForRow(0) if ol.count() else 0
        floors = [0, self.others.height() - ol.viewport().height() + one_row, self.tabs.minimumSizeHint().height()]
        before = split.sizes()
        split.setSizes(make_room(before, need, floors))
        self._room = (before if self._room is None else self._room[0], split.sizes())

    def _browser_chose(self, muscle_id: str) -> None:
        if self.state.select_muscle(muscle_id):
            self.view.fly_to_pattern()

    def _row_hovered(self, candidate) -> None:
        """A candidate or other-source row under the mouse: its pattern shows (None: the selection)."""
        self.state.hover(self.state.candidate_pattern(candidate) if candidate else None)

    def _row_chosen(self, candidate) -> None:
        if candidate:
            self.state.select(self.state.candidate_pattern(candidate))

    def _notes_typed(self) -> None:
        self.state.set_notes(self.notes.toPlainText())

    def _shown_changed(self, pattern) -> None:
        index = pattern.index if pattern else None
        self.candidates.show_selected(index)
        self.others.show_selected(index)

    def _marks_changed(self) -> None:
        self.point_status.set_point(self.state.last_point if self.state.marks else None)

    def _history_changed(self) -> None:
        self.actions.undo.setEnabled(self.state.can_undo)
        self.actions.redo.setEnabled(self.state.can_redo)

    def _segments(self, candidate) -> str:
        """A candidate's spinal segments, ticked when they include the spot's dermatome level."""
        muscle = self.state.candidate_pattern(candidate).muscle
        text = segments_text(muscle)
        return f"✓ {text}" if text and agrees(muscle, self.state.dermatomes) else text

    def show_level(self, level: str) -> None:
        """Paint the dermatome of a spinal level (a link in the segmental-level line)."""
        if self.state.select_level(level):
            self.view.fly_to_pattern()
        else:
            self.statusBar().showMessage(f"No nerve-root map for {level}.", 4000)

    def _selected(self, pattern) -> None:
        self.browser.select(pattern.muscle.id if pattern else None)
        # the details are long HTML: lay them out after the frame showing the click is drawn
        QTimer.singleShot(0, self._show_details)
        if pattern is not None:
            self.tabs.setCurrentWidget(self.details)

    def _show_details(self) -> None:
        self.details.show_pattern(self.state.selected)

    def _notes_changed(self, text: str) -> None:
        if self.notes.toPlainText() != text:
            self.notes.blockSignals(True)
            self.notes.setPlainText(text)
            self.notes.blockSignals(False)

    def _muscle_clicked(self, part) -> None:
        p = next((p for p in self.model.patterns if part.id in p.part_ids), None)
        if p is None:
            self.statusBar().showMessage(f"{part.name}: no referral pattern in the loaded maps.", 5000)
            return
        self.state.select(p)
        self.view.fly_to_pattern()

    def _brush(self, v: int) -> None:
        self.state.view.brush_mm = float(v)

    # -- view settings: widgets -> state.view -> scene and widgets ----------------------------
    def _set_view(self, name: str, value) -> None:
        setattr(self.state.view, name, value)

    def _opacity_slider(self, value: int) -> None:
        self.state.view.skin_opacity = value / 100.0

    def _show_opacity(self, value: float) -> None:
        self._sync_widget(self.actions.opacity, round(value * 100))
        if self.view.scene is not None:
            self.view.scene.set_skin_opacity(value, render=False)
            self.view.request_render()

    def _show_muscles(self, on: bool) -> None:
        self._sync_widget(self.actions.chk_muscles, on)
        if self.view.scene is not None:      # patient mode keeps a clean body whatever the layer says
            self.view.scene.set_muscles_visible(on and not self.state.view.patient_mode)

    def _show_trigger_points(self, on: bool) -> None:
        self._sync_widget(self.actions.chk_tps, on)
        if self.view.scene is not None:
            self.view.scene.set_trigger_points_visible(on)

    def _show_bones(self, on: bool) -> None:
        self._sync_widget(self.actions.chk_bones, on)
        if self.view.scene is not None:
            self.view.set_bones_visible(on and not self.state.view.patient_mode)

    def _show_other_side(self, on: bool) -> None:
        self._sync_widget(self.actions.chk_other, on)
        if self.view.scene is not None:
            self.view.scene.set_other_side_visible(on)

    def _show_brush(self, mm: float) -> None:
        self._sync_widget(self.actions.brush, round(mm))
        self.actions.brush_label.setText(f" {round(mm)} mm ")

    def show_view(self, name: str) -> None:
        """A standard view (keys 1-7, R): the camera turns and the setting records it (without
        its event, which would turn the camera a second time)."""
        self.view.set_view(name)
        with self.state.view.events.camera.blocked():
            self.state.view.camera = name

    def _show_camera(self, name: str) -> None:
        if self.view.scene is not None and self.view.scene.current_view != name:
            self.view.set_view(name)

    @staticmethod
    def _sync_widget(widget, value) -> None:
        """Show a value on a checkbox or slider without sending it back."""
        widget.blockSignals(True)
        (widget.setChecked if hasattr(widget, "setChecked") else widget.setValue)(value)
        widget.blockSignals(False)

    @staticmethod
    def _sync_action(action, on: bool) -> None:
        """A checkable action follows its setting; its toggled slot does the work once."""
        if action.isChecked() != on:
            action.setChecked(on)

    # ------------------------------------------------------------------ user operations
    def other_side(self) -> None:
        if self.state.other_side():
            self.view.fly_to_pattern()
        elif self.state.selected is not None:
            self.statusBar().showMessage("This muscle has no pattern on the other side.", 4000)

    def escape(self) -> None:
        """Esc: clear the search box first, then the selection; the view keys work again."""
        if not self.browser.clear_search():
            self.state.hover(None)
            self.state.select(None)
        self.plotter.setFocus(Qt.ShortcutFocusReason)

    def focus_search(self) -> None:
        self.browser.search.setFocus(Qt.ShortcutFocusReason)
        self.browser.search.selectAll()

    def copy_lookup(self) -> None:
        text = self.point_status.copy_command()
        if text:
            self.statusBar().showMessage(f"Copied: {text}", 6000)

    def set_eraser(self, on: bool) -> None:
        self.state.view.eraser = bool(on)

    def set_paint_mode(self, on: bool) -> None:
        self.state.view.paint_mode = bool(on)
        self.view.set_painting(on)
        self._update_mode_label()

    def set_patient_mode(self, on: bool) -> None:
        self.state.view.patient_mode = bool(on)
        modes.set_patient_mode(self, on)
        self._keep_candidate_rows()         # patient rows are taller

    def _update_mode_label(self) -> None:
        modes.update_mode_label(self)

    def show_help(self) -> None:
        HelpDialog(self, actions.all_actions(self.actions)).show()

    def about(self) -> None:
        QMessageBox.about(self, "About referral-viewer", about_html())

    def error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, ev) -> None:
        if not self._closing and not self.sessions.maybe_save():
            ev.ignore()
            return
        self.shutdown()
        ev.accept()

    def shutdown(self) -> None:
        """Stop timers and threads, delete this window's autosave (clean exit), finalize VTK."""
        if self._closing:
            return
        self._closing = True
        self.view.close()
        self.sessions.close()
        # close the interactor explicitly: finalizing VTK's GL context before Qt tears
        # down the widget avoids the segfault at interpreter exit
        self.plotter.close()
