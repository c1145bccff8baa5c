"""BodyParts3D 4.0 element files: one reader for both containers, and the
choice of bones and muscles from the DBCLS is-a tables.

An element (``FJ1431`` = right psoas major) comes either as the official OBJ
inside ``isa_BP3D_4.0_obj_99.zip`` (licence preamble, ``# Concept ID :``,
``# English name :`` possibly empty, ``v``/``vn``/``f a//a`` records, native
frame) or as a glTF file of the shared development copy, written by a public
pipeline with a known affine transform. Both readers return the same
:class:`Element` in the native frame (mm, +Z up, -Y anterior, -X the
subject's right).

Elements are classified from the tables, never from name patterns: an element
is listed in ``isa_element_parts.txt`` under every is-a ancestor, so "muscle
organ" among its ancestors makes it a skeletal muscle and "bone organ" a bone;
"Right obturator vein" has neither. Names only serve to find the whole muscle
of a part ("Ascending part of right trapezius" -> trapezius), because the
tables stop at "organ zone" for those.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.errors import ViewerError

# The public conversion pipeline wrote glTF as g = (x, z, -y) * 0.001 + OFFSET.
GLTF_OFFSET_M = np.array([-0.0000105, 0.0728882, -0.10570935])

HEADER = re.compile(r"^#\s*([^:]+?)\s*:\s*(.*?)\s*$")


@dataclass
class Element:
    file_id: str            # FJ1431, FJ1431M
    concept: str            # FMA22342
    name: str               # "Right psoas major" ("" when the file leaves it empty)
    vertices: np.ndarray    # (n, 3) float64, native mm
    faces: np.ndarray       # (m, 3) int64
    source: str             # file or archive member, for error messages


def _bad(source: str, what: str, fix: str = "download the file again (it is damaged)."):
    return ViewerError(f"The BodyParts3D element {what}.", path=source, fix=fix)


# ---------------------------------------------------------------- OBJ ----

def parse_obj(text: str, source: str) -> Element:
    """Read an official BodyParts3D 4.0 OBJ (header, ``v``, ``vn``, ``f a//a``)."""
    header: dict[str, str] = {}
    verts, faces = [], []
    for line in text.splitlines():
        if line.startswith("#"):
            m = HEADER.match(line)
            if m and not m.group(1).lower().startswith(("http", "the license")):
                header[m.group(1).strip().lower()] = m.group(2)
        elif line.startswith("v "):
            verts.append(line.split()[1:4])
        elif line.startswith("f "):
            faces.append([tok.split("/")[0] for tok in line.split()[1:]])
    if "concept id" not in header or "english name" not in header:
        raise _bad(source, "lacks the BodyParts3D header (# Concept ID :, # English name :)",
                   "use the official isa_BP3D_4.0_obj_99.zip.")
    if not verts or not faces:
        raise _bad(source, "has no vertices or faces")
    try:
        v = np.asarray(verts, dtype=np.float64)
        polys = faces
        if any(len(f) != 3 for f in polys):   # fan-triangulate the rare quad
            polys = [[f[0], f[i], f[i + 1]] for f in polys for i in range(1, len(f) - 1)]
        f = np.asarray(polys, dtype=np.int64) - 1
    except ValueError:
        raise _bad(source, "has malformed v/f records") from None
    if v.shape[1] != 3 or f.min() < 0 or f.max() >= len(v):
        raise _bad(source, "has face indices out of range or short vertex records")
    return Element(header.get("file id", Path(source).stem), header["concept id"],
                   header["english name"], v, f, source)


def official_obj_text(el: Element, *, representation: str = "BP0000") -> str:
    """An element written as DBCLS writes it (header verbatim in form); for tests
    and for building a local stand-in of the official archive."""
    lo, hi = el.vertices.min(axis=0), el.vertices.max(axis=0)
    n = _vertex_normals(el.vertices, el.faces)
    out = io.StringIO()
    out.write("#\n# The license for this database is specified in the Creative Commons "
              "Attribution-Share Alike 2.1 Japan. If you use data ...\n"
              "# http://dbarchive.biosciencedbc.jp/en/bodyparts3d/lic.html\n#\n#\n")
    out.write(f"# Compatibility version : 4.0\n# File ID : {el.file_id}\n"
              f"# Representation ID : {representation}\n# Build-up logic : FMA 3.0 is_a\n"
              f"# Concept ID : {el.concept}\n# English name : {el.name}\n"
              f"# Bounds(mm): ({lo[0]:f},{lo[1]:f},{lo[2]:f})-({hi[0]:f},{hi[1]:f},{hi[2]:f})\n"
              "# Volume(cm3): 0.000000\n#\n")
    np.savetxt(out, el.vertices, fmt="v %.6f %.6f %.6f")
    np.savetxt(out, n, fmt="vn %.6f %.6f %.6f")
    f1 = el.faces + 1
    np.savetxt(out, np.repeat(f1, 2, axis=1), fmt="f %d//%d %d//%d %d//%d ")
    return out.getvalue()


def _vertex_normals(v, f):
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, f[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


# --------------------------------------------------------------- glTF ----

def gltf_to_native(g: np.ndarray) -> np.ndarray:
    """Invert the pipeline's transform: glTF metres -> native millimetres."""
    g = np.asarray(g, dtype=np.float64) - GLTF_OFFSET_M
    return np.column_stack([g[:, 0], -g[:, 2], g[:, 1]]) * 1000.0


def read_glb(path: Path, *, file_id: str, concept: str, name: str) -> Element:
    """One element of the shared glTF copy, in the native frame."""
    # lazy: trimesh ~1 s to import (-X importtime); only a build reads the glb
    import trimesh

    try:
        scene = trimesh.load(str(path), force="scene")
        vs, fs, off = [], [], 0
        for node in scene.graph.nodes_geometry:
            transform, geom = scene.graph[node]
            mesh = scene.geometry[geom]
            if not hasattr(mesh, "faces") or len(mesh.faces) == 0:
                continue
            vs.append(trimesh.transform_points(np.asarray(mesh.vertices, np.float64), transform))
            fs.append(np.asarray(mesh.faces, np.int64) + off)
            off += len(mesh.vertices)
    except Exception as exc:  # trimesh raises many types for a broken file
        raise _bad(str(path), f"could not be read ({type(exc).__name__}: {exc})",
                   "restore the file from its source (see parts.csv) or download it again.") from None
    if not vs:
        raise _bad(str(path), "holds no triangles",
                   "restore the file from its source (see parts.csv) or download it again.")
    return Element(file_id, concept, name, gltf_to_native(np.vstack(vs)), np.vstack(fs), str(path))


# ------------------------------------------------------------- tables ----

def _read_tsv(path: Path) -> list[list[str]]:
    """Rows of a DBCLS table; the header row ('concept_id' or 'concept id') is dropped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ViewerError(f"A BodyParts3D table could not be read ({exc}).", path=path,
                          fix="restore the tables/ folder from its source.") from None
    rows = [ln.split("\t") for ln in lines if ln.strip()]
    if rows and rows[0][0].strip().lower().replace("_", " ") == "concept id":
        rows = rows[1:]
    return rows


# Whole muscles that no 4.0 table row names (the tables stop at "organ zone"
# or "head of organ"), with their FMA ids from FMA / today's referral maps.
WHOLE_MUSCLES = {
    "trapezius": "FMA9626", "deltoid": "FMA32521", "pectoralis major": "FMA9627",
    "biceps femoris": "FMA22356", "gastrocnemius": "FMA22541", "triceps brachii": "FMA37688",
    "biceps brachii": "FMA37670",
}
WHOLE_BONES = {"sternum": "FMA7485"}
MUSCLE_ROOTS = {"muscle organ", "head of muscle organ", "zone of muscle organ", "musculature"}
BONE_ROOTS = {"bone organ", "cartilage organ", "cartilage organ component", "zone of bone organ"}
PART_OF = re.compile(r"^(?:[\w-]+ )*?(?:part|head|belly|zone|body|process) of (?:the )?(.+)$")
SIDE_WORD = re.compile(r"\b(right|left)\b\s*", re.IGNORECASE)
_ORDINAL = r"first|second|third|fourth|fifth"


@dataclass(frozen=True)
class Selection:
    """What an element is, from the tables."""
    file_id: str
    kind: str               # "muscle" | "bone" | "other"
    concept: str            # the element's own (sided) concept
    name: str               # English name, from the tables when the file has none
    side: str               # right | left | midline
    whole_fma: str | None   # the whole muscle (or bone) this element is a part of
    whole_name: str         # "trapezius", "first lumbrical of foot"
    part_name: str          # unsided part name: "ascending part of trapezius"


class Tables:
    """The DBCLS is-a tables of one BodyParts3D release."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        self.ancestors: dict[str, list[tuple[str, str]]] = {}
        for row in _read_tsv(folder / "isa_element_parts.txt"):
            if len(row) < 3:
                continue
            self.ancestors.setdefault(row[2].strip(), []).append((row[0].strip(), row[1].strip()))
        self.children: dict[str, set[str]] = {}
        if (folder / "isa_inclusion_relation_list.txt").exists():
            for row in _read_tsv(folder / "isa_inclusion_relation_list.txt"):
                if len(row) >= 3:
                    self.children.setdefault(row[0].strip(), set()).add(row[2].strip())
        self.part_of: dict[str, set[str]] = {}
        if (folder / "partof_element_parts.txt").exists():
            for row in _read_tsv(folder / "partof_element_parts.txt"):
                if len(row) >= 3:
                    self.part_of.setdefault(row[2].strip(), set()).add(row[1].strip().lower())
        self.name_to_id: dict[str, str] = {}
        for table in ("isa_parts_list_e.txt", "partof_parts_list_e.txt"):
            if (folder / table).exists():
                for row in _read_tsv(folder / table):
                    if len(row) >= 3:
                        self.name_to_id.setdefault(row[-1].strip().lower(), row[0].strip())
        for _c, pairs in self.ancestors.items():
            for cid, name in pairs:
                self.name_to_id.setdefault(name.lower(), cid)
        # concept name -> the roots its elements fall under (for wholes of parts)
        self._roots_under: dict[str, set[str]] = {}
        for pairs in self.ancestors.values():
            names = {n.lower() for _c, n in pairs}
            roots = names & (MUSCLE_ROOTS | BONE_ROOTS)
            for n in names:
                self._roots_under.setdefault(n, set()).update(roots)
        if not self.ancestors:
            raise ViewerError("isa_element_parts.txt has no rows.", path=folder / "isa_element_parts.txt",
                              fix="restore the tables/ folder from its source.")

    def classify(self, file_id: str, concept: str | None = None, name: str = "") -> Selection:
        """Kind, side and whole muscle of one element file."""
        anc = self.ancestors.get(file_id) or self.ancestors.get(file_id.rstrip("M"), [])
        names = {n.lower() for _c, n in anc}
        by_id = {c: n for c, n in anc}
        if concept is None or concept not in by_id:
            # the element's own concept is its most specific ancestor: the sided one,
            # else the one that is an ancestor of no other listed concept (longest name).
            ids = {c for c, _n in anc}
            leaves = [(c, n) for c, n in anc if not (self.children.get(c, set()) & ids)] or anc
            sided = [(c, n) for c, n in leaves if SIDE_WORD.search(n)]
            pick = max(sided or leaves or [("", name)], key=lambda cn: len(cn[1]))
            concept = concept or pick[0]
            own = pick[1]
        else:
            own = by_id[concept]
        name = name.strip() or own[:1].upper() + own[1:]
        low = name.lower()
        m = SIDE_WORD.search(low)
        side = m.group(1) if m else ("left" if file_id.endswith("M") else "midline")
        part = SIDE_WORD.sub("", low).strip()
        part = re.sub(r"^set of ", "", part)
        kind = "muscle" if names & MUSCLE_ROOTS else "bone" if names & BONE_ROOTS else "other"
        whole = part
        pm = PART_OF.match(part)
        if pm and not re.match(rf"^(?:{_ORDINAL}) ", part):
            whole = pm.group(1)
            if kind == "other":   # the tables stop at "organ zone": the whole decides
                kind = ("muscle" if whole in WHOLE_MUSCLES or self._is(whole, MUSCLE_ROOTS)
                        else "bone" if whole in WHOLE_BONES or self._is(whole, BONE_ROOTS) else "other")
        if kind == "other":   # e.g. the xiphoid process: part of the sternum (part-of table)
            for whole_name, table in ((w, WHOLE_BONES) for w in WHOLE_BONES):
                if whole_name in self.part_of.get(file_id, ()):
                    kind, whole = "bone", whole_name
        whole_fma = (WHOLE_MUSCLES.get(whole) or WHOLE_BONES.get(whole) or self.name_to_id.get(whole)
                     or self.name_to_id.get("set of " + whole)
                     or self.name_to_id.get(re.sub(r" muscle$", "", whole)))
        return Selection(file_id, kind, concept, name, side, whole_fma, whole, part)

    def _is(self, concept_name: str, roots: set[str]) -> bool:
        """Is an element listed under concept_name also listed under one of roots?"""
        return bool(self._roots_under.get(concept_name, set()) & roots)


# ------------------------------------------------------------ parts.csv --

@dataclass(frozen=True)
class Row:
    file: str
    file_id: str
    concept: str
    name: str
    kind: str
    laterality: str
    sha256: str
    upstream_path: str


def read_parts_csv(path: Path) -> list[Row]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [Row(r["file"], r["element_file_id"], r["concept_id"], r["english_name"], r["kind"],
                        r["laterality"], r["sha256"], r["upstream_path"]) for r in csv.DictReader(fh)]
    except (OSError, KeyError) as exc:
        raise ViewerError(f"parts.csv could not be read ({type(exc).__name__}: {exc}).", path=path,
                          fix="restore bodyparts3d-4.0/parts.csv from its source.") from None


# Clinical names of some parts, as therapists say them.
CLINICAL_ALIASES = {
    "descending part of trapezius": "upper trapezius",
    "transverse part of trapezius": "middle trapezius",
    "ascending part of trapezius": "lower trapezius",
    "clavicular part of deltoid": "anterior deltoid",
    "acromial part of deltoid": "middle deltoid",
    "spinal part of deltoid": "posterior deltoid",
}


def display_alias(sel: Selection) -> str | None:
    """The clinical name of a part ("upper trapezius"), if it has one."""
    return CLINICAL_ALIASES.get(sel.part_name)
