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
from io import BytesIO
from itertools import combinations
from pathlib import Path

import numpy as np
import pyvista as pv
import scipy.sparse as sp
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.sparse.csgraph import connected_components
from vtkmodules.vtkCommonCore import vtkLogger, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkPlane
from vtkmodules.vtkFiltersGeneral import vtkOBBTree

from viewer import ATTRIBUTION, atomic
from viewer.constants import DEFAULT_SIZE
from viewer.errors import ExistingOutput
from viewer.referral.levels import level_key
from viewer.referral.schema import FIGURE_OR_TABLE
from viewer.render import layout as L
from viewer.render import style
from viewer.render.scene import BodyScene

DISCLAIMER_SHORT = "Educational illustration of a published pattern, not a diagnosis."

MIN_FRAME_MM = 520.0     # never frame less than this much body: enough to see where it is
PAD_FRACTION = 0.12      # body around the pattern, per side, as a fraction of its extent
PAD_MM = 40.0
PANEL_MIN_MM = np.array([260.0, 360.0])   # a plate's panel shows at least this much (width, height)

# Plates: the views are chosen by what a low-resolution render of each candidate view shows.
PLATE_MAX_PANELS = 3
PROBE_PX_PER_MM = 0.4      # scale of the visibility renders (a 1.7 m body is 680 px tall)
COVER_FRACTION = 0.6       # a zone part is shown by a view with >= 60% of the visible area of its best view
# The view from below shows the feet and shins only: seen from below, the whole body
# spread around two small soles (torso, hands) said nothing and shrank the feet.
INFERIOR_CLIP_Z_MM = 300.0
TP_MIN_FACING = 0.3        # a trigger point counts as seen in a view when its skin faces the camera this much
EXTRA_VIEW_MIN = 0.65     # a further panel for an under-filled slide shows this much of each part (mean)
SHEET_SLIVER = 0.12       # in a contact sheet's small cells, cut-off blobs below 12% of the body go
MIN_PART_PX = 12           # essential zone parts smaller than this in every view (about 75 mm2) are not required


def _quiet_vtk() -> None:
    """Off-screen on a machine without a display VTK falls back to EGL/OSMesa,
    after a 'bad X server connection' warning that means nothing to a user."""
    vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)


SHEET_TITLES = {"joint": "Joints", "root": "Nerve roots (dermatomes)", "nerve": "Peripheral nerves",
                "organ": "Organs"}


def slug(text: str) -> str:
    """A file-name-safe form of a name: lower case, runs of other characters as one "_".

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Only a-z, 0-9 and "_", no leading or trailing "_" (empty for a name of symbols only).
    """
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


# Authors' notes to themselves inside a citation ("figure number inferred, not seen") stay in
# the map file; a slide prints the citation only.
AUTHOR_NOTE = re.compile(r"\s*[(\[][^()\[\]]*\b(inferred|not seen|unconfirmed|not confirmed|to be checked)\b[^()\[\]]*[)\]]",
                         re.I)


def pattern_source(pattern) -> str:
    """The citation a slide prints for a pattern: the first source naming a figure or table
    (the drawing's own source), else the first; authors' notes removed."""
    sources = pattern.muscle.sources
    src = next((s for s in sources if FIGURE_OR_TABLE.search(s)), sources[0]) if sources else ""
    return AUTHOR_NOTE.sub("", src).strip()


def attribution_text(pattern=None) -> str:
    """The slide's attribution: anatomy licences, the pattern's source and the not-a-diagnosis line."""
    src = f" Pattern: {pattern_source(pattern)}" if pattern is not None and pattern.muscle.sources else ""
    return f"{ATTRIBUTION}{src} {DISCLAIMER_SHORT}"


# What a pattern's markers are, by source kind (a muscle's are its trigger points).
MARKER_WORDS = {"muscle": "trigger point", "joint": "the joint", "root": "where the root leaves the spine",
                "nerve": "usual entrapment site", "organ": "the organ"}
# The zones' names on a slide: Travell & Simons' words for muscles, plain frequency words otherwise.
ZONE_WORDS = {"muscle": ("essential pain zone", "spillover zone"),
              "joint": ("usual pain area", "less common area"), "root": ("dermatome", "variable extension"),
              "nerve": ("usual territory", "variable extension"), "organ": ("usual referred-pain area",
                                                                            "less common area")}


def legend_items(pattern=None) -> list[tuple[str, str, str]]:
    """The legend's rows for a pattern of any kind (the muscle's wording when None).

    Parameters
    ----------
    pattern : Pattern, optional

    Returns
    -------
    list of (str, str, str)
        (shape 'swatch' or 'dot', colour hex, words) for the essential zone, the spillover zone
        when the pattern has one, and the marker when it has trigger points (or its source's mark).
    """
    kind = pattern.kind if pattern is not None else "muscle"
    ess_hex, spill_hex = style.palette(kind)
    ess_words, spill_words = ZONE_WORDS[kind]
    items = [("swatch", ess_hex, ess_words)]
    if pattern is None or pattern.muscle.zones.spillover:
        items.append(("swatch", spill_hex, spill_words))
    if pattern is None or pattern.trigger_points:
        items.append(("dot", style.TRIGGER_POINT, MARKER_WORDS[kind]))
    return items


