"""The public Python API: load the model, look up a spot or an area, render a pattern.

Example
-------
>>> import viewer.api as rv
>>> model = rv.load()                                  # the built pack and every map
>>> [c.name for c in rv.lookup(model, (-165, -75, 801)).candidates][:3]
>>> rv.render(model, "gluteus minimus", out="gmin.png", size=(800, 600))

Errors are `viewer.errors.ViewerError` (one paragraph) and name the argument
that was wrong (``point``, ``radius_mm``, ...), never a command-line flag.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from viewer import atomic, safeio
from viewer.anatomy.pack import load_pack
from viewer.constants import DEFAULT_RADIUS_MM, DEFAULT_SIZE, MAX_SIZE, SIDES, VIEW_CHOICES, VIEWS
from viewer.errors import ViewerError
from viewer.referral import lookup as L
from viewer.referral.lookup import check_area_work
from viewer.referral.model import load_model
from viewer.referral.schema import KINDS

MAX_COORD_MM = 3000.0      # the body is < 2 m tall; anything beyond is a unit or typing error
MAX_RADIUS_MM = 300.0      # a disc larger than a thigh's length is no longer a "spot"
MAX_AREA_POINTS = 100_000
MAX_NAME_CHARS = 200       # a source's name is short: a 100 KB name is refused, not echoed back
PAGES = ("A4", "Letter")

__all__ = ["load", "lookup", "lookup_area", "muscles", "sources", "patterns", "find", "render", "show",
           "export", "export_all", "handout",
           "as_point", "as_points", "as_radius", "as_top", "as_size", "as_views", "as_name", "read_points",
           "check_area", "check_png_path", "check_pdf_path", "check_out_dir", "check_new_file", "check_notes", "ViewerError"]


# -- argument checks (shared with the CLI, which passes its flag names) ----------
def as_point(value, name: str = "point") -> np.ndarray:
    """A finite canonical-frame point in mm as a float64 array of shape (3,).

    Raises
    ------
    ViewerError
        Not three finite numbers within +-3000 mm; the message names ``name``.
    """
    pts = _numbers(value, name, shape="three numbers [x, y, z]")
    if pts.shape != (3,):
        raise _arg(name, f"must be three numbers [x, y, z] in mm, got shape {pts.shape}.")
    _bounded(pts, name)
    return pts


def as_points(value, name: str = "points") -> np.ndarray:
    """A painted area: a non-empty list of [x, y, z] points, as an (N, 3) float64 array.

    Raises
    ------
    ViewerError
        Empty, ragged, not numbers, non-finite, out of range or more than 100,000 points.
    """
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) == 0:
        raise _arg(name, "must be a non-empty list of [x, y, z] points in mm, e.g. [[-150, 60, 900]].")
    if len(value) > MAX_AREA_POINTS:
        raise _arg(name, f"has {len(value):,} points; at most {MAX_AREA_POINTS:,} are allowed.")
    for i, p in enumerate(value):
        if not isinstance(p, (list, tuple, np.ndarray)) or len(p) != 3:
            raise _arg(f"{name}[{i}]", f"must be a point [x, y, z] in mm, got {_short(p)}.")
    pts = _numbers(value, name, shape="a list of [x, y, z] points")
    _bounded(pts, name)
    return pts.reshape(-1, 3)


def as_radius(value, name: str = "radius_mm", *, allow_none: bool = True) -> float | None:
    """A radius in mm: None (no disc), or a finite number in (0, 300].

    Raises
    ------
    ViewerError
        Negative, zero, infinite, NaN or larger than 300 mm.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise _arg(name, f"must be a number of millimetres, got {_short(value)}.")
    v = float(value)
    if not (math.isfinite(v) and 0 < v <= MAX_RADIUS_MM):
        raise _arg(name, f"must be more than 0 and at most {MAX_RADIUS_MM:.0f} mm, got {value}.")
    return v


