"""Timings of the real window (under Xvfb when there is no display), as JSON on stdout.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/gui_timings.py

- first_frame_s: process start (the OS's process creation time) to the first rendered frame of the body
- pick_to_candidates_ms: a real mouse click (QTest) on a skin point until the candidate list is filled
  (ray pick, snap, lookup, list), without the frame render that follows
- recolor_ms: BodyScene.show_pattern for a new pattern (skin colours, highlight, trigger points), no render
- frame_ms: one render of the window after a re-colour (software OpenGL under Xvfb is far slower than a GPU)
- peak_rss_mb: peak resident memory of the process
"""

from __future__ import annotations

import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def stats(xs):
    return {"median": round(statistics.median(xs), 2), "min": round(min(xs), 2), "max": round(max(xs), 2),
            "n": len(xs)}


def main() -> int:
    start = psutil.Process().create_time()
    from viewer.gui.app import preload

    preload()   # the same import order as the app
    import pyvista as pv
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    pv.OFF_SCREEN = False
    app = QApplication.instance() or QApplication([])
    from viewer.gui.main_window import MainWindow

    win = MainWindow(autosave=Path("/tmp/referral-viewer-timings-autosave.json"), confirm_close=False)
    win.fly_ms = 0
    win.resize(1500, 920)
    win.show()
    while win.first_frame_s is None:
        app.processEvents()
        time.sleep(0.002)
    first_frame = time.time() - (time.perf_counter() - win.first_frame_s) - start
    model = win.model
    out = {"first_frame_s": round(first_frame, 3), "patterns": len(model.patterns),
           "window": list(win.plotter.render_window.GetSize()),
           "renderer": win.plotter.render_window.ReportCapabilities().splitlines()[1].split(":", 1)[-1].strip(),
           "python": platform.python_version()}
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)

    # pick-to-candidates: real clicks on visible skin points
    cam = np.array(win.plotter.camera.position)
    V, N = model.geo.vertices, model.geo.normals
    rng = np.random.default_rng(0)
    picks = []
    for v in rng.permutation(len(V)):
        if len(picks) >= 20:
            break
        if np.dot(N[v], (cam - V[v]) / np.linalg.norm(cam - V[v])) < 0.8:
            continue
        ren = win.plotter.renderer
        ren.SetWorldPoint(*V[v], 1.0)
        ren.WorldToDisplay()
        dx, dy, _ = ren.GetDisplayPoint()
        dpr = win.plotter.devicePixelRatioF()
        pos = QPoint(round(dx / dpr), round(win.plotter.height() - 1 - dy / dpr))
        win.timings.pop("pick_to_candidates_ms", None)
        QTest.mouseClick(win.plotter, Qt.LeftButton, Qt.NoModifier, pos)
        if "pick_to_candidates_ms" in win.timings:
            picks.append(win.timings["pick_to_candidates_ms"])
    out["pick_to_candidates_ms"] = stats(picks) if picks else None

    recolor, frame = [], []
    for p in model.patterns[:30]:
        t = time.perf_counter()
        win.scene.show_pattern(p, render=False)
        t1 = time.perf_counter()
        win.plotter.render()
        t2 = time.perf_counter()
        recolor.append((t1 - t) * 1000)
        frame.append((t2 - t1) * 1000)
    out["recolor_ms"] = stats(recolor) if recolor else None
    out["frame_ms"] = stats(frame) if frame else None
    out["model_load"] = model.timings
    win.close()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
