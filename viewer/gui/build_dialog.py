"""First run: build the mesh pack (official download or a local folder) in the background."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QProgressBar, QVBoxLayout

from viewer.gui.workers import Task


def _build(source, root, progress=None):
    # lazy: build ~1 s after the window (-X importtime): only the first run builds
    from viewer.anatomy.build import build_pack

    return build_pack(source, root, progress=progress)


class BuildDialog(QDialog):
    """Runs build_pack in a worker thread; the window stays responsive. Closes itself when done."""

    def __init__(self, source, root, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Building the anatomy pack")
        self.setMinimumWidth(520)
        self.error = None
        self.report = None
        what = "the official BodyParts3D download (about 136 MB)" if source == "official" else str(source)
        self.label = QLabel(f"Building the anatomy pack from {what}.<br>This takes about a minute; "
                            "the download, if any, depends on your connection.")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)          # busy: build_pack reports steps, not a percentage
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(500)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.buttons.button(QDialogButtonBox.Close).setEnabled(False)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.log, 1)
        lay.addWidget(self.buttons)
        self.task = Task(_build, source, root, parent=self)
        self.task.progress.connect(self.log.appendPlainText)
        self.task.done.connect(self._done)
        self.task.failed.connect(self._failed)

    def exec(self) -> int:
        self.task.start()
        return super().exec()

    def reject(self) -> None:
        if self.task.running():          # the build cannot be interrupted safely; it is atomic anyway
            return
        super().reject()

    def _done(self, report) -> None:
        self.report = report
        self.accept()

    def _failed(self, exc) -> None:
        self.error = exc
        self.bar.setRange(0, 1)
        self.label.setText(f"<b>The build failed.</b><br>{exc}")
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.buttons.button(QDialogButtonBox.Close).setEnabled(True)
