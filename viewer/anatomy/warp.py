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

import igl
import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.ndimage import map_coordinates
from scipy.optimize import minimize
from scipy.spatial import cKDTree

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


# --- Articulated fit of hands and toes -------------------------------------------------------
# The skin's hands are mitten-like (a 4 mm voxel surface; thumb against the index, ring and
# little fingers curled forward) while the 4.0 hand is spread. No smooth warp of the whole
# body can close a spread hand, and squashing the bones onto the skin would deform them. So
# each hand (and the toes) is posed like a skeleton: one rigid move of the whole hand about
# the wrist, then a rotation at every joint of every finger ray, found by minimising how far
# the bones stick out of the skin plus a penalty on the joint angles. Every bone stays rigid.


def sdf_sampler(skin_v, skin_f, lo, hi, spacing_mm: float = 2.0):
    """Signed distance to the skin (negative inside, by winding number), sampled on a
    regular grid over the box lo..hi, returned as a trilinear lookup function."""
    sv, sf = np.asarray(skin_v, np.float64), np.asarray(skin_f, np.int64)
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    axes = [np.arange(a, b + spacing_mm, spacing_mm) for a, b in zip(lo, hi)]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    # only the skin triangles near the box matter for the distance
    near = np.all((sv[sf].min(axis=1) < hi + 40) & (sv[sf].max(axis=1) > lo - 40), axis=1)
    d2, _, _ = igl.point_mesh_squared_distance(g, sv, sf[near])
    w = igl.fast_winding_number(sv, sf, g)
    sdf = np.where(w > 0.5, -1.0, 1.0) * np.sqrt(d2)
    grid = sdf.reshape([len(a) for a in axes])

    def lookup(p: np.ndarray) -> np.ndarray:
        idx = ((np.asarray(p, float) - lo) / spacing_mm).T
        return map_coordinates(grid, idx, order=1, mode="nearest")

    return lookup


def _rot(rv: np.ndarray) -> np.ndarray:
    """Rotation matrix of a rotation vector (Rodrigues; cheaper than scipy's Rotation in a
    cost function called thousands of times)."""
    th = float(np.sqrt(rv @ rv))
    if th < 1e-12:
        return np.eye(3)
    k = rv / th
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(th) * K + (1 - np.cos(th)) * (K @ K)


@dataclass
class Ray:
    """A chain of bones (proximal first), the joint proximal to each, and each joint's
    axes and range: flexion about flex_axes[k], spreading (ab/adduction) about
    spread_axes[k], within limits_deg[k] = (flex_lo, flex_hi, spread_lo, spread_hi)."""
    bones: list[int]          # indices into the extremity's bone list
    joints: np.ndarray        # (n, 3) joint centres
    flex_axes: np.ndarray     # (n, 3) unit axes; +angle bends toward the palm or sole
    spread_axes: np.ndarray   # (n, 3)
    limits_deg: np.ndarray    # (n, 4)
    stiffness: np.ndarray     # (n,) angle penalty weight per joint


def joint_centre(a: np.ndarray, b: np.ndarray, band_mm: float = 3.0) -> np.ndarray:
    """Centre of the joint between two bones: the mean of the facing vertices of both."""
    da, _ = cKDTree(b).query(a)
    db, _ = cKDTree(a).query(b)
    return np.vstack([a[da <= da.min() + band_mm], b[db <= db.min() + band_mm]]).mean(axis=0)


def _root(root_c, p):
    """x -> s R (x - c) + c + shift, for params (rotvec, shift, log s)."""
    rr = _rot(p[:3]) * float(np.exp(p[6]))
    return rr, root_c + p[3:6] - rr @ root_c


def _chain(ray: Ray, p: np.ndarray, root) -> list:
    """Rigid (R, t) of each bone of a ray for params p = (flex, spread) per joint (radians):
    the joints' rotations about their centres (distal ones first), then the root's move."""
    rr, rt = root
    R, t = np.eye(3), np.zeros(3)
    out = []
    for k, j in enumerate(ray.joints):
        Rk = _rot(p[2 * k + 1] * ray.spread_axes[k]) @ _rot(p[2 * k] * ray.flex_axes[k])
        t = R @ (j - Rk @ j) + t      # x -> R (Rk (x - j) + j) + t
        R = R @ Rk
        out.append((rr @ R, rr @ t + rt))
    return out


def _ray_start(ray: Ray, cost, steps: int = 7) -> np.ndarray:
    """A starting pose from a coarse search over the knuckle (or ball of the toe): the
    fingers of the skin's mitten are bent or pressed together far enough that a local
    descent from straight gets stuck. The joints beyond bend along, half as much."""
    n = len(ray.bones)
    lim = np.radians(ray.limits_deg)
    best = np.clip(np.zeros(2 * n), lim[:, [0, 2]].ravel(), lim[:, [1, 3]].ravel())
    if n < 2:
        return best
    best_c = cost(best)
    for flex in np.linspace(lim[1, 0], lim[1, 1], steps):
        for spread in np.linspace(lim[1, 2], lim[1, 3], 5):
            p = best * 0
            p[2], p[3] = flex, spread
            for k in range(2, n):
                p[2 * k] = np.clip(0.5 * flex, lim[k, 0], lim[k, 1])
            p = np.clip(p, lim[:, [0, 2]].ravel(), lim[:, [1, 3]].ravel())
            c = cost(p)
            if c < best_c:
                best, best_c = p, c
    return best


