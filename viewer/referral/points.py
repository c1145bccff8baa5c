"""Resolve point references (landmark names, offsets, raw points) to canonical mm."""

from __future__ import annotations

import numpy as np

from viewer.referral.loader import Landmark
from viewer.referral.schema import Anchored

MIRROR = np.array([-1.0, 1.0, 1.0])


class UnknownLandmark(ValueError):
    pass


def resolve(ref, landmarks: dict[str, Landmark]) -> np.ndarray:
    """Right-side canonical point of a PointRef."""
    if isinstance(ref, str):
        ref = Anchored(at=ref)
    if isinstance(ref, Anchored):
        lm = landmarks.get(ref.at)
        if lm is None:
            raise UnknownLandmark(f"unknown landmark {ref.at!r} (see referral_maps/landmarks.yaml)")
        if lm.point is None:
            raise UnknownLandmark(f"landmark {ref.at!r} has no measured point yet")
        return np.asarray(lm.point, dtype=np.float64) + np.asarray(ref.offset, dtype=np.float64)
    return np.asarray(ref, dtype=np.float64)


def for_side(point: np.ndarray, side: str) -> np.ndarray:
    """A right-side point on `side`: mirrored (x -> -x) for the left, unchanged otherwise."""
    return point * MIRROR if side == "left" else point


def surface_point(ref, landmarks: dict[str, Landmark], geo) -> np.ndarray:
    """Right-side skin point over a (possibly deep) trigger point, for display.

    A deep trigger point is authored as a landmark plus an offset that goes into
    the body. Its nearest skin point can be on another face of the body (a deep
    buttock point surfaces on the outer hip), so for landmark-anchored points the
    offset's component along the landmark's skin normal (the depth) is dropped
    before snapping: the marker sits where the point is palpated. Raw points
    snap to their nearest skin point.
    """
    if isinstance(ref, str):
        ref = Anchored(at=ref)
    if isinstance(ref, Anchored):
        base = resolve(Anchored(at=ref.at), landmarks)
        n = geo.normals[geo.snap(base)[0][0]]
        off = np.asarray(ref.offset, dtype=np.float64)
        p = base + off - np.dot(off, n) * n
    else:
        p = resolve(ref, landmarks)
    return geo.vertices[geo.snap(p)[0][0]]
