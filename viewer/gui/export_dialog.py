"""File > Export image: size (up to 3840x2160, independent of the window), view, decorations."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget)

from viewer.render.export import MAX_SIZE
from viewer.render.style import VIEWS

PRESETS = [("1280 x 720 (HD)", (1280, 720)), ("1920 x 1080 (Full HD)", (1920, 1080)),
           ("2560 x 1440 (QHD)", (2560, 1440)), ("3840 x 2160 (4K)", (3840, 2160)),
           ("1600 x 1200 (4:3)", (1600, 1200)), ("Custom", None)]


class ExportImageDialog(QDialog):
    def __init__(self, parent=None, *, default_name: str = "pattern.png", current_view: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export image")
        self.preset = QComboBox()
        for label, size in PRESETS:
            self.preset.addItem(label, size)
        self.preset.setCurrentIndex(1)
        self.w = QSpinBox(minimum=16, maximum=MAX_SIZE[0], value=1920, suffix=" px")
        self.h = QSpinBox(minimum=16, maximum=MAX_SIZE[1], value=1080, suffix=" px")
        self.preset.currentIndexChanged.connect(self._preset)
        self.view = QComboBox()
        self.view.addItem("Best view of the pattern", None)
        for name in VIEWS:
            self.view.addItem(name.capitalize(), name)
        if current_view in VIEWS:
            self.view.setCurrentIndex(list(VIEWS).index(current_view) + 1)
        self.transparent = QCheckBox("Transparent background")
        self.title = QCheckBox("Title", checked=True)
        self.legend = QCheckBox("Legend", checked=True)
        self.attribution = QCheckBox("Attribution and disclaimer", checked=True)
        self.path = QLineEdit(str(Path.home() / default_name))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        size_row, path_row = QHBoxLayout(), QHBoxLayout()
        size_row.addWidget(self.w)
        size_row.addWidget(self.h)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Size", self.preset)
        form.addRow("", _wrap(size_row))
        form.addRow("View", self.view)
        form.addRow("", self.transparent)
        form.addRow("Burn in", self.title)
        form.addRow("", self.legend)
        form.addRow("", self.attribution)
        form.addRow("File", _wrap(path_row))
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _preset(self) -> None:
        size = self.preset.currentData()
        if size:
            self.w.setValue(size[0])
            self.h.setValue(size[1])

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export image", self.path.text(), "PNG images (*.png)")
        if path:
            self.path.setText(path if path.lower().endswith(".png") else path + ".png")

    def options(self) -> dict:
        """Keyword arguments for viewer.render.export.render_pattern."""
        return {"size": (self.w.value(), self.h.value()), "view": self.view.currentData(),
                "transparent": self.transparent.isChecked(), "title": self.title.isChecked(),
                "legend": self.legend.isChecked(), "attribution": self.attribution.isChecked()}

    def out_path(self) -> Path:
        p = Path(self.path.text()).expanduser()
        return p if p.suffix.lower() == ".png" else p.with_suffix(".png")


def _wrap(layout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w
