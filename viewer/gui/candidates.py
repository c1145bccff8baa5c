"""Candidate muscles for a painful spot or area: ranked rows with side, zone, spinal segments
(when the map gives the innervation) and a score bar."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QStyle, QStyledItemDelegate,
                               QVBoxLayout, QWidget)

from viewer.gui.widgets import show_row
from viewer.render import style

CANDIDATE_ROLE = Qt.UserRole + 1
SEGMENTS_ROLE = Qt.UserRole + 2
ZONE_COLOR = {"essential": QColor(*style.ESSENTIAL.astype(int)),
              "spillover": QColor(*style.SPILLOVER.astype(int))}


def score_text(score: float) -> str:
    """A row's score in two decimals; a zone that lies near with hardly any of it around the
    spot shows "<0.01", not a bare 0.00 that reads as "not a candidate"."""
    return f"{score:.2f}" if score >= 0.005 else "<0.01"


class CandidateDelegate(QStyledItemDelegate):
    """Name on the first line; side, zone chip and score bar on the second."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scale = 1.0
        self.patient = False        # plain rows: name, side and how often pain is felt there

    def sizeHint(self, option, index):
        return QSize(200, int(40 * self.scale))     # compact: 7+ rows fit at 1280x720

    def row_text(self, index) -> str:
        """Every word the row paints (tests read it; the rows are painted, not QLabel text)."""
        c = index.data(CANDIDATE_ROLE)
        if c is None:
            return ""
        name = f"{index.row() + 1}. {c.name}"
        if self.patient:
            return f"{name}\n{patient_line(c)}"
        chip = f"edge {c.edge_mm:.0f} mm" if getattr(c, "at_edge", False) else c.zone
        return " ".join(x for x in (name + ("" if c.has_mesh else "  (no mesh)"), index.data(SEGMENTS_ROLE) or "",
                                    chip, c.side, score_text(c.score)) if x)

    def paint(self, p: QPainter, option, index):
        c = index.data(CANDIDATE_ROLE)
        if c is None:
            return super().paint(p, option, index)
        if self.patient:
            return self._paint_patient(p, option, index, c)
        r, f = self._begin_row(p, option, 6)
        line = r.height() // 2
        name = f"{index.row() + 1}. {c.name}" + ("" if c.has_mesh else "  (no mesh)")
        segs = index.data(SEGMENTS_ROLE) or ""
        seg_w = p.fontMetrics().horizontalAdvance(segs) + 6 if segs else 0
        p.drawText(QRect(r.left(), r.top(), r.width() - seg_w, line), Qt.AlignVCenter | Qt.AlignLeft,
                   p.fontMetrics().elidedText(name, Qt.ElideRight, r.width() - seg_w))
        if segs:           # segmental level, right-aligned on the name line
            f2 = QFont(f)
            f2.setBold(False)
            p.setFont(f2)
            p.setPen(QColor("#2b5a8a"))
            p.drawText(QRect(r.left(), r.top(), r.width(), line), Qt.AlignVCenter | Qt.AlignRight, segs)
            p.setPen(QColor("#222"))
        f.setBold(False)
        f.setPointSizeF(f.pointSizeF() * 0.9)
        p.setFont(f)
        y = r.top() + line
        chip = QRect(r.left(), y + 3, int(74 * self.scale), line - 6)
        tier = getattr(c, "tier", "covers")
        prev = index.model().index(index.row() - 1, 0).data(CANDIDATE_ROLE) if index.row() else None
        if tier == "near" and getattr(prev, "tier", "near") != "near":
            # the near tier starts here: a rule across the row marks it off from the ones above
            p.setPen(QPen(QColor("#888"), 2))
            p.drawLine(option.rect.left(), option.rect.top() + 1, option.rect.right(), option.rect.top() + 1)
        if getattr(c, "at_edge", False):
            # the zone passes beside the spot: an outlined chip (dashed at the edge, dotted near)
            p.setPen(QPen(ZONE_COLOR[c.zone], 2, Qt.DashLine if tier != "near" else Qt.DotLine))
            p.setBrush(Qt.NoBrush)
            p.drawRoundedRect(chip, 4, 4)
            p.setPen(QColor("#222"))
            p.drawText(chip, Qt.AlignCenter, f"{'near' if tier == 'near' else 'edge'} {c.edge_mm:.0f} mm")
        else:
            p.setPen(Qt.NoPen)
            p.setBrush(ZONE_COLOR[c.zone])
            p.drawRoundedRect(chip, 4, 4)
            p.setPen(QColor("white") if c.zone == "essential" else QColor("#222"))
            p.drawText(chip, Qt.AlignCenter, c.zone)
        p.setPen(QColor("#444"))
        side = QRect(chip.right() + 8, y, int(44 * self.scale), line)
        p.drawText(side, Qt.AlignVCenter | Qt.AlignLeft, c.side)
        bar = QRect(side.right() + 4, y + line // 2 - 4, max(20, r.right() - side.right() - 50), 8)
        p.setPen(QPen(QColor("#bbb")))
        p.setBrush(QColor("#f2f2f2"))
        p.drawRoundedRect(bar, 3, 3)
        fill = QRect(bar.left(), bar.top(), int(bar.width() * max(0.0, min(1.0, c.score))), bar.height())
        p.setPen(Qt.NoPen)
        p.setBrush(QColor("#4a6fa5"))
        p.drawRoundedRect(fill, 3, 3)
        p.setPen(QColor("#444"))
        p.drawText(QRect(bar.right() + 4, y, 44, line), Qt.AlignVCenter | Qt.AlignLeft, score_text(c.score))
        p.restore()

    def _begin_row(self, p: QPainter, option, margin: int):
        """Save the painter, fill a selected or hovered row's background and set the bold name
        font (scaled for patient mode); returns the row's inner rect and that font."""
        p.save()
        if option.state & QStyle.State_Selected:
            p.fillRect(option.rect, QColor("#dbe8f6"))
        elif option.state & QStyle.State_MouseOver:
            p.fillRect(option.rect, QColor("#eef3f9"))
        f = QFont(option.font)
        f.setPointSizeF(f.pointSizeF() * self.scale)
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor("#222"))
        return option.rect.adjusted(margin, 3, -margin, -3), f

    def _paint_patient(self, p: QPainter, option, index, c) -> None:
        """Name on the first line, then in plain words the side and how often pain is felt there."""
        r, f = self._begin_row(p, option, 8)
        line = r.height() // 2
        p.drawText(QRect(r.left(), r.top(), r.width(), line), Qt.AlignVCenter | Qt.AlignLeft,
                   p.fontMetrics().elidedText(f"{index.row() + 1}. {c.name}", Qt.ElideRight, r.width()))
        f.setBold(False)
        f.setPointSizeF(f.pointSizeF() * 0.85)
        p.setFont(f)
        p.setPen(QColor("#444"))
        p.drawText(QRect(r.left(), r.top() + line, r.width(), line), Qt.AlignVCenter | Qt.AlignLeft,
                   patient_line(c))
        p.restore()


