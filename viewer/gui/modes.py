"""Window modes: patient mode (large plain-language text, clean body) and the mode hint.

Patient mode is for turning the screen to a patient: plain words and large type only.
Hidden: the muscle browser, the layer and pain tools, the menus, the maps' problem line,
the clicked point's coordinates and its "Copy lookup command", the context muscles and
bones, the trigger-point labels; the developer actions are disabled. The candidate rows
and the details panel switch to plain words (no zone words, scores, spinal segments,
edge distances or trigger-point codes).

Hook for other panels: a widget in ``win.patient_widgets`` is called with
``set_patient_mode(on)`` and is NOT hidden, so a red-flag banner above the candidate list
(``win.candidates.add_banner(widget)``) keeps warning in patient mode, in the plain words
its ``set_patient_mode(True)`` chooses.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication


def set_patient_mode(win, on: bool) -> None:
    """Hide the clinical panels and tools, enlarge the text, show only the selected muscle."""
    for w in (win.left_dock, win.actions.layerbar, win.actions.pain_tools, win.point_status, win.legend):
        w.setVisible(not on)
    win.patient_legend.setVisible(on)
    win.menuBar().setVisible(not on)
    if on:
        win.warning.hide()                 # the maps' problems are for the clinician
    elif win.warning.text():
        win.warning.show()
    for a in (win.actions.copy_lookup, win.actions.paint, win.actions.eraser):
        a.setEnabled(not on and win.scene is not None)
    if on and win.actions.paint.isChecked():
        win.actions.paint.setChecked(False)
    win.tabs.setTabVisible(1, not on)
    win.details.set_patient_mode(on)
    win.others.setVisible(not on)          # joints, roots, nerves, organs: clinical detail
    win.candidates.set_patient_mode(on)
    for w in getattr(win, "patient_widgets", ()):   # the red-flag banner stays, in plain words
        w.set_patient_mode(on)
    f = QFont(win.font())
    f.setPointSizeF(13 if on else QApplication.font().pointSizeF())
    win.hover_label.setFont(f)
    win.mode_label.setFont(f)
    win.statusBar().clearMessage()
    if win.scene:
        # a clean body: context muscles and bones hidden, the trigger points without their labels
        win.scene.show_tp_labels = not on
        win.scene.set_muscles_visible(not on and win.actions.chk_muscles.isChecked(), render=False)
        win.view.set_bones_visible(not on and win.actions.chk_bones.isChecked())
        win.scene.set_trigger_points_visible(win.actions.chk_tps.isChecked(), render=False)
        win.view.request_render()
    update_mode_label(win)


def update_mode_label(win) -> None:
    if win.actions.patient.isChecked():
        win.mode_label.setText("Patient mode (Ctrl+P to leave)  ")
        return
    win.mode_label.setText(("Pain drawing: left button paints, middle drag pans, wheel zooms"
                            if win.actions.paint.isChecked() else
                            "Click: mark pain · Ctrl+click: select muscle · drag: rotate") + "  ")
