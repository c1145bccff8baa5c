"""Timings of the real window (under Xvfb when there is no display), as JSON on stdout.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/gui_timings.py [--size 1500x920]

- first_frame_s: process start (the OS's process creation time) to the first rendered frame of the body
- click_to_frame_ms: a real mouse press + release (QTest) on a visible skin point until the first
  *rendered frame* (VTK's EndEvent) in which the marker actor exists, the candidate list is filled and a
  pattern is painted on the skin; `click_to_frame_shows` says which of the three that frame showed
- pick_to_candidates_ms: the same click until the candidate list is filled (no frame)
- wheel_ms: one wheel notch over the body until its frame is rendered; wheel_burst_ms: ten notches
  sent at once (as a fast wheel does) until the last frame, with wheel_burst_renders frames drawn;
  wheel_anchor_px: how far the world point under the cursor moved on screen (0 = zoom toward the cursor)
- flight_ms: the F key (frame the pattern) until the camera flight's last frame
- rotation_fps: frames per second while dragging the body with the left button
- recolor_ms / frame_ms: BodyScene.show_pattern (no render) / one full render of the window
- peak_rss_mb: peak resident memory of the process
"""

from __future__ import annotations

import argparse
import os
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
sys.path.insert(0, os.environ.get("REFERRAL_VIEWER_CODE", str(REPO)))   # another checkout's code: "before" figures


def stats(xs):
    return {"median": round(statistics.median(xs), 2), "min": round(min(xs), 2), "max": round(max(xs), 2),
            "n": len(xs)}


class Frames:
    """Records the time of every rendered frame of the window's render window."""

    def __init__(self, render_window):
        self.times = []
        self.check = None            # callable -> dict of what the frame shows, evaluated per frame
        self.shows = []
        render_window.AddObserver("EndEvent", self._end)

    def _end(self, *_):
        self.times.append(time.perf_counter())
        self.shows.append(self.check() if self.check else {})


