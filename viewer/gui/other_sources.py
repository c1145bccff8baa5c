"""Beside the candidate muscles: the red-flag banner, the spot's segmental level and the other
sources (joints, nerve roots, nerves, organs) that refer pain to the same place."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from viewer.gui.widgets import FlowLayout, show_row
from viewer.render import style

SOURCE_ROLE = Qt.UserRole + 1
MAX_LEVEL_BUTTONS = 5     # dermatome-level buttons shown; more go under a "+N" menu (two lines at 380 px)
# A short mark per kind, shown before the name (text, so it reads in any theme and in print).
KIND_MARK = {"joint": "JOINT", "root": "ROOT", "nerve": "NERVE", "organ": "ORGAN"}


class RedFlagBanner(QLabel):
    """Urgent sources whose zone covers the spot: impossible to miss, above the candidates."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("red_flags")
        self.setWordWrap(True)
        self.setTextFormat(Qt.RichText)
        self.setStyleSheet("background: #b00020; color: white; padding: 8px 10px; border-radius: 4px;")
        self.patient = False
        self.flags = []
        self.hide()

    def set_flags(self, flags) -> None:
        self.flags = list(flags)
        self._render()

    def set_patient_mode(self, on: bool) -> None:
        self.patient = on
        self._render()

    def _render(self) -> None:
        if not self.flags:
            self.clear()
            self.hide()
            return
        # plain words for everyone (the clinician's list of signs is in the tooltip): short
        # enough that the candidate list below keeps its rows
        rows = []
        for f in self.flags:
            name = "" if self.patient else f"{escape(f.name)}: "
            rows.append(f"<b>⚠ {name}{escape(f.patient)}</b> {escape(f.action)}")
        tail = ("This is a prompt to seek care, not a diagnosis." if self.patient else
                "Red flag: a prompt to seek care, not a triage tool.")
        self.setText("<br>".join(rows) + f"<br><span style='font-size:small'>{tail}</span>")
        self.setToolTip("\n\n".join(f"{f.name}: {f.warning}\n{f.action}" for f in self.flags))
        self.show()


