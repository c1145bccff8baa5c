"""Off-screen images of referral patterns that go on a slide unedited.

One :class:`Exporter` owns an off-screen plotter and a :class:`BodyScene` and
renders any number of images with it (single exports, the gallery, contact
sheets, the patient handout's pictures). The 3D view is rendered into the
body box of a :mod:`viewer.render.layout` plan; title, legend, attribution
and trigger-point labels are drawn around it in 2D.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvista as pv

from viewer import ATTRIBUTION, atomic
from viewer.errors import ViewerError
from viewer.render import layout as L
from viewer.render import style
from viewer.render.scene import BodyScene

MAX_SIZE = (3840, 2160)
DEFAULT_SIZE = (1920, 1080)          # 16:9, a full-HD slide
VIEW_CHOICES = ("best", *style.VIEWS)
DISCLAIMER_SHORT = "Educational illustration of a published pattern, not a diagnosis."

MIN_FRAME_MM = 520.0     # never frame less than this much body: enough to see where it is
PAD_FRACTION = 0.12      # body around the pattern, per side, as a fraction of its extent
PAD_MM = 40.0


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


def find_muscle(model, query: str):
    """The one muscle a name, alias or FMA id names; a ViewerError otherwise."""
    from viewer.errors import ViewerError

    found = model.find_muscles(query)
    shown = repr(query) if len(query) <= 80 else repr(query[:77] + "...")
    if not found:
        raise ViewerError(f"no muscle matches {shown}.", path="--muscle",
                          fix="use a name, alias or FMA id; `referral-viewer validate` lists the maps.")
    if len(found) > 1:
        names = ", ".join(m.name for m in found[:8])
        raise ViewerError(f"{shown} matches several muscles: {names}.", path="--muscle",
                          fix="give the full name or FMA id.")
    return found[0]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def attribution_text(pattern=None) -> str:
    src = f" Pattern: {pattern.muscle.sources[0]}" if pattern is not None and pattern.muscle.sources else ""
    return f"{ATTRIBUTION}{src} {DISCLAIMER_SHORT}"


def legend_items(pattern=None) -> list[tuple[str, str, str]]:
    items = [("swatch", style.ESSENTIAL_HEX, "essential pain zone")]
    if pattern is None or pattern.muscle.zones.spillover:
        items.append(("swatch", style.SPILLOVER_HEX, "spillover zone"))
    items.append(("dot", style.TRIGGER_POINT, "trigger point"))
    return items


# How a view is named on a slide (the medial view cuts the body at the midline: say so).
VIEW_WORDS = {"inferior": "view from below", "medial": "inner side (other half of the body cut away)"}


def slide_decorations(pattern, view: str, *, title=True, legend=True, attribution=True) -> L.Decorations:
    """Title, subtitle, legend and attribution of a pattern's slide image."""
    named = title and pattern is not None
    return L.Decorations(
        title=f"{pattern.muscle.name}: referred pain" if named else None,
        subtitle=f"{pattern.side.capitalize()} side, {VIEW_WORDS.get(view, view + ' view')}" if named else None,
        legend=legend_items(pattern) if legend else [],
        attribution=attribution_text(pattern) if attribution else None)


@dataclass
class TriggerPointView:
    label: str
    xy: tuple[float, float]     # pixel position in the body image
    visible: bool               # not hidden behind the body from this view


@dataclass
class Frame:
    """A parallel-projection camera: centre on the view plane and height, in mm."""
    view: str
    centre: np.ndarray
    right: np.ndarray
    up: np.ndarray
    direction: np.ndarray
    height_mm: float
    size: tuple[int, int]

    def to_pixels(self, pts: np.ndarray) -> np.ndarray:
        rel = np.atleast_2d(pts) - self.centre
        ppmm = self.size[1] / self.height_mm
        x = self.size[0] / 2 + (rel @ self.right) * ppmm
        y = self.size[1] / 2 - (rel @ self.up) * ppmm
        return np.column_stack([x, y])


