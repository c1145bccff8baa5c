"""Off-screen images of referral patterns, for slides and for checking content."""

from __future__ import annotations

import re
from pathlib import Path

import pyvista as pv

from viewer import ATTRIBUTION, atomic
from viewer.render import style
from viewer.render.scene import BodyScene

MAX_SIZE = (3840, 2160)


def _quiet_vtk() -> None:
    """Off-screen on a machine without a display VTK falls back to EGL/OSMesa,
    after a 'bad X server connection' warning that means nothing to a user."""
    from vtkmodules.vtkCommonCore import vtkLogger

    vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)


def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not m:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 1920x1080")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= MAX_SIZE[0] and 16 <= h <= MAX_SIZE[1]):
        raise ValueError(f"size {w}x{h} is outside 16x16 .. {MAX_SIZE[0]}x{MAX_SIZE[1]}")
    return w, h


def decorate(plotter: pv.Plotter, pattern, *, title: bool, legend: bool, attribution: bool,
             size: tuple[int, int]) -> None:
    scale = max(0.6, size[1] / 1080)
    if title and pattern is not None:
        plotter.add_text(f"{pattern.muscle.name} ({pattern.side}): referred pain",
                         position="upper_left", font_size=int(16 * scale), color="black", name="title")
    if legend:
        plotter.add_legend([["essential zone", style.ESSENTIAL / 255.0],
                            ["spillover zone", style.SPILLOVER / 255.0],
                            ["trigger point", style.TRIGGER_POINT]],
                           bcolor="white", border=True, size=(0.2, 0.2),
                           loc="upper right", face="rectangle", name="legend")
    if attribution:
        plotter.add_text(ATTRIBUTION + " Educational illustration, not a diagnosis.",
                         position="lower_left", font_size=max(6, int(7 * scale)), color="#444444",
                         name="attribution")


def render_pattern(model, pattern, out: str | Path, *, view: str | None = None, size=(1600, 1200),
                   transparent: bool = False, title: bool = True, legend: bool = True,
                   attribution: bool = True, skin_opacity: float = 0.8, focus: str = "pattern",
                   bones: bool = False) -> Path:
    """Write one PNG atomically; returns its path."""
    _quiet_vtk()
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    try:
        scene = BodyScene(plotter, model, skin_opacity=skin_opacity, show_muscles=False, show_bones=bones)
        scene.show_pattern(pattern, render=False)
        scene.set_view(view or scene.best_view(), focus=focus, render=False)
        decorate(plotter, pattern, title=title, legend=legend, attribution=attribution, size=size)
        img = plotter.screenshot(None, transparent_background=transparent, return_img=True)
    finally:
        plotter.close()
    return write_png(img, out)


def write_png(img, out: str | Path) -> Path:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    atomic.write_bytes(out, buf.getvalue())
    return Path(out)


def gallery(model, out_dir: str | Path, *, views=("anterior", "posterior", "right"), size=(1200, 900),
            progress=None, cancelled=lambda: False, sides=("right",)) -> list[Path]:
    """One image per muscle, side and view. Reuses one plotter for speed."""
    _quiet_vtk()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    written = []
    try:
        scene = BodyScene(plotter, model, skin_opacity=0.8, show_muscles=False)
        jobs = [(p, v) for p in model.patterns if p.side in sides for v in views]
        for i, (p, v) in enumerate(jobs):
            if cancelled():
                break
            scene.show_pattern(p, render=False)
            scene.set_view(v, focus="pattern", render=False)
            decorate(plotter, p, title=True, legend=True, attribution=True, size=size)
            img = plotter.screenshot(None, return_img=True)
            slug = re.sub(r"[^a-z0-9]+", "_", p.muscle.name.lower()).strip("_")
            written.append(write_png(img, out_dir / f"{slug}_{p.side}_{v}.png"))
            if progress:
                progress(i + 1, len(jobs), written[-1])
    finally:
        plotter.close()
    return written
