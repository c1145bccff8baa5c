"""Per-vertex referral fields on the skin, one pair (essential, spillover) per muscle side.

A stroke paints 1.0 on its centre line, easing to EDGE at half the width
either side, then falling smoothly to 0 over FALLOFF_MM; a region paints
EDGE on its border rising to 1.0 inside, with the same fall-off outside. The peak on the centre line lets the
lookup rank a spot in the middle of a zone above one at its edge; membership
(>= 0.5) ends just beyond the drawn width. Distances are measured along
the skin (heat method) so that a zone never jumps to a surface that is close
in space but far on the body (the other thigh, the trunk beside the arm). A zone paints only the body
segments (segments.py) its strokes and regions lie on, or that it names in
`segments:`: the hanging arm's skin is fused with the chest wall, so a trunk
band would otherwise run onto the arm along the skin.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.spatial import cKDTree

from viewer.referral.geometry import SkinGeometry, falloff
from viewer.referral.loader import Landmark
from viewer.referral.points import resolve
from viewer.referral.regions import Region
from viewer.referral.schema import MuscleMap, Zone
from viewer.referral.segments import ALONG_LIMB, SEGMENT_INDEX, SEGMENTS, SIDE_SWAP

FALLOFF_MM = 30.0
EDGE = 0.7             # value at the edge of a stroke's drawn width
REGION_CORE_MM = 40.0  # depth inside a region at which it reaches 1.0
REGION_SEGMENT_SHARE = 0.2  # a region lies on a segment holding >= this share of its vertices
IN_ZONE = 0.5          # membership at which a vertex counts as inside a zone (lookup.IN_ZONE)
FIELDS_VERSION = "11"   # bump when the maths below changes


def region_profile(mask: np.ndarray, geo: SkinGeometry) -> np.ndarray:
    """EDGE on a region's border rising to 1 in its interior; the stroke fall-off outside."""
    outside = geo.distance(np.flatnonzero(~mask))       # depth into the region
    inside = geo.distance(np.flatnonzero(mask))         # distance out of it
    core = EDGE + (1.0 - EDGE) * np.clip(outside / REGION_CORE_MM, 0.0, 1.0)
    return np.where(mask, core, EDGE * falloff(inside, 0.0, FALLOFF_MM))


def stroke_profile(d: np.ndarray, half_width: float) -> np.ndarray:
    """Field of a stroke from the geodesic distance `d` to its centre line: 1 on the line, EDGE at
    `half_width`, then the smooth fall-off over FALLOFF_MM."""
    inside = 1.0 - (1.0 - EDGE) * np.clip(d / half_width, 0.0, 1.0) ** 2
    return np.where(d <= half_width, inside, EDGE * falloff(d, half_width, FALLOFF_MM))


def _region_mask(name: str, region_labels: np.ndarray, region_index) -> np.ndarray:
    mask = np.zeros(len(region_labels), dtype=bool)
    for side in ("right", "midline"):
        k = region_index.get((name, side))
        if k is not None:
            mask |= region_labels == k
    return mask


def _point_segment(ref, geo: SkinGeometry, landmarks: dict[str, Landmark], segment_labels: np.ndarray) -> int:
    """Segment of a stroke point: a landmark (with or without offset) lies on its landmark's
    segment, so a band drawn sideways from a trunk landmark stays on the trunk even where its
    end snaps onto the arm resting against it; a raw point lies where it snaps."""
    name = ref if isinstance(ref, str) else getattr(ref, "at", None)
    p = resolve(name, landmarks) if name is not None else resolve(ref, landmarks)
    return int(segment_labels[geo.snap(p)[0][0]])