def frame_pattern(skin_vertices: np.ndarray, focus_pts: np.ndarray, view: str, size,
                  side: str = "right") -> Frame:
    """Frame the focus points (pattern + trigger points) with some body around
    them, at the image's aspect, kept inside the body where there is room.

    Parameters
    ----------
    skin_vertices : (V, 3) skin points, mm
    focus_pts : (N, 3) points that must all be in the picture, mm
    view : a name in ``style.VIEWS``
    size : (width, height) of the body image in pixels
    side : the pattern's side (the medial view looks at that side's limbs from the midline)
    """
    d, up = style.view_vectors(view, side)
    half = style.kept_half(view, side)
    if half is not None:
        skin_vertices = skin_vertices[skin_vertices[:, 0] * half >= 0]
    right = np.cross(d, up)
    body_uv = np.column_stack([skin_vertices @ right, skin_vertices @ up])
    pts = focus_pts if len(focus_pts) else skin_vertices
    uv = np.column_stack([pts @ right, pts @ up])
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    pad = PAD_FRACTION * (hi - lo).max() + PAD_MM
    lo, hi = lo - pad, hi + pad
    blo, bhi = body_uv.min(axis=0) - PAD_MM, body_uv.max(axis=0) + PAD_MM
    aspect = size[0] / size[1]
    for axis, need in ((0, MIN_FRAME_MM * min(1.0, aspect)), (1, MIN_FRAME_MM)):
        if hi[axis] - lo[axis] < need:
            c = (lo[axis] + hi[axis]) / 2
            lo[axis], hi[axis] = c - need / 2, c + need / 2
    w, h = hi - lo
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    c = (lo + hi) / 2
    ext = np.array([w, h])
    # Slide the frame back over the body rather than show empty space beyond
    # it (the pattern stays inside: the frame only grew around it).
    for axis in (0, 1):
        if ext[axis] <= bhi[axis] - blo[axis]:
            c_lo, c_hi = blo[axis] + ext[axis] / 2, bhi[axis] - ext[axis] / 2
            need_lo, need_hi = (uv[:, axis].max() + pad / 2) - ext[axis] / 2, \
                               (uv[:, axis].min() - pad / 2) + ext[axis] / 2
            c[axis] = min(max(c[axis], max(c_lo, need_lo)), min(c_hi, need_hi)) \
                if max(c_lo, need_lo) <= min(c_hi, need_hi) else c[axis]
    depth = float(np.mean(skin_vertices @ d))
    centre = c[0] * right + c[1] * up + depth * d
    return Frame(view, centre, right, up, d, float(h), tuple(size))


