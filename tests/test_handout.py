"""The patient handout PDF: one page with the pictures, the plain-language
text, self-care, stretch, the therapist's notes, the disclaimer and the
attribution; rendered to PNG with pdftoppm and checked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from PIL import Image
from pixels import essential, spillover

from viewer import DISCLAIMER


pytestmark = pytest.mark.slow

if not (shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdfinfo")):
    pytest.skip("poppler-utils (pdftoppm) not installed; scripts/setup.sh installs it",
                allow_module_level=True)
pytest.importorskip("PySide6.QtGui")


def _pdf_pages(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def _pdf_text(pdf):
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # DejaVu sets "fi", "ff"... as ligatures; pdftotext returns them as one glyph
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _page_png(pdf, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    return pages, np.asarray(Image.open(pages[0]).convert("RGB")).astype(int)


def _words(text):
    return " ".join(text.split())


def test_handout_for_one_muscle(model, tmp_path):
    from viewer.gui.handout import make_handout

    p = model.pattern(model.find_muscles("gluteus minimus")[0].id, "right")
    out = make_handout(model, "gluteus minimus", "Ball on the hip twice daily.\nSee you Thursday.",
                       tmp_path / "handout.pdf")
    assert out.exists() and _pdf_pages(out) == 1
    text = _pdf_text(out)
    assert "Your pain pattern: Gluteus minimus (right side)" in text
    assert _words(p.muscle.patient_description)[:60] in text
    assert _words(p.muscle.treatment.self_care[0]) in text
    assert _words(p.muscle.treatment.stretch)[:50] in text
    assert "Ball on the hip twice daily." in text and "See you Thursday." in text
    assert _words(DISCLAIMER) in text
    assert "BodyParts3D" in text and "Anatomy (CC BY-SA 4.0)" in text and "Travell" in text
    # the words the README promises on every handout, stated here, not taken from the code
    assert "not a diagnosis" in text and "CC BY 4.0" in text and "DBCLS" in text
    assert "Chapter 9, Gluteus Minimus Muscle" in text          # the map's cited chapter
    pages, img = _page_png(out, tmp_path)
    assert len(pages) == 1
    h, w = img.shape[:2]
    assert 1.3 < h / w < 1.5                                     # A4 portrait
    # the pattern picture is on the page: essential and spillover colours, in its upper half
    ess = essential(img)
    spill = spillover(img)
    assert ess.sum() > 200 and spill.sum() > 100
    assert np.nonzero(ess)[0].mean() < h / 2
    # no leftover temporary files beside the PDF
    assert sorted(x.name for x in tmp_path.iterdir() if not x.name.startswith("page")) == ["handout.pdf"]


def test_handout_for_top_candidates_fits_one_page(model, tmp_path):
    from viewer.gui.handout import make_handout

    pats = [model.pattern(model.find_muscles(n)[0].id, "right")
            for n in ("soleus", "gluteus minimus", "quadratus lumborum", "piriformis")]
    out = make_handout(model, pats, "", tmp_path / "three.pdf")
    assert _pdf_pages(out) == 1
    text = _pdf_text(out)
    for p in pats[:3]:
        assert p.muscle.name in text
    assert "Piriformis" not in text                                # at most three muscles
    assert "Notes from your therapist" not in text                 # no empty notes section
    assert _words(DISCLAIMER) in text                              # the end of the page is there


def test_very_long_notes_still_one_page_with_everything(model, tmp_path):
    from viewer.gui.handout import make_handout

    notes = "\n".join(f"Note line {i}: keep walking every day." for i in range(60))
    out = make_handout(model, "soleus", notes, tmp_path / "long.pdf")
    assert _pdf_pages(out) == 1
    text = _pdf_text(out)
    assert "Note line 59" in text and _words(DISCLAIMER) in text and "BodyParts3D" in text


def test_cli_handout_offscreen_and_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}    # no display at all
    out = tmp_path / "h.pdf"
    r = subprocess.run([sys.executable, "-m", "viewer", "handout", "--muscle", "temporalis",
                        "--notes", "Jaw exercises", "--out", str(out)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert _pdf_pages(out) == 1 and "Jaw exercises" in _pdf_text(out)
    bad = tmp_path / "bad.pdf"
    r = subprocess.run([sys.executable, "-m", "viewer", "handout", "--muscle", "no such muscle",
                        "--out", str(bad)], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "--muscle" in r.stderr and "nothing matches" in r.stderr and "referral-viewer list" in r.stderr
    assert not bad.exists()


@pytest.mark.gui
def test_handout_dialog_writes_the_pdf_with_the_typed_notes(model, qtbot, tmp_path):
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLineEdit, QPlainTextEdit

    from viewer.gui.handout import handout_dialog

    out = tmp_path / "dlg.pdf"
    seen = {}

    def fill():
        dlg = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible())
        seen["muscles"] = dlg.findChildren(QLineEdit)[0].text()
        path = dlg.findChild(QLineEdit, "handout_path")
        path.selectAll()
        qtbot.keyClicks(path, str(out))
        qtbot.keyClicks(dlg.findChild(QPlainTextEdit, "handout_notes"), "Heat pack in the evening")
        save = dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.Save)
        qtbot.mouseClick(save, Qt.LeftButton)

    QTimer.singleShot(200, fill)
    p = model.pattern(model.find_muscles("piriformis")[0].id, "left")
    written = handout_dialog(None, model, p)
    assert seen["muscles"] == "Piriformis (left)"
    assert written == out and _pdf_pages(out) == 1
    text = _pdf_text(out)
    assert "Heat pack in the evening" in text
    assert "Piriformis (left side)" in text


def test_trigger_point_labels_print_at_8_pt_or_more(model, tmp_path, monkeypatch):
    """The three-muscle handout printed its pictures' labels at about 4 pt. The label
    font size in picture pixels (as laid out) over the pictures' resolution on the page
    (pdfimages' ppi) gives their printed size."""
    from viewer.gui.handout import make_handout
    from viewer.render import layout as L

    sizes = []
    place = L.place_labels

    def spy(anchors, texts, bounds, size_px, **kw):
        sizes.append(size_px)
        return place(anchors, texts, bounds, size_px, **kw)

    monkeypatch.setattr(L, "place_labels", spy)
    pats = [model.pattern(model.find_muscles(n)[0].id, "right")
            for n in ("gluteus minimus", "piriformis", "quadratus lumborum")]
    out = make_handout(model, pats, "", tmp_path / "three.pdf")
    listing = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    ppi = [float(line.split()[12]) for line in listing if line.split()[2] == "image"]
    assert len(ppi) == 3 and len(sizes) == 3, (ppi, sizes)
    for px, dpi in zip(sizes, ppi):
        assert px * 72.0 / dpi >= 8.0, (px, dpi)
