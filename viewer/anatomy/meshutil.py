"""Small plain-array mesh helpers shared by the builders."""

from __future__ import annotations

import numpy as np
import pyvista as pv


def to_polydata(vertices: np.ndarray, faces: np.ndarray) -> pv.PolyData:
    faces = np.asarray(faces, dtype=np.int64)
    cells = np.hstack([np.full((len(faces), 1), 3, dtype=np.int64), faces]).ravel()
    return pv.PolyData(np.asarray(vertices, dtype=np.float64), cells)


def triangles(poly: pv.PolyData) -> np.ndarray:
    """(n, 3) face array of an all-triangle PolyData."""
    return np.asarray(poly.faces).reshape(-1, 4)[:, 1:]


def consistent_outward(vertices, faces) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Make winding consistent and outward (VTK's normals filter), return V, F, point normals."""
    poly = to_polydata(vertices, faces).clean(tolerance=0.0)
    # Splitting at sharp edges (feature angle 60) keeps the decimated muscles'
    # folds from smearing dark bands across smooth shading.
    fixed = poly.compute_normals(
        cell_normals=False, point_normals=True, consistent_normals=True,
        auto_orient_normals=True, split_vertices=True, feature_angle=60.0,
        non_manifold_traversal=True,
    )
    return (np.asarray(fixed.points, dtype=np.float32), triangles(fixed).astype(np.int32),
            np.asarray(fixed.point_data["Normals"], dtype=np.float32))


def component_labels(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """Connected-component label of every face (faces sharing an edge are connected)."""
    # lazy: trimesh ~0.9 s to import (-X importtime); the window imports this module, only a build labels components
    import trimesh

    mesh = trimesh.Trimesh(np.zeros((n_vertices, 3)), np.asarray(faces), process=False)
    return trimesh.graph.connected_component_labels(mesh.face_adjacency, node_count=len(faces))
