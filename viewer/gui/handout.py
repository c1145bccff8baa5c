"""A one-page patient handout (PDF): the pattern pictures, a plain-language
description, self-care and stretch instructions, the therapist's notes, the
disclaimer and the attribution.

Qt's own QTextDocument lays it out and QPdfWriter writes it, so no PDF
library is needed. Entry points:

- :func:`make_handout` (no window needed; the CLI runs it with Qt offscreen)
- :func:`handout_dialog` (File > Patient handout… in the window)
"""

from __future__ import annotations

import html
import math
import os
from io import BytesIO
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QUrl, Qt
from PySide6.QtGui import (QFont, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter,
                           QTextDocument)
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLineEdit, QMessageBox, QPlainTextEdit, QPushButton, QWidget)

from viewer import ATTRIBUTION, DISCLAIMER, atomic
from viewer.errors import ViewerError
from viewer.render import style
from viewer.render.export import Exporter
from viewer.render.layout import check_notes

MAX_PATTERNS = 3
LOGICAL_WIDTH = 720          # layout width in points-like units; scaled onto the page
PAGE_SIZES = {"A4": QPageSize.A4, "Letter": QPageSize.Letter}


LABEL_MIN_PT = 8.0           # trigger-point labels in the pictures, as printed
PT_MM = 25.4 / 72


def label_pixels(mm_per_px: float, min_pt: float = LABEL_MIN_PT) -> int:
    """Font size in picture pixels of labels printed at ``min_pt`` or more (a
    tenth of a point to spare for rounding)."""
    return max(8, math.ceil((min_pt + 0.1) * PT_MM / mm_per_px))


def ensure_app():
    """The running Qt application, or a new offscreen one (the CLI has no
    window and may have no display). A QApplication, not a QGuiApplication:
    a later window or dialog in the same process needs the widgets one."""
    app = QGuiApplication.instance()
    if app is None:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["referral-viewer"])
    return app


def resolve_patterns(model, patterns_or_muscle, side: str = "right") -> list:
    """A muscle name/alias/FMA id, a Pattern, or a list of Patterns (e.g. the
    top candidates for the marked spots) -> at most MAX_PATTERNS patterns, one per muscle."""
    if isinstance(patterns_or_muscle, str):
        return [model.pattern(model.resolve(patterns_or_muscle).id, side)]
    pats = [patterns_or_muscle] if hasattr(patterns_or_muscle, "muscle") else list(patterns_or_muscle)
    out, seen = [], set()
    for p in pats:
        if p is not None and p.muscle.id not in seen:
            out.append(p)
            seen.add(p.muscle.id)
    if not out:
        raise ViewerError("there is no pattern to put in the handout.", path="handout",
                          fix="select a muscle, or mark where it hurts so candidates are listed.")
    return out[:MAX_PATTERNS]


def _png_image(array) -> QImage:
    buf = BytesIO()
    Image.fromarray(array).convert("RGB").save(buf, format="PNG")
    img = QImage()
    img.loadFromData(buf.getvalue(), "PNG")
    return img


def _swatch(color: str) -> str:
    return (f'<span style="background-color:{color}; color:{color}">&#9632;&#9632;</span>')


