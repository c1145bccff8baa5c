"""Per-vertex referral fields on the skin, one pair (essential, spillover) per muscle side.

A stroke paints 1.0 on its centre line, easing to EDGE at half the width
either side, then falling smoothly to 0 over FALLOFF_MM; a region paints
EDGE on its border rising to 1.0 inside, with the same fall-off outside. The peak on the centre line lets the
lookup rank a spot in the middle of a zone above one at its edge; membership
(>= 0.5) ends just beyond the drawn width. Distances are measured along
the skin (heat method) so that a zone never jumps to a surface that is close
in space but far on the body (the other thigh, the trunk beside the arm).
"""

from __future__ import annotations

import numpy as np

from viewer.referral.geometry import SkinGeometry, falloff
from viewer.referral.loader import Landmark
from viewer.referral.points import resolve
from viewer.referral.regions import Region
from viewer.referral.schema import MuscleMap, Zone

FALLOFF_MM = 30.0
EDGE = 0.7             # value at the edge of a stroke's drawn width
REGION_CORE_MM = 40.0  # depth inside a region at which it reaches 1.0
FIELDS_VERSION = "5"   # bump when the maths below changes


def region_profile(mask: np.ndarray, geo: SkinGeometry) -> np.ndarray:
    """EDGE on a region's border rising to 1 in its interior; the stroke fall-off outside."""
    outside = geo.distance(np.flatnonzero(~mask))       # depth into the region
    inside = geo.distance(np.flatnonzero(mask))         # distance out of it
    core = EDGE + (1.0 - EDGE) * np.clip(outside / REGION_CORE_MM, 0.0, 1.0)
    return np.where(mask, core, EDGE * falloff(inside, 0.0, FALLOFF_MM))


def stroke_profile(d: np.ndarray, half_width: float) -> np.ndarray:
    inside = 1.0 - (1.0 - EDGE) * np.clip(d / half_width, 0.0, 1.0) ** 2
    return np.where(d <= half_width, inside, EDGE * falloff(d, half_width, FALLOFF_MM))


def zone_field(zone: Zone, geo: SkinGeometry, landmarks: dict[str, Landmark],
               region_labels: np.ndarray, region_index: dict[tuple[str, str], int]) -> np.ndarray:
    """Right-side field of one zone."""
    f = np.zeros(geo.n)
    for stroke in zone.strokes:
        pts = np.array([resolve(p, landmarks) for p in stroke.points])
        d = geo.distance(geo.sample_polyline(pts))
        f = np.maximum(f, stroke_profile(d, stroke.width / 2.0))
    for ref in zone.region_refs():
        mask = np.zeros(geo.n, dtype=bool)
        for side in ("right", "midline"):
            k = region_index.get((ref.name, side))
            if k is not None:
                mask |= region_labels == k
        if mask.any():
            f = np.maximum(f, ref.weight * region_profile(mask, geo))
    return f


def muscle_fields(m: MuscleMap, geo: SkinGeometry, landmarks, region_labels, region_index):
    """{side: (essential, spillover)} float32 arrays for the right and (mirrored) left side."""
    mirror = geo.mirror_index

    def paint(zones):
        # Each zone is computed once; zones marked `mirror: false` stay off the left pattern.
        right, left = np.zeros(geo.n), np.zeros(geo.n)
        for z in zones:
            f = zone_field(z, geo, landmarks, region_labels, region_index)
            if z.bilateral or m.bilateral:   # the zone reaches both sides of the body
                f = np.maximum(f, f[mirror])
            right = np.maximum(right, f)
            if z.mirror:
                left = np.maximum(left, f)
        return right, left[mirror]

    (ess_r, ess_l), (spill_r, spill_l) = paint(m.zones.essential), paint(m.zones.spillover)
    out = {"right": (ess_r.astype(np.float32), spill_r.astype(np.float32))}
    if m.mirror:
        out["left"] = (ess_l.astype(np.float32), spill_l.astype(np.float32))
    return out


def combined(ess: np.ndarray, spill: np.ndarray) -> np.ndarray:
    """Display value: 1.0 essential, 0.5 spillover, smooth in between."""
    return np.maximum(ess, 0.5 * spill)


def region_lookup(regions: list[Region]) -> dict[tuple[str, str], int]:
    return {(r.name, r.side): r.index for r in regions}
