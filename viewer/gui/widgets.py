"""Small widgets of the window: colour legend, first-run page, clicked-point status."""

from __future__ import annotations

import numpy as np

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLayout, QPushButton, QSizePolicy, QToolButton, QVBoxLayout,
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
    # the entries wrap onto a second line when the view is narrow (at 1280 px the words were
    # cut to "Essenti", "Spillove"); an entry (swatch and words) never splits
    lay = FlowLayout(w, spacing=12)
    lay.setContentsMargins(10, 3, 10, 3)
    for color, text, rnd in PATIENT_LEGEND if patient else LEGEND:
        entry = QWidget()
        row = QHBoxLayout(entry)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(swatch(color, rnd))
        row.addWidget(QLabel(text))
        lay.addWidget(entry)
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


class FlowLayout(QLayout):
    """Widgets left to right, wrapped onto the next line when the width runs out (Qt's flow
    layout example). Its minimum width is its widest item's, not the sum of all of them: a
    row of buttons that grows with the content (a stroke's five dermatome levels) wraps
    instead of widening the dock, which would shrink the 3D view and move the body under
    the mouse."""

    def __init__(self, parent=None, spacing: int = 6):
        super().__init__(parent)
        self._items = []
        self._width = 0          # the width last laid out: the minimum height is the lines it needs
        self.setSpacing(spacing)

    def addItem(self, item) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index):
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index):
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect) -> None:
        super().setGeometry(rect)
        lines = self.heightForWidth(self._width) if self._width else None
        self._width = rect.width()
        self._place(rect, move=True)
        if lines is not None and self.heightForWidth(rect.width()) != lines:
            # another number of lines: the parents must reserve the height (a splitter pane
            # reads the minimum size, not heightForWidth, and would clip the last line)
            QTimer.singleShot(0, self.invalidate)

    def sizeHint(self) -> QSize:
        m = self.contentsMargins()
        sp = self.spacing()
        shown = [it.sizeHint() for it in self._items if not it.isEmpty()]
        w = sum(s.width() for s in shown) + sp * max(0, len(shown) - 1)
        h = max((s.height() for s in shown), default=0)
        return QSize(w + m.left() + m.right(), h + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        size = QSize()
        for it in self._items:
            if not it.isEmpty():
                size = size.expandedTo(it.minimumSize())
        m = self.contentsMargins()
        size = size + QSize(m.left() + m.right(), m.top() + m.bottom())
        if self._width:
            size.setHeight(max(size.height(), self.heightForWidth(self._width)))
        return size

    def _place(self, rect, *, move: bool) -> int:
        """Lay the items out in `rect` (or only measure); the height used."""
        m = self.contentsMargins()
        r = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_h, sp = r.x(), r.y(), 0, self.spacing()
        for it in self._items:
            if it.isEmpty():
                continue
            hint = it.sizeHint().boundedTo(it.maximumSize()).expandedTo(it.minimumSize())
            w = min(hint.width(), r.width())
            if x > r.x() and x + w > r.right() + 1:          # no room left on this line
                x, y, line_h = r.x(), y + line_h + sp, 0
            if move:
                it.setGeometry(QRect(QPoint(x, y), QSize(w, hint.height())))
            x += w + sp
            line_h = max(line_h, hint.height())
        return y + line_h - rect.y() + m.bottom()


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


def make_room(sizes: list[int], need: int, floors: list[int], to: int = 0, order=(2, 1)) -> list[int]:
    """Splitter pane sizes with up to `need` px moved into pane `to`, taken from the panes in
    `order` (first the first), none below its floor; the total is unchanged."""
    out = list(sizes)
    for k in order:
        give = max(0, min(need, out[k] - floors[k]))
        out[k] -= give
        out[to] += give
        need -= give
    return out
