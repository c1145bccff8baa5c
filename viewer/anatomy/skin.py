"""Turn the BodyParts3D skin (an open outer sheet, an inner sheet and ~750
fragments for the head, hands and feet) into one closed, evenly meshed surface.

Why this way: the outer sheet alone has no head, hands or feet (those are the
fragments), and is open. The generalized winding number (GWN) of the outer
sheet plus outward-facing fragments is ~1 inside the body and ~0 outside even
across holes, so its 0.5 level set is a single watertight skin. ACVD
clustering then gives near-uniform triangles, which geodesic fields need.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import igl
import numpy as np
import pyvista as pv
import pyacvd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from viewer.anatomy.meshutil import component_labels, to_polydata, triangles


@dataclass
class SkinResult:
    vertices: np.ndarray      # (n, 3) float32, canonical mm
    faces: np.ndarray         # (m, 3) int32
    normals: np.ndarray       # (n, 3) float32, outward
    gwn_grid: pv.ImageData    # winding-number grid of the source sheets (for registration)
    stats: dict


def _consistent(vertices, faces) -> tuple[np.ndarray, np.ndarray]:
    poly = to_polydata(vertices, faces).clean(tolerance=0.0).compute_normals(
        consistent_normals=True, auto_orient_normals=False, split_vertices=False,
        non_manifold_traversal=True, cell_normals=True, point_normals=False)
    return np.asarray(poly.points), triangles(poly)


def _face_normals(v, f):
    n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    return n  # length = 2 * area: an area-weighted normal


def _signed_volume(v, f) -> float:
    return float(np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6.0)


def split_sheets(vertices: np.ndarray, faces: np.ndarray):
    """Outer sheet, inner sheets (dropped) and fragments of the raw skin."""
    # Pieces are split on the file's own vertex sharing: merging coincident
    # points would weld the fragments onto the sheets they touch.
    v, f = np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64)
    labels = component_labels(f, len(v))
    counts = np.bincount(labels)
    order = np.argsort(-counts)
    pieces = [f[labels == k] for k in order]
    outer_f = pieces[0]
    ov, of = _consistent(v, outer_f)
    if _signed_volume(ov, of) < 0:
        of = of[:, ::-1]
    inner, fragments = [], []
    for pf in pieces[1:]:
        # A second large sheet hugging the main one (the headless "inner" sheet,
        # measured ~2.5 mm from it) is a duplicate layer: drop it.
        if len(pf) > 0.1 * len(outer_f):
            pts = v[np.unique(pf)]
            dist = igl.signed_distance(pts, ov.astype(np.float64), of.astype(np.int64))[0]
            if np.median(np.abs(dist)) < 10.0:
                inner.append(pf)
                continue
        fragments.append(pf)
    return (ov, of), inner, [(_consistent(v, pf)) for pf in fragments]


def _orient_fragment(fv, ff, outer_v):
    """Flip a fragment so its normals point away from the body axis at its height."""
    z = fv[:, 2].mean()
    band = outer_v[np.abs(outer_v[:, 2] - z) < 40]
    axis = band.mean(axis=0) if len(band) else outer_v.mean(axis=0)
    centres = fv[ff].mean(axis=1)
    away = centres - axis
    away[:, 2] *= 0.3  # the body is tall: judge mostly by the horizontal direction
    if (np.einsum("ij,ij->i", _face_normals(fv, ff), away)).sum() < 0:
        ff = ff[:, ::-1]
    return fv, ff


def build_skin(vertices: np.ndarray, faces: np.ndarray, *, voxel_mm: float = 4.0,
               target_vertices: int = 50_000, progress=None) -> SkinResult:
    say = progress or (lambda msg: None)
    raw_faces = len(faces)
    say("skin: splitting sheets")
    (ov, of), inner, fragments = split_sheets(vertices, faces)
    boundary_loops = _count_boundary_loops(of)
    parts_v, parts_f, offset = [ov], [of], len(ov)
    for fv, ff in fragments:
        fv, ff = _orient_fragment(fv, ff, ov)
        parts_v.append(fv)
        parts_f.append(ff + offset)
        offset += len(fv)
    allv = np.vstack(parts_v).astype(np.float64)
    allf = np.vstack(parts_f).astype(np.int64)

    say("skin: winding-number grid")
    lo = allv.min(axis=0) - 3 * voxel_mm
    hi = allv.max(axis=0) + 3 * voxel_mm
    dims = np.ceil((hi - lo) / voxel_mm).astype(int) + 1
    grid = pv.ImageData(dimensions=dims, spacing=(voxel_mm,) * 3, origin=lo)
    grid["gwn"] = igl.fast_winding_number(allv, allf, np.asarray(grid.points, dtype=np.float64))
    grid["gwn"] = _thicken_hands(grid, allv, allf, np.asarray(grid["gwn"]))

    say("skin: surface extraction")
    surf = grid.contour([0.5], scalars="gwn", method="flying_edges")
    surf = surf.connectivity("largest").extract_surface(algorithm="dataset_surface")
    surf = surf.triangulate().clean()
    # Taubin smoothing removes voxel steps without shrinking the body.
    surf = surf.smooth_taubin(n_iter=30, pass_band=0.05)

    say("skin: remeshing")
    with warnings.catch_warnings():   # pyacvd uses a pyvista accessor deprecated in 0.46
        warnings.filterwarnings("ignore", message=".*_connectivity_array.*")
        clus = pyacvd.Clustering(surf)
        if surf.n_points < 2 * target_vertices:   # ACVD needs more input points than clusters
            clus.subdivide(int(np.ceil(np.log(2 * target_vertices / surf.n_points) / np.log(4))))
        clus.cluster(target_vertices)
        skin = clus.create_mesh().clean().triangulate()
    skin = skin.connectivity("largest").extract_surface(algorithm="dataset_surface").clean()
    skin = skin.compute_normals(consistent_normals=True, auto_orient_normals=True,
                                split_vertices=False, point_normals=True, cell_normals=False)
    v = np.asarray(skin.points, dtype=np.float32)
    f = triangles(skin).astype(np.int32)
    stats = {
        "raw_faces": int(raw_faces),
        "outer_sheet_faces": int(len(of)),
        "outer_sheet_boundary_loops": int(boundary_loops),
        "inner_sheets_removed_faces": int(sum(len(x) for x in inner)),
        "fragments_merged": int(len(fragments)),
        "voxel_mm": voxel_mm,
        "vertices": int(len(v)),
        "faces": int(len(f)),
        "watertight_edges": bool(_count_boundary_loops(f) == 0),
    }
    return SkinResult(v, f, np.asarray(skin.point_data["Normals"], dtype=np.float32), grid, stats)


# The hands: beyond the thighs (|x| > HAND_X_MM) below the hips. Their fingers are thin open
# slivers in the decimated source, so the winding number inside them stays under 0.5 and
# the level set kept ragged stubs and a ball (bones of the fingers then stuck out of the
# skin). There the skin is also the surface FINGER_RADIUS_MM around the source triangles.
HAND_X_MM, HAND_TOP_MM, FINGER_RADIUS_MM, HAND_RAMP_MM = 195.0, 900.0, 5.0, 40.0


def _thicken_hands(grid: pv.ImageData, allv: np.ndarray, allf: np.ndarray, gwn: np.ndarray) -> np.ndarray:
    pts = np.asarray(grid.points, dtype=np.float64)
    near = (np.abs(pts[:, 0]) > HAND_X_MM) & (pts[:, 2] < HAND_TOP_MM)
    centres = allv[allf].mean(axis=1)
    tri = (np.abs(centres[:, 0]) > HAND_X_MM - 20.0) & (centres[:, 2] < HAND_TOP_MM + 20.0)
    if not near.any() or not tri.any():
        return gwn
    used = np.unique(allf[tri])
    remap = np.full(len(allv), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    d = np.sqrt(np.abs(igl.point_mesh_squared_distance(pts[near], allv[used], remap[allf[tri]])[0]))
    tube = np.clip(1.0 - d / (2.0 * FINGER_RADIUS_MM), 0.0, 1.0)      # 0.5 at the radius
    # Fade in over HAND_RAMP_MM from the region's edge (half strength adds nothing, full
    # strength the whole radius), so the wrist has no step where the region starts.
    p = pts[near]
    ramp = np.clip((np.abs(p[:, 0]) - HAND_X_MM) / HAND_RAMP_MM, 0.0, 1.0) \
        * np.clip((HAND_TOP_MM - p[:, 2]) / HAND_RAMP_MM, 0.0, 1.0)
    tube = tube * (0.5 + 0.5 * ramp)
    out = gwn.copy()
    out[near] = np.maximum(gwn[near], tube)
    return out


def _count_boundary_loops(faces: np.ndarray) -> int:
    e = np.sort(np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    uniq, counts = np.unique(e, axis=0, return_counts=True)
    boundary = uniq[counts == 1]
    if len(boundary) == 0:
        return 0
    verts, inv = np.unique(boundary, return_inverse=True)
    inv = inv.reshape(-1, 2)
    g = coo_matrix((np.ones(len(inv)), (inv[:, 0], inv[:, 1])), shape=(len(verts),) * 2)
    return int(connected_components(g, directed=False)[0])
