"""Left panel: searchable muscle browser (name, alias, body region)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

REGION_ORDER = ("head", "neck", "shoulder", "upper_back", "chest", "arm", "forearm", "abdomen",
                "low_back", "hip", "thigh", "leg")
MUSCLE_ROLE = Qt.UserRole + 1


def region_title(region: str) -> str:
    return region.replace("_", " ").capitalize()


class MuscleBrowser(QWidget):
    muscleSelected = Signal(str)          # muscle id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.search = QLineEdit(placeholderText="Search muscles (name, alias, region)…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.empty = QLabel("No referral patterns are loaded.")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #777; padding: 8px;")
        self.empty.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        title = QLabel("<b>Muscles</b>")
        lay.addWidget(title)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.empty)

    def set_model(self, model) -> None:
        self.model = model
        self.tree.clear()
        with_patterns = {p.muscle.id: p for p in model.patterns}
        groups = {}
        for m in sorted(model.maps.maps, key=lambda m: m.name.lower()):
            if m.body_region not in groups:
                groups[m.body_region] = QTreeWidgetItem([region_title(m.body_region)])
                groups[m.body_region].setFlags(Qt.ItemIsEnabled)
                f = groups[m.body_region].font(0)
                f.setBold(True)
                groups[m.body_region].setFont(0, f)
            item = QTreeWidgetItem([m.name])
            item.setData(0, MUSCLE_ROLE, m.id)
            p = with_patterns.get(m.id)
            tip = [m.name] + ([f"also: {', '.join(m.aliases)}"] if m.aliases else [])
            if p is None:
                item.setText(0, f"{m.name}  (no pattern)")
                item.setFlags(Qt.NoItemFlags)
                tip.append("Its pattern could not be computed (see the warnings).")
            elif not p.has_mesh:
                item.setText(0, f"{m.name}  — no mesh in this anatomy pack")
                item.setForeground(0, QBrush(QColor("#777777")))
                tip.append("No mesh in this anatomy pack: the pattern is shown, the muscle is not.")
            item.setToolTip(0, "\n".join(tip))
            groups[m.body_region].addChild(item)
        order = {r: i for i, r in enumerate(REGION_ORDER)}
        for region in sorted(groups, key=lambda r: order.get(r, 99)):
            self.tree.addTopLevelItem(groups[region])
        self.tree.expandAll()
        self.empty.setVisible(not model.maps.maps)
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        if self.model is None:
            return
        q = text.strip().lower()
        if q:
            ids = {m.id for m in self.model.find_muscles(q)}
            ids |= {m.id for m in self.model.maps.maps
                    if q in m.body_region.replace("_", " ") or q in m.name.lower()}
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                hide = bool(q) and child.data(0, MUSCLE_ROLE) not in ids
                child.setHidden(hide)
                shown += not hide
            group.setHidden(shown == 0)

    def _selected(self) -> None:
        items = self.tree.selectedItems()
        if items and items[0].data(0, MUSCLE_ROLE):
            self.muscleSelected.emit(items[0].data(0, MUSCLE_ROLE))

    def select(self, muscle_id: str | None) -> None:
        """Reflect a selection made elsewhere, without emitting."""
        self.tree.blockSignals(True)
        self.tree.clearSelection()
        if muscle_id:
            for i in range(self.tree.topLevelItemCount()):
                g = self.tree.topLevelItem(i)
                for j in range(g.childCount()):
                    if g.child(j).data(0, MUSCLE_ROLE) == muscle_id:
                        g.child(j).setSelected(True)
                        self.tree.scrollToItem(g.child(j))
        self.tree.blockSignals(False)
