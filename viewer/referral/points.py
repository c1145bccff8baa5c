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
    return point * MIRROR if side == "left" else point
