"""Help > Keyboard shortcuts and Help > About."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from viewer import ATTRIBUTION, DISCLAIMER, __version__

MOUSE = [("Mark a painful spot", "Click the skin"), ("Add another spot", "Shift+click"),
         ("Select the muscle under the mouse", "Ctrl+click"),
         ("Rotate / pan", "Drag / Shift+drag (a drag never marks a spot)"),
         ("Zoom toward the mouse", "Wheel"),
         ("Paint the painful area", "Pain drawing on, then drag with the left button"),
         ("Preview a candidate's pattern", "Hover it in the list; click to keep it")]


def shortcuts_html(actions) -> str:
    """A table of every action with a shortcut (read from the actions, so it never goes stale)."""
    rows = "".join(
        f"<tr><td>{escape(a.text().replace('&', '').rstrip('.…'))}</td>"
        f"<td><b>{escape(a.shortcut().toString(QKeySequence.NativeText))}</b></td></tr>"
        for a in actions if not a.shortcut().isEmpty())
    mouse = "".join(f"<tr><td>{escape(w)}</td><td><b>{escape(h)}</b></td></tr>" for w, h in MOUSE)
    return ("<h2>Keyboard and mouse</h2><table cellspacing=4>"
            f"<tr><th align=left>Action</th><th align=left>Key</th></tr>{rows}</table>"
            f"<h3>Mouse</h3><table cellspacing=4>{mouse}</table>"
            "<p>Esc clears the search box, then the selected muscle. In the search box, Down or "
            "Enter go to the results.</p>"
            "<h3>How the candidates are ranked</h3><p>Each muscle gets a score: its zone's weight "
            "(essential 1, spillover 0.5) &times; the zone's strength around the spot (its "
            "membership averaged over the skin around the click, weighted by distance with a "
            "30 mm Gaussian: a drawn border lies centimetres apart on different patients) "
            "&times; how often the pain guides (Travell &amp; Simons, and prevalence studies "
            "where they exist) name the muscle as a source of pain in this body area. Zones covering "
            "the fingertip-sized spot and zones whose edge passes within 15 mm (\"edge 6 mm\") are "
            "ranked together; below a grey rule follow the zones that lie near (\"near 38 mm\", up "
            "to 55 mm), also by score. Scores within 0.02 count as equal. The chip still says "
            "essential or spillover.</p>")


class HelpDialog(QDialog):
    def __init__(self, parent, actions):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts — Referral viewer")
        self.resize(560, 640)
        self.text = QTextBrowser()
        self.text.setHtml(shortcuts_html(actions))
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.setAttribute(Qt.WA_DeleteOnClose)


def about_html() -> str:
    return (f"<h3>referral-viewer {__version__}</h3>"
            "<p>Myofascial trigger points and referred-pain patterns on a real 3D body, with a reverse "
            "lookup: <i>it hurts here, which muscles could refer here?</i></p>"
            f"<p><b>{DISCLAIMER}</b></p>"
            "<p><b>Credits and licences</b></p><ul>"
            "<li>Code: MIT licence.</li>"
            "<li>Anatomy: <b>BodyParts3D</b>, (c) The Database Center for Life Science (DBCLS), "
            "licensed <b>CC BY 4.0</b> (older releases CC BY-SA 2.1 JP).</li>"
            "<li>Muscle meshes derived from <b>Z-Anatomy</b> (<b>CC BY-SA 4.0</b>), based on "
            "BodyParts3D (c) DBCLS.</li>"
            "<li>Referral patterns summarised in our own words from the sources cited for each muscle, "
            "chiefly Travell &amp; Simons, <i>Myofascial Pain and Dysfunction: The Trigger Point "
            "Manual</i>.</li>"
            "<li>Built with Qt (PySide6, LGPL), VTK and PyVista (BSD/MIT).</li></ul>"
            f"<p style='color:#666'>{ATTRIBUTION}</p>")