def as_top(value, name: str = "top") -> int:
    """How many candidates to return: a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise _arg(name, f"must be a whole number of at least 1, got {_short(value)}.")
    return int(value)


def read_points(path, name: str = "points file") -> np.ndarray:
    """Read a painted area from a JSON file holding a list of [x, y, z] points (mm).

    Raises
    ------
    ViewerError
        Not a regular file, too large, not JSON, or not a valid list of points.
    """
    fix = 'give a JSON list of [x, y, z] points in mm, e.g. [[-150, 60, 900], [-140, 60, 905]].'
    data = safeio.load_json(path, what="points file", max_bytes=20_000_000, fix=fix)
    try:
        return as_points(data, name=f"{path}")
    except ViewerError as exc:
        raise ViewerError(str(exc), fix=None if "Fix:" in str(exc) else fix) from None


def as_size(value, name: str = "size") -> tuple[int, int]:
    """An image size in pixels, from ``(width, height)`` or a ``"WIDTHxHEIGHT"`` string.

    Parameters
    ----------
    value : str or (int, int)
        ``"1920x1080"`` or ``(1920, 1080)``.
    name : str
        The argument named in errors.

    Returns
    -------
    (int, int)
        Width and height, each from 16 up to 3840 x 2160.

    Raises
    ------
    ViewerError
        Not a size, or outside 16x16 .. 3840x2160.
    """
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", value)
        if not m:
            raise ViewerError(f"{_short(value)} is not WIDTHxHEIGHT.", path=name, fix="use WIDTHxHEIGHT such as 1920x1080.")
        value = (m.group(1), m.group(2))
    try:
        w, h = (int(x) for x in value)
    except (TypeError, ValueError):
        raise _arg(name, f"must be (width, height) in pixels, got {_short(value)}.") from None
    if not (16 <= w <= MAX_SIZE[0] and 16 <= h <= MAX_SIZE[1]):
        raise ViewerError(f"{w}x{h} is outside 16x16 .. {MAX_SIZE[0]}x{MAX_SIZE[1]}.", path=name,
                          fix="use WIDTHxHEIGHT such as 1920x1080.")
    return w, h


def as_views(values, name: str = "views") -> list[str]:
    """Camera views, each 'best' (the plate of the views that show the pattern) or a standard view.

    Parameters
    ----------
    values : str or sequence of str
        One view or several.
    name : str
        The argument named in errors.

    Returns
    -------
    list of str

    Raises
    ------
    ViewerError
        An unknown view (the message lists the choices).
    """
    views = [values] if isinstance(values, str) else list(values)
    bad = [str(v) for v in views if v not in VIEW_CHOICES]
    if bad or not views:
        raise ViewerError(f"unknown view(s) {', '.join(bad) or '(none given)'}.", path=name,
                          fix=f"choose from {', '.join(VIEW_CHOICES)}, comma-separated.")
    return views


def as_name(value, name: str = "source") -> str:
    """A source's name, alias or id as given (resolved later by `find`): a short string.

    Raises
    ------
    ViewerError
        Longer than 200 characters.
    """
    if value is not None and len(value) > MAX_NAME_CHARS:
        raise ViewerError(f"the name is {len(value):,} characters long (at most {MAX_NAME_CHARS}).", path=name,
                          fix="give a name, alias or FMA id, e.g. 'gluteus minimus'.")
    return value


def check_area(points, radius_mm: float = DEFAULT_RADIUS_MM, name: str = "points") -> tuple[np.ndarray, float]:
    """A painted area's points and disc radius, checked before any model is loaded.

    Parameters
    ----------
    points : array_like, shape (N, 3)
        Canonical-frame mm.
    radius_mm : float
        Disc radius around each point (0 < r <= 300).
    name : str
        The argument named in errors.

    Returns
    -------
    (numpy.ndarray, float)
        The (N, 3) points and the radius.

    Raises
    ------
    ViewerError
        Bad points or radius, or points x radius² too costly to compute (at most 62,500,000 mm²).
    """
    pts, r = as_points(points, name), as_radius(radius_mm, allow_none=False)
    try:
        check_area_work(len(pts), r, name)
    except ViewerError as exc:     # its fix names the command line's flag: give the API's argument
        raise ViewerError(exc.what, path=exc.path, fix="give fewer points (a painted area needs a few hundred) "
                                                       "or a smaller radius_mm.") from None
    return pts, r


# -- loading and queries --------------------------------------------------------
def load(meshes=None, maps=None, *, progress=None):
    """Load the mesh pack and the referral model (built-in maps plus optional user maps).

    Parameters
    ----------
    meshes : str or Path, optional
        Pack folder; default ``meshes/`` in a checkout, ``$REFERRAL_VIEWER_MESHES`` or the
        per-user data folder.
    maps : str or Path, optional
        Folder of extra user maps; a broken one is reported in ``model.problems`` and skipped.
    progress : callable, optional
        Called with a message while fields are computed (first run only).

    Returns
    -------
    viewer.referral.model.ReferralModel
        ``model.patterns``, ``model.maps.maps``, ``model.problems`` and the queries below.
    """
    pack = load_pack(meshes)
    return load_model(pack, user_maps=maps, progress=progress)


def lookup(model, point, radius_mm: float | None = None, top: int = 20):
    """Candidate muscles, other sources (joints, roots, nerves, organs) and red flags for a painful spot.

    Parameters
    ----------
    model : ReferralModel
        From `load`.
    point : array_like of 3 floats
        Canonical-frame mm (+Z up, -Y anterior, -X the subject's right); snapped to the skin,
        refused beyond 50 mm from it.
    radius_mm : float, optional
        Include the skin within this radius (0 < r <= 300).
    top : int
        At most this many candidates (>= 1).

    Returns
    -------
    viewer.referral.lookup.SpotResult
        ``.region``, ``.snap_mm``, ``.candidates`` (muscles, ranked), ``.other_sources``,
        ``.dermatomes``, ``.red_flags`` and ``.to_json()``.
    """
    p, r, top = as_point(point), as_radius(radius_mm), as_top(top)
    res = L.lookup_point(model, p, r)
    res.candidates, res.other_sources = res.candidates[:top], res.other_sources[:top]
    return res


def lookup_area(model, points, radius_mm: float = DEFAULT_RADIUS_MM, top: int = 20):
    """Candidate muscles and other sources for a painted area, ranked by how much of it they explain.

    Parameters
    ----------
    model : ReferralModel
    points : array_like, shape (N, 3)
        Points on the painted area in canonical mm; each paints a disc of ``radius_mm``.
    radius_mm : float
        Disc radius (0 < r <= 300).
    top : int
        At most this many candidates.

    Returns
    -------
    viewer.referral.lookup.AreaResult
        ``.candidates`` (muscles), ``.other_sources``, ``.dermatomes``, ``.red_flags`` and
        ``.to_json()``.
    """
    (pts, r), top = check_area(points, radius_mm), as_top(top)
    verts, snap = L.area_from_points(model, pts, r)
    res = L.area_result(model, verts)
    res.snap_mm = snap
    res.candidates, res.other_sources = res.candidates[:top], res.other_sources[:top]
    return res


def muscles(model) -> list[dict]:
    """Every muscle with a map: id, name, aliases, body region and whether the pack has its mesh."""
    meshed = {p.muscle.id for p in model.patterns if p.has_mesh}
    return [{"id": m.id, "name": m.name, "aliases": list(m.aliases), "body_region": m.body_region,
             "has_mesh": m.id in meshed} for m in model.maps.maps if m.kind == "muscle"]


def patterns(model) -> list[dict]:
    """Every pattern (one per source and side): index, source id, kind and name, side, has_mesh."""
    return [{"index": p.index, "muscle_id": p.muscle.id, "kind": p.muscle.kind, "name": p.muscle.name,
             "side": p.side, "has_mesh": p.has_mesh} for p in model.patterns]


def find(model, muscle: str, side: str = "right", *, name: str = "muscle"):
    """The pattern of one source (a muscle, joint, nerve root, nerve or organ) by name, alias,
    id or with a typo ("glutues minimus", "L5-S1 facet", "gallbladder").

    A one-sided source (the heart: left) or a midline one (the bladder) answers with its only
    pattern whatever `side` says.

    Parameters
    ----------
    model : ReferralModel
    muscle : str
        The source's name, alias or id.
    side : {'right', 'left'}
    name : str
        The argument named in errors (``muscle``; `export` and `handout` say ``source``).

    Returns
    -------
    viewer.referral.model.Pattern

    Raises
    ------
    ViewerError
        No match or several matches (the message lists them), or an unknown side.
    """
    if side not in SIDES:
        raise _arg("side", f"must be 'right' or 'left', got {_short(side)}.")
    m = model.resolve(muscle, what=name)
    return model.pattern(m.id, side)


def sources(model, kind: str | None = None) -> list[dict]:
    """Every source with a map (muscles first), optionally of one kind.

    Parameters
    ----------
    model : ReferralModel
    kind : {'muscle', 'joint', 'root', 'nerve', 'organ'}, optional

    Returns
    -------
    list of dict
        id, kind, name, aliases, level, segments, body_region, sides and whether it has a red flag.
    """
    if kind is not None and kind not in KINDS:
        raise _arg("kind", f"must be one of {', '.join(KINDS)}, got {_short(kind)}.")
    sides: dict[str, list[str]] = {}
    for p in model.patterns:
        sides.setdefault(p.muscle.id, []).append(p.side)
    return [{"id": m.id, "kind": m.kind, "name": m.name, "aliases": list(m.aliases), "level": m.level,
             "segments": list(m.segments), "body_region": m.body_region, "sides": sides.get(m.id, []),
             "red_flag": m.red_flag is not None}
            for m in sorted(model.maps.maps, key=lambda m: KINDS.index(m.kind))
            if kind is None or m.kind == kind]


def show(model, muscle: str, plotter=None, *, side: str = "right", view: str | None = None,
         skin_opacity: float = 0.8):
    """Draw a pattern into a `pyvista.Plotter` (works with PyVista's notebook backend).

    Parameters
    ----------
    model : ReferralModel
    muscle : str
        Name, alias or FMA id.
    plotter : pyvista.Plotter, optional
        Drawn into; a new one is made when omitted. Call ``plotter.show()`` yourself.
    side : {'right', 'left'}
    view : {'anterior', 'posterior', 'right', 'left', 'superior', 'inferior', 'medial'}, optional
        Default: the view that faces the pattern.
    skin_opacity : float
        0..1.

    Returns
    -------
    pyvista.Plotter
    """
    # lazy: pyvista ~1.9 s to import (-X importtime): only drawing needs it, not lookup
    import pyvista as pv

    from viewer.render.scene import BodyScene

    pattern = find(model, muscle, side)
    view = _as_view(view)
    if not (isinstance(skin_opacity, (int, float)) and 0 <= skin_opacity <= 1):
        raise _arg("skin_opacity", f"must be a number from 0 to 1, got {_short(skin_opacity)}.")
    plotter = plotter if plotter is not None else pv.Plotter()
    scene = BodyScene(plotter, model, skin_opacity=skin_opacity, show_muscles=False)
    scene.show_pattern(pattern, render=False)
    scene.set_view(view or scene.best_view(), focus="pattern", render=False)
    plotter._referral_scene = scene   # keep the scene (and its callbacks) alive with the plotter
    return plotter


def render(model, muscle: str, *, side: str = "right", view: str | None = None, size=(1600, 1200),
           out=None, transparent: bool = False):
    """Render a pattern off-screen, with title, legend and attribution.

    Parameters
    ----------
    model : ReferralModel
    muscle : str
        Name, alias or FMA id.
    side : {'right', 'left'}
    view : str, optional
        One of 'anterior', 'posterior', 'right', 'left', 'superior'; default faces the pattern.
    size : (int, int)
        Width and height in pixels, 16..3840 x 16..2160.
    out : str or Path, optional
        A ``.png`` file to write atomically. Without it the image is returned.
    transparent : bool
        Transparent background.

    Returns
    -------
    Path or numpy.ndarray
        The written path, or an (H, W, 3|4) uint8 image.
    """
    # lazy: render.export pulls pyvista (~1 s after the model, -X importtime): only images need it
    from viewer.render import export as E

    pattern = find(model, muscle, side)
    view = _as_view(view)
    w, h = as_size(size)
    if out is not None:
        return E.render_pattern(model, pattern, check_png_path(out, "out"), view=view, size=(w, h),
                                transparent=transparent)
    with E.Exporter(model) as exporter:   # the same slide image as `referral-viewer export`
        img = exporter.render(pattern, view=view, size=(w, h), transparent=transparent)
    return img if transparent else img[..., :3]


def check_png_path(out, name: str = "out") -> Path:
    """A path a PNG can be written to: ends in .png, not a folder, its parent not a file."""
    path = Path(out).expanduser()
    if path.is_dir():
        raise _arg(name, f"{str(out)!r} is a folder; give a file name such as {path / 'pattern.png'}.")
    if path.suffix.lower() != ".png":
        raise _arg(name, f"{str(out)!r} does not end in .png; images are written as PNG only.")
    _no_file_above(path, out, name)
    return path


def check_out_dir(out, name: str = "out_dir") -> Path:
    """A folder images can be written into: it may not exist yet, but it may not be a file."""
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise _arg(name, f"{str(out)!r} is a file, not a folder.")
    _no_file_above(path, out, name)
    return path


def _no_file_above(path: Path, out, name: str) -> None:
    """The nearest existing ancestor must be a folder, or nothing can be created below it."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise _arg(name, f"{str(parent)!r} is a file, so {str(out)!r} cannot be created under it.")
            return


def export(model, source: str, out, *, side: str = "right", view: str | None = None, size=DEFAULT_SIZE,
           theme: str = "light", transparent: bool = False, title: bool = True, legend: bool = True,
           attribution: bool = True, labels: bool = True, force: bool = True) -> Path:
    """Write one slide-ready PNG of a source's pattern (the same image as File > Export image).

    Parameters
    ----------
    model : ReferralModel
    source : str
        Any source's name, alias or id (muscle, joint, nerve root, nerve or organ; typos are fine).
    out : str or Path
        The ``.png`` file to write (atomically).
    side : {'right', 'left'}
        Which side's pattern (a one-sided or midline source has only one).
    view : str, optional
        'best' or None (the plate of the 1-3 views that show the pattern) or a standard view.
    size : (int, int) or str
        Width and height in pixels, or ``"WIDTHxHEIGHT"``.
    theme : {'light', 'dark'}
    transparent : bool
        No background; text keeps a halo.
    title, legend, attribution, labels : bool
        Which decorations to draw.
    force : bool
        Replace an existing `out`; without it an existing file is refused.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ViewerError
        A bad argument (named), an unknown source, or an existing `out` without `force`.
    """
    # lazy: render.export ~1 s (see render)
    from viewer.render import export as E

    w, h = as_size(size)
    view = as_views(view or "best", name="view")[0]
    path = check_new_file(check_png_path(out, "out"), "out", force)
    pattern = find(model, as_name(source), side, name="source")
    return E.render_pattern(model, pattern, path, view=view, size=(w, h), theme=theme, transparent=transparent,
                            title=title, legend=legend, attribution=attribution, labels=labels)


def export_all(model, out_dir, *, views=("best",), sides=("right",), size=DEFAULT_SIZE, theme: str = "light",
               transparent: bool = False, sources=None, regions=None, contact_sheets: bool = False,
               images: bool = True, force: bool = True, progress=None) -> list[Path]:
    """Write many patterns' PNGs into a folder (one per source, side and view), and contact sheets.

    Parameters
    ----------
    model : ReferralModel
    out_dir : str or Path
        The folder (created when missing).
    views : sequence of str
        'best' and/or standard views.
    sides : sequence of {'right', 'left'}
    size : (int, int) or str
    theme : {'light', 'dark'}
    transparent : bool
    sources : sequence of str, optional
        Names, aliases or ids to render.
    regions : sequence of str, optional
        Body regions or source kinds; with neither `sources` nor `regions`, every source.
    contact_sheets : bool
        Also one sheet per body region (or kind) and side.
    images : bool
        Write the single images (False: contact sheets only).
    force : bool
        Replace existing files; without it nothing is written when any exists.
    progress : callable, optional
        ``progress(i, n, path)`` after each file.

    Returns
    -------
    list of Path
        The written files.

    Raises
    ------
    ViewerError
        A bad argument (named: ``out_dir``, ``views``, ``sources`` ...) or existing files without `force`.
    """
    # lazy: render.export ~1 s (see render)
    from viewer.render import export as E

    w, h = as_size(size)
    views = as_views(views)
    bad = [s for s in sides if s not in SIDES]
    if bad or not sides:
        raise _arg("sides", f"must be 'right' and/or 'left', got {_short(list(sides))}.")
    check_out_dir(out_dir, "out_dir")
    try:
        return E.gallery(model, out_dir, views=views, size=(w, h), progress=progress, sides=tuple(sides),
                         theme=theme, transparent=transparent, muscles=sources, regions=regions,
                         contact_sheets=contact_sheets, images=images, overwrite=force)
    except ViewerError as exc:
        raise exc.renamed({"muscles": "sources"}) from None


def handout(model, source: str, out, *, side: str = "right", notes: str = "", page: str = "A4",
            force: bool = True) -> Path:
    """Write a one-page patient handout PDF for a source's pattern (the same as File > Patient handout).

    Parameters
    ----------
    model : ReferralModel
    source : str
        Any source's name, alias or id (typos are fine).
    out : str or Path
        The ``.pdf`` file to write (atomically).
    side : {'right', 'left'}
    notes : str
        The therapist's notes, printed as written (at most 3,000 characters, one page).
    page : {'A4', 'Letter'}
    force : bool
        Replace an existing `out`; without it an existing file is refused.

    Returns
    -------
    Path
        The written PDF.

    Raises
    ------
    ViewerError
        A bad argument (named), an unknown source, or an existing `out` without `force`.
    """
    path = check_new_file(check_pdf_path(out, "out"), "out", force)
    check_notes(notes or "", "notes")
    if page not in PAGES:
        raise _arg("page", f"must be one of {', '.join(PAGES)}, got {_short(page)}.")
    pattern = find(model, as_name(source), side, name="source")
    # Qt (PySide6, ~0.3 s to import) draws the PDF: imported only when a handout is written,
    # and without a window or a display
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from viewer.gui.handout import make_handout

    return make_handout(model, pattern, notes or "", path, page=page)


def check_notes(notes: str, name: str = "notes") -> str:
    """`notes` when they fit a one-page handout, else a ViewerError naming `name`.

    The limits and the message are `viewer.render.layout.check_notes`'s (3,000 characters,
    80 lines); this wrapper keeps Pillow out of ``import viewer.api``.
    """
    # lazy: render.layout pulls Pillow and the render style (~30 ms, measured) into every lookup
    from viewer.render.layout import check_notes as fits_one_page

    return fits_one_page(notes, name)


def check_pdf_path(out, name: str = "out") -> Path:
    """A path a PDF can be written to: ends in .pdf, not a folder, its parent not a file.

    Raises
    ------
    ViewerError
        A folder, another suffix, or a file where a parent folder should be.
    """
    path = Path(out).expanduser()
    if path.is_dir():
        raise ViewerError(f"{str(out)!r} is a folder.", path=name, fix="give a file name such as handout.pdf.")
    if path.suffix.lower() != ".pdf":
        raise ViewerError(f"{str(out)!r} does not end in .pdf.", path=name,
                          fix="handouts are written as PDF only: give a name ending in .pdf.")
    check_out_dir(path.parent if str(path.parent) else ".", name)
    return path


def check_new_file(path, name: str = "out", force: bool = False) -> Path:
    """`path`, when it does not exist yet or `force` allows replacing it.

    Raises
    ------
    viewer.errors.ExistingOutput
        The file exists and `force` is false (nothing is written).
    """
    path = Path(path).expanduser()
    atomic.refuse_overwrite(path, name, force)
    return path


# -- helpers --------------------------------------------------------------------
def _as_view(view):
    """None (the view that faces the pattern) or one of the standard views."""
    if view is not None and view not in VIEWS:
        raise _arg("view", f"must be one of {', '.join(VIEWS)}, got {_short(view)}.")
    return view


def _arg(name: str, what: str) -> ViewerError:
    return ViewerError(what, path=name)   # the CLI renames the argument to its flag (ViewerError.renamed)


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _numbers(value, name: str, *, shape: str) -> np.ndarray:
    if isinstance(value, (str, bytes, dict)):
        raise _arg(name, f"must be {shape} in mm, got {_short(value)}.")
    try:
        arr = np.asarray(value, dtype=object)
    except (ValueError, TypeError):
        raise _arg(name, f"must be {shape} in mm, got {_short(value)}.") from None
    flat = arr.reshape(-1) if arr.dtype == object else arr.ravel()
    for x in flat:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
            raise _arg(name, f"must be {shape} in mm; {_short(x)} is not a number.")
    try:
        out = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise _arg(name, f"must be {shape} in mm, got {_short(value)}.") from None
    return out


def _bounded(pts: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(pts)):
        raise _arg(name, "holds NaN or an infinite value; give finite millimetres.")
    if np.any(np.abs(pts) >= MAX_COORD_MM):
        raise _arg(name, f"has a coordinate beyond +-{MAX_COORD_MM:.0f} mm; canonical coordinates are "
                         "millimetres on a body under 2 m tall (see `referral-viewer info` for its bounds).")
