"""BodyParts3D 3.0 muscles and organs for the pack (``bodyparts3d-3.0/``).

These meshes are in the skin's own frame (BodyParts3D native: mm, +Z up,
-Y anterior, -X the subject's right), so they need no registration and no warp.
The pack takes, by the pinned list ``data/bp3d30_files.csv``:

- the 3.0 muscles of referral maps that neither Z-Anatomy nor the 4.0 elements
  have (quadratus lumborum, latissimus dorsi, rectus abdominis, ...), each
  under the whole muscle's FMA id of its map (``whole_fma``);
- five organs (stomach, liver, right and left kidney, trachea) as parts of
  kind ``organ``.

Four of the muscle files are later re-exports with sub-millimetre cracks
(``weld_mm`` 0.5): their vertices are welded within 0.5 mm before use. The
DBCLS originals write each surface patch with its own copy of the shared
vertices (right latissimus dorsi: 16,078 boundary edges as read, 1,828 after
merging coincident vertices); every file is therefore welded within
DUPLICATE_MM first, before the muscles are decimated, or the decimation tears
them into hundreds of pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import fast_simplification
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from viewer.anatomy import register
from viewer.anatomy.download import pinned_bp30_rows
from viewer.anatomy.sources import check_pinned_file
from viewer.constants import SIDES
from viewer.errors import ViewerError

DIR = "bodyparts3d-3.0"
SOURCE = "bp3d-3.0"
# the 4.0 layer's share of triangles kept (bp3d40.KEEP_FRACTION, MIN_FACES): the 3.0
# muscles are as dense (latissimus dorsi 45k triangles); organs are kept whole
KEEP_FRACTION, MIN_FACES = 0.2, 150
DUPLICATE_MM = 0.01   # coincident vertices (the same point written twice)
HEADER = re.compile(r"#\s*([A-Za-z][A-Za-z ()0-9]*?)\s*:\s*(.+?)\s*$")


@dataclass
class Item:
    row: dict
    vertices: np.ndarray     # (n, 3) float64, native frame (mm)
    faces: np.ndarray        # (m, 3) int64
    welded: int = 0          # vertices merged by the weld

    @property
    def kind(self) -> str:
        return self.row["kind"]

    @property
    def part_id(self) -> str:
        side = self.row["side"]
        return f"{self.row['part_base']}.{side[0]}" if side != "midline" else self.row["part_base"]


def pinned_rows() -> list[dict]:
    """Rows of the pinned list (data/bp3d30_files.csv): local path, kind, ids, name, side,
    part base, whole FMA, weld distance, sha256 and the public source (repo, commit, path)."""
    return pinned_bp30_rows()


def check_folder(root: Path, *, verify: bool = True) -> None:
    """Fail fast, before the long build steps, on a missing or damaged 3.0 file.
    root is the source folder (the one holding bodyparts3d-3.0/)."""
    for row in pinned_rows():
        check_pinned_file(root / row["local"], f"the BodyParts3D 3.0 file for {row['name']}", row["sha256"],
                          "viewer/anatomy/data/bp3d30_files.csv", verify)


def parse(path: Path, row: dict) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles of a 3.0 OBJ (DBCLS header, Blender re-export or the
    older organ export with normals). A DBCLS header must name the pinned concept."""
    verts, faces, header = [], [], {}
    text = path.read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        if line.startswith("v "):
            verts.append(line.split()[1:4])
        elif line.startswith("f "):
            faces.append([tok.split("/")[0] for tok in line.split()[1:]])
        elif line.startswith("#"):
            m = HEADER.match(line)
            if m:
                header[m.group(1).lower()] = m.group(2)
    bad = lambda what: ViewerError(f"The BodyParts3D 3.0 file {what}.", path=path,  # noqa: E731
                                   fix="restore the original file (viewer/anatomy/data/bp3d30_files.csv).")
    concept = header.get("concept id")
    if concept and concept != row["concept"]:
        raise bad(f"names concept {concept}, the pinned list {row['concept']}")
    if not verts or not faces:
        raise bad("has no vertices or faces")
    try:
        v = np.asarray(verts, dtype=np.float64)
        if any(len(f) != 3 for f in faces):   # fan-triangulate quads and polygons
            faces = [[f[0], f[i], f[i + 1]] for f in faces for i in range(1, len(f) - 1)]
        f = np.asarray(faces, dtype=np.int64) - 1
    except ValueError:
        raise bad("has malformed v/f records") from None
    if v.ndim != 2 or v.shape[1] != 3 or f.min() < 0 or f.max() >= len(v):
        raise bad("has face indices out of range or short vertex records")
    return v, f


def weld(v: np.ndarray, f: np.ndarray, tol_mm: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge vertices closer than tol_mm (transitively), drop collapsed triangles and
    unused vertices. Returns (vertices, faces, vertices merged)."""
    n = len(v)
    merged = 0
    if tol_mm > 0:
        pairs = cKDTree(v).query_pairs(tol_mm, output_type="ndarray")
        if len(pairs):
            g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
            k, label = connected_components(g, directed=False)
            # each group's first vertex stands for the group
            first = np.full(k, n, dtype=np.int64)
            np.minimum.at(first, label, np.arange(n))
            f = first[label][f]
            merged = n - k
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
    used = np.unique(f)
    remap = np.full(n, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return v[used], remap[f], merged


def decimate(v: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    target = max(MIN_FACES / max(len(f), 1), KEEP_FRACTION)
    if target >= 1.0:
        return v, f
    v2, f2 = fast_simplification.simplify(v.astype(np.float32), f.astype(np.int32), 1.0 - target)
    if not len(f2):
        return v, f
    return np.asarray(v2, np.float64), np.asarray(f2, np.int64)


def read_folder(root: Path, *, verify: bool = True) -> list[Item]:
    """Every pinned 3.0 muscle and organ, checked, welded where the list says,
    muscles decimated like the 4.0 ones; native frame = pack frame."""
    check_folder(root, verify=verify)
    items = []
    for row in pinned_rows():
        v, f = parse(root / row["local"], row)
        v, f, merged = weld(v, f, max(float(row["weld_mm"] or 0), DUPLICATE_MM))
        if row["kind"] == "muscle":
            v, f = decimate(v, f)
        side = row["side"]
        if side in SIDES:   # -X is the subject's right
            geo = "right" if float(np.median(v[:, 0])) < 0 else "left"
            if geo != side:
                raise ViewerError(f"The BodyParts3D 3.0 {row['name']} lies on the {geo} side.",
                                  path=root / row["local"], fix="check the pinned list's side column.")
        items.append(Item(row, v, f, merged))
    return items


def inside_by_part(items: list[Item], skin) -> dict[str, float]:
    """Share of each part's vertices inside the pack's skin (generalized winding number)."""
    return {it.part_id: round(register.inside_fraction(it.vertices, skin.vertices, skin.faces), 4)
            for it in items}
