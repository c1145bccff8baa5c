"""Register BodyParts3D 4.0 bones and muscles into the pack frame with a smooth warp.

Why a warp: the pack's skin and Z-Anatomy muscles come from an older
BodyParts3D body. The 4.0 trunk and face agree with it within a few mm, but
the 4.0 soles sit ~60 mm lower and the shins differ by 10-25 mm, so no single
similarity fits. A thin-plate spline (scipy's RBFInterpolator) on the
displacement field is fitted on correspondences that say where the 4.0 body
must go:

* muscles present in both sets (same name and side): points at fixed
  fractions along each muscle's main axis ("slab centroids"), 4.0 -> Z-Anatomy;
* each foot, which Z-Anatomy lacks: the bony extremes of the 4.0 foot
  (heel, sole, toe tip, first and fifth metatarsal heads) -> the same extremes
  of the skin's foot, moved inward by the soft-tissue thickness over them;
* fixed points on the skull, where both bodies already agree.

The spline is smoothed (it need not hit every landmark) so that conflicting
landmarks average out rather than fold the field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import RBFInterpolator

# Fractions along a muscle's main axis where corresponding points are taken.
SLABS = (0.1, 0.3, 0.5, 0.7, 0.9)
# Soft tissue between bone and skin (mm), typical adult values (heel pad,
# plantar pad under the metatarsal heads, toe pulp, sides of the forefoot).
HEEL_PAD_MM, SOLE_PAD_MM, TOE_PULP_MM, SIDE_MM = 15.0, 12.0, 8.0, 6.0
# Height bands (mm) used to report inside fractions.
BANDS = (("feet", -1e9, 100.0), ("legs", 100.0, 400.0), ("knees_thighs", 400.0, 800.0),
         ("pelvis_trunk", 800.0, 1200.0), ("chest_arms_head", 1200.0, 1e9))


@dataclass
class Warp:
    source: np.ndarray      # (n, 3) landmarks in the 4.0 native frame
    target: np.ndarray      # (n, 3) where they go in the pack frame
    kinds: list[str]        # what each landmark is ("muscle:...", "foot:...", "skull")
    smoothing: float = 50.0

    def __post_init__(self):
        self._rbf = RBFInterpolator(self.source, self.target - self.source,
                                    kernel="thin_plate_spline", smoothing=self.smoothing)

    def __call__(self, pts: np.ndarray, chunk: int = 20000) -> np.ndarray:
        pts = np.asarray(pts, dtype=np.float64)
        out = np.empty_like(pts)
        for i in range(0, len(pts), chunk):   # bounded memory: chunk x landmarks
            out[i:i + chunk] = pts[i:i + chunk] + self._rbf(pts[i:i + chunk])
        return out

    def gridded(self, pts: np.ndarray, spacing_mm: float = 10.0) -> np.ndarray:
        """The warp sampled on a regular grid around pts and interpolated
        trilinearly: the spline costs (points x landmarks), the grid a fixed
        ~200k evaluations for the whole body. The field is smooth at the
        landmarks' spacing, so the error is well under a millimetre."""
        from scipy.ndimage import map_coordinates

        pts = np.asarray(pts, dtype=np.float64)
        lo = pts.min(axis=0) - 2 * spacing_mm
        hi = pts.max(axis=0) + 2 * spacing_mm
        axes = [np.arange(a, b + spacing_mm, spacing_mm) for a, b in zip(lo, hi)]
        gx, gy, gz = np.meshgrid(*axes, indexing="ij")
        nodes = np.column_stack([gx.ravel(), gy.ravel(), gz.ravel()])
        disp = (self(nodes) - nodes).reshape(gx.shape + (3,))
        idx = ((pts - lo) / spacing_mm).T
        return pts + np.column_stack([map_coordinates(disp[..., k], idx, order=1, mode="nearest")
                                      for k in range(3)])

    def mixed(self, pts: np.ndarray, exact: np.ndarray, spacing_mm: float = 12.0) -> np.ndarray:
        """Gridded everywhere except where exact is True: there (hands, feet:
        thin bones, dense landmarks) the trilinear grid's few-mm error would
        push fingers and toes through the skin, and the points are few."""
        pts = np.asarray(pts, dtype=np.float64)
        out = self.gridded(pts, spacing_mm) if (~exact).any() else pts.copy()
        if exact.any():
            out[exact] = self(pts[exact])
        return out

    def residuals(self) -> np.ndarray:
        return np.linalg.norm(self(self.source) - self.target, axis=1)


def slab_points(v: np.ndarray, axis: np.ndarray | None = None, fractions=SLABS) -> np.ndarray:
    """Centroids of thin slabs across a mesh at fractions of its length along its main axis."""
    v = np.asarray(v, dtype=np.float64)
    c = v.mean(axis=0)
    if axis is None:
        _, _, vt = np.linalg.svd(v - c, full_matrices=False)
        axis = vt[0] * (1 if vt[0][2] >= 0 else -1)   # point up so both meshes agree
    t = (v - c) @ axis
    lo, hi = np.quantile(t, 0.02), np.quantile(t, 0.98)
    out = []
    for f in fractions:
        at = lo + f * (hi - lo)
        sel = np.abs(t - at) <= max(0.05 * (hi - lo), 2.0)
        out.append(v[sel].mean(axis=0) if sel.any() else c + at * axis)
    return np.array(out)


