"""Small widgets of the window: colour legend, first-run page, clicked-point status."""

from __future__ import annotations

import numpy as np

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from viewer.render import style


def swatch(color, round_=False) -> QLabel:
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


_OTHER_ESS = np.array(style.hex_rgb(style.OTHER_ESSENTIAL_HEX), dtype=np.float32)
_OTHER_SPILL = np.array(style.hex_rgb(style.OTHER_SPILLOVER_HEX), dtype=np.float32)
LEGEND = ((style.ESSENTIAL, "Essential zone", False), (style.SPILLOVER, "Spillover", False),
          (_OTHER_ESS, "Joint/nerve/organ: usual", False), (_OTHER_SPILL, "less common", False),
          (style.DRAWING, "Pain drawing", False), (style.MARK, "Marked spot", True),
          (style.TRIGGER_POINT, "Trigger point", True), (style.MUSCLE, "Muscle", False))
PATIENT_LEGEND = ((style.ESSENTIAL, "Most often felt", False), (style.SPILLOVER, "Can also be felt", False),
                  (_OTHER_ESS, "Other cause", False),
                  (style.DRAWING, "Your drawing", False), (style.MARK, "Your spot", True),
                  (style.TRIGGER_POINT, "Where it starts", True), (style.MUSCLE, "The muscle", False))


def legend(patient: bool = False) -> QWidget:
    w = QWidget()
    w.setStyleSheet("QLabel { color: #333; font-size: 13pt; }" if patient else "QLabel { color: #333; }")
    lay = QHBoxLayout(w)
    lay.setContentsMargins(10, 3, 10, 3)
    for color, text, rnd in PATIENT_LEGEND if patient else LEGEND:
        lay.addWidget(swatch(color, rnd))
        lay.addWidget(QLabel(text))
        lay.addSpacing(6)
    lay.addStretch(1)
    # never widen the window: at 1280 px the docks and the view share what is left
    w.setMinimumWidth(0)
    w.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    return w


class FirstRunPage(QWidget):
    """Shown when no mesh pack is built: download, or build from a local folder."""

    buildRequested = Signal(object)       # "official" or None (ask for a folder)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        self.text = QLabel(alignment=Qt.AlignCenter)
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-size: 13pt; color: #333;")
        lay.addWidget(self.text)
        row = QHBoxLayout()
        row.addStretch(1)
        dl = QPushButton("Download BodyParts3D and build (about 136 MB)")
        dl.clicked.connect(lambda: self.buildRequested.emit("official"))
        local = QPushButton("Build from a local folder or archive…")
        local.clicked.connect(lambda: self.buildRequested.emit(None))
        row.addWidget(dl)
        row.addWidget(local)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(2)


def lookup_command(point) -> str:
    """The CLI command that answers the same question as a click at `point` (canonical mm)."""
    return "referral-viewer lookup --point " + " ".join(f"{x:.1f}" for x in point)


class PointStatus(QWidget):
    """Status-bar field: the clicked point's coordinates and a copy-as-command button."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("")
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.copy = QToolButton(text="Copy lookup command")
        self.copy.setToolTip("Copy the clicked point as a `referral-viewer lookup` command (Ctrl+Shift+C)")
        lay.addWidget(self.label)
        lay.addWidget(self.copy)
        self.point = None
        self.set_point(None)

    def set_point(self, point) -> None:
        self.point = point
        self.label.setText("" if point is None else
                           "Point: " + ", ".join(f"{x:.1f}" for x in point) + " mm")
        self.copy.setVisible(point is not None)

    def copy_command(self) -> str | None:
        if self.point is None:
            return None
        text = lookup_command(self.point)
        QGuiApplication.clipboard().setText(text)
        return text


def show_row(lst, rows, pattern_index) -> None:
    """Highlight, without emitting, the row of a list whose item (``rows[i].pattern``) is the
    shown pattern; none when it is not listed (None: no pattern shown)."""
    lst.blockSignals(True)
    found = [i for i, r in enumerate(rows) if r.pattern == pattern_index]
    if found:
        lst.setCurrentRow(found[0])
    else:
        lst.setCurrentRow(-1)
        lst.clearSelection()
    lst.blockSignals(False)
    lst.viewport().update()
