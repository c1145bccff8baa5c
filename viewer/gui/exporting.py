"""File menu: export image, export all patterns, patient handout (the dialogs live in
export_dialog.py and handout.py; this module feeds them the window's state)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication


class ExportController(QObject):
    def __init__(self, win, state):
        super().__init__(win)
        self.win, self.state = win, state

    def export_image(self, out, **options) -> Path:
        """Same render as the CLI export, off-screen, at any size up to 3840x2160."""
        # lazy: render.export ~1 s, gui.handout ~0.3 s after the window (-X importtime): not at start
        from viewer.render.export import render_pattern

        return render_pattern(self.state.model, self.state.selected, out, **options)

    def export_image_dialog(self) -> None:
        from viewer.gui.export_dialog import ExportImageDialog

        sel = self.state.selected
        name = f"{sel.muscle.name.lower().replace(' ', '_')}_{sel.side}.png" if sel else "body.png"
        dlg = ExportImageDialog(self.win, default_name=name,
                                current_view=getattr(self.win.view.scene, "current_view", None))
        if not dlg.exec():
            return
        from viewer.gui.handout import confirm_overwrite

        if not confirm_overwrite(self.win, dlg.out_path(), "Export image"):
            return
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            path = self.export_image(dlg.out_path(), **dlg.options())
        except (OSError, ValueError) as exc:
            QApplication.restoreOverrideCursor()
            self.win.error("The image could not be exported", str(exc))
            return
        QApplication.restoreOverrideCursor()
        self.win.view.request_render()
        self.win.statusBar().showMessage(f"Exported {path}", 6000)

    def export_all_dialog(self, out_dir=None) -> list:
        """Ask for size, theme, views, sides and muscles/regions (export_dialog), then
        render with a cancellable progress dialog."""
        from viewer.gui.export_dialog import export_all

        try:
            written = export_all(self.win, self.state.model, out_dir=out_dir)
        except (OSError, ValueError) as exc:
            self.win.error("Export failed", str(exc))
            written = []
        self.win.view.request_render()
        if written:
            self.win.statusBar().showMessage(f"{len(written)} images written to {Path(written[0]).parent}", 8000)
        return written

    def handout_patterns(self) -> list:
        """The current muscle, else the marked spots' top three candidates."""
        if self.state.selected is not None:
            return [self.state.selected]
        return [self.state.candidate_pattern(c) for c in self.state.candidates[:3]]

    def handout_dialog(self):
        from viewer.gui.handout import handout_dialog

        patterns = self.handout_patterns()
        if not patterns:
            self.win.statusBar().showMessage("Choose a muscle or mark the painful spot first.", 6000)
            return None
        path = handout_dialog(self.win, self.state.model, patterns, self.state.notes)
        if path:
            self.win.statusBar().showMessage(f"Handout written to {path}", 8000)
        return path