# How a view is named on a slide (the medial view cuts the body at the midline: say so).
VIEW_WORDS = {"inferior": "view from below", "medial": "inner side (other half of the body cut away)"}
# The caption under each panel of a plate, and the panels' order (front before back, as in the pain guides).
PANEL_WORDS = {"anterior": "Front", "posterior": "Back", "right": "Right side", "left": "Left side",
               "medial": "Inner side (other half cut away)", "inferior": "Sole", "superior": "From above"}
PANEL_ORDER = ("anterior", "right", "left", "posterior", "medial", "inferior", "superior")


def _subtitle(pattern, where: str) -> str:
    """"Right side, posterior view"; a midline source (the bladder) has no side."""
    text = where if pattern.side == "midline" else f"{pattern.side} side, {where}"
    return text[:1].upper() + text[1:]


def slide_decorations(pattern, view, *, title=True, legend=True, attribution=True) -> L.Decorations:
    """Title, subtitle, legend and attribution of a pattern's slide image
    (``view``: a view name, or the list of a plate's panels)."""
    named = title and pattern is not None
    views = [view] if isinstance(view, str) else list(view)
    if len(views) == 1:
        where = VIEW_WORDS.get(views[0], views[0] + " view")
    else:
        words = [PANEL_WORDS[v].split(" (")[0].lower() for v in views]
        where = ", ".join(words[:-1]) + " and " + words[-1]
    return L.Decorations(
        title=f"{pattern.muscle.name}: referred pain" if named else None,
        subtitle=_subtitle(pattern, where) if named else None,
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
        """Image pixels of canonical points under this frame's orthographic camera.

        Parameters
        ----------
        pts : numpy.ndarray, shape (N, 3) or (3,)
            Canonical mm.

        Returns
        -------
        numpy.ndarray, shape (N, 2)
            x to the right and y down, in pixels of an image of ``size``.
        """
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
    skin_vertices = _view_skin(skin_vertices, view, side)
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
        else:
            # wider than the body: centre the body (not the pattern) unless that cuts the pattern
            mid = (blo[axis] + bhi[axis]) / 2
            if uv[:, axis].min() >= mid - ext[axis] / 2 and uv[:, axis].max() <= mid + ext[axis] / 2:
                c[axis] = mid
    depth = float(np.mean(skin_vertices @ d))
    centre = c[0] * right + c[1] * up + depth * d
    return Frame(view, centre, right, up, d, float(h), tuple(size))


def _view_skin(skin_vertices, view, side):
    """The skin a view shows: one half for the medial view, the feet for the view from below."""
    half = style.kept_half(view, side)
    if half is not None:
        return skin_vertices[skin_vertices[:, 0] * half >= 0]
    if view == "inferior":
        return skin_vertices[skin_vertices[:, 2] <= INFERIOR_CLIP_Z_MM]
    return skin_vertices


def _clip_plane(view, side):
    """The clipping plane of a view (VTK keeps the side its normal points to), or None."""
    half = style.kept_half(view, side)
    if half is None and view != "inferior":
        return None
    plane = vtkPlane()
    if half is not None:
        plane.SetOrigin(0.0, 0.0, 0.0)
        plane.SetNormal(float(half), 0.0, 0.0)
    else:
        plane.SetOrigin(0.0, 0.0, INFERIOR_CLIP_Z_MM)
        plane.SetNormal(0.0, 0.0, -1.0)
    return plane


def panel_extents(skin_vertices, focus_pts, view, side="right"):
    """(content, limit): the extent (width, height) in mm a panel needs to show its focus
    points with some body around them, and the most it can show without going past the
    body (in this view)."""
    d, up = style.view_vectors(view, side)
    right = np.cross(d, up)
    skin = _view_skin(skin_vertices, view, side)
    buv = np.column_stack([skin @ right, skin @ up])
    blim = np.ptp(buv, axis=0) + 2 * PAD_MM
    uv = np.column_stack([focus_pts @ right, focus_pts @ up])
    ext = np.ptp(uv, axis=0)
    need = ext + 2 * (PAD_FRACTION * ext.max() + PAD_MM)
    need = np.maximum(need, PANEL_MIN_MM)
    need = np.minimum(need, np.maximum(blim, ext + 2 * PAD_MM))
    return need, np.maximum(blim, need)


def frame_panel(skin_vertices, focus_pts, view, extent_mm, size, side="right") -> Frame:
    """The frame of a plate's panel: ``extent_mm`` (width, height) of the view plane
    around the focus points, slid over the body rather than past it, centred on the
    body where it is wider than the body."""
    d, up = style.view_vectors(view, side)
    right = np.cross(d, up)
    skin = _view_skin(skin_vertices, view, side)
    buv = np.column_stack([skin @ right, skin @ up])
    blo, bhi = buv.min(axis=0) - PAD_MM, buv.max(axis=0) + PAD_MM
    uv = np.column_stack([focus_pts @ right, focus_pts @ up])
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    c = (lo + hi) / 2
    ext = np.asarray(extent_mm, dtype=float)
    for axis in (0, 1):
        e = ext[axis]
        if e >= bhi[axis] - blo[axis]:
            c[axis] = (blo[axis] + bhi[axis]) / 2
        else:
            c_lo, c_hi = blo[axis] + e / 2, bhi[axis] - e / 2          # inside the body
            k_lo, k_hi = hi[axis] - e / 2, lo[axis] + e / 2            # the focus inside the frame
            a, b = max(c_lo, k_lo), min(c_hi, k_hi)
            c[axis] = min(max(c[axis], a), b) if a <= b else min(max(c[axis], k_lo), k_hi)
    depth = float(np.mean(skin @ d))
    centre = c[0] * right + c[1] * up + depth * d
    return Frame(view, centre, right, up, d, float(ext[1]),
                 (int(size[0]), int(size[1])))


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
        """Close the off-screen plotter (also on leaving a ``with`` block)."""
        self.plotter.close()

    def _set_size(self, size) -> None:
        """Resize the off-screen window without rendering (pyvista's window_size setter
        renders a frame with the old camera: a wasted software-OpenGL frame per image)."""
        self.plotter.render_window.SetSize(int(size[0]), int(size[1]))
        self.plotter._window_size_unset = False

    # -- geometry -------------------------------------------------------------
    def _locator(self):
        if self._obb is None:
            self._obb = vtkOBBTree()
            self._obb.SetDataSet(self.scene.skin)
            self._obb.BuildLocator()
        return self._obb

    def visible(self, points: np.ndarray, direction: np.ndarray, half: float | None = None) -> np.ndarray:
        """True for skin points not hidden by the body when looking along ``direction``:
        a ray from just above the point toward the camera must not hit the skin (with
        ``half``, the medial view's cut: only skin before the midline counts)."""
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
        """Put a pattern on the off-screen body (once; the muscle mesh stays hidden under the skin).

        Parameters
        ----------
        pattern : Pattern
        """
        if pattern is not self._pattern:
            self.scene.show_pattern(pattern, render=False)
            if self.scene.highlight_actor is not None:
                # The muscle is under the opaque skin; only its specks where it
                # pokes through would show, as stray purple dots.
                self.scene.highlight_actor.SetVisibility(False)
            self._pattern = pattern

    def focus_points(self, pattern) -> np.ndarray:
        """The points a frame must show: the painted skin of `pattern` and its trigger points.

        Parameters
        ----------
        pattern : Pattern or None
            Shown first; None keeps the pattern already shown.

        Returns
        -------
        numpy.ndarray, shape (N, 3)
            Canonical mm.
        """
        if pattern is not None:
            self.show(pattern)          # the zones are the scene's: this pattern's, not the last one's
        pts = [self.model.pack.skin_vertices[self.scene.skin_value > 0.2]]
        if pattern is not None and pattern.trigger_points:
            pts.append(np.array([xyz for _, xyz in pattern.trigger_points]))
        return np.vstack(pts)

    # -- rendering --------------------------------------------------------------
    def body(self, pattern, view: str | None, size, theme="light", *, frame: Frame | None = None):
        """The 3D render alone, RGBA, with a transparent background, framed on the
        pattern (or by ``frame``).

        Returns
        -------
        (image (H, W, 4) uint8, view name, list of TriggerPointView)
        """
        th = style.theme(theme)
        self.show(pattern)
        if view in (None, "best"):
            view = self._best(pattern)
        size = (max(16, int(size[0])), max(16, int(size[1])))
        self._set_size(size)
        side = pattern.side if pattern is not None else "right"
        self.scene.set_half(style.kept_half(view, side))
        if view == "inferior":
            for actor in (self.scene.skin_actor, self.scene.bone_actor):
                if actor is not None:
                    actor.GetMapper().AddClippingPlane(_clip_plane(view, side))
        fr = frame if frame is not None else \
            frame_pattern(self.model.pack.skin_vertices, self.focus_points(pattern), view, size, side)
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
            if view == "inferior":                       # above the cut of the view from below
                vis &= xyz[:, 2] <= INFERIOR_CLIP_Z_MM
            xy = fr.to_pixels(xyz)
            tps = [TriggerPointView(label, (float(x), float(y)), bool(v))
                   for (label, _), (x, y), v in zip(pattern.trigger_points, xy, vis)]
        return img, view, tps

    def render(self, pattern, *, view: str | None = None, size=DEFAULT_SIZE, theme="light",
               transparent: bool = False, title: bool = True, legend: bool = True,
               attribution: bool = True, labels: bool = True, label_scale: float = 1.0,
               label_px: int | None = None) -> np.ndarray:
        """One slide image (H, W, 4) uint8 with title, legend, attribution and labels of
        the visible trigger points. ``view`` None or 'best' makes a plate: as many
        panels (1-3) as it takes to show every essential zone part and trigger point
        (see :meth:`plate`); a view name gives that one view. ``label_px`` sets the
        labels' font size in pixels (else the layout's, times ``label_scale``).
        The panels drawn are kept in ``self.last_panels`` (view, Frame, box)."""
        th = style.theme(theme)
        side = pattern.side if pattern is not None else "right"
        if view in (None, "best") and pattern is not None:
            views, focus = self.plate(pattern)
        else:
            v = view if view not in (None, "best") else self._best(pattern)
            views, focus = [v], {v: self.focus_points(pattern)}
        deco = slide_decorations(pattern, views if len(views) > 1 else views[0], title=title, legend=legend,
                                 attribution=attribution)
        plan = L.plan(size, deco)
        plan.px["label"] = max(8, round(label_px if label_px else plan.px["label"] * label_scale))
        many = len(views) > 1
        cap_font = L.font(max(plan.px["legend"], plan.px["label"]))      # as readable as the labels
        cap_h = L.line_height(cap_font) if many else 0
        skin = self.model.pack.skin_vertices

        def arrange(views, focus, cap_h):
            ext = [panel_extents(skin, focus[v], v, side) for v in views]
            return L.arrange_panels(plan.body, [e[0] for e in ext], [e[1] for e in ext],
                                    gap=plan.px["margin"], caption=cap_h)

        boxes = arrange(views, focus, cap_h)
        if view in (None, "best") and pattern is not None and len(views) < PLATE_MAX_PANELS:
            # a plate filling less than half the slide's width gets one more view of the zone
            # if it shows it well and the figure stays as large
            used = (boxes[-1][0][2] - boxes[0][0][0]) / max(1, plan.body[2] - plan.body[0])
            extra = self._extra_view(pattern, views) if used < 0.5 else None
            if extra is not None:
                views2, focus2 = self._plate_focus(pattern, views + [extra])
                cap2 = L.line_height(cap_font)
                boxes2 = arrange(views2, focus2, cap2)
                scale = lambda bx: (bx[0][0][3] - bx[0][0][1]) / bx[0][1][1]     # noqa: E731
                if scale(boxes2) >= 0.9 * scale(boxes):
                    views, focus, boxes, cap_h, many = views2, focus2, boxes2, cap2, True
                    deco = slide_decorations(pattern, views, title=title, legend=legend,
                                             attribution=attribution)
                    label = plan.px["label"]
                    plan = L.plan(size, deco)              # the subtitle changed
                    plan.px["label"] = label
                    boxes = arrange(views, focus, cap_h)
        bx0, by0, bx1, by1 = plan.body
        canvas = np.zeros((by1 - by0, bx1 - bx0, 4), np.uint8)
        marks, anchors, texts, captions, self.last_panels = [], [], [], [], []
        labelled = set()
        for v, (box, extent) in zip(views, boxes):
            x0, y0, x1, y1 = box
            fr = frame_panel(skin, focus[v], v, extent, (x1 - x0, y1 - y0), side)
            img, _, tps = self.body(pattern, v, (x1 - x0, y1 - y0), th, frame=fr)
            img = _drop_edge_slivers(img)
            h, w = img.shape[:2]
            canvas[y0 - by0:y0 - by0 + h, x0 - bx0:x0 - bx0 + w] = img
            self.last_panels.append((v, fr, (x0, y0, x0 + w, y0 + h)))
            # a trigger point is labelled once: in the first panel that shows it
            for t in tps:
                px, py = x0 + t.xy[0], y0 + t.xy[1]
                if not t.visible or not (x0 <= px < x0 + w and y0 <= py < y0 + h):
                    continue
                marks.append(((px, py), round(plan.px["label"] * 0.42), style.TRIGGER_POINT))
                if t.label not in labelled:
                    labelled.add(t.label)
                    anchors.append((px, py))
                    texts.append(t.label)
            if many:
                captions.append(((x0 + x1) // 2, y1 + cap_h // 2, PANEL_WORDS.get(v, v)))
        avoid = [(cx - cap_font.getlength(t) / 2 - 4, cy - cap_h / 2, cx + cap_font.getlength(t) / 2 + 4,
                  cy + cap_h / 2) for cx, cy, t in captions]
        placed = []
        if labels and anchors:
            placed = L.place_labels(anchors, texts, plan.body, plan.px["label"], avoid=avoid)
            placed = [p for p in placed if p["box"] is not None]
        out = L.compose(canvas, plan, deco, th, transparent=transparent, labels=placed, marks=marks)
        if captions:
            im = Image.fromarray(out, "RGBA")
            draw = ImageDraw.Draw(im)
            for cx, cy, text in captions:
                L._text(draw, (cx, cy), text, cap_font, th.muted, th.halo if transparent else None, anchor="mm")
            out = np.asarray(im)
        return out

    # -- plates -----------------------------------------------------------------
    def _adjacency(self):
        if getattr(self, "_adj", None) is None:
            f = np.asarray(self.model.pack.skin_faces)
            e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
            n = len(self.model.pack.skin_vertices)
            a = sp.coo_matrix((np.ones(len(e), np.int8), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
            self._adj = (a + a.T).tocsr()
        return self._adj

    def zone_parts(self, mask: np.ndarray) -> np.ndarray:
        """(V,) connected part of the skin region ``mask`` each vertex is in (-1 outside)."""
        idx = np.nonzero(mask)[0]
        out = np.full(len(mask), -1, np.int64)
        if not len(idx):
            return out
        sub = self._adjacency()[idx][:, idx]
        _, lab = connected_components(sub, directed=False)
        out[idx] = lab
        return out

    def coverage(self, pattern) -> dict:
        """What each candidate view shows of a pattern, measured on low-resolution
        renders: visible pixels of each connected part of the essential zone and of
        the whole painted area (at PROBE_PX_PER_MM, the same scale in every view, so
        areas compare), and which trigger points are not hidden by the body."""
        cache = self.__dict__.setdefault("_coverage", {})
        if pattern.index in cache:
            return cache[pattern.index]
        self.show(pattern)
        sc, pack = self.scene, self.model.pack
        ess_lab = self.zone_parts(sc._ess >= 0.5)
        paint_lab = self.zone_parts(sc.skin_value > 0.2)
        n_ess, n_paint = int(ess_lab.max()) + 1, int(paint_lab.max()) + 1
        tps = np.array([xyz for _, xyz in pattern.trigger_points]).reshape(-1, 3)
        zs = [float(pack.skin_vertices[ess_lab == k, 2].mean()) for k in range(n_ess)]
        zs = zs or [float(np.average(pack.skin_vertices[:, 2], weights=sc.skin_value + 1e-9))]
        views = [v for v in PANEL_ORDER if any(v in style.best_view_candidates(pattern.side, z) for z in zs)]
        pts = np.vstack([pack.skin_vertices[paint_lab >= 0], tps]) if (paint_lab >= 0).any() or len(tps) \
            else pack.skin_vertices
        ess_px = np.zeros((len(views), n_ess))
        paint_px = np.zeros((len(views), n_paint))
        tp_vis = np.zeros((len(views), len(tps)), bool)
        tp_face = np.zeros((len(views), len(tps)))
        tp_n = pack.skin_normals[self.model.geo.snap(tps)[0]] if len(tps) else np.zeros((0, 3))
        # a view no painted skin faces shows none of it: no need to render it
        painted_n = pack.skin_normals[paint_lab >= 0]
        empty = np.zeros(0, np.int64)
        faced = [bool(len(painted_n)) and bool((painted_n @ -style.view_vectors(v, pattern.side)[0] > 0.05).any())
                 for v in views]
        actor = self._id_actor(ess_lab, paint_lab) if any(faced) else None
        try:
            probes = [self._probe(pattern, v, pts, actor) if f else (empty, empty) for v, f in zip(views, faced)]
        finally:
            self.plotter.remove_actor("skin_ids", render=False)
        for i, v in enumerate(views):
            d, _ = style.view_vectors(v, pattern.side)
            half = style.kept_half(v, pattern.side)
            r, g = probes[i]
            ess_px[i] = np.bincount(r[r > 0] - 1, minlength=n_ess)[:n_ess]
            paint_px[i] = np.bincount(g[g > 0] - 1, minlength=n_paint)[:n_paint]
            if len(tps):
                tp_face[i] = -(tp_n @ d)
                # seen: not hidden, and facing the camera (not on the silhouette's edge
                # or seen past the heel from below); cut away by the view's plane: not seen
                tp_vis[i] = self.visible(tps, d, half=half) & (tp_face[i] > TP_MIN_FACING)
                if v == "inferior":
                    tp_vis[i] &= tps[:, 2] <= INFERIOR_CLIP_Z_MM
        out = dict(views=views, ess_labels=ess_lab, paint_labels=paint_lab, ess_px=ess_px, paint_px=paint_px,
                   tp_visible=tp_vis, tp_facing=tp_face)
        cache[pattern.index] = out
        return out

    def _id_actor(self, ess_lab, paint_lab):
        """An unlit copy of the skin whose triangles carry their zone parts as colours:
        R = essential part + 1, G = painted part + 1, B a checksum (so pixels blended
        at anti-aliased edges are not read as another part)."""
        f = np.asarray(self.model.pack.skin_faces)

        def per_face(lab):
            a, b, c = lab[f[:, 0]], lab[f[:, 1]], lab[f[:, 2]]
            return np.where((a == b) & (b == c) & (a >= 0), np.minimum(a + 1, 255), 0)

        r, g = per_face(ess_lab), per_face(paint_lab)
        rgb = np.column_stack([r, g, _checksum(r, g)]).astype(np.uint8)
        mesh = pv.PolyData(self.scene.skin.points, self.scene.skin.faces)
        mesh.cell_data["ids"] = rgb
        actor = self.plotter.add_mesh(mesh, scalars="ids", rgb=True, preference="cell", lighting=False,
                                      name="skin_ids", pickable=False, reset_camera=False, render=False)
        actor.GetProperty().BackfaceCullingOn()
        mapper = actor.GetMapper()
        mapper.SetScalarModeToUseCellFieldData()
        mapper.SelectColorArray("ids")
        mapper.SetColorModeToDirectScalars()
        return actor

    def _probe(self, pattern, view, pts, actor):
        """Render the zone parts in one view at PROBE_PX_PER_MM; (R, G) arrays of the
        pixels' part numbers + 1 (0: none)."""
        side = pattern.side
        d, up = style.view_vectors(view, side)
        right = np.cross(d, up)
        uv = np.column_stack([pts @ right, pts @ up])
        lo, hi = uv.min(axis=0) - PAD_MM, uv.max(axis=0) + PAD_MM
        size = np.maximum(16, np.ceil((hi - lo) * PROBE_PX_PER_MM)).astype(int)
        c = (lo + hi) / 2
        skin = _view_skin(self.model.pack.skin_vertices, view, side)
        centre = c[0] * right + c[1] * up + float(np.mean(skin @ d)) * d
        actor.GetMapper().RemoveAllClippingPlanes()
        plane = _clip_plane(view, side)
        if plane is not None:
            actor.GetMapper().AddClippingPlane(plane)
        shown = [a for a in (self.scene.skin_actor, self.scene.bone_actor) if a is not None and a.GetVisibility()]
        for a in shown:
            a.SetVisibility(False)
        try:
            self._set_size(size)
            cam = self.plotter.camera
            cam.parallel_projection = True
            cam.focal_point = centre
            cam.position = centre - d * 3000.0
            cam.up = up
            cam.parallel_scale = size[1] / PROBE_PX_PER_MM / 2
            self.plotter.renderer.ResetCameraClippingRange()
            self.plotter.set_background("black")
            self.plotter.render()
            img = np.asarray(self.plotter.screenshot(None, return_img=True))[..., :3].astype(np.int64)
        finally:
            for a in shown:
                a.SetVisibility(True)
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        ok = (b == _checksum(r, g)) & ((r > 0) | (g > 0))
        return np.where(ok, r, 0).ravel(), np.where(ok, g, 0).ravel()

    def plate_views(self, pattern) -> list[str]:
        """The smallest set of views (1 to PLATE_MAX_PANELS) that shows every essential
        zone part (at COVER_FRACTION of the visible area of its best view) and every
        trigger point that some view shows; among sets of that size the one showing
        most; in PANEL_ORDER."""
        cov = self.coverage(pattern)
        views, A = cov["views"], cov["ess_px"]
        best = A.max(axis=0) if A.size else np.zeros(0)
        need = best >= MIN_PART_PX
        tp = cov["tp_visible"]
        tp_need = tp.any(axis=0) if tp.size else np.zeros(0, bool)
        cut = np.array([style.kept_half(v, pattern.side) is not None or v == "inferior" for v in views])

        def score(S):
            idx = list(S)
            shown = (A[idx].max(axis=0) >= COVER_FRACTION * best) | ~need if A.size else np.ones(0, bool)
            seen = tp[idx].any(axis=0) | ~tp_need if tp.size else np.ones(0, bool)
            part = float((A[idx].max(axis=0) / np.maximum(best, 1))[need].sum()) if A.size else 0.0
            # ties (e.g. a front zone with the points seen from the side or from behind) go to
            # the set that sees the trigger points most squarely
            face = float(np.where(tp[idx], cov["tp_facing"][idx], 0).max(axis=0).sum()) if tp.size else 0.0
            return (bool(shown.all() and seen.all()), int(shown.sum() + seen.sum()),
                    part + 0.5 * float(tp[idx].any(axis=0).sum() if tp.size else 0) + 0.2 * face
                    - 0.3 * float(cut[idx].sum()))

        fallback = None
        for k in range(1, min(PLATE_MAX_PANELS, len(views)) + 1):
            scored = [(score(S), S) for S in combinations(range(len(views)), k)]
            full = [x for x in scored if x[0][0]]
            if full:
                S = max(full, key=lambda x: x[0][2])[1]
                return [views[i] for i in S]
            top = max(scored, key=lambda x: (x[0][1], x[0][2]))
            if fallback is None or top[0][1:] > fallback[0][1:]:
                fallback = top
        return [views[i] for i in fallback[1]] if fallback else ["anterior"]

    def plate(self, pattern) -> tuple[list[str], dict]:
        """The views of a pattern's plate and, for each, the points its panel is framed
        on: each painted zone part and each trigger point goes to the panel that shows
        it best (parts by visible area, points by how squarely they face the camera)."""
        return self._plate_focus(pattern, self.plate_views(pattern))

    def _extra_view(self, pattern, views) -> str | None:
        """A further view worth a panel when the plate leaves the slide half empty: the
        one showing most of the essential zone (on average at least EXTRA_VIEW_MIN of each part's
        best visible area), not a cut view."""
        cov = self.coverage(pattern)
        A = cov["ess_px"]
        if not A.size:
            return None
        best = A.max(axis=0)
        need = best >= MIN_PART_PX
        if not need.any():
            return None
        scores = {}
        for i, v in enumerate(cov["views"]):
            if v in views or v in ("medial", "inferior"):
                continue
            scores[v] = float((A[i] / np.maximum(best, 1))[need].mean())
        if not scores:
            return None
        v = max(scores, key=scores.get)
        return v if scores[v] >= EXTRA_VIEW_MIN else None

    def _plate_focus(self, pattern, views) -> tuple[list[str], dict]:
        views = [v for v in PANEL_ORDER if v in views]
        cov = self.coverage(pattern)
        rows = [cov["views"].index(v) for v in views]
        pack = self.model.pack
        focus = {v: [] for v in views}
        P = cov["paint_px"][rows]
        lab = cov["paint_labels"]
        for k in range(P.shape[1]):
            if P[:, k].max() <= 0:
                continue
            focus[views[int(np.argmax(P[:, k]))]].append(pack.skin_vertices[lab == k])
        tps = np.array([xyz for _, xyz in pattern.trigger_points]).reshape(-1, 3)
        for j in range(len(tps)):
            vis = cov["tp_visible"][rows, j]
            face = np.where(vis, cov["tp_facing"][rows, j], -np.inf)
            if vis.any():
                focus[views[int(np.argmax(face))]].append(tps[j:j + 1])
        out = {}
        for i, v in enumerate(views):
            if not focus[v]:            # shows a part another panel shows better: frame on what it shows
                E = cov["ess_px"][rows[i]]
                keep = [k for k in range(len(E)) if E[k] > 0] or range(len(E))
                focus[v] = [pack.skin_vertices[np.isin(cov["ess_labels"], list(keep))]]
            pts = np.vstack(focus[v])
            out[v] = pts if len(pts) else self.focus_points(pattern)
        return views, out

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
        ``view``), captioned, under one title, legend and attribution. What all
        captions would repeat (the side) is said once, under the title; a caption
        that does not fit its cell is set smaller, then on two lines; each picture is
        cut to its cell, without bits of body cut off at its edges."""
        th = style.theme(theme)
        sides = {p.side for p in patterns}
        one_side = len(sides) == 1
        sub = f"{len(patterns)} patterns"
        if one_side and next(iter(sides)) != "midline" and f"{next(iter(sides))} side" not in title.lower():
            sub += f", {next(iter(sides))} side"
        if view:
            sub += f", {VIEW_WORDS.get(view, view + ' view')}"
        # a sheet holds one kind of source (gallery groups them so): its colours and words
        kind_of = next((p for p in patterns if p.kind != "muscle"), None)
        deco = L.Decorations(title=title, subtitle=sub, legend=legend_items(kind_of),
                             attribution=f"{ATTRIBUTION} Patterns: see each pattern's sources. {DISCLAIMER_SHORT}")
        plan = L.plan(size, deco)
        bx0, by0, bx1, by1 = plan.body
        bw, bh = bx1 - bx0, by1 - by0
        cap_px = max(8, round(plan.px["legend"] * 0.85))
        texts = [p.muscle.name if one_side else f"{p.muscle.name} ({p.side})" for p in patterns]
        n = max(1, len(patterns))

        def grid(c):
            return c, math.ceil(n / c)

        # the caption block of a grid: one line if every caption fits its cell at >= 80% size, else two
        def cap_lines(cw):
            return 1 if all(L.font(max(8, round(cap_px * 0.8))).getlength(t) <= cw - 8 for t in texts) else 2

        def score(c):
            cols, rows = grid(c)
            ch_ = L.line_height(L.font(cap_px)) * cap_lines(bw // cols)
            return _cell_score(bw, bh - ch_ * rows, cols, rows)

        cols, rows = grid(max(range(1, n + 1), key=score))
        cw, ch = bw // cols, bh // rows
        lines = cap_lines(cw)
        cap_h = L.line_height(L.font(cap_px)) * lines
        canvas = np.zeros((bh, bw, 4), np.uint8)
        marks, captions = [], []
        for i, p in enumerate(patterns):
            r, c = divmod(i, cols)
            # a gap between cells, so one cell's hand does not run into the next one's
            pad = max(3, plan.px["margin"] // 4)
            pic_w, pic_h = cw - 2 * pad, ch - cap_h - 2 * pad
            img, vname, tps = self.body(p, view, (pic_w, pic_h), th)
            # only this cell's picture, and no hand or elbow cut off at its edge
            img = _drop_edge_slivers(img, SHEET_SLIVER)[:pic_h, :pic_w]
            x, y = c * cw + pad, r * ch + pad                   # within the body box
            canvas[y:y + img.shape[0], x:x + img.shape[1]] = img
            marks += [((bx0 + x + t.xy[0], by0 + y + t.xy[1]), max(3, round(plan.px["label"] * 0.28)),
                       style.TRIGGER_POINT) for t in tps
                      if t.visible and 3 <= t.xy[0] < pic_w - 3 and 3 <= t.xy[1] < pic_h - 3]
            captions.append((bx0 + c * cw + cw // 2, by0 + y + pic_h + pad, texts[i]))
        out = L.compose(canvas, plan, deco, th, transparent=transparent, marks=marks)

        im = Image.fromarray(out, "RGBA")
        draw = ImageDraw.Draw(im)
        halo = th.halo if transparent else None
        # one size for every caption of the sheet: the largest at which all fit (on `lines` lines)
        sizes = [max(8, round(cap_px * k)) for k in (1.0, 0.9, 0.8, 0.7)]
        size_ = next((z for z in sizes if all(_fits(t, L.font(z), cw - 8, lines) for t in texts)), sizes[-1])
        for cx, top, text in captions:
            f_, rows_ = fit_caption(text, size_, cw - 8, lines, scales=(1.0,))
            lh = L.line_height(f_)
            y = top + (cap_h - lh * len(rows_)) // 2 + lh // 2
            for k, line in enumerate(rows_):
                L._text(draw, (cx, y + k * lh), line, f_, th.text, halo, anchor="mm")
        return np.asarray(im)


def _fits(text, f, width, lines) -> bool:
    rows = [text] if f.getlength(text) <= width else L.wrap(text, f, width)
    return len(rows) <= lines and all(f.getlength(r) <= width for r in rows)


def fit_caption(text: str, size_px: int, width: float, max_lines: int = 2, scales=None):
    """(font, lines) of a caption set in ``width`` pixels: full size on one line if it
    fits, else down to 80% size, else wrapped on up to ``max_lines`` lines (down to 70%
    size), shortened with an ellipsis only if even that does not fit (``scales``: the
    sizes to try, as fractions of ``size_px``)."""
    one = [k for k in (scales or (1.0, 0.9, 0.8))]
    for scale in one:
        f = L.font(max(8, round(size_px * scale)))
        if f.getlength(text) <= width:
            return f, [text]
    if max_lines > 1:
        for scale in (scales or (1.0, 0.9, 0.8, 0.7)):
            f = L.font(max(8, round(size_px * scale)))
            rows = L.wrap(text, f, width)
            if len(rows) <= max_lines and all(f.getlength(r) <= width for r in rows):
                return f, rows
    f = L.font(max(8, round(size_px * min(scales or (0.7,)))))
    rows = L.wrap(text, f, width)[:max_lines] or [text]
    last = rows[-1]
    while f.getlength(last + "…") > width and len(last) > 1:
        last = last[:-1].rstrip()
    if last != rows[-1] or len(L.wrap(text, f, width)) > max_lines:
        rows[-1] = last + "…"
    return f, rows


def _cell_score(bw, bh, cols, rows) -> float:
    """Area of the largest 3:4 (portrait) picture that fits a grid cell."""
    cw, ch = bw / cols, max(1.0, bh / rows)
    return min(cw, ch * 0.75) ** 2


def _checksum(r, g):
    return (np.asarray(r, np.int64) * 37 + np.asarray(g, np.int64) * 91 + 101) % 256


def _drop_edge_slivers(img: np.ndarray, fraction: float = 0.04) -> np.ndarray:
    """Remove bits of body at a picture's edge that are cut off from the rest (the tip of
    a hand, a sliver of the other arm): connected opaque blobs touching the border that
    are small next to the largest one."""
    solid = img[..., 3] > 0
    lab, n = ndimage.label(solid)
    if n <= 1:
        return img
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    sizes[0] = 0
    border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    drop = [k for k in border if k and sizes[k] < fraction * sizes.max()]
    if not drop:
        return img
    img = img.copy()
    img[np.isin(lab, drop)] = 0
    return img


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
    """Write an image as PNG, atomically.

    Parameters
    ----------
    img : array_like, shape (H, W, 3) or (H, W, 4), uint8
    out : str or Path

    Returns
    -------
    Path
        `out`.
    """
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
            ids.add(model.resolve(q, what="muscles").id)
    out = []
    for p in model.patterns:
        # a midline or one-sided source (the bladder, the heart) has one pattern: always its own
        only = len(model.patterns_of(p.muscle.id)) == 1
        if p.side not in sides and not only:
            continue
        if ids is not None or regions:
            # a body region selects its muscles; a kind (joint, root, nerve, organ) every source of it
            in_region = regions and ((p.kind == "muscle" and p.muscle.body_region in regions) or p.kind in regions)
            if not ((ids and p.muscle.id in ids) or in_region):
                continue
        out.append(p)
    return out


def gallery(model, out_dir: str | Path, *, views=("best",), size=DEFAULT_SIZE, progress=None,
            cancelled=lambda: False, sides=("right",), theme: str = "light", transparent: bool = False,
            muscles=None, regions=None, contact_sheets: bool = False, images: bool = True,
            overwrite: bool = True) -> list[Path]:
    """Images of many patterns: one per muscle, side and view (``images``; 'best' is
    the plate, MUSCLE_SIDE_plate.png),
    and with ``contact_sheets`` one sheet per body region and side. Reuses one
    plotter for speed; ``progress(i, n, path)`` after each file, stops early
    when ``cancelled()``. File names are unique and never empty (two muscles whose
    names slug alike get their FMA ids appended). With ``overwrite=False`` nothing is
    rendered when any of the files already exists (a ViewerError names it)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pats = select_patterns(model, sides=sides, muscles=muscles, regions=regions)
    jobs = []
    with Exporter(model) as ex:
        if images:      # 'best' is the plate (1-3 panels), written as MUSCLE_SIDE_plate.png
            for p in pats:
                jobs += [("image", p, "plate" if v == "best" else v) for v in dict.fromkeys(views)]
        if contact_sheets:
            groups: dict = {}
            for p in pats:   # one sheet per body region (muscles) or per kind (the other sources), per side
                group = p.muscle.body_region if p.kind == "muscle" else p.kind
                groups.setdefault((group, p.side), []).append(p)
            for g in groups.values():     # roots and joints in spinal order (C2 ... T12, L1 ... S4-5)
                g.sort(key=lambda p: level_key(p.muscle))
            jobs += [("sheet", g, key) for key, g in sorted(groups.items())]
        paths = gallery_names(jobs, out_dir)
        if not overwrite:
            there = [p for p in paths if p.exists() or p.is_symlink()]
            if there:
                more = f" and {len(there) - 1} more" if len(there) > 1 else ""
                raise ExistingFiles(f"{there[0]}{more} already exist(s); nothing was written.", there)
        return _gallery_jobs(ex, jobs, paths, size, theme, transparent, progress, cancelled)


def _gallery_jobs(ex, jobs, paths, size, theme, transparent, progress, cancelled) -> list[Path]:
    """Render and write the gallery's images and contact sheets with one exporter."""
    written = []
    for i, (kind, what, key) in enumerate(jobs):
        if cancelled():
            break
        if kind == "image":
            img = ex.render(what, view=None if key == "plate" else key, size=size, theme=theme,
                            transparent=transparent)
        else:
            region, side = key
            where = SHEET_TITLES.get(region, region.replace('_', ' ').capitalize())
            img = ex.contact_sheet(what, title=f"{where}: referred-pain patterns"
                                               + ("" if side == "midline" else f" ({side} side)"),
                                   size=size, theme=theme, transparent=transparent)
        written.append(write_png(img, paths[i]))
        if progress:
            progress(i + 1, len(jobs), written[-1])
    return written


class ExistingFiles(ExistingOutput):
    """gallery(overwrite=False) found files it would replace (``paths``); nothing was written."""

    def __init__(self, what: str, paths):
        super().__init__(what, paths, path="out_dir", fix="allow replacing them (overwrite=True), or give an "
                                                          "empty folder.")


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
