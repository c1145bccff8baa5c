"""Menus, toolbars and keyboard shortcuts of the main window: every QAction in one place."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QToolBar, QToolButton, QWidget

from viewer.constants import DEFAULT_RADIUS_MM, VIEWS

VIEW_KEYS = {name: str(key) for key, name in enumerate(VIEWS, 1)}   # anterior 1 ... medial 7


def _act(win, text, slot=None, key=None, *, tip=None, checkable=False, toggled=None, short=None) -> QAction:
    a = QAction(text, win, checkable=checkable)
    if short:
        a.setIconText(short)        # the toolbar's label: the window fits 1280 px
    if key:
        a.setShortcut(QKeySequence(key))
    if tip:
        a.setToolTip(tip)
    if slot is not None:
        a.triggered.connect(lambda *_: slot())      # triggered(bool) must never reach the slot
    if toggled is not None:
        a.toggled.connect(toggled)
    win.addAction(a)       # shortcuts work with the menus hidden (patient mode) too
    return a


def build(win) -> SimpleNamespace:
    """Create the actions, menus, toolbars and pain-tool row of `win` (a MainWindow)."""
    s, v, sess, exp = win.state, win.view, win.sessions, win.exports
    A = SimpleNamespace()
    A.new = _act(win, "&New session", sess.new, QKeySequence.New)
    A.open = _act(win, "&Open session…", sess.open, QKeySequence.Open)
    A.save = _act(win, "&Save session", sess.save, QKeySequence.Save)
    A.save_as = _act(win, "Save session &as…", sess.save_as, "Ctrl+Shift+S")
    A.export = _act(win, "&Export image…", exp.export_image_dialog, "Ctrl+E")
    A.export_all = _act(win, "Export &all patterns to a folder…", exp.export_all_dialog)
    A.handout = _act(win, "Patient &handout…", exp.handout_dialog)
    A.quit = _act(win, "&Quit", win.close, QKeySequence.Quit)

    A.undo = _act(win, "&Undo", s.undo, QKeySequence.Undo, tip="Undo the last mark, stroke or Clear (Ctrl+Z)")
    A.redo = _act(win, "&Redo", s.redo, "Ctrl+Shift+Z")
    A.clear = _act(win, "Clear", s.clear, "Ctrl+Backspace", tip="Clear marks and drawing (undo: Ctrl+Z)")
    A.copy_lookup = _act(win, "Copy point as lookup command", win.copy_lookup, "Ctrl+Shift+C")
    A.find = _act(win, "&Find muscle…", win.focus_search, QKeySequence.Find)
    A.escape = _act(win, "Clear search, then selection", win.escape, "Esc")

    A.views = {}
    for (name, key), short in zip(VIEW_KEYS.items(), ("Front", "Back", "Right", "Left", "Top", "Soles", "Inner")):
        A.views[name] = _act(win, f"{name.capitalize()} view", partial(win.show_view, name), key,
                             tip=f"{name.capitalize()} view ({key})", short=short)
    A.reset = _act(win, "Reset view", partial(win.show_view, "anterior"), "R", tip="Reset the view (R)",
                   short="Reset")
    A.frame = _act(win, "Frame pattern", v.fly_to_pattern, "F", tip="Turn to the current pattern (F)",
                   short="Frame")
    A.side = _act(win, "Other side", win.other_side, "S", tip="The same muscle on the other side (S)")
    A.patient = _act(win, "&Patient mode", key="Ctrl+P", checkable=True, toggled=win.set_patient_mode,
                     short="Patient mode",
                     tip="Large plain-language text for turning the screen to a patient (Ctrl+P)")
    A.paint = _act(win, "Pain drawing", key="D", checkable=True, toggled=win.set_paint_mode,
                   tip="Paint the painful area with the left button (D)")
    A.eraser = _act(win, "Eraser", key="X", checkable=True, toggled=win.set_eraser,
                    tip="Erase parts of the drawing (X)")
    A.shortcuts = _act(win, "&Keyboard shortcuts", win.show_help, QKeySequence.HelpContents)
    A.about = _act(win, "&About referral-viewer", win.about)

    mb = win.menuBar()
    m = mb.addMenu("&File")
    for a in (A.new, A.open, A.save, A.save_as, None, A.export, A.export_all, A.handout, None, A.quit):
        m.addSeparator() if a is None else (a and m.addAction(a))
    m = mb.addMenu("&Edit")
    for a in (A.undo, A.redo, A.clear, None, A.copy_lookup, A.find, A.escape):
        m.addSeparator() if a is None else m.addAction(a)
    m = mb.addMenu("&View")
    for a in (*A.views.values(), A.reset, A.frame, A.side, None, A.patient):
        m.addSeparator() if a is None else m.addAction(a)
    m = mb.addMenu("&Tools")
    for a in (A.paint, A.eraser):
        m.addAction(a)
    m = mb.addMenu("&Help")
    m.addAction(A.shortcuts)
    m.addAction(A.about)

    tb = QToolBar("View", objectName="viewbar", movable=False)
    win.addToolBar(tb)
    for a in (*A.views.values(), A.reset, A.frame, None, A.side, None, A.patient):
        tb.addSeparator() if a is None else tb.addAction(a)
    A.viewbar = tb

    lb = QToolBar("Layers", objectName="layers", movable=False)
    win.addToolBar(lb)
    lb.addWidget(QLabel(" Skin "))
    A.opacity = QSlider(Qt.Horizontal, minimum=0, maximum=100, value=55, toolTip="Skin opacity "
                        "(painted zones always stay visible)")
    A.opacity.setFixedWidth(90)
    lb.addWidget(A.opacity)
    A.chk_muscles = QCheckBox("Muscles", checked=True)
    A.chk_tps = QCheckBox("Trigger points", checked=True)
    A.chk_other = QCheckBox("Other side", checked=False)
    # off by default (patients come for their pain); students turn the skeleton on
    A.chk_bones = QCheckBox("Bones", checked=False, toolTip="BodyParts3D skeleton; the status bar "
                            "names the bone under the mouse")
    for c in (A.chk_muscles, A.chk_bones, A.chk_tps, A.chk_other):
        lb.addWidget(c)
    A.layerbar = lb

    # the pain tools sit above the candidate list they feed
    row = QWidget()
    rl = QHBoxLayout(row)
    rl.setContentsMargins(0, 0, 0, 0)
    for a in (A.paint, A.eraser, A.clear):
        b = QToolButton()
        b.setDefaultAction(a)
        b.setToolButtonStyle(Qt.ToolButtonTextOnly)
        rl.addWidget(b)
    rl.addWidget(QLabel("Brush"))
    A.brush = QSlider(Qt.Horizontal, minimum=5, maximum=80, value=round(DEFAULT_RADIUS_MM), toolTip="Brush radius")
    A.brush_label = QLabel(f"{DEFAULT_RADIUS_MM:.0f} mm")
    A.brush_label.setMinimumWidth(42)
    A.brush.setMinimumWidth(60)
    rl.addWidget(A.brush, 1)
    rl.addWidget(A.brush_label)
    A.pain_tools = row
    A.needs_body = [A.save, A.save_as, A.open, A.new, A.export, A.export_all, A.reset, A.frame, A.side,
                    A.patient, A.paint, A.eraser, A.clear, A.copy_lookup, *A.views.values()] + \
        ([A.handout] if A.handout else [])
    return A


def all_actions(A) -> list[QAction]:
    """Every action with a shortcut, in menu order (for the Help page)."""
    return [a for a in (A.new, A.open, A.save, A.save_as, A.export, A.handout, A.undo, A.redo, A.clear,
                        A.copy_lookup, A.find, A.escape, *A.views.values(), A.reset, A.frame, A.side,
                        A.patient, A.paint, A.eraser, A.shortcuts, A.quit) if a is not None]