def patient_line(c) -> str:
    """A candidate in plain words (patient mode): its side and how often its pain is felt here."""
    how = "often felt here" if c.zone == "essential" and not getattr(c, "at_edge", False) else \
        "can be felt here" if not getattr(c, "at_edge", False) else "felt close to here"
    return f"{c.side.capitalize()} side · pain {how}"


class CandidateList(QWidget):
    hovered = Signal(object)       # Candidate, or None when the mouse leaves the list
    activated = Signal(object)     # Candidate

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setMouseTracking(True)
        self.delegate = CandidateDelegate(self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.itemEntered.connect(lambda it: self.hovered.emit(it.data(CANDIDATE_ROLE)))
        self.list.currentItemChanged.connect(
            lambda it, _old: it is not None and self.activated.emit(it.data(CANDIDATE_ROLE)))
        self.list.viewport().installEventFilter(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.list, 1)
        self.candidates = []
        self.patient = False
        self._last = ([], None, None)
        self.set_candidates([], None)

    def eventFilter(self, obj, ev):
        if ev.type() == ev.Type.Leave:
            self.hovered.emit(None)
        return False

    def set_scale(self, scale: float) -> None:
        self.delegate.scale = scale
        self.list.doItemsLayout()

    def set_patient_mode(self, on: bool) -> None:
        """Plain rows and title, large type (no zone words, scores, segments or edge chips)."""
        self.patient = self.delegate.patient = bool(on)
        self.set_scale(1.45 if on else 1.0)
        f = QFont(self.font())
        if on:
            f.setPointSizeF(max(f.pointSizeF(), 9.0) * 1.5)
        self.title.setFont(f)
        self.set_candidates(*self._last)

    def add_banner(self, widget) -> None:
        """A banner shown just above the rows (the red-flag warnings). It stays visible in patient
        mode: give it set_patient_mode(on) and register it in the window's patient_widgets so it
        can switch to plain words."""
        lay = self.layout()
        lay.insertWidget(lay.indexOf(self.list), widget)

    def row_texts(self) -> list[str]:
        return [self.delegate.row_text(self.list.model().index(i, 0)) for i in range(self.list.count())]

    def set_candidates(self, candidates, heading: str | None, segments=None) -> None:
        """Fill the list; `segments(candidate)` gives its spinal segments text (e.g. "L4–S1") or ""."""
        self._last = (candidates, heading, segments)
        self.candidates = list(candidates)
        self.list.blockSignals(True)
        self.list.clear()
        for c in self.candidates:
            it = QListWidgetItem()
            it.setData(CANDIDATE_ROLE, c)
            segs = segments(c) if segments else ""
            it.setData(SEGMENTS_ROLE, segs)
            it.setToolTip(f"{c.name}: {patient_line(c)}" if self.patient else
                          f"{c.name} ({c.side}): {c.label} zone, score {score_text(c.score)}"
                          + (f"\nSpinal segments: {segs}" if segs else "")
                          + ("" if c.has_mesh else "\nNo mesh in this anatomy pack."))
            self.list.addItem(it)
        self.list.blockSignals(False)
        if self.patient and heading is not None:
            heading = heading.replace("Pain at:", "Where it hurts:").replace(
                "Painted area: muscles ranked by how much of it they explain", "The area you painted")
        if heading is None:
            self.title.setText("<b>Where does it hurt?</b><br><span style='color:#666'>Click the body to "
                               "list the muscles that can send pain there.</span>")
        elif self.patient:
            self.title.setText(f"<b>{heading}</b><br><span style='color:#666'>" +
                               ("Muscles that can send pain here, the most likely first</span>" if self.candidates
                                else "No muscle we know of sends pain here.</span>"))
        elif not self.candidates:
            self.title.setText(f"<b>{heading}</b><br><span style='color:#666'>No muscle in the loaded maps "
                               "refers pain here.</span>")
        else:
            self.title.setText(f"<b>{heading}</b><br><span style='color:#666'>{len(self.candidates)} "
                               "candidate muscle(s), most likely first</span>")

    def select_row(self, row: int) -> None:
        self.list.setCurrentRow(row)

    def show_selected(self, pattern_index) -> None:
        """Highlight the row of the shown pattern without emitting (None: no row)."""
        show_row(self.list, self.candidates, pattern_index)


def segments_text(muscle) -> str:
    """Spinal segments of a muscle's innervation as a short range: [L4, L5, S1] -> "L4–S1"."""
    a = getattr(muscle, "anatomy", None)
    segs = list(a.innervation.segments) if a is not None else []
    if not segs:
        return ""
    return segs[0] if len(segs) == 1 else f"{segs[0]}–{segs[-1]}"
