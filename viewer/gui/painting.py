"""Pain drawing: a per-vertex mask painted with a disc brush on the skin (no Qt)."""

from __future__ import annotations

import numpy as np

from viewer.referral.lookup import disc


class PainDrawing:
    def __init__(self, model, radius_mm: float = 25.0):
        self.model = model
        self.radius_mm = radius_mm
        self.eraser = False
        self.mask = np.zeros(len(model.geo.vertices), dtype=np.float32)

    def dab(self, vertex: int) -> None:
        """Paint (or erase) the brush disc around a skin vertex."""
        self.mask[disc(self.model, vertex, self.radius_mm)] = 0.0 if self.eraser else 1.0

    def clear(self) -> None:
        self.mask[:] = 0.0

    @property
    def vertices(self) -> np.ndarray:
        return np.flatnonzero(self.mask > 0)

    def set_vertices(self, vertices) -> None:
        self.mask[:] = 0.0
        self.mask[np.asarray(vertices, dtype=np.int64)] = 1.0