def handout_html(patterns, notes: str, picture_names: list[str], picture_width: int) -> str:
    """The handout as Qt rich text (a subset of HTML 4)."""
    e = html.escape
    many = len(patterns) > 1
    title = ("Muscles that can cause your pain" if many
             else f"Your pain pattern: {e(patterns[0].muscle.name)}{_side(patterns[0])}")
    parts = [f"<h1>{title}</h1>"]
    for p in patterns:        # an urgent source first, in plain words, before anything else
        rf = p.muscle.red_flag
        if rf is not None:
            parts.append(f"<p class='redflag'><b>Seek care: {e(rf.patient)}</b><br>{e(rf.action)}</p>")
    if many:
        parts.append("<p>Pain felt in one place often comes from a tight spot (a <i>trigger point</i>) "
                     "in a muscle somewhere else. These muscles can send pain to where you feel it:</p>")
    kinds = {p.kind for p in patterns}
    marks = " &nbsp; <b>&#9679;</b> trigger points (tender spots in the muscle)" if "muscle" in kinds else ""
    legend = "<p class='legend'>" + "".join(
        f"{_swatch(style.palette(k)[0])} where the pain is usually felt &nbsp; "
        f"{_swatch(style.palette(k)[1])} where it can spread &nbsp; "
        for k in dict.fromkeys("muscle" if k == "muscle" else "other" for k in kinds)) + marks + "</p>"
    if not many:
        p, m = patterns[0], patterns[0].muscle
        parts.append(f'<p align="center"><img src="{picture_names[0]}" width="{picture_width}"></p>')
        parts.append(legend)
        parts.append(f"<h2>What is going on</h2><p>{e(m.patient_description or m.description)}</p>")
        if m.treatment.self_care:
            parts.append("<h3>What you can do</h3><ul>" +
                         "".join(f"<li>{e(c)}</li>" for c in m.treatment.self_care) + "</ul>")
        if m.treatment.stretch:
            parts.append(f"<h3>Stretch</h3><p>{e(m.treatment.stretch)}</p>")
    else:
        # One column per muscle: picture, then its text, side by side.
        cells = []
        for p, name in zip(patterns, picture_names):
            m = p.muscle
            cell = (f'<p align="center"><img src="{name}" width="{picture_width}"><br>'
                    f"<b>{e(m.name)}</b>{_side(p)}</p>"
                    f"<p>{e(m.patient_description or m.description)}</p>")
            if m.treatment.self_care:
                cell += ("<h3>What you can do</h3><ul>" +
                         "".join(f"<li>{e(c)}</li>" for c in m.treatment.self_care[:3]) + "</ul>")
            if m.treatment.stretch:
                cell += f"<h3>Stretch</h3><p>{e(m.treatment.stretch)}</p>"
            cells.append(f'<td valign="top" width="{100 // len(patterns)}%">{cell}</td>')
        parts.append(f'<table width="100%" cellspacing="6"><tr>{"".join(cells)}</tr></table>')
        parts.append(legend)
    if notes and notes.strip():
        body = "<br>".join(e(line) for line in notes.strip().splitlines())
        parts.append(f"<h2>Notes from your therapist</h2><p class='notes'>{body}</p>")
    parts.append("<p class='disclaimer'><b>Important:</b> " + e(DISCLAIMER) +
                 " Stop any exercise that makes the pain sharply worse, and ask your therapist.</p>")
    sources = "; ".join(dict.fromkeys(s for p in patterns for s in p.muscle.sources[:1]))
    parts.append(f"<p class='small'>Pattern source: {e(sources)}<br>{e(ATTRIBUTION)}</p>")
    return "\n".join(parts)


def _side(pattern) -> str:
    return "" if pattern.side == "midline" else f" ({html.escape(pattern.side)} side)"


def _css(pt: float) -> str:
    return (f"body {{ font-family: 'DejaVu Sans', sans-serif; font-size: {pt:.1f}pt; color: #1a1a1a; }}"
            f"h1 {{ font-size: {pt * 1.75:.1f}pt; margin-bottom: {pt * 0.4:.1f}pt; }}"
            f"h2 {{ font-size: {pt * 1.3:.1f}pt; margin-top: {pt * 0.7:.1f}pt; margin-bottom: 2pt; }}"
            f"h3 {{ font-size: {pt * 1.1:.1f}pt; margin-top: {pt * 0.5:.1f}pt; margin-bottom: 1pt; }}"
            f"p.legend {{ font-size: {pt * 0.9:.1f}pt; }}"
            f"p.notes {{ background-color: #f3f3f3; }}"
            f"p.redflag {{ background-color: #b00020; color: #ffffff; }}"
            f"p.disclaimer {{ font-size: {pt * 0.85:.1f}pt; margin-top: {pt * 0.8:.1f}pt; }}"
            f"p.small {{ font-size: {max(6.0, pt * 0.7):.1f}pt; color: #444444; }}")


