"""File > Export image and File > Export all: size (up to 3840x2160, 16:9 by
default, independent of the window), theme, transparency, views, sides,
which muscles or body regions, and contact sheets per region.

Entry points for the window: :class:`ExportImageDialog` (its ``options()``
are keyword arguments of ``viewer.render.export.render_pattern``) and
:func:`export_all` (asks, then renders with a cancellable progress dialog).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QCheckBox, QComboBox, QDialog,
                               QDialogButtonBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout,
                               QLineEdit, QListWidget, QListWidgetItem, QMessageBox, QProgressDialog,
                               QPushButton, QRadioButton, QSpinBox, QWidget)

from viewer.constants import MAX_SIZE, SIDES, VIEWS
from viewer.render.export import ExistingFiles, gallery, select_patterns
from viewer.render.style import THEMES

PRESETS = [("1920 x 1080 (Full HD, 16:9)", (1920, 1080)), ("1280 x 720 (HD, 16:9)", (1280, 720)),
           ("2560 x 1440 (QHD, 16:9)", (2560, 1440)), ("3840 x 2160 (4K, 16:9)", (3840, 2160)),
           ("1600 x 1200 (4:3)", (1600, 1200)), ("Custom", None)]


class _SizeThemeMixin:
    """Size preset + width/height, theme and transparency widgets."""

    def _size_theme(self, form: QFormLayout) -> None:
        self.preset = QComboBox(objectName="export_size")
        for label, size in PRESETS:
            self.preset.addItem(label, size)
        self.w = QSpinBox(minimum=16, maximum=MAX_SIZE[0], value=1920, suffix=" px")
        self.h = QSpinBox(minimum=16, maximum=MAX_SIZE[1], value=1080, suffix=" px")
        self.preset.currentIndexChanged.connect(self._preset)
        row = QHBoxLayout()
        row.addWidget(self.w)
        row.addWidget(self.h)
        self.theme = QComboBox(objectName="export_theme")
        for name in THEMES:
            self.theme.addItem(f"{name.capitalize()} slide", name)
        self.transparent = QCheckBox("Transparent background (text keeps an outline, legible on any slide)")
        form.addRow("Size", self.preset)
        form.addRow("", _wrap(row))
        form.addRow("Theme", self.theme)
        form.addRow("", self.transparent)

    def _preset(self) -> None:
        size = self.preset.currentData()
        if size:
            self.w.setValue(size[0])
            self.h.setValue(size[1])

    def _common(self) -> dict:
        return {"size": (self.w.value(), self.h.value()), "theme": self.theme.currentData(),
                "transparent": self.transparent.isChecked()}


class ExportImageDialog(QDialog, _SizeThemeMixin):
    def __init__(self, parent=None, *, default_name: str = "pattern.png", current_view: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export image")
        form = QFormLayout(self)
        self._size_theme(form)
        self.view = QComboBox(objectName="export_view")
        self.view.addItem("Best view of the pattern", None)
        for name in VIEWS:
            self.view.addItem(name.capitalize(), name)
        if current_view in VIEWS:
            self.view.setCurrentIndex(list(VIEWS).index(current_view) + 1)
        self.title = QCheckBox("Title", checked=True)
        self.legend = QCheckBox("Legend", checked=True)
        self.labels = QCheckBox("Trigger-point labels", checked=True)
        self.attribution = QCheckBox("Attribution and disclaimer", checked=True)
        self.path = QLineEdit(str(Path.home() / default_name))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form.addRow("View", self.view)
        form.addRow("Burn in", self.title)
        for box in (self.legend, self.labels, self.attribution):
            form.addRow("", box)
        form.addRow("File", _wrap(path_row))
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export image", self.path.text(), "PNG images (*.png)")
        if path:
            self.path.setText(path if path.lower().endswith(".png") else path + ".png")

    def options(self) -> dict:
        """Keyword arguments for viewer.render.export.render_pattern."""
        return {**self._common(), "view": self.view.currentData(), "title": self.title.isChecked(),
                "legend": self.legend.isChecked(), "labels": self.labels.isChecked(),
                "attribution": self.attribution.isChecked()}

    def out_path(self) -> Path:
        p = Path(self.path.text()).expanduser()
        return p if p.suffix.lower() == ".png" else p.with_suffix(".png")


class ExportAllDialog(QDialog, _SizeThemeMixin):
    """Export all: which patterns (all, some body regions, some muscles), which
    views and sides, size and theme, contact sheets; ``options()`` are keyword
    arguments of ``viewer.render.export.gallery``."""

    def __init__(self, model, parent=None, *, out_dir: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export all patterns")
        self.model = model
        form = QFormLayout(self)
        self._size_theme(form)
        self.views = {}
        vrow = QGridLayout()          # two rows: seven views in one row make the dialog too wide
        for i, name in enumerate(("best", *[v for v in VIEWS if v != "superior"])):
            box = QCheckBox("Best view" if name == "best" else name.capitalize(), checked=name == "best")
            box.setObjectName(f"view_{name}")
            self.views[name] = box
            vrow.addWidget(box, i // 4, i % 4)
        form.addRow("Views", _wrap(vrow))
        self.side = QComboBox(objectName="export_sides")
        for label, sides in [*((s.capitalize(), (s,)) for s in SIDES), ("Both", SIDES)]:
            self.side.addItem(label, sides)
        form.addRow("Sides", self.side)
        self.pick_all = QRadioButton("All muscles", checked=True)
        self.pick_regions = QRadioButton("Body regions:")
        self.pick_muscles = QRadioButton("Muscles:")
        regions = sorted({m.body_region for m in model.maps.maps})
        self.regions = _checklist([(r.replace("_", " ").capitalize(), r) for r in regions], "export_regions")
        self.muscles = _checklist(sorted((m.name, m.id) for m in model.maps.maps), "export_muscles")
        for radio, lst in ((self.pick_regions, self.regions), (self.pick_muscles, self.muscles)):
            lst.setEnabled(False)
            radio.toggled.connect(lst.setEnabled)
        form.addRow("Patterns", self.pick_all)
        form.addRow(self.pick_regions, self.regions)
        form.addRow(self.pick_muscles, self.muscles)
        self.images = QCheckBox("One image per muscle, side and view", checked=True)
        self.sheets = QCheckBox("A one-page contact sheet per body region", checked=False)
        form.addRow("Write", self.images)
        form.addRow("", self.sheets)
        self.folder = QLineEdit(out_dir or str(Path.home() / "referral-patterns"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Folder", _wrap(row))
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Export")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export all patterns to a folder", self.folder.text())
        if d:
            self.folder.setText(d)

    def _accept(self) -> None:
        if self.count() == 0:
            self.buttons.button(QDialogButtonBox.Ok).setToolTip("Nothing selected")
            return
        self.accept()

    def options(self) -> dict:
        views = tuple(n for n, box in self.views.items() if box.isChecked()) or ("best",)
        opts = {**self._common(), "views": views, "sides": self.side.currentData(),
                "images": self.images.isChecked(), "contact_sheets": self.sheets.isChecked(),
                "muscles": None, "regions": None}
        if self.pick_regions.isChecked():
            opts["regions"] = _checked(self.regions)
        elif self.pick_muscles.isChecked():
            opts["muscles"] = _checked(self.muscles)
        return opts

    def out_dir(self) -> Path:
        return Path(self.folder.text()).expanduser()

    def count(self) -> int:
        """Rough number of files (before 'best' views are resolved)."""
        o = self.options()
        if (o["regions"] is not None and not o["regions"]) or (o["muscles"] is not None and not o["muscles"]):
            return 0
        pats = select_patterns(self.model, sides=o["sides"], muscles=o["muscles"], regions=o["regions"])
        n = len(pats) * len(o["views"]) if o["images"] else 0
        if o["contact_sheets"]:
            n += len({(p.muscle.body_region, p.side) for p in pats})
        return n


def export_all(parent, model, *, out_dir: str | None = None, dialog: ExportAllDialog | None = None,
               options: dict | None = None) -> list:
    """Ask for the options (unless ``options`` and ``out_dir`` are given, or an
    already filled ``dialog``), then render with a cancellable progress dialog.
    Returns the written paths ([] when cancelled before starting)."""
    asked = options is None or out_dir is None     # the user chose the folder: ask before replacing
    if not asked:
        opts, folder = options, Path(out_dir)
    else:
        dlg = dialog or ExportAllDialog(model, parent, out_dir=out_dir)
        if dialog is None and not dlg.exec():
            return []
        opts, folder = dlg.options(), dlg.out_dir()
    if asked:
        try:
            gallery(model, folder, overwrite=False, cancelled=lambda: True, **opts)   # names only
        except ExistingFiles as exc:
            answer = QMessageBox.question(
                parent, "Export all patterns", f"{len(exc.paths)} of the images already exist in {folder} "
                f"(e.g. {exc.paths[0].name}).\n\nReplace them?", QMessageBox.Yes | QMessageBox.No,
                QMessageBox.No)
            if answer != QMessageBox.Yes:
                return []
    prog = QProgressDialog("Rendering patterns…", "Cancel", 0, 1, parent)
    prog.setWindowTitle("Export all patterns")
    prog.setWindowModality(Qt.WindowModal)
    prog.setMinimumDuration(0)
    prog.setValue(0)

    def progress(i, total, path):
        prog.setMaximum(total)
        prog.setValue(i)
        prog.setLabelText(f"{i} of {total}: {Path(path).name}")
        QApplication.processEvents()      # renders must stay on this thread; keep the UI alive

    try:
        return gallery(model, folder, progress=progress, cancelled=prog.wasCanceled, **opts)
    finally:
        prog.close()


def _checklist(items, name) -> QListWidget:
    lst = QListWidget(objectName=name)
    lst.setSelectionMode(QAbstractItemView.NoSelection)
    lst.setMaximumHeight(120)
    for label, data in items:
        it = QListWidgetItem(label)
        it.setData(Qt.UserRole, data)
        it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
        it.setCheckState(Qt.Unchecked)
        lst.addItem(it)
    return lst


def _checked(lst: QListWidget) -> list[str]:
    return [lst.item(i).data(Qt.UserRole) for i in range(lst.count())
            if lst.item(i).checkState() == Qt.Checked]


def _wrap(layout) -> QWidget:
    w = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    w.setLayout(layout)
    return w