class Exporter:
    """Renders pattern images off-screen; reuse one for many images.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, model, *, skin_opacity: float = 1.0, bones: bool = False):
        _quiet_vtk()
        self.model = model
        self.skin_opacity = skin_opacity
        self.plotter = pv.Plotter(off_screen=True, window_size=[64, 64])
        self.scene = BodyScene(self.plotter, model, skin_opacity=skin_opacity, show_muscles=False,
                               show_bones=bones)
        # Trigger points are drawn in 2D over the render, only where visible.
        self.scene.set_trigger_points_visible(False)
        self._obb = None
        self._pattern = object()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.plotter.close()

    # -- geometry -------------------------------------------------------------
    def _locator(self):
        if self._obb is None:
            from vtkmodules.vtkFiltersGeneral import vtkOBBTree

            self._obb = vtkOBBTree()
            self._obb.SetDataSet(self.scene.skin)
            self._obb.BuildLocator()
        return self._obb

    def visible(self, points: np.ndarray, direction: np.ndarray, half: float | None = None) -> np.ndarray:
        """True for skin points not hidden by the body when looking along ``direction``:
        a ray from just above the point toward the camera must not hit the skin (with
        ``half``, the medial view's cut: only skin before the midline counts)."""
        from vtkmodules.vtkCommonCore import vtkPoints

        pts = np.atleast_2d(points)
        if not len(pts):
            return np.zeros(0, bool)
        normals = self.model.pack.skin_normals[self.model.geo.snap(pts)[0]]
        obb = self._locator()
        out = np.zeros(len(pts), bool)
        for i, (p, n) in enumerate(zip(pts, normals)):
            start = p + 3.0 * n
            length = 5000.0
            if half is not None and abs(direction[0]) > 1e-9:
                length = max(0.0, -start[0] / -direction[0])      # the ray ends at the cut, x = 0
            hits = vtkPoints()
            out[i] = length == 0.0 or obb.IntersectWithLine(start.tolist(), (start - length * direction).tolist(),
                                                            hits, None) == 0
        return out

    def show(self, pattern) -> None:
        if pattern is not self._pattern:
            self.scene.show_pattern(pattern, render=False)
            if self.scene.highlight_actor is not None:
                # The muscle is under the opaque skin; only its specks where it
                # pokes through would show, as stray purple dots.
                self.scene.highlight_actor.SetVisibility(False)
            self._pattern = pattern

    def focus_points(self, pattern) -> np.ndarray:
        pts = [self.model.pack.skin_vertices[self.scene.skin_value > 0.2]]
        if pattern is not None and pattern.trigger_points:
            pts.append(np.array([xyz for _, xyz in pattern.trigger_points]))
        return np.vstack(pts)

    # -- rendering --------------------------------------------------------------
    def body(self, pattern, view: str | None, size, theme="light"):
        """The 3D render alone, RGBA, with a transparent background.

        Returns
        -------
        (image (H, W, 4) uint8, view name, list of TriggerPointView)
        """
        th = style.theme(theme)
        self.show(pattern)
        if view in (None, "best"):
            view = self._best(pattern)
        size = (max(16, int(size[0])), max(16, int(size[1])))
        self.plotter.window_size = list(size)
        side = pattern.side if pattern is not None else "right"
        self.scene.set_half(style.kept_half(view, side))
        fr = frame_pattern(self.model.pack.skin_vertices, self.focus_points(pattern), view, size, side)
        cam = self.plotter.camera
        cam.parallel_projection = True
        cam.focal_point = fr.centre
        cam.position = fr.centre - fr.direction * 3000.0
        cam.up = fr.up
        cam.parallel_scale = fr.height_mm / 2
        self.plotter.renderer.ResetCameraClippingRange()
        # The background colour matters even when transparent: the translucent
        # skin is blended with it, so the body looks the same as on the theme.
        self.plotter.set_background(th.background)
        # pyvista's screenshot() renders only the first time; later ones read
        # the stale frame (the previous camera), so render explicitly.
        self.plotter.render()
        img = self.plotter.screenshot(None, transparent_background=True, return_img=True)
        img = _opaque_body(img)
        tps = []
        if pattern is not None and pattern.trigger_points:
            xyz = np.array([p for _, p in pattern.trigger_points])
            vis = self.visible(xyz, fr.direction, half=style.kept_half(view, side))
            xy = fr.to_pixels(xyz)
            tps = [TriggerPointView(label, (float(x), float(y)), bool(v))
                   for (label, _), (x, y), v in zip(pattern.trigger_points, xy, vis)]
        return img, view, tps

    def render(self, pattern, *, view: str | None = None, size=DEFAULT_SIZE, theme="light",
               transparent: bool = False, title: bool = True, legend: bool = True,
               attribution: bool = True, labels: bool = True, label_scale: float = 1.0) -> np.ndarray:
        """One slide image (H, W, 4) uint8: the body framed on the pattern, with
        title, legend, attribution and labels of the visible trigger points."""
        th = style.theme(theme)
        view_name = view if view not in (None, "best") else self._best(pattern)
        deco = slide_decorations(pattern, view_name, title=title, legend=legend, attribution=attribution)
        plan = L.plan(size, deco)
        plan.px["label"] = max(8, round(plan.px["label"] * label_scale))   # bigger for small prints
        body, _, tps = self.body(pattern, view_name, plan.body_size, th)
        x0, y0 = plan.body[:2]
        shown = [t for t in tps if t.visible]
        marks = [((x0 + t.xy[0], y0 + t.xy[1]), round(plan.px["label"] * 0.42), style.TRIGGER_POINT)
                 for t in shown]
        placed = []
        if labels and shown:
            placed = L.place_labels([(x0 + t.xy[0], y0 + t.xy[1]) for t in shown], [t.label for t in shown],
                                    plan.body, plan.px["label"])
            placed = [p for p in placed if p["box"] is not None]
        return L.compose(body, plan, deco, th, transparent=transparent, labels=placed, marks=marks)

    def _best(self, pattern) -> str:
        """The side view showing most of the pattern (area facing the camera)
        and of its trigger points (not hidden behind the body)."""
        self.show(pattern)
        w = self.scene.skin_value
        sel = w > 0.2
        if pattern is None or not sel.any():
            return "anterior"
        n = self.model.pack.skin_normals[sel]
        tps = np.array([xyz for _, xyz in pattern.trigger_points]).reshape(-1, 3)
        pts = self.model.pack.skin_vertices[sel]
        scores = {}
        z = float(np.average(pts[:, 2], weights=w[sel]))
        for name in style.best_view_candidates(pattern.side, z):
            d, _ = style.view_vectors(name, pattern.side)
            half = style.kept_half(name, pattern.side)
            # skin beyond the medial view's cut is not in the picture
            keep = np.ones(len(pts), bool) if half is None else pts[:, 0] * half >= 0
            facing = float((w[sel] * keep * np.clip(-(n @ d), 0, None)).sum() / w[sel].sum())
            seen = float(self.visible(tps, d, half=half).mean()) if len(tps) else 0.0
            # the medial view costs the reader a cut body: only when it shows clearly more
            scores[name] = facing + 0.5 * seen - (0.1 if half is not None else 0.0)
        return max(scores, key=scores.get)

    def contact_sheet(self, patterns, *, title: str, size=DEFAULT_SIZE, theme="light",
                      transparent: bool = False, view: str | None = None) -> np.ndarray:
        """One image with a small picture of each pattern (its best view unless
        ``view``), captioned, under one title, legend and attribution."""
        th = style.theme(theme)
        deco = L.Decorations(title=title, subtitle=f"{len(patterns)} patterns", legend=legend_items(),
                             attribution=f"{ATTRIBUTION} Patterns: see each muscle's sources. {DISCLAIMER_SHORT}")
        plan = L.plan(size, deco)
        bx0, by0, bx1, by1 = plan.body
        bw, bh = bx1 - bx0, by1 - by0
        cap = L.font(max(8, round(plan.px["legend"] * 0.85)))
        cap_h = L.line_height(cap)
        n = max(1, len(patterns))
        cols = max(range(1, n + 1), key=lambda c: _cell_score(bw, bh - cap_h * math.ceil(n / c),
                                                             c, math.ceil(n / c)))
        rows = math.ceil(n / cols)
        cw, ch = bw // cols, bh // rows
        canvas = np.zeros((bh, bw, 4), np.uint8)
        marks, captions = [], []
        for i, p in enumerate(patterns):
            r, c = divmod(i, cols)
            img, vname, tps = self.body(p, view, (cw - 4, ch - cap_h - 4), th)
            x, y = c * cw + 2, r * ch + 2                       # within the body box
            canvas[y:y + img.shape[0], x:x + img.shape[1]] = img
            marks += [((bx0 + x + t.xy[0], by0 + y + t.xy[1]), max(3, round(plan.px["label"] * 0.28)),
                       style.TRIGGER_POINT) for t in tps if t.visible]
            captions.append(((bx0 + x + cw // 2, by0 + y + ch - cap_h // 2 - 2),
                             f"{p.muscle.name} ({p.side}, {vname})"))
        out = L.compose(canvas, plan, deco, th, transparent=transparent, marks=marks)
        from PIL import Image, ImageDraw

        im = Image.fromarray(out, "RGBA")
        draw = ImageDraw.Draw(im)
        halo = th.halo if transparent else None
        for (cx, cy), text in captions:
            while cap.getlength(text) > cw - 8 and len(text) > 4:
                text = text.rstrip("…")[:-1].rstrip() + "…"
            L._text(draw, (cx, cy), text, cap, th.text, halo, anchor="mm")
        return np.asarray(im)


def _cell_score(bw, bh, cols, rows) -> float:
    """Area of the largest 3:4 (portrait) picture that fits a grid cell."""
    cw, ch = bw / cols, max(1.0, bh / rows)
    return min(cw, ch * 0.75) ** 2


def _opaque_body(img: np.ndarray) -> np.ndarray:
    """VTK gives the translucent skin an alpha below 1 on a transparent
    background, so a transparent export would let the slide show through the
    body (a grey body on a dark slide). The colour already has the theme's
    background blended in, so the body itself is made opaque; anti-aliased
    edges keep their partial coverage."""
    if img.shape[2] == 3:
        return np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    img = img.copy()
    a = img[..., 3].astype(np.float32)
    inside = a >= 0.5 * a.max() if a.max() > 0 else a > 0
    img[..., 3] = np.where(inside, 255, np.clip(a * 2.0, 0, 255)).astype(np.uint8)
    return img


def write_png(img, out: str | Path) -> Path:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.fromarray(np.asarray(img)).save(buf, format="PNG")
    atomic.write_bytes(out, buf.getvalue())
    return Path(out)


def render_pattern(model, pattern, out: str | Path, *, view: str | None = None, size=DEFAULT_SIZE,
                   theme: str = "light", transparent: bool = False, title: bool = True, legend: bool = True,
                   attribution: bool = True, labels: bool = True, skin_opacity: float = 1.0,
                   focus: str = "pattern", bones: bool = False) -> Path:
    """Write one slide-ready PNG atomically; returns its path.

    ``view`` None or 'best' picks the standard view facing most of the pattern.
    ``focus`` is kept for older callers; the frame is always the pattern's.
    ``bones`` draws the skeleton (seen through a skin_opacity below 1).
    """
    with Exporter(model, skin_opacity=skin_opacity, bones=bones) as ex:
        img = ex.render(pattern, view=view, size=size, theme=theme, transparent=transparent, title=title,
                        legend=legend, attribution=attribution, labels=labels)
    return write_png(img, out)


def select_patterns(model, *, sides=("right",), muscles=None, regions=None) -> list:
    """Patterns for the given sides whose muscle matches one of ``muscles``
    (names, aliases or FMA ids) or lies in one of the body ``regions``; all
    when both are None."""
    ids = None
    if muscles:
        ids = set()
        for q in muscles:
            found = model.find_muscles(q)
            if not found:
                raise ValueError(f"no muscle matches {q!r}")
            ids |= {m.id for m in found}
    out = []
    for p in model.patterns:
        if p.side not in sides:
            continue
        if ids is not None or regions:
            if not ((ids and p.muscle.id in ids) or (regions and p.muscle.body_region in regions)):
                continue
        out.append(p)
    return out


def gallery(model, out_dir: str | Path, *, views=("best",), size=DEFAULT_SIZE, progress=None,
            cancelled=lambda: False, sides=("right",), theme: str = "light", transparent: bool = False,
            muscles=None, regions=None, contact_sheets: bool = False, images: bool = True,
            overwrite: bool = True) -> list[Path]:
    """Images of many patterns: one per muscle, side and view (``images``),
    and with ``contact_sheets`` one sheet per body region and side. Reuses one
    plotter for speed; ``progress(i, n, path)`` after each file, stops early
    when ``cancelled()``. File names are unique and never empty (two muscles whose
    names slug alike get their FMA ids appended). With ``overwrite=False`` nothing is
    rendered when any of the files already exists (a ViewerError names it)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pats = select_patterns(model, sides=sides, muscles=muscles, regions=regions)
    jobs = []
    if images:
        with Exporter(model) as probe:          # resolve 'best' now: no file written twice
            for p in pats:
                resolved = [probe._best(p) if v == "best" else v for v in views]
                jobs += [("image", p, v) for v in dict.fromkeys(resolved)]
    if contact_sheets:
        groups: dict = {}
        for p in pats:
            groups.setdefault((p.muscle.body_region, p.side), []).append(p)
        jobs += [("sheet", g, key) for key, g in sorted(groups.items())]
    paths = gallery_names(jobs, out_dir)
    if not overwrite:
        there = [p for p in paths if p.exists() or p.is_symlink()]
        if there:
            more = f" and {len(there) - 1} more" if len(there) > 1 else ""
            raise ExistingFiles(f"{there[0]}{more} already exist(s); nothing was written.", there)
    written = []
    with Exporter(model) as ex:
        for i, (kind, what, key) in enumerate(jobs):
            if cancelled():
                break
            path = paths[i]
            if kind == "image":
                v = key
                img = ex.render(what, view=v, size=size, theme=theme, transparent=transparent)
            else:
                region, side = key
                img = ex.contact_sheet(what, title=f"{region.replace('_', ' ').capitalize()}: "
                                                   f"referred-pain patterns ({side} side)",
                                       size=size, theme=theme, transparent=transparent)
            written.append(write_png(img, path))
            if progress:
                progress(i + 1, len(jobs), written[-1])
    return written


class ExistingFiles(ViewerError):
    """gallery(overwrite=False) found files it would replace (``paths``); nothing was written."""

    def __init__(self, what: str, paths):
        super().__init__(what, path="--all", fix="add --force to replace them, or give an empty folder.")
        self.paths = list(paths)


def gallery_names(jobs, out_dir: Path) -> list[Path]:
    """One unique, never empty file name per gallery job: a muscle named only with
    symbols falls back to its FMA id, and names that slug alike get the id appended."""
    names, taken = [], set()
    for kind, what, key in jobs:
        if kind == "image":
            stem = slug(what.muscle.name) or slug(what.muscle.id) or "muscle"
            name = f"{stem}_{what.side}_{key}"
            if name.lower() in taken:
                name = f"{stem}_{slug(what.muscle.id)}_{what.side}_{key}"
        else:
            region, side = key
            name = f"contact_sheet_{slug(region) or 'region'}_{side}"
        base, n = name, 2
        while name.lower() in taken:   # case-insensitive: also unique on macOS and Windows disks
            name = f"{base}_{n}"
            n += 1
        taken.add(name.lower())
        names.append(Path(out_dir) / f"{name}.png")
    return names