def make_handout(model, patterns_or_muscle, notes: str, out_path, *, side: str = "right",
                 page: str = "A4", exporter=None) -> Path:
    """Write a one-page patient handout PDF, atomically.

    Parameters
    ----------
    model : ReferralModel
    patterns_or_muscle : str, Pattern or list of Pattern
        A muscle name/alias/FMA id (with ``side``), the current pattern, or the
        marked spots' top candidates (at most 3 are used).
    notes : str
        The therapist's notes, printed as written ('' for none).
    out_path : path of the PDF to write.
    side : side used when a muscle name is given.
    page : 'A4' or 'Letter'.
    exporter : an open viewer.render.export.Exporter to reuse (optional).

    Returns
    -------
    Path of the written PDF. Raises ViewerError for an unknown muscle and
    OSError when the file cannot be written (nothing half-written is left).
    """
    ensure_app()
    out_path = Path(out_path)
    check_notes(notes or "")
    patterns = resolve_patterns(model, patterns_or_muscle, side)
    n = len(patterns)
    pic = (1400, 1050) if n == 1 else (900, 1200)
    names = [f"pattern{i}.png" for i in range(n)]
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    # Lay the page out with blank pictures of the right size first: the labels' size in
    # the pictures depends on how large they are printed.
    blank = QImage(pic[0], pic[1], QImage.Format_RGB32)
    blank.fill(0xFFFFFF)
    for name in names:
        doc.addResource(QTextDocument.ImageResource, QUrl(name), blank)

    writer_probe = QPageLayout(QPageSize(PAGE_SIZES.get(page, QPageSize.A4)), QPageLayout.Portrait,
                               QMarginsF(14, 14, 14, 14), QPageLayout.Millimeter)
    rect_mm = writer_probe.paintRect(QPageLayout.Millimeter)
    aspect = rect_mm.height() / rect_mm.width()
    page_h = LOGICAL_WIDTH * aspect
    # Shrink text and pictures together until the handout fits one page.
    for pt, pw in ((11, 640), (10.5, 560), (10, 500), (9.5, 440), (9, 400), (8.5, 360), (8, 320),
                   (7.5, 300), (7, 260)):
        width = pw if n == 1 else (LOGICAL_WIDTH - 40) // n
        doc.setDefaultStyleSheet(_css(pt))
        doc.setDefaultFont(QFont("DejaVu Sans", pt))
        doc.setHtml(handout_html(patterns, notes, names, width))
        doc.setTextWidth(LOGICAL_WIDTH)
        if doc.size().height() <= page_h:
            break
    # Very long notes may still not fit at the smallest size: then the whole
    # page is scaled down to fit rather than cut or spilled onto a second page.
    doc_h = max(page_h, doc.size().height())

    # Trigger-point labels at least LABEL_MIN_PT as printed: millimetres per picture pixel
    # from the picture's printed width (its width on the page, after any scaling down).
    mm_per_unit = rect_mm.width() / LOGICAL_WIDTH * page_h / doc_h
    mm_per_px = width * mm_per_unit / pic[0]
    label_px = label_pixels(mm_per_px)
    own = exporter is None
    ex = exporter or Exporter(model)
    try:
        images = [_png_image(ex.render(p, size=pic, title=False, legend=False, attribution=False,
                                       labels=True, label_px=label_px)) for p in patterns]
    finally:
        if own:
            ex.close()
    for name, img in zip(names, images):
        doc.addResource(QTextDocument.ImageResource, QUrl(name), img)
    doc.setHtml(handout_html(patterns, notes, names, width))       # the same layout, with the pictures
    doc.setTextWidth(LOGICAL_WIDTH)

    # The PDF is drawn into memory, checked (a whole PDF from %PDF to %%EOF) and only then
    # written by the one atomic writer: QPdfWriter writing a file itself reported success
    # on a full disk and left a 0-byte or truncated PDF in place of the old one.
    buf = QBuffer()
    buf.open(QIODevice.WriteOnly)
    writer = QPdfWriter(buf)
    writer.setResolution(300)
    writer.setPageLayout(writer_probe)
    writer.setTitle(f"Patient handout: {', '.join(p.muscle.name for p in patterns)}")
    writer.setCreator("referral-viewer")
    painter = QPainter()
    if not painter.begin(writer):
        raise ViewerError("Qt could not start drawing the PDF.", path=out_path, fix="try again.")
    scale = writer.width() / LOGICAL_WIDTH * page_h / doc_h
    painter.scale(scale, scale)
    doc.drawContents(painter, QRectF(0, 0, LOGICAL_WIDTH, doc_h))
    ok = painter.end()
    del writer
    data = bytes(buf.data())
    buf.close()
    if not ok or not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:]:
        raise ViewerError(f"the PDF came out incomplete ({len(data):,} bytes); nothing was written.",
                          path=out_path, fix="try again; if it persists, report it.")
    atomic.write_bytes(out_path, data)
    return out_path