def zone_segments(zone: Zone, geo: SkinGeometry, landmarks: dict[str, Landmark], region_labels: np.ndarray,
                  region_index: dict[tuple[str, str], int], segment_labels: np.ndarray) -> set[int]:
    """Segments (indices into SEGMENTS) a right-side zone may paint: those of its strokes'
    points, those holding a fair share of its regions, and those it names in `segments:`."""
    allowed = {SEGMENT_INDEX[s if s in ("head", "neck", "trunk") else f"{s}_right"] for s in zone.segments}
    for stroke in zone.strokes:
        on = {_point_segment(p, geo, landmarks, segment_labels) for p in stroke.points}
        allowed |= on | _band_crosses(stroke, geo, landmarks, segment_labels, on)
    for ref in zone.region_refs():
        mask = _region_mask(ref.name, region_labels, region_index)
        if mask.any():
            share = np.bincount(segment_labels[mask], minlength=len(SEGMENTS)) / mask.sum()
            allowed |= set(np.flatnonzero(share >= REGION_SEGMENT_SHARE).tolist())
    return allowed


def _band_crosses(stroke, geo: SkinGeometry, landmarks, segment_labels: np.ndarray, on: set[int]) -> set[int]:
    """Segments across a joint along the limb that a stroke's drawn width covers: a band drawn
    over the knee from points on the thigh is drawn on the leg too, and is not cut flat at the
    joint line. Straight-line distance is enough within a half-width, and ALONG_LIMB keeps out
    the fused skin of the armpit and the perineum."""
    pts = np.array([resolve(p, landmarks) for p in stroke.points])
    src = geo.sample_polyline(pts)
    hits = geo.tree.query_ball_point(geo.vertices[src], stroke.width / 2.0)
    near = set(np.unique(segment_labels[np.unique(np.concatenate(hits)).astype(np.int64)]).tolist())
    return {s for s in near - on if any(ALONG_LIMB[s, o] for o in on)}


def zone_field(zone: Zone, geo: SkinGeometry, landmarks: dict[str, Landmark],
               region_labels: np.ndarray, region_index: dict[tuple[str, str], int],
               on_segments: np.ndarray | None = None) -> np.ndarray:
    """Right-side field of one zone; with `on_segments` (a vertex mask) strokes are sampled
    on those vertices only (the caller masks the field to them)."""
    f = np.zeros(geo.n)
    sub = None
    if on_segments is not None and not on_segments.all():
        keep = np.flatnonzero(on_segments)
        sub = (keep, cKDTree(geo.vertices[keep]))
    for stroke in zone.strokes:
        pts = np.array([resolve(p, landmarks) for p in stroke.points])
        src = geo.sample_polyline(pts)
        if sub is not None and not on_segments[src].all():
            src = sub[0][sub[1].query(geo.vertices[src])[1]]
        d = geo.distance(src)
        f = np.maximum(f, stroke_profile(d, stroke.width / 2.0))
    for ref in zone.region_refs():
        mask = _region_mask(ref.name, region_labels, region_index)
        if mask.any():
            f = np.maximum(f, ref.weight * region_profile(mask, geo))
    return f


def muscle_fields(m: MuscleMap, geo: SkinGeometry, landmarks, region_labels, region_index,
                  segment_labels: np.ndarray | None = None):
    """{side: (essential, spillover)} float32 arrays for the right and (mirrored) left side.

    With `segment_labels`, each zone is kept to its segments (zone_segments), on each side
    after mirroring, so the left pattern obeys the mirrored segments exactly. Every kind of
    source (muscle, joint, root, nerve, organ) is painted by this one function."""
    return {side: (e, s) for side, (e, s, _f) in source_fields(m, geo, landmarks, region_labels, region_index,
                                                               segment_labels).items()}


