"""Published pain areas: the reference a reverse lookup is measured against.

A pain-areas file (the project's is ``tests/data/pain_areas.yaml``) gives, for
the body areas of Travell & Simons' pain guides, the muscles the guide names for
the area (``primary`` first, then ``muscles``), a spot at the area's centre
(``point``: a landmark and an offset in mm) and, optionally, the area's extent
as the guide's chart shows it (``extent``: more landmark points and a disc
radius). This module reads such a file, matches the guide's muscle names to the
app's muscles and paints an area on the skin from its landmarks, for the pain
area test (``tests/test_pain_areas.py``) and ``scripts/pain_area_slack.py``
alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from viewer import safeio
from viewer.constants import SIDES
from viewer.errors import ViewerError
from viewer.referral.loader import load_landmarks
from viewer.referral.lookup import area_from_points
from viewer.referral.points import MIRROR

TOP, TOP_PRIMARY = 10, 5      # the reference's ranks: listed muscles in the top 10, primaries in the top 5
DEFAULT_RADIUS_MM = 30.0      # an extent's disc radius when the file gives none
STOP = {"of", "the", "and", "muscle", "muscles"}
# words that only name a part of a muscle the guide names whole: "trapezius" is matched by
# "Upper trapezius", "sternocleidomastoid" by "Sternocleidomastoid (sternal division)"
QUALIFIERS = STOP | {"upper", "middle", "lower", "superior", "inferior", "anterior", "posterior", "sternal",
                     "clavicular", "division", "divisions", "part", "parts", "head", "heads", "fibers",
                     "dorsal", "plantar", "deep", "superficial", "group", "medius", "minimus", "major", "minor"}
_AREA_KEYS = ("name", "point", "primary", "muscles")


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z]+", s.lower())


def _token_in(t: str, words: list[str]) -> bool:
    stem = t[: max(4, len(t) - 2)]
    return any(w.startswith(stem) for w in words)


def matches(listed: str, app_name: str) -> bool:
    """Whether a guide's muscle name names an app muscle.

    Parameters
    ----------
    listed : str
        The muscle as the guide names it ("trapezius").
    app_name : str
        A name (or alias) of an app muscle ("Upper trapezius").

    Returns
    -------
    bool
        True when every word of the listed name is in the app name (plural-tolerant) and
        the app name adds only qualifiers (QUALIFIERS).
    """
    want = [t for t in _words(listed) if t not in STOP]
    have = _words(app_name)
    if not all(_token_in(t, have) for t in want):
        return False
    extra = [w for w in have if not any(w.startswith(t[: max(4, len(t) - 2)]) for t in want)]
    return all(w in QUALIFIERS for w in extra)


def load_areas(path) -> tuple[dict, list[dict]]:
    """Read a pain-areas file.

    Parameters
    ----------
    path : str or Path
        The YAML file (``sources:`` a mapping of citations, ``areas:`` a list).

    Returns
    -------
    tuple of (dict, list of dict)
        The sources and the areas, as written.

    Raises
    ------
    ViewerError
        The file is unreadable or not YAML, lacks ``sources``/``areas``, or an area lacks
        one of name, point, primary, muscles (the error names the area and the field).
    """
    path = Path(path)
    data, _ = safeio.load_yaml(path, what="pain-areas file")
    if not isinstance(data, dict) or not isinstance(data.get("sources"), dict) \
            or not isinstance(data.get("areas"), list):
        raise ViewerError("a pain-areas file needs `sources:` (a mapping) and `areas:` (a list).", path=path,
                          fix="restore the file (git checkout tests/data/pain_areas.yaml) or add both keys.")
    for i, a in enumerate(data["areas"]):
        if not isinstance(a, dict):
            raise ViewerError(f"areas[{i}] is not a mapping.", path=path, fix="write each area as {name: ..., ...}.")
        for key in _AREA_KEYS:
            if key not in a:
                raise ViewerError(f"area {i} ({a.get('name', '?')}) has no `{key}`.", path=path,
                                  fix=f"give areas[{i}].{key} (see the file's header).")
    return data["sources"], data["areas"]


def _landmark_point(ref: dict, lms, area: dict) -> np.ndarray:
    try:
        base = lms[ref["at"]].point
    except KeyError:
        raise ViewerError(f"area {area.get('name', '?')!r} names unknown landmark {ref.get('at')!r}.",
                          path="pain-areas file",
                          fix="use a landmark of referral_maps/landmarks.yaml") from None
    return np.asarray(base, float) + np.asarray(ref.get("offset", (0, 0, 0)), float)


def area_spots(areas: list[dict], landmarks=None) -> Iterator[tuple[dict, str, np.ndarray]]:
    """Every area's centre spot on each side it is tested on.

    Parameters
    ----------
    areas : list of dict
        The areas of `load_areas`.
    landmarks : mapping, optional
        The landmarks (default: the built-in ones).

    Yields
    ------
    tuple of (dict, str, ndarray)
        (area, side, point in mm): the point as written for the right side and midline
        areas, mirrored (x -> -x) for the left; sides from the area's ``sides`` (default
        right and left).
    """
    lms = load_landmarks() if landmarks is None else landmarks
    for area in areas:
        base = _landmark_point(area["point"], lms, area)
        for side in area.get("sides", SIDES):
            yield area, side, base * MIRROR if side == "left" else base


def listed_muscles(area: dict) -> list[tuple[str, bool]]:
    """(muscle name as the guide gives it, primary?) of an area, primaries first."""
    return [(n, True) for n in area["primary"]] + [(n, False) for n in area["muscles"]]


def app_ids(model) -> Callable[[str], list[str]]:
    """A function from a guide's muscle name to the ids of the app's muscles it names
    (`matches` against each muscle's name and aliases)."""
    names = {p.muscle.id: [p.muscle.name, *p.muscle.aliases] for p in model.patterns}
    return lambda listed: [mid for mid, ns in names.items() if any(matches(listed, n) for n in ns)]


def rank_of(order: list[str], ids) -> int | None:
    """0-based rank of the first of `ids` in a candidate order (muscle ids), None when none
    is in it."""
    return min((order.index(i) for i in ids if i in order), default=None)


def zone_distance(model, vertex: int, ids) -> float:
    """Straight-line distance (mm) from a skin vertex to the nearest zone (either kind, either
    side, membership >= 0.5) of the muscles `ids`; inf when they have none."""
    verts = model.geo.vertices
    best = np.inf
    for k, p in enumerate(model.patterns):
        if p.muscle.id in ids:
            inside = np.flatnonzero((model.ess[:, k] >= 0.5) | (model.spill[:, k] >= 0.5))
            if len(inside):
                best = min(best, float(np.linalg.norm(verts[inside] - verts[vertex], axis=1).min()))
    return best


def area_extent_points(area: dict, side: str, landmarks=None) -> tuple[np.ndarray, float]:
    """The points and disc radius a therapist paints for an area, as the guide's chart shows it.

    Parameters
    ----------
    area : dict
        An area of `load_areas`.
    side : str
        "right", "left" (mirrored x -> -x) or "midline".
    landmarks : mapping, optional
        The landmarks (default: the built-in ones).

    Returns
    -------
    tuple of (ndarray, float)
        (N, 3) points in mm (the centre point, then the ``extent.points``, painted as one
        stroke in that order: points added between them at most a radius apart) and the
        radius of the disc painted around each (``extent.radius``, else DEFAULT_RADIUS_MM).
    """
    lms = load_landmarks() if landmarks is None else landmarks
    ext = area.get("extent") or {}
    refs = [area["point"], *ext.get("points", [])]
    radius = float(ext.get("radius", DEFAULT_RADIUS_MM))
    pts = _stroke(np.array([_landmark_point(r, lms, area) for r in refs]), radius)
    return (pts * MIRROR if side == "left" else pts), radius


def _stroke(points: np.ndarray, step: float) -> np.ndarray:
    """The points in order with more between each pair, at most `step` mm apart, so that discs
    of that radius around them paint one continuous band, as a hand painting from one point to
    the next does (discs around the given points alone leave gaps along a limb)."""
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.vstack(out)


def paint_area(model, area: dict, side: str, landmarks=None) -> np.ndarray:
    """The skin vertices of an area painted from its landmarks: a disc of the extent radius
    along the skin around each extent point (`area_extent_points`,
    `viewer.referral.lookup.area_from_points`).

    Returns
    -------
    ndarray
        Skin vertex ids of the painted area.
    """
    pts, radius = area_extent_points(area, side, landmarks)
    verts, _ = area_from_points(model, pts, radius_mm=radius)
    return verts
