"""Named skin regions: a geodesic Voronoi parcellation grown from seed landmarks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.constants import PATTERN_SIDES
from viewer.referral.geometry import SkinGeometry
from viewer.referral.loader import Landmark, RegionDef
from viewer.referral.points import MIRROR


@dataclass(frozen=True)
class Region:
    index: int
    name: str          # e.g. "greater_trochanter"
    side: str          # right | left | midline
    label: str         # e.g. "Outer hip (greater trochanter)"

    @property
    def display(self) -> str:
        """The region as shown, e.g. "Outer hip (greater trochanter) (right)"."""
        return self.label if self.side == "midline" else f"{self.label} ({self.side})"


def region_table(defs: dict[str, RegionDef]) -> list[Region]:
    """Every (region, side) pair in a fixed order: right, left, then midline."""
    out = []
    for side in PATTERN_SIDES:
        for d in defs.values():
            want = "midline" if d.side == "midline" else None
            if (want == "midline" and side == "midline") or (want is None and side != "midline"):
                out.append(Region(len(out), d.name, side, d.label))
    return out


def seed_points(region: Region, defs: dict[str, RegionDef], landmarks: dict[str, Landmark]) -> np.ndarray:
    """Canonical points of a region's seed landmarks on its side."""
    pts = []
    for name in defs[region.name].seeds:
        lm = landmarks[name]
        if lm.point is None:
            raise ValueError(f"region {region.name}: seed landmark {name!r} has no measured point")
        p = np.asarray(lm.point, dtype=np.float64)
        pts.append(p * MIRROR if region.side == "left" else p)
    return np.asarray(pts)


def parcellate(geo: SkinGeometry, regions: list[Region], defs: dict[str, RegionDef],
               landmarks: dict[str, Landmark]) -> np.ndarray:
    """Region index of every skin vertex (each vertex in exactly one region)."""
    best = np.full(geo.n, np.inf)
    labels = np.zeros(geo.n, dtype=np.int16)
    for r in regions:
        idx, _ = geo.snap(seed_points(r, defs, landmarks))
        d = geo.distance(idx)
        closer = d < best
        best[closer] = d[closer]
        labels[closer] = r.index
    return labels