def fit_articulated(bones: list[np.ndarray], rays: list[Ray], sdf, *, root_centre, margin_mm: float = 2.0,
                    root: bool = True, root_stiffness: float = 5.0, shift_stiffness: float = 0.05, min_scale: float = 0.85,
                    root_start=None,
                    scale_stiffness: float = 20.0, sample: int = 40, rounds: int = 1):
    """Pose an extremity's bones inside the skin. Returns one rigid (R, t) per bone and a report.

    Stage 1 moves the whole extremity (rotation about root_centre, a small shift and one
    uniform scale: the skin's hands are smaller than the 4.0 hands; a uniform scale keeps
    every bone's shape), stage 2 bends each ray's joints. The cost is the mean squared depth by which bone points
    stick out past ``-margin_mm`` plus stiffness * angle^2 (radians) per joint and
    shift_stiffness * shift^2 (mm) for the root, so joints bend only as much as the skin
    asks for and the wrist or ankle stays on its forearm or leg.
    """
    pts = [b[:: max(1, len(b) // sample)] for b in bones]   # a few dozen points per bone
    root_c = np.asarray(root_centre, float)

    def out_cost(pairs):
        c, n = 0.0, 0
        for i, (R, t) in pairs:
            d = sdf(pts[i] @ R.T + t) + margin_mm
            c += float(np.sum(np.maximum(d, 0.0) ** 2))
            n += len(d)
        return c / max(n, 1)

    root_p = np.zeros(7)
    if root_start is not None:   # where the search for the root's rotation starts (rotvec)
        root_p[:3] = root_start
    ray_p = [None] * len(rays)
    for _ in range(rounds):   # root and rays in turn: the fingers' pose changes what the root needs
        if root:
            def f_root(p):
                rt = _root(root_c, p)
                pose = [rt] * len(bones)
                for ray, q in zip(rays, ray_p):
                    if q is not None:
                        for b, Rt in zip(ray.bones, _chain(ray, q, rt)):
                            pose[b] = Rt
                return (out_cost(enumerate(pose)) + root_stiffness * float(p[:3] @ p[:3])
                        + shift_stiffness * float(p[3:6] @ p[3:6]) + scale_stiffness * float(p[6] ** 2))
            root_p = minimize(f_root, root_p, method="L-BFGS-B",
                              bounds=[(None, None)] * 6 + [(np.log(min_scale), 0.0)]).x
        rt = _root(root_c, root_p)
        for r_i, ray in enumerate(rays):
            stiff = np.repeat(ray.stiffness, 2)

            def f_ray(p, ray=ray, stiff=stiff):
                return out_cost(zip(ray.bones, _chain(ray, p, rt))) + float(np.sum(stiff * p * p))
            lim = np.radians(ray.limits_deg)
            start = _ray_start(ray, f_ray) if ray_p[r_i] is None else ray_p[r_i]
            ray_p[r_i] = minimize(f_ray, start, method="L-BFGS-B",
                                  bounds=list(zip(lim[:, [0, 2]].ravel(), lim[:, [1, 3]].ravel()))).x
    rt = _root(root_c, root_p)
    pose = [rt] * len(bones)
    for ray, p in zip(rays, ray_p):
        for b, Rt in zip(ray.bones, _chain(ray, p, rt)):
            pose[b] = Rt
    angles = [np.degrees(p).round(1).reshape(-1, 2).tolist() for p in ray_p]
    report = {"root_rotation_deg": round(float(np.degrees(np.linalg.norm(root_p[:3]))), 1),
              "root_shift_mm": np.round(root_p[3:6], 1).tolist(),
              "root_scale": round(float(np.exp(root_p[6])), 3), "joint_flex_spread_deg": angles,
              "outside_cost_mm2": round(out_cost(enumerate(pose)), 3)}
    return pose, report


def apply_rigid(v: np.ndarray, Rt) -> np.ndarray:
    R, t = Rt
    return np.asarray(v, float) @ R.T + t


def follow_field(src: np.ndarray, dst: np.ndarray, anchors: np.ndarray, pts: np.ndarray, *,
                 full_mm: float = 25.0, zero_mm: float = 50.0, smoothing: float = 1.0) -> np.ndarray:
    """Move pts (muscles and tendons of a posed extremity) with its bones: a thin-plate
    spline on the bones' displacements (src -> dst), held at zero on anchors (the forearm or
    leg bones), applied in full within full_mm of the posed bones and faded out by zero_mm."""
    pts = np.asarray(pts, float)
    d, _ = cKDTree(src).query(pts)
    wgt = np.clip((zero_mm - d) / (zero_mm - full_mm), 0.0, 1.0)
    act = wgt > 0
    out = pts.copy()
    if act.any():
        rbf = RBFInterpolator(np.vstack([src, anchors]),
                              np.vstack([dst - src, np.zeros_like(anchors)]),
                              kernel="thin_plate_spline", smoothing=smoothing)
        w = wgt[act]
        w = w * w * (3 - 2 * w)      # smoothstep: no kink where the fade starts
        out[act] += w[:, None] * rbf(pts[act])
    return out
