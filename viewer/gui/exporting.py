"""File menu: export image, export all patterns, patient handout (the dialogs live in
export_dialog.py and handout.py; this module feeds them the window's state)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QProgressDialog


class ExportController(QObject):
    def __init__(self, win, state):
        super().__init__(win)
        self.win, self.state = win, state

    def export_image(self, out, **options) -> Path:
        """Same render as the CLI export, off-screen, at any size up to 3840x2160."""
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
        from viewer.render.export import gallery

        model = self.state.model
        if out_dir is None:
            out_dir = QFileDialog.getExistingDirectory(self.win, "Export all patterns to a folder")
            if not out_dir:
                return []
        n = len([p for p in model.patterns if p.side == "right"]) * 3
        dlg = QProgressDialog("Rendering patterns…", "Cancel", 0, max(n, 1), self.win)
        dlg.setWindowTitle("Export all patterns")
        dlg.setWindowModality(Qt.WindowModal)
        dlg.setMinimumDuration(0)
        dlg.setValue(0)

        def progress(i, total, path):
            dlg.setMaximum(total)
            dlg.setValue(i)
            dlg.setLabelText(f"{i} of {total}: {Path(path).name}")
            QApplication.processEvents()      # renders must stay on this thread; keep the UI alive

        try:
            written = gallery(model, out_dir, progress=progress, cancelled=dlg.wasCanceled)
        except OSError as exc:
            self.win.error("Export failed", str(exc))
            written = []
        cancelled = dlg.wasCanceled()
        dlg.close()
        self.win.view.request_render()
        self.win.statusBar().showMessage(f"{'Cancelled: ' if cancelled else ''}{len(written)} images written to "
                                         f"{out_dir}", 8000)
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
