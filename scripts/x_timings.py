"""The window's latency as a user sees it: real X events (xdotool) and the screen as grabbed.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/x_timings.py [--busy] [--clicks N]

Starts the app in its own process at 1600x1000 (scripts/x_timings.py --app), sends it real X
input with xdotool (mouse moves, clicks, wheel, drags, as a user's mouse would) and grabs
the screen from this process every ~25 ms (QScreen.grabWindow), so every figure is what
reached the screen, not what the app thinks it drew:

- first_frame_s: app process start -> the body on screen
- patterns_ready_s: app process start -> the patterns loaded (clicks answered); the body shows
  before them and a click made meanwhile is answered when they come
- click_to_list_ms / click_to_pattern_ms: the mouse moved over the body in a few steps (hover
  events as a real mouse makes them) and clicked at once -> the candidate list changed on screen /
  the 3D view changed by at least half of its final change (marker + pattern)
- wheel_ms / wheel4_ms: one wheel notch / four notches at once (xdotool click --repeat 4) over
  the knee -> the view's first change on screen; wheel_anchor_px: how far the world point that was
  under the cursor when a burst began is from the cursor once it ended (0: zoom toward the cursor)
- rotation_fps: frames the app drew (its own frame log) while xdotool drags the body for 1 s
- xdotool_ms: what starting xdotool itself costs (included in every figure above)
With --busy one core is kept busy by another process for the whole run. JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = (1600, 1000)


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": round(statistics.median(xs), 1), "min": round(min(xs), 1), "max": round(max(xs), 1),
            "n": len(xs)}


# ----------------------------------------------------------------------------- app side
def run_app(info_path: Path, frames_path: Path) -> int:
    sys.path.insert(0, os.environ.get("REFERRAL_VIEWER_CODE", str(REPO)))
    try:        # the app's own start: the pack is read in a thread while the GUI modules import
        from viewer.gui.loading import EarlyLoad
        early = {"early": EarlyLoad()}
    except ImportError:          # older code ("before" figures)
        early = {}
    from viewer.gui.app import preload

    preload()
    import numpy as np
    import pyvista as pv
    from PySide6.QtCore import QPointF, QTimer
    from PySide6.QtWidgets import QApplication, QListWidget

    pv.OFF_SCREEN = False
    app = QApplication([])
    app.setStyle("Fusion")
    from viewer.gui.main_window import MainWindow

    win = MainWindow(autosave_dir=Path(tempfile.mkdtemp(prefix="rv-x-")), confirm_close=False, **early)
    win.move(0, 0)
    win.resize(*SIZE)
    win.show()
    log = open(frames_path, "a", buffering=1)

    from PySide6.QtCore import QEvent, QObject

    class Spy(QObject):          # when each input event reaches the app (the event path's share)
        names = {QEvent.MouseButtonPress: "press", QEvent.MouseButtonRelease: "release",
                 QEvent.MouseMove: "move", QEvent.Wheel: "wheel"}

        anchor = None

        def eventFilter(self, obj, ev):
            name = self.names.get(ev.type())
            if name and obj is win.plotter:
                log.write(f"{name} {time.monotonic()}\n")
                if name == "wheel":           # the world point under the cursor when a burst starts
                    if self.anchor is None:
                        hit = win.view.picker.pick(ev.position())
                        self.anchor = (ev.position(), hit and hit[1])
                    settle.start()
            return False

    def anchor_moved():               # a burst ended: how far its point moved from the cursor (px)
        pos, xyz = spy.anchor
        spy.anchor = None
        if xyz is None:
            return
        ren = win.plotter.renderer
        ren.SetWorldPoint(*xyz, 1.0)
        ren.WorldToDisplay()
        dx, dy, _ = ren.GetDisplayPoint()
        dpr = win.plotter.devicePixelRatioF()
        x, y = dx / dpr, win.plotter.height() - 1 - dy / dpr
        log.write(f"anchor {((x - pos.x()) ** 2 + (y - pos.y()) ** 2) ** 0.5:.1f}\n")
    spy = Spy()
    settle = QTimer(singleShot=True, interval=800, timeout=anchor_moved)

    def ready():
        plotter = win.plotter
        plotter.render_window.AddObserver("StartEvent", lambda *_: log.write(f"render {time.monotonic()}\n"))
        plotter.render_window.AddObserver("EndEvent", lambda *_: log.write(f"{time.monotonic()}\n"))
        plotter.installEventFilter(spy)
        ren, model = plotter.renderer, win.model
        from viewer.referral.lookup import lookup_point

        def screen(xyz):
            ren.SetWorldPoint(*xyz, 1.0)
            ren.WorldToDisplay()
            dx, dy, _ = ren.GetDisplayPoint()
            return dx, plotter.height() - 1 - dy

        cam = np.array(plotter.camera.position)
        V, N = model.geo.vertices, model.geo.normals
        clicks = []
        for v in np.random.default_rng(0).permutation(len(V)):
            if len(clicks) >= 40:
                break
            if np.dot(N[v], (cam - V[v]) / np.linalg.norm(cam - V[v])) < 0.8:
                continue
            x, y = screen(V[v])
            if not (40 < x < plotter.width() - 40 and 40 < y < plotter.height() - 40):
                continue
            hit = win.view.picker.pick(QPointF(x, y))
            if hit is None or np.linalg.norm(np.array(hit[1]) - V[v]) > 5:
                continue
            if not lookup_point(model, hit[1]).candidates:
                continue
            g = plotter.mapToGlobal(plotter.rect().topLeft())
            clicks.append([round(x) + g.x(), round(y) + g.y()])

        def rect(w):
            g = w.mapToGlobal(w.rect().topLeft())
            return [g.x(), g.y(), w.width(), w.height()]
        info = {"view": rect(plotter), "list": rect(win.candidates.findChild(QListWidget)),
                "clicks": clicks, "window": [win.width(), win.height()]}
        tmp = info_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(info_path)

    def wait_first():
        if win.first_frame_s is None or getattr(win, "patterns_ready_s", 0) is None:
            QTimer.singleShot(50, wait_first)
        else:
            log.write(f"first {time.monotonic() - (time.perf_counter() - win.first_frame_s)}\n")
            ready_s = getattr(win, "patterns_ready_s", None) or win.first_frame_s
            log.write(f"patterns {time.monotonic() - (time.perf_counter() - ready_s)}\n")
            QTimer.singleShot(300, ready)
    wait_first()
    code = app.exec()
    win.shutdown()
    return code


# ----------------------------------------------------------------------------- driver side
class Grabber:
    """Grabs screen rectangles every `every` s in a thread of this (driver) process."""

    def __init__(self, screen):
        self.screen = screen

    def grab(self, r):
        import numpy as np

        img = self.screen.grabWindow(0, *r).toImage().convertToFormat(self._fmt)
        a = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(),
                                                                                 img.bytesPerLine())
        return a[:, :img.width() * 3].reshape(img.height(), img.width(), 3).astype(np.int16)

    @property
    def _fmt(self):
        from PySide6.QtGui import QImage
        return QImage.Format_RGB888


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)


def watch(grabber, rects, seconds, every=0.025):
    """[(t, [image per rect])] for `seconds`, one grab of each rect every `every` s."""
    out = []
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        t = time.monotonic()
        out.append((t, [grabber.grab(r) for r in rects]))
        time.sleep(max(0.0, every - (time.monotonic() - t)))
    return out


def changed(a, b):
    import numpy as np
    return int((np.abs(a - b).sum(axis=2) > 24).sum())


def first_change(before, shots, k, t0, frac=0.5, min_px=40):
    """ms from t0 to the first grab whose change from `before` is >= frac of the final change."""
    final = changed(before, shots[-1][1][k])
    if final < min_px:
        return None
    for t, imgs in shots:
        if changed(before, imgs[k]) >= frac * final:
            return (t - t0) * 1000
    return None


def drive(args) -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (grabs need it)
    grabber = Grabber(QGuiApplication.primaryScreen())
    work = Path(tempfile.mkdtemp(prefix="rv-xbench-"))
    info_path, frames_path = work / "info.json", work / "frames.log"
    busy = None
    if args.busy:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    out = {"size": list(SIZE), "busy_core": bool(args.busy), "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    t = time.perf_counter()
    for _ in range(5):
        xdo("getmouselocation")
    out["xdotool_ms"] = round((time.perf_counter() - t) * 200, 1)
    t_spawn = time.monotonic()
    env = dict(os.environ)
    app_proc = subprocess.Popen([sys.executable, __file__, "--app", str(info_path), str(frames_path)], env=env)
    try:
        # -- first frame on screen ----------------------------------------------------
        # a small strip through the middle of the view, every 50 ms: grabbing the whole window
        # this often would take CPU from the starting app
        strip = [560, 150, 340, 700]
        t_first = None
        while time.monotonic() - t_spawn < 120 and app_proc.poll() is None:
            img = grabber.grab(strip)
            # the body: many skin-coloured pixels (the window's light grey chrome is not)
            r, g, b = img[..., 0], img[..., 1], img[..., 2]
            skinish = ((r - b) > 18) & (r > 150) & (r < 250)
            if skinish.sum() > 5000:
                t_first = time.monotonic()
                break
            time.sleep(0.05)
        out["first_frame_s"] = round(t_first - t_spawn, 2) if t_first else None
        while not info_path.exists():
            if app_proc.poll() is not None or time.monotonic() - t_spawn > 180:
                raise SystemExit("the app did not start")
            time.sleep(0.05)
        logged = [ln for ln in frames_path.read_text().splitlines() if ln.startswith("first")]
        if logged:
            out["first_frame_logged_s"] = round(float(logged[0].split()[1]) - t_spawn, 2)
        logged = [ln for ln in frames_path.read_text().splitlines() if ln.startswith("patterns")]
        if logged:     # the body shows first; the patterns are read after it
            out["patterns_ready_s"] = round(float(logged[0].split()[1]) - t_spawn, 2)
        info = json.loads(info_path.read_text())
        view, lst = info["view"], info["list"]
        time.sleep(1.0)

        # -- clicks ---------------------------------------------------------------------
        to_list, to_pattern, trace = [], [], []
        pts = info["clicks"][:args.clicks]
        for i, (x, y) in enumerate(pts):
            px, py = pts[i - 1] if i else (x + 80, y + 60)
            xdo("mousemove", px, py)
            time.sleep(0.6)
            before = [grabber.grab(view), grabber.grab(lst)]
            # a real hand: the mouse travels to the spot (hover events) and clicks on arrival
            for k in (0.25, 0.5, 0.75):
                xdo("mousemove", round(px + k * (x - px)), round(py + k * (y - py)))
            xdo("mousemove", x, y)
            n0 = len(frames_path.read_text().splitlines())
            t0 = time.monotonic()
            xdo("click", 1)
            shots = watch(grabber, [view, lst], 3.0)   # the old window drew 4 frames: let them end
            events = [ln.split() for ln in frames_path.read_text().splitlines()[n0:]]
            trace.append([(e[0] if len(e) > 1 else "frame", round((float(e[-1]) - t0) * 1000))
                          for e in events])
            to_pattern.append(first_change(before[0], shots, 0, t0))
            to_list.append(first_change(before[1], shots, 1, t0, frac=0.3))
        out["click_to_list_ms"] = stats(to_list)
        out["click_to_pattern_ms"] = stats(to_pattern)
        out["click_samples_ms"] = [round(x) if x else None for x in to_pattern]
        out["click_trace_ms"] = [" ".join(f"{n}@{t}" for n, t in tr) for tr in trace[:4]]

        # -- wheel ----------------------------------------------------------------------
        one, four = [], []
        cx, cy = view[0] + view[2] // 2, view[1] + view[3] // 2
        for notches, acc in ((1, one), (4, four)):
            for _ in range(3):
                xdo("mousemove", cx - 45, cy + 165)      # over the right knee (the body framed whole)
                xdo("key", "r")
                time.sleep(1.0)
                before = grabber.grab(view)
                t0 = time.monotonic()
                xdo("click", "--repeat", notches, "--delay", 1, 4)
                shots = watch(grabber, [view], 1.0)
                acc.append(first_change(before, shots, 0, t0, frac=0.05))
        out["wheel_ms"], out["wheel4_ms"] = stats(one), stats(four)
        out["wheel_anchor_px"] = stats([float(ln.split()[1]) for ln in frames_path.read_text().splitlines()
                                        if ln.startswith("anchor")])

        # -- rotation -------------------------------------------------------------------
        fps = []
        for _ in range(2):
            xdo("mousemove", cx, cy)
            time.sleep(0.8)
            n0 = len(frames_path.read_text().splitlines())
            xdo("mousedown", 1)
            t0 = time.monotonic()
            for k in range(1, 41):
                xdo("mousemove", cx + 6 * k, cy + k)
                time.sleep(0.02)
            t1 = time.monotonic()
            xdo("mouseup", 1)
            times = [float(ln) for ln in frames_path.read_text().splitlines()[n0:] if ln[0].isdigit()]
            fps.append(sum(t0 <= t <= t1 for t in times) / (t1 - t0))
        out["rotation_fps"] = stats(fps)
    finally:
        app_proc.terminate()
        try:
            app_proc.wait(10)
        except subprocess.TimeoutExpired:
            app_proc.kill()
        if busy is not None:
            busy.kill()
    out["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    print(json.dumps(out, indent=2), flush=True)
    return 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--app":
        return run_app(Path(sys.argv[2]), Path(sys.argv[3]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--busy", action="store_true", help="keep one core busy during the run")
    ap.add_argument("--clicks", type=int, default=12)
    return drive(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
