"""Muscle parts: read from the Z-Anatomy GLB or BodyParts3D OBJs, map into the canonical frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.anatomy import catalogue
from viewer.anatomy.meshutil import consistent_outward


@dataclass
class MusclePart:
    id: str                 # unique part id, e.g. "Gluteus_medius_muscle.r"
    base: str               # id without side suffix
    name: str
    side: str               # right | left | midline
    fma: str | None
    region: str
    vertices: np.ndarray    # (n, 3) float32, canonical mm
    faces: np.ndarray       # (m, 3) int32
    normals: np.ndarray = field(default=None)
    whole_fma: str | None = None       # the whole muscle this part belongs to (catalogue key)
    whole_name: str | None = None
    source: str = "z-anatomy"          # z-anatomy | bp3d-4.0 | bp3d-3.0
    element: str | None = None         # BodyParts3D element file id (4.0 and 3.0 parts)
    mirrored: bool = False             # left side built by mirroring the right (as BodyParts3D does)
    extra_aliases: tuple = ()
    kind: str = "muscle"               # muscle | organ (BodyParts3D 3.0 organs)


def gltf_to_canonical(v: np.ndarray) -> np.ndarray:
    """glTF (m, +Y up, +Z anterior) -> BodyParts3D (mm, +Z up, -Y anterior).

    The Z-Anatomy model was re-centred front-to-back; the 0.100 m offset is the
    approximate shift measured in shared/anatomy/README.md. A similarity fit
    (register.py) refines it.
    """
    v = np.asarray(v, dtype=np.float64)
    return np.column_stack([1000.0 * v[:, 0], -1000.0 * (v[:, 2] + 0.100), 1000.0 * v[:, 1]])


def read_glb(path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(node name, vertices in glTF frame with node transforms applied, faces)."""
    # lazy: trimesh ~1 s to import (-X importtime); only a build reads the glb
    import trimesh

    scene = trimesh.load(str(path), force="scene")
    out = []
    for node in scene.graph.nodes_geometry:
        transform, geom_name = scene.graph[node]
        geom = scene.geometry[geom_name]
        if not hasattr(geom, "faces") or len(geom.faces) == 0:
            continue
        v = trimesh.transform_points(np.asarray(geom.vertices), transform)
        out.append((str(node), v, np.asarray(geom.faces)))
    return out


def make_part(node_name: str, vertices: np.ndarray, faces: np.ndarray, *, fma: str | None = None,
              name: str | None = None) -> MusclePart:
    base, side = catalogue.split_name(node_name)
    v, f, n = consistent_outward(vertices, faces)
    return MusclePart(
        id=node_name, base=base, name=name or catalogue.english_name(base), side=side,
        fma=fma or catalogue.FMA_BY_BASE.get(base), region=catalogue.region_of(base),
        vertices=v, faces=f, normals=n,
    )


def muscles_from_glb(path) -> tuple[list[MusclePart], list[str]]:
    """Parts in the canonical frame (before registration) and the names skipped."""
    parts, skipped = [], []
    for node, v, f in read_glb(path):
        if catalogue.PLACEHOLDER.search(node):
            skipped.append(node)
            continue
        parts.append(make_part(node, gltf_to_canonical(v), f))
    parts.sort(key=lambda p: p.id)
    return parts, skipped
