"""Geodesic tools on the skin: snapping, stroke sampling, heat-method distance, mirror map."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import potpourri3d as pp3d
from scipy.spatial import cKDTree


class SkinGeometry:
    """Plain arrays in, plain arrays out; the heat solver is built on first use."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray | None = None):
        self.vertices = np.asarray(vertices, dtype=np.float64)
        self.faces = np.asarray(faces, dtype=np.int64)
        self.normals = None if normals is None else np.asarray(normals, dtype=np.float64)
        self.tree = cKDTree(self.vertices)

    @property
    def n(self) -> int:
        """Number of skin vertices."""
        return len(self.vertices)

    @cached_property
    def solver(self):
        """The heat-method geodesic solver of the skin (built on first use)."""
        return pp3d.MeshHeatMethodDistanceSolver(self.vertices, self.faces, use_robust=True)

    @cached_property
    def mirror_index(self) -> np.ndarray:
        """Vertex nearest to each vertex's reflection in the sagittal plane (x -> -x)."""
        reflected = self.vertices * np.array([-1.0, 1.0, 1.0])
        return self.tree.query(reflected)[1]

    def snap(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vertex ids, distances in mm) of the skin vertices nearest to one or more points."""
        dist, idx = self.tree.query(np.atleast_2d(points))
        return idx, dist

    def sample_polyline(self, points: np.ndarray, step_mm: float = 4.0) -> np.ndarray:
        """Skin vertices along straight segments between points, each sample snapped."""
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        samples = [pts[:1]]
        for a, b in zip(pts[:-1], pts[1:]):
            n = max(1, int(np.ceil(np.linalg.norm(b - a) / step_mm)))
            t = np.linspace(0.0, 1.0, n + 1)[1:, None]
            samples.append(a + t * (b - a))
        return np.unique(self.snap(np.vstack(samples))[0])

    def distance(self, sources: np.ndarray) -> np.ndarray:
        """Geodesic distance (mm) from a set of vertices, along the skin surface."""
        sources = np.unique(np.asarray(sources, dtype=np.int64))
        return np.asarray(self.solver.compute_distance_multisource(sources.tolist()))


def falloff(distance: np.ndarray, inner: float, ramp: float) -> np.ndarray:
    """1 within `inner` mm, smooth (smoothstep) down to 0 at inner + ramp."""
    t = np.clip((distance - inner) / ramp, 0.0, 1.0)
    return 1.0 - t * t * (3.0 - 2.0 * t)