class OtherSourcesPanel(QWidget):
    """The spot's dermatome level (its links select the root) and the ranked other sources."""
    hovered = Signal(object)        # OtherSource, or None when the mouse leaves
    activated = Signal(object)      # OtherSource
    levelChosen = Signal(str)       # a spinal level, e.g. "L5"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel(objectName="other_sources_title")
        self.title.setWordWrap(True)
        # the spot's dermatome levels: one button each, a click paints that root's dermatome; they
        # wrap onto more lines, never widen the dock (a stroke over the low back has five levels:
        # in one row they widened it by 87 px and moved the body under the mouse)
        self.level = QWidget(objectName="dermatome_level")
        self.level_row = FlowLayout(self.level)
        self.level_row.setContentsMargins(0, 0, 0, 0)
        self.level_label = QLabel("<b>Dermatome here:</b>")
        self.level_hint = QLabel("<span style='color:#666'>✓ muscles share it</span>")
        self.level_buttons: list[QPushButton] = []
        self.level_more: QToolButton | None = None     # the levels past the first few, as a menu
        self.list = QListWidget(objectName="other_sources")
        self.list.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Expanding)
        self.list.setMouseTracking(True)
        # long rows ("[ORGAN] Heart (angina, heart attack) (left) — essential ⚠ red flag") wrap
        # instead of running out of the dock behind a horizontal scroll bar
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.itemEntered.connect(lambda it: self.hovered.emit(it.data(SOURCE_ROLE)))
        self.list.currentItemChanged.connect(
            lambda it, _old: it is not None and self.activated.emit(it.data(SOURCE_ROLE)))
        self.list.viewport().installEventFilter(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 0)
        lay.addWidget(self.level)
        lay.addWidget(self.title)
        lay.addWidget(self.list, 1)
        self.sources = []
        self.set_sources([], [], None)

    def eventFilter(self, obj, ev):
        if ev.type() == ev.Type.Leave:
            self.hovered.emit(None)
        return False

    def set_sources(self, sources, dermatomes, heading: str | None) -> None:
        """Fill the list; `dermatomes` are the spot's root levels, best first."""
        self.sources = list(sources)
        self.list.blockSignals(True)
        self.list.clear()
        colour = QColor(style.OTHER_ESSENTIAL_HEX)
        for i, o in enumerate(self.sources, 1):
            side = "" if o.side == "midline" else f" ({o.side})"
            flag = "  ⚠ red flag" if o.red_flag else ""
            it = QListWidgetItem(f"{i}. [{KIND_MARK.get(o.kind, o.kind)}] {o.name}{side} — {o.label}{flag}")
            it.setData(SOURCE_ROLE, o)
            it.setToolTip(f"{o.name}{side}: {o.label}"
                          + (f"\nSpinal segments: {', '.join(o.segments)}" if o.segments else "")
                          + "\nSource: " + (o.sources[0] if o.sources else ""))
            if o.red_flag:
                it.setForeground(QBrush(QColor("#b00020")))
            elif not o.at_edge:
                it.setForeground(QBrush(colour))
            self.list.addItem(it)
        self.list.blockSignals(False)
        self._set_levels(dermatomes)
        if heading is None:
            self.title.setText("<b>Also consider</b><br><span style='color:#666'>joints, nerve roots, nerves "
                               "and organs that refer pain to the marked spot.</span>")
        elif not self.sources:
            self.title.setText("<b>Also consider</b><br><span style='color:#666'>No joint, nerve root, nerve "
                               "or organ map covers this spot.</span>")
        else:
            self.title.setText(f"<b>Also consider</b> <span style='color:#666'>({len(self.sources)}: joints, "
                               "nerve roots, nerves, organs; published maps, not a diagnosis)</span>")

    def _set_levels(self, levels) -> None:
        """One button per level, the first MAX_LEVEL_BUTTONS; the others under a "+N" menu
        (a stroke down the back covers 17 levels: two lines of buttons at the dock's width)."""
        while self.level_row.count():
            self.level_row.takeAt(0)
        for b in self.level_buttons + ([self.level_more] if self.level_more is not None else []):
            b.deleteLater()
        self.level_buttons, self.level_more = [], None
        self.level_row.addWidget(self.level_label)
        shown, rest = list(levels[:MAX_LEVEL_BUTTONS]), list(levels[MAX_LEVEL_BUTTONS:])
        for lv in shown:
            b = QPushButton(lv, objectName=f"level_{lv}")
            b.setMaximumWidth(60)
            b.setToolTip(f"Show the {lv} dermatome (and, with the bones layer, its vertebra)")
            b.clicked.connect(lambda _=False, lv=lv: self.levelChosen.emit(lv))
            self.level_row.addWidget(b)
            self.level_buttons.append(b)
        if rest:
            self.level_more = QToolButton(text=f"+{len(rest)}", objectName="level_more")
            self.level_more.setPopupMode(QToolButton.InstantPopup)
            self.level_more.setToolTip("More dermatome levels here: " + ", ".join(rest))
            menu = QMenu(self.level_more)
            for lv in rest:
                menu.addAction(f"Show the {lv} dermatome", lambda lv=lv: self.levelChosen.emit(lv))
            self.level_more.setMenu(menu)
            self.level_row.addWidget(self.level_more)
        self.level_row.addWidget(self.level_hint)
        self.level.setVisible(bool(levels))

    def show_selected(self, pattern_index) -> None:
        """Highlight the row of the shown pattern without emitting (None: no row)."""
        show_row(self.list, self.sources, pattern_index)


def agrees(muscle, dermatomes) -> bool:
    """Whether a muscle's innervation shares a segment with the spot's dermatome levels."""
    segs = set(muscle.anatomy.innervation.segments) if muscle.anatomy is not None else set()
    return bool(segs & set(dermatomes))
