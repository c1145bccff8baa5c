"""Screenshots of the real window (under Xvfb when there is no display).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_app.py \
        [--out docs/screenshot.png] [--size 1500x920] [--states DIR]

The default state: a click on the lateral hip (the greater-trochanter region, right
side), its candidate muscles listed and gluteus minimus's pattern shown. With
--states DIR it also writes one PNG per window state (patient mode, search with
typo, no matches, pain drawing, help page), driven through the window's actions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshot.png"))
    ap.add_argument("--size", default="1500x920")
    ap.add_argument("--states", help="also write one PNG per window state to this folder")
    args = ap.parse_args()
    w_px, h_px = (int(x) for x in args.size.lower().split("x"))

    import pyvista as pv
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    pv.OFF_SCREEN = False
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    from viewer.gui.main_window import MainWindow

    win = MainWindow(autosave_dir=Path(tempfile.mkdtemp(prefix="rv-shot-")), confirm_close=False)
    win.view.fly_ms = 0
    win.resize(w_px, h_px)
    win.show()
    t0 = time.perf_counter()
    while win.scene is None and time.perf_counter() - t0 < 600:
        app.processEvents()
        time.sleep(0.02)
    if win.scene is None or not win.model.patterns:
        print("error: the window has no referral patterns (is the pack built and are the landmarks "
              "measured?)", file=sys.stderr)
        return 2

    def settle(n=30):
        for _ in range(n):
            app.processEvents()
            time.sleep(0.01)

    def shot(path):
        settle()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        win.grab().save(str(path))
        print(path)

    model = win.model
    gmin = next((m for m in model.find_muscles("gluteus minimus")), None)
    pattern = model.pattern(gmin.id, "right") if gmin else model.patterns[0]
    # the spot: the lateral-hip region's vertex most inside the pattern's essential zone
    field = model.zone_weights(pattern)[0] * 2.0      # >= 1.0: well inside the essential zone
    hip = [r.index for r in model.regions if r.name == "greater_trochanter" and r.side == "right"]
    in_hip = np.isin(model.region_labels, hip) if hip else np.ones_like(field, bool)
    choices = np.flatnonzero(in_hip & (field >= 1.0)) if (in_hip & (field >= 1.0)).any() \
        else np.flatnonzero(field >= 1.0)
    centre = model.geo.vertices[choices].mean(axis=0)
    spot = int(choices[np.argmin(np.linalg.norm(model.geo.vertices[choices] - centre, axis=1))])
    win.actions.views["right"].trigger()
    settle()
    # a real click on the spot
    ren = win.plotter.renderer
    ren.SetWorldPoint(*model.geo.vertices[spot], 1.0)
    ren.WorldToDisplay()
    dx, dy, _ = ren.GetDisplayPoint()
    dpr = win.plotter.devicePixelRatioF()
    pos = QPointF(dx / dpr, win.plotter.height() - 1 - dy / dpr).toPoint()
    QTest.mouseClick(win.plotter, Qt.LeftButton, Qt.NoModifier, pos)
    settle()
    row = next((i for i, c in enumerate(win.candidates.candidates) if c.pattern == pattern.index), None)
    if row is not None:
        win.candidates.select_row(row)
    win.hover_label.setText(f"Over: <b>{model.region_of(spot).display}</b>")
    shot(args.out)
    if not args.states:
        win.close()
        return 0
    d = Path(args.states)
    shot(d / "01_click_hip.png")
    win.actions.patient.trigger()
    shot(d / "02_patient_mode.png")
    win.actions.patient.trigger()
    win.actions.escape.trigger()
    for query, name in (("glutues minimus", "03_search_typo"), ("headache", "04_search_symptom"),
                        ("xyzzy", "05_search_no_matches")):
        win.actions.find.trigger()
        QTest.keyClicks(win.browser.search, query)
        shot(d / f"{name}.png")
        win.actions.escape.trigger()
    win.actions.escape.trigger()
    win.actions.opacity.setValue(5)
    win.state.select(pattern)
    win.actions.views["right"].trigger()
    shot(d / "06_skin_faded_pattern_kept.png")
    win.actions.opacity.setValue(55)
    win.actions.clear.trigger()
    shot(d / "07_cleared.png")
    win.actions.undo.trigger()
    shot(d / "08_undo_clear.png")
    win.actions.shortcuts.trigger()
    settle()
    dlg = next(w for w in app.topLevelWidgets() if w.windowTitle().startswith("Keyboard shortcuts"))
    settle()
    dlg.grab().save(str(d / "09_help.png"))
    print(d / "09_help.png")
    dlg.close()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