def _pump(app, until, timeout=10.0):
    t = time.perf_counter()
    while not until() and time.perf_counter() - t < timeout:
        app.processEvents()
        time.sleep(0.001)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB). Linux: VmHWM, which starts afresh at exec;
    ru_maxrss does not (a child started by a big parent reports the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1500x920")
    ap.add_argument("--clicks", type=int, default=15)
    args = ap.parse_args()
    start = psutil.Process().create_time()
    from viewer.gui.app import preload

    preload()   # the same import order as the app
    import pyvista as pv
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QListWidget

    pv.OFF_SCREEN = False
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    from viewer.gui.main_window import MainWindow

    import tempfile

    try:         # this checkout: one autosave folder per window; the "before" code took a file
        win = MainWindow(autosave_dir=Path(tempfile.mkdtemp(prefix="rv-timings-")), confirm_close=False)
    except TypeError:
        win = MainWindow(autosave=Path(tempfile.mkdtemp(prefix="rv-timings-")) / "a.json", confirm_close=False)
    win.resize(*(int(x) for x in args.size.split("x")))
    win.show()
    t_wait = time.perf_counter()
    while win.first_frame_s is None:
        app.processEvents()
        time.sleep(0.01)
        if time.perf_counter() - t_wait > 300:
            print("error: the window drew no body within 300 s (is the pack built? "
                  "$REFERRAL_VIEWER_MESHES)", file=sys.stderr)
            return 2
    first_frame = time.time() - (time.perf_counter() - win.first_frame_s) - start
    # the body shows first; the patterns are read after it (clicks wait for them)
    while getattr(win, "patterns_ready_s", 0) is None:
        app.processEvents()
        time.sleep(0.01)
    ready = getattr(win, "patterns_ready_s", None) or win.first_frame_s
    patterns_ready = time.time() - (time.perf_counter() - ready) - start
    model = win.model
    out = {"first_frame_s": round(first_frame, 3), "patterns_ready_s": round(patterns_ready, 3),
           "patterns": len(model.patterns),
           "window": list(win.plotter.render_window.GetSize()),
           "renderer": win.plotter.render_window.ReportCapabilities().splitlines()[1].split(":", 1)[-1].strip(),
           "python": platform.python_version()}
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)
    plotter = win.plotter
    frames = Frames(plotter.render_window)
    cand_list = win.candidates.findChild(QListWidget)

    def screen(xyz):
        ren = plotter.renderer
        ren.SetWorldPoint(*xyz, 1.0)
        ren.WorldToDisplay()
        dx, dy, _ = ren.GetDisplayPoint()
        dpr = plotter.devicePixelRatioF()
        return QPointF(dx / dpr, plotter.height() - 1 - dy / dpr)

    def visible_points(n, seed=0):
        cam = np.array(plotter.camera.position)
        V, N = model.geo.vertices, model.geo.normals
        pts = []
        for v in np.random.default_rng(seed).permutation(len(V)):
            if len(pts) >= n:
                break
            if np.dot(N[v], (cam - V[v]) / np.linalg.norm(cam - V[v])) < 0.8:
                continue
            p = screen(V[v])
            if 30 < p.x() < plotter.width() - 30 and 30 < p.y() < plotter.height() - 30:
                pts.append(QPoint(round(p.x()), round(p.y())))
        return pts

    def shows():
        scene = win.scene
        return {"marker": plotter.actors.get("marks") is not None,
                "list": cand_list.count() > 0,
                "pattern": scene.pattern is not None and bool(np.any(scene._ess > 0.5) or np.any(scene._spill > 0.5))}

    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    # this checkout's actions, or the window before issue 11 (its methods), for "before" figures
    acts = getattr(win, "actions", None)
    reset = acts.reset.trigger if hasattr(acts, "reset") else win.reset_view
    frame = acts.frame.trigger if hasattr(acts, "frame") else win.act_frame.trigger
    picker = win.view.picker if hasattr(win, "view") else win.picker
    say("click to frame")
    # -- click -> frame with marker, list and pattern ------------------------------
    frames.check = shows
    click, click_list, click_shows = [], [], None
    for pos in visible_points(args.clicks):
        win.scene.show_pattern(None, render=False)
        try:
            win.scene.set_marks(None, render=False)
        except TypeError:            # the scene before issue 11 (always rendered)
            plotter.remove_actor("marks", render=False)
        cand_list.clear()
        plotter.render()
        _pump(app, lambda: False, 0.05)
        n0 = len(frames.times)
        listed = []
        cand_list.model().rowsInserted.connect(lambda *a: listed.append(time.perf_counter()))
        t0 = time.perf_counter()
        QTest.mousePress(plotter, Qt.LeftButton, Qt.NoModifier, pos)
        QTest.mouseRelease(plotter, Qt.LeftButton, Qt.NoModifier, pos)

        def done():
            return any(all(s.values()) for s in frames.shows[n0:])
        _pump(app, done, 5.0)
        cand_list.model().rowsInserted.disconnect()
        full = [t for t, s in zip(frames.times[n0:], frames.shows[n0:]) if all(s.values())]
        if listed:
            click_list.append((listed[0] - t0) * 1000)
        if full:
            click.append((full[0] - t0) * 1000)
            click_shows = {"marker": True, "list": True, "pattern": True}
        else:          # this window's click never shows a pattern: time the frame with marker + list
            partial = [t for t, s in zip(frames.times[n0:], frames.shows[n0:]) if s["marker"] and s["list"]]
            if partial:
                click.append((partial[0] - t0) * 1000)
                click_shows = {"marker": True, "list": True, "pattern": False}
    frames.check = None
    out["click_to_frame_ms"] = stats(click) if click else None
    out["click_to_frame_shows"] = click_shows
    out["pick_to_candidates_ms"] = stats(click_list) if click_list else None

    # -- wheel ------------------------------------------------------------------
    def wheel(pos, notches=1):
        for _ in range(notches):
            ev = QWheelEvent(QPointF(pos), QPointF(plotter.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120),
                             Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
            app.postEvent(plotter, ev)      # queued, as a fast wheel's events are

    def settle_frames(timeout=5.0, quiet=0.3):
        last = [time.perf_counter(), len(frames.times)]

        def quiet_for():
            if len(frames.times) != last[1]:
                last[:] = [time.perf_counter(), len(frames.times)]
            return time.perf_counter() - last[0] > quiet
        _pump(app, quiet_for, timeout)

    say("wheel")
    reset()
    settle_frames()
    one, burst, burst_frames, anchor = [], [], [], []
    V = model.geo.vertices
    for pos in visible_points(5, seed=3):
        # the world point under the cursor before zooming
        hit = picker.pick(QPointF(pos))
        settle_frames(quiet=0.1)
        n0 = len(frames.times)
        t0 = time.perf_counter()
        wheel(pos)
        _pump(app, lambda: len(frames.times) > n0, 5.0)
        settle_frames(quiet=0.15)
        if len(frames.times) > n0:
            one.append((frames.times[n0] - t0) * 1000)
        if hit is not None:
            p = screen(np.array(hit[1]))
            anchor.append(float(np.hypot(p.x() - pos.x(), p.y() - pos.y())))
        n0 = len(frames.times)
        t0 = time.perf_counter()
        wheel(pos, 10)
        settle_frames(quiet=0.4)
        if len(frames.times) > n0:
            burst.append((frames.times[-1] - t0) * 1000)
            burst_frames.append(len(frames.times) - n0)
        reset()
        settle_frames()
    out["wheel_ms"] = stats(one) if one else None
    out["wheel_burst_ms"] = stats(burst) if burst else None
    out["wheel_burst_renders"] = stats(burst_frames) if burst_frames else None
    out["wheel_anchor_px"] = stats(anchor) if anchor else None

    # -- camera flight ------------------------------------------------------------
    say("flight")
    flights = []
    for p in [q for q in model.patterns if q.has_mesh][:5]:
        reset()
        settle_frames()
        win.scene.show_pattern(p)
        settle_frames(quiet=0.1)
        n0 = len(frames.times)
        t0 = time.perf_counter()
        frame()          # the F key's action
        settle_frames(quiet=0.4)
        if len(frames.times) > n0:
            flights.append((frames.times[-1] - t0) * 1000)
    out["flight_ms"] = stats(flights) if flights else None

    # -- rotation -----------------------------------------------------------------
    say("rotation")
    reset()
    settle_frames()
    fps = []
    c = plotter.rect().center()
    for _ in range(3):
        QTest.mousePress(plotter, Qt.LeftButton, Qt.NoModifier, c)
        n0 = len(frames.times)
        t0 = time.perf_counter()
        for dx in range(0, 240, 8):
            QTest.mouseMove(plotter, c + QPoint(dx, dx // 5))
            app.processEvents()
        t1 = time.perf_counter()
        n1 = len(frames.times)
        QTest.mouseRelease(plotter, Qt.LeftButton, Qt.NoModifier, c + QPoint(240, 48))
        settle_frames()
        if n1 > n0:
            fps.append((n1 - n0) / (t1 - t0))
    out["rotation_fps"] = stats(fps) if fps else None

    recolor, frame = [], []
    for p in model.patterns[:20]:
        t = time.perf_counter()
        win.scene.show_pattern(p, render=False)
        t1 = time.perf_counter()
        plotter.render()
        t2 = time.perf_counter()
        recolor.append((t1 - t) * 1000)
        frame.append((t2 - t1) * 1000)
    out["recolor_ms"] = stats(recolor) if recolor else None
    out["frame_ms"] = stats(frame) if frame else None
    out["model_load"] = model.timings
    win.close()
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, indent=2), flush=True)   # flushed: VTK may abort at interpreter exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