def muscle_landmarks(pairs) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """pairs: (name, 4.0 vertices, Z-Anatomy vertices). Both use the Z-Anatomy
    muscle's axis so that the slabs cut the same level of both muscles."""
    src, dst, kinds = [], [], []
    for name, v40, vz in pairs:
        vz = np.asarray(vz, np.float64)
        _, _, vt = np.linalg.svd(vz - vz.mean(axis=0), full_matrices=False)
        axis = vt[0] * (1 if vt[0][2] >= 0 else -1)
        src.append(slab_points(v40, axis))
        dst.append(slab_points(vz, axis))
        kinds += [f"muscle:{name}"] * len(SLABS)
    return np.vstack(src), np.vstack(dst), kinds


def extremity_landmarks(bones: list[np.ndarray], skin_part: np.ndarray, *, inset_xy: tuple[float, float],
                        inset_bottom: float, scale_z: bool, name: str):
    """Landmarks that move a hand or foot of the 4.0 skeleton into the skin's hand or foot.

    A per-axis affine maps the bones' bounding box onto the skin's, inset by
    the soft tissue over the bones (inset_xy on the sides, inset_bottom under
    the sole or the finger tips). The top (wrist, ankle) stays at the bones'
    own height unless scale_z: the skin's extremity has no top to compare with.
    The landmarks are points along every bone, moved by that affine.
    """
    allv = np.vstack(bones)
    blo, bhi = allv.min(axis=0), allv.max(axis=0)
    slo, shi = skin_part.min(axis=0), skin_part.max(axis=0)
    tlo = np.array([slo[0] + inset_xy[0], slo[1] + inset_xy[1], slo[2] + inset_bottom])
    thi = np.array([shi[0] - inset_xy[0], shi[1] - inset_xy[1], bhi[2]])
    scale = (thi - tlo) / np.maximum(bhi - blo, 1e-6)
    if not scale_z:
        scale[2] = 1.0
    src = np.vstack([slab_points(b) for b in bones] + [allv.mean(axis=0, keepdims=True)])
    dst = tlo + (src - blo) * scale
    return src, dst, [f"{name}"] * len(src)


def extremities(pts: np.ndarray) -> np.ndarray:
    """Points of the hands and feet (native or pack frame: both agree to ~60 mm)."""
    pts = np.asarray(pts)
    return (pts[:, 2] < 150.0) | ((np.abs(pts[:, 0]) > 180.0) & (pts[:, 2] < 950.0))


def inside_by_band(points: np.ndarray, skin_v, skin_f) -> dict[str, float]:
    """Share of points inside the skin (generalized winding number > 0.5) per height band."""
    import igl

    pts = np.asarray(points, np.float64)
    w = igl.fast_winding_number(np.asarray(skin_v, np.float64), np.asarray(skin_f, np.int64), pts)
    out = {}
    for name, lo, hi in BANDS:
        sel = (pts[:, 2] >= lo) & (pts[:, 2] < hi)
        out[name] = round(float(np.mean(w[sel] > 0.5)), 4) if sel.any() else None
    out["all"] = round(float(np.mean(w > 0.5)), 4)
    return out


def refine_on_skin(warp: Warp, samples: np.ndarray, skin_v, skin_f, skin_n, *, margin_mm: float = 4.0,
                   grid_mm: float = 12.0, iterations: int = 3) -> Warp:
    """Fit the warp on the skin as well: sample points that the warp leaves
    outside the skin get a landmark that puts them margin_mm under the nearest
    skin point, and the spline is refitted. Where the 4.0 hands and the back
    of the head differ in shape from the skin (no muscle of the other set to
    say where they belong) this is what keeps them inside.

    samples: points of the 4.0 meshes (native frame), already thinned.
    """
    import igl
    from scipy.spatial import cKDTree

    sv, sf = np.asarray(skin_v, np.float64), np.asarray(skin_f, np.int64)
    tree = cKDTree(sv)
    for _ in range(iterations):
        moved = warp.mixed(samples, extremities(samples), spacing_mm=15.0)
        w = igl.fast_winding_number(sv, sf, moved)
        _, nearest = tree.query(moved)
        depth = np.einsum("ij,ij->i", sv[nearest] - moved, np.asarray(skin_n, np.float64)[nearest])
        bad = (w <= 0.5) | (depth < 0.5 * margin_mm)
        if not bad.any():
            break
        # one landmark per grid cell keeps the system small and evenly spread
        cells = np.floor(samples[bad] / grid_mm).astype(np.int64)
        _, first = np.unique(cells, axis=0, return_index=True)
        src = samples[bad][first]
        dst = sv[nearest[bad][first]] - np.asarray(skin_n, np.float64)[nearest[bad][first]] * margin_mm
        warp = Warp(np.vstack([warp.source, src]), np.vstack([warp.target, dst]),
                    warp.kinds + ["skin"] * len(src), smoothing=warp.smoothing)
    return warp