def confirm_overwrite(parent, path: Path, title: str) -> bool:
    """Ask before replacing an existing file (True: go ahead). A file typed into a
    path field is not confirmed by the file dialog, so the window asks here."""
    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        return True
    answer = QMessageBox.question(parent, title, f"{path} already exists.\n\nReplace it?",
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


def handout_dialog(parent, model, patterns_or_muscle, notes: str = "") -> Path | None:
    """File > Patient handout…: ask where to save (and let the therapist edit
    the notes), write the PDF, return its path (None when cancelled)."""
    try:
        patterns = resolve_patterns(model, patterns_or_muscle)
    except ViewerError as exc:
        QMessageBox.information(parent, "Patient handout", str(exc))
        return None
    dlg = QDialog(parent)
    dlg.setWindowTitle("Patient handout")
    form = QFormLayout(dlg)
    form.addRow("Muscles", QLineEdit(", ".join(p.title for p in patterns), readOnly=True))
    notes_edit = QPlainTextEdit(notes)
    notes_edit.setObjectName("handout_notes")
    notes_edit.setPlaceholderText("Notes for the patient (printed on the handout)")
    form.addRow("Notes", notes_edit)
    default = Path.home() / f"handout_{patterns[0].muscle.name.lower().replace(' ', '_')}.pdf"
    path = QLineEdit(str(default))
    path.setObjectName("handout_path")
    browse = QPushButton("Browse…")

    def pick():
        p, _ = QFileDialog.getSaveFileName(dlg, "Save handout", path.text(), "PDF (*.pdf)")
        if p:
            path.setText(p if p.lower().endswith(".pdf") else p + ".pdf")

    browse.clicked.connect(pick)
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(path, 1)
    row.addWidget(browse)
    holder = QWidget()
    holder.setLayout(row)
    form.addRow("File", holder)
    buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dlg.accept)
    buttons.rejected.connect(dlg.reject)
    form.addRow(buttons)
    if not dlg.exec():
        return None
    out = Path(path.text()).expanduser()
    out = out if out.suffix.lower() == ".pdf" else out.with_suffix(".pdf")
    if not confirm_overwrite(parent, out, "Patient handout"):
        return None

    QApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        return make_handout(model, patterns, notes_edit.toPlainText(), out)
    except (OSError, ViewerError) as exc:
        QApplication.restoreOverrideCursor()
        QMessageBox.warning(parent, "The handout could not be written", str(exc))
        return None
    finally:
        if QApplication.overrideCursor() is not None:
            QApplication.restoreOverrideCursor()
