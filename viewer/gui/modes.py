"""Window modes: patient mode (large plain-language text, clean body) and the mode hint."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication


def set_patient_mode(win, on: bool) -> None:
    """Hide the clinical panels and tools, enlarge the text, show only the selected muscle."""
    for w in (win.left_dock, win.actions.layerbar, win.actions.pain_tools):
        w.setVisible(not on)
    win.tabs.setTabVisible(1, not on)
    win.details.set_patient_mode(on)
    win.others.setVisible(not on)          # joints, roots, nerves, organs: clinical detail
    win.red_flags.set_patient_mode(on)     # ... but a red flag stays, in plain words
    win.candidates.set_scale(1.35 if on else 1.0)
    f = QFont(win.font())
    f.setPointSizeF(13 if on else QApplication.font().pointSizeF())
    win.candidates.title.setFont(f)
    win.hover_label.setFont(f)
    if win.scene:
        win.scene.label_font_size = 22 if on else 14
        # a clean body: context muscles hidden, only the selected muscle stays
        win.scene.set_muscles_visible(not on and win.actions.chk_muscles.isChecked(), render=False)
        win.view.set_bones_visible(not on and win.actions.chk_bones.isChecked())
        win.scene.set_trigger_points_visible(win.actions.chk_tps.isChecked(), render=False)
        win.view.request_render()
    update_mode_label(win)


def update_mode_label(win) -> None:
    parts = ["Patient mode"] if win.actions.patient.isChecked() else []
    parts.append("Pain drawing: left button paints, middle drag pans, wheel zooms"
                 if win.actions.paint.isChecked() else
                 "Click: mark pain · Ctrl+click: select muscle · drag: rotate")
    win.mode_label.setText("  |  ".join(parts) + "  ")
