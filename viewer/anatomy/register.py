"""Register muscles into the skin and measure how much of them lies inside it."""

from __future__ import annotations

import igl
import numpy as np
import pyvista as pv
from scipy.ndimage import map_coordinates


def inside_fraction(points: np.ndarray, skin_v: np.ndarray, skin_f: np.ndarray) -> float:
    """Fraction of points inside the skin by generalized winding number (> 0.5).

    The GWN stays meaningful where a surface has holes, unlike ray parity.
    """
    w = igl.fast_winding_number(np.asarray(skin_v, np.float64), np.asarray(skin_f, np.int64),
                                np.asarray(points, np.float64))
    return float(np.mean(w > 0.5))


def _sample_grid(grid: pv.ImageData, pts: np.ndarray) -> np.ndarray:
    vol = np.asarray(grid["gwn"]).reshape(grid.dimensions[::-1])  # (z, y, x)
    idx = (pts - np.asarray(grid.origin)) / np.asarray(grid.spacing)
    return map_coordinates(vol, [idx[:, 2], idx[:, 1], idx[:, 0]], order=1, mode="constant", cval=0.0)


def similarity_matrix(scale: float, translation, pivot) -> np.ndarray:
    """4x4 matrix of p -> scale * (p - pivot) + pivot + translation."""
    m = np.eye(4)
    m[:3, :3] *= scale
    m[:3, 3] = (1 - scale) * np.asarray(pivot) + np.asarray(translation)
    return m


def apply(matrix: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ matrix[:3, :3].T + matrix[:3, 3]


def fit_similarity(points: np.ndarray, gwn_grid: pv.ImageData, *, max_points: int = 20000,
                   seed: int = 0) -> tuple[np.ndarray, dict]:
    """Uniform scale + translation that puts the muscles inside the skin.

    Maximises the fraction of muscle points inside (winding number sampled from
    the skin's grid), with a mild preference for scale 1 so that the fit does
    not win by shrinking. x stays 0: both bodies are left-right symmetric.
    Coarse grid search then a finer one around the best cell: deterministic.
    """
    rng = np.random.default_rng(seed)
    pts = points if len(points) <= max_points else points[rng.choice(len(points), max_points, replace=False)]
    pivot = pts.mean(axis=0)

    def score(s, ty, tz):
        w = _sample_grid(gwn_grid, s * (pts - pivot) + pivot + np.array([0.0, ty, tz]))
        return float(np.mean(w > 0.5)) - 0.5 * abs(1.0 - s)

    best = (score(1.0, 0.0, 0.0), 1.0, 0.0, 0.0)
    for step_s, step_t, span in ((0.01, 5.0, (0.93, 1.03, 40.0)), (0.0025, 1.0, None)):
        if span is None:
            _, s0, y0, z0 = best
            ss = np.arange(s0 - 2 * 0.01, s0 + 2 * 0.01 + 1e-9, step_s)
            ys = np.arange(y0 - 5, y0 + 5 + 1e-9, step_t)
            zs = np.arange(z0 - 5, z0 + 5 + 1e-9, step_t)
        else:
            lo, hi, t = span
            ss = np.arange(lo, hi + 1e-9, step_s)
            ys = np.arange(-t / 2, t / 2 + 1e-9, step_t)
            zs = np.arange(-t, t / 2 + 1e-9, step_t)
        for s in ss:
            for ty in ys:
                for tz in zs:
                    c = score(s, ty, tz)
                    if c > best[0] + 1e-12:
                        best = (c, float(s), float(ty), float(tz))
    _, s, ty, tz = best
    matrix = similarity_matrix(s, [0.0, ty, tz], pivot)
    return matrix, {"scale": round(s, 4), "translation_mm": [0.0, round(ty, 2), round(tz, 2)],
                    "pivot_mm": [round(float(x), 2) for x in pivot]}
