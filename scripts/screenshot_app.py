"""Render docs/screenshot.png from the real window (under Xvfb when there is no display).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_app.py [--out docs/screenshot.png]

State: a click on the lateral hip (the greater-trochanter region, right side)
with its candidate muscles listed, and the gluteus minimus pattern shown.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshot.png"))
    ap.add_argument("--size", default="1500x920")
    args = ap.parse_args()
    w_px, h_px = (int(x) for x in args.size.lower().split("x"))

    import pyvista as pv
    from PySide6.QtWidgets import QApplication

    pv.OFF_SCREEN = False
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    from viewer.gui.main_window import MainWindow

    win = MainWindow(autosave=Path("/tmp/referral-viewer-screenshot-autosave.json"), confirm_close=False)
    win.fly_ms = 0
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
    spot = choices[np.argmin(np.linalg.norm(model.geo.vertices[choices] - centre, axis=1))]
    win.mark_point(model.geo.vertices[spot])
    row = next((i for i, c in enumerate(win.candidates.candidates) if c.pattern == pattern.index), None)
    if row is not None:
        win.candidates.select_row(row)
    else:
        win.select_pattern(pattern)
    win.scene.set_view("right", focus="body")
    win.statusBar().showMessage("")
    win.hover_label.setText(f"Over: <b>{model.region_of(int(spot)).display}</b>")
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    img = win.grab()
    img.save(str(out))
    print(out)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