def source_fields(m: MuscleMap, geo: SkinGeometry, landmarks, region_labels, region_index,
                  segment_labels: np.ndarray | None = None):
    """{side: (essential, spillover, frequency)} float32 arrays, as `muscle_fields`, plus the
    published frequency of the zone covering each vertex (the largest where zones overlap;
    0 where no covering zone gives one).

    A source drawn for the right side yields "right" and the mirrored "left" pattern unless
    it is one-sided (`mirror: false`); `sides:` (left, right, midline) picks patterns later."""
    mirror = geo.mirror_index

    def paint(zones):
        # Each zone is computed once; zones marked `mirror: false` stay off the left pattern.
        right, left = np.zeros(geo.n), np.zeros(geo.n)
        freq_r, freq_l = np.zeros(geo.n), np.zeros(geo.n)
        for z in zones:
            both = z.bilateral or m.bilateral   # the zone reaches both sides of the body
            on_r = on_l = None
            if segment_labels is not None:
                seg = zone_segments(z, geo, landmarks, region_labels, region_index, segment_labels)
                if both:
                    seg |= set(SIDE_SWAP[sorted(seg)].tolist())
                on_r = np.isin(segment_labels, sorted(seg))
                on_l = np.isin(segment_labels, sorted(set(SIDE_SWAP[sorted(seg)].tolist())))
            f = zone_field(z, geo, landmarks, region_labels, region_index, on_r)
            if both:
                f = np.maximum(f, f[mirror])
            fl = f[mirror]                      # the same zone on the left side of the body
            if on_r is not None:
                f, fl = np.where(on_r, f, 0.0), np.where(on_l, fl, 0.0)
            right = np.maximum(right, f)
            if z.frequency is not None:
                freq_r = np.maximum(freq_r, np.where(f >= IN_ZONE, z.frequency, 0.0))
            if z.mirror or m.sides == "left":
                left = np.maximum(left, fl)
                if z.frequency is not None:
                    freq_l = np.maximum(freq_l, np.where(fl >= IN_ZONE, z.frequency, 0.0))
        return right, left, freq_r, freq_l

    (ess_r, ess_l, fe_r, fe_l), (spill_r, spill_l, fs_r, fs_l) = paint(m.zones.essential), paint(m.zones.spillover)
    f32 = np.float32
    out = {"right": (ess_r.astype(f32), spill_r.astype(f32), np.maximum(fe_r, fs_r).astype(f32))}
    if m.mirror or m.sides == "left":
        out["left"] = (ess_l.astype(f32), spill_l.astype(f32), np.maximum(fe_l, fs_l).astype(f32))
    return out


_T = np.linspace(0.0, 1.0, 1001)
_OUTSIDE = EDGE * falloff(_T * FALLOFF_MM, 0.0, FALLOFF_MM)     # decreasing from EDGE to 0


def distance_beyond(value: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Distance (mm, along the skin) from where a zone's field falls to `level` out to where
    it has fallen to `value`: the inverse of the fall-off outside a stroke or region, so a
    field value just outside a zone tells how far the zone's edge is."""
    d = np.interp(-np.asarray(value, dtype=np.float64), -_OUTSIDE, _T_MM)
    return d - _level_mm(level)


_T_MM = _T * FALLOFF_MM


@functools.lru_cache(maxsize=64)     # a pure function of one float, asked on every click
def _level_mm(level: float) -> float:
    return float(np.interp(-level, -_OUTSIDE, _T_MM))


@functools.lru_cache(maxsize=64)     # a pure function of two floats, asked on every click
def value_beyond(mm: float, level: float = 0.5) -> float:
    """Field value `mm` beyond the place where the field falls to `level` (inverse of the above)."""
    d0 = float(np.interp(-level, -_OUTSIDE, _T * FALLOFF_MM))
    return float(EDGE * falloff(np.array([d0 + mm]), 0.0, FALLOFF_MM)[0])


def combined(ess: np.ndarray, spill: np.ndarray) -> np.ndarray:
    """Display value: 1.0 essential, 0.5 spillover, smooth in between."""
    return np.maximum(ess, 0.5 * spill)


def region_lookup(regions: list[Region]) -> dict[tuple[str, str], int]:
    """{(region name, side): region index} for the region table."""
    return {(r.name, r.side): r.index for r in regions}
