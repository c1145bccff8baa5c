"""Left panel: searchable muscle browser (name, alias, body region, pain area, symptom words;
typo tolerant, see viewer.state.search). Down or Enter in the search box go to the results."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from viewer.referral.levels import level_key
from viewer.state.search import MuscleIndex

REGION_ORDER = ("head", "neck", "shoulder", "upper_back", "chest", "arm", "forearm", "hand", "abdomen",
                "low_back", "pelvis", "hip", "thigh", "leg", "foot")
# Muscles are grouped by body region; the other sources by kind, after them.
KIND_GROUPS = {"joint": "Joints", "root": "Nerve roots (dermatomes)", "nerve": "Peripheral nerves",
               "organ": "Organs (visceral referral)"}
GROUP_ORDER = REGION_ORDER + tuple(KIND_GROUPS)
MUSCLE_ROLE = Qt.UserRole + 1


def region_title(region: str) -> str:
    return KIND_GROUPS.get(region) or region.replace("_", " ").capitalize()


def group_of(m) -> str:
    """The browser group of a map: a muscle's body region, or another source's kind."""
    return m.body_region if m.kind == "muscle" else m.kind


class MuscleBrowser(QWidget):
    muscleSelected = Signal(str)          # muscle id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.index = None
        self.rank = {}
        self.search = QLineEdit(placeholderText="Search: muscle, joint, nerve, organ, area (e.g. knee)…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Name, alias (QL, TFL, SCM, SI joint, L5, meralgia), body region, where it "
                               "hurts or a symptom; "
                               "typos are tolerated. Down or Enter: go to the results. Esc: clear.")
        self.search.textChanged.connect(self._filter)
        self.search.installEventFilter(self)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.empty = QLabel("No referral patterns are loaded.")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #777; padding: 8px;")
        self.empty.hide()
        self.no_matches = QLabel()
        self.no_matches.setWordWrap(True)
        self.no_matches.setStyleSheet("color: #7a1010; padding: 8px;")
        self.no_matches.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        title = QLabel("<b>Muscles and other sources</b>")
        lay.addWidget(title)
        lay.addWidget(self.search)
        lay.addWidget(self.no_matches)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.empty)

    def set_model(self, model) -> None:
        self.model = model
        self.index = MuscleIndex(model.maps.maps)
        self.tree.clear()
        with_patterns = {p.muscle.id: p for p in model.patterns}
        groups = {}
        for m in sorted(model.maps.maps, key=level_key):     # roots and joints in spinal order
            g = group_of(m)
            if g not in groups:
                groups[g] = QTreeWidgetItem([region_title(g)])
                groups[g].setFlags(Qt.ItemIsEnabled)
                f = groups[g].font(0)
                f.setBold(True)
                groups[g].setFont(0, f)
            item = QTreeWidgetItem([m.name])
            item.setData(0, MUSCLE_ROLE, m.id)
            p = with_patterns.get(m.id)
            tip = [m.name] + ([f"also: {', '.join(m.aliases)}"] if m.aliases else [])
            if p is None:
                item.setText(0, f"{m.name}  (no pattern)")
                item.setFlags(Qt.NoItemFlags)
                tip.append("Its pattern could not be computed (see the warnings).")
            elif not p.has_mesh and m.kind == "muscle":
                item.setText(0, f"{m.name}  — no mesh in this anatomy pack")
                item.setForeground(0, QBrush(QColor("#777777")))
                tip.append("No mesh in this anatomy pack: the pattern is shown, the muscle is not.")
            if m.red_flag is not None:
                item.setText(0, f"{m.name}  ⚠")
                tip.append("Red flag: " + m.red_flag.warning)
            item.setToolTip(0, "\n".join(tip))
            groups[g].addChild(item)
        order = {r: i for i, r in enumerate(GROUP_ORDER)}
        for region in sorted(groups, key=lambda r: order.get(r, 99)):
            self.tree.addTopLevelItem(groups[region])
        self.tree.expandAll()
        self.empty.setVisible(not model.maps.maps)
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        if self.model is None:
            return
        q = text.strip().lower()
        ranked = [m.id for m in self.model.find_muscles(q)] + [h.muscle_id for h in self.index.search(q)] \
            if q else []
        self.rank = {mid: i for i, mid in reversed(list(enumerate(ranked)))}   # best match first
        ids = set(ranked)
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                hide = bool(q) and child.data(0, MUSCLE_ROLE) not in ids
                child.setHidden(hide)
                shown += not hide
            group.setHidden(shown == 0)
        self.no_matches.setText(f"No matches for “{text.strip()}”. Try a muscle name, a body area "
                                "(knee, neck) or a symptom (headache).")
        self.no_matches.setVisible(bool(q) and not ids)

    def visible_items(self) -> list:
        """The muscles shown, best match of the search first (tree order without a search)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            g = self.tree.topLevelItem(i)
            out += [g.child(j) for j in range(g.childCount())
                    if not g.isHidden() and not g.child(j).isHidden() and g.child(j).flags() & Qt.ItemIsEnabled]
        if self.search.text().strip():
            out.sort(key=lambda it: self.rank.get(it.data(0, MUSCLE_ROLE), len(self.rank)))
        return out

    def eventFilter(self, obj, ev):
        """Down or Enter in the search box move to the best match (Enter also opens it)."""
        if obj is self.search and ev.type() == QEvent.KeyPress and ev.key() in (
                Qt.Key_Down, Qt.Key_Return, Qt.Key_Enter):
            items = self.visible_items()
            if items:
                self.tree.setFocus(Qt.ShortcutFocusReason)
                if ev.key() == Qt.Key_Down:
                    self.tree.setCurrentItem(items[0], 0, QItemSelectionModel.NoUpdate)
                else:
                    self.tree.setCurrentItem(items[0])
            return True
        return False

    def clear_search(self) -> bool:
        """Escape: clear the search; False when it was already empty."""
        if not self.search.text():
            return False
        self.search.clear()
        return True

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
