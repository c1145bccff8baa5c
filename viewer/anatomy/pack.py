"""Load a built mesh pack: manifest, skin and muscle parts, with name lookup."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from viewer import config
from viewer.anatomy import packfs
from viewer.errors import ViewerError
from viewer.safeio import load_json


def current_pack(root: Path) -> Path | None:
    """The pack directory that root/current.json points at, if it is complete."""
    try:   # the safe reader: a FIFO or a link to /dev/zero is refused, never read forever
        data = load_json(Path(root) / "current.json", what="pack pointer", max_bytes=100_000)
        pack = Path(root) / data["pack"]
        return pack if (pack / "manifest.json").is_file() else None
    except (ViewerError, OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Part:
    id: str
    name: str
    base: str
    side: str
    fma: str | None
    region: str
    aliases: tuple[str, ...]
    vertex_range: tuple[int, int]
    face_range: tuple[int, int]
    whole_fma: str | None = None   # the whole muscle (catalogue key): every part of it shares this
    source: str = "z-anatomy"      # z-anatomy | bp3d-4.0 | bp3d-3.0
    mirrored: bool = False
    kind: str = "muscle"           # muscle | organ (organs follow the muscles in Pack.parts)


@dataclass(frozen=True)
class Bone:
    """A BodyParts3D 4.0 bone in the pack frame (mm)."""
    id: str
    name: str
    fma: str | None
    side: str
    element: str
    vertex_range: tuple[int, int]
    face_range: tuple[int, int]


def normalize(name: str) -> str:
    """Loose key for matching part names: 'Gluteus_medius_muscle' ~ 'gluteus medius'."""
    s = name.lower().replace("_", " ")
    s = re.sub(r"\bmuscles?\b", " ", s)
    return re.sub(r"\s+", " ", s).strip()


class Pack:
    """A built pack: arrays are loaded eagerly (fast, ~10 MB), PolyData lazily."""

    def __init__(self, pack_dir: Path):
        self.dir = Path(pack_dir)
        self.manifest = packfs.check_manifest(load_json(self.dir / "manifest.json", what="pack manifest",
                                                        max_bytes=20_000_000), self.dir)
        bad = packfs.problems(self.dir, self.manifest)
        if bad:
            raise packfs.damaged(self.dir, "; ".join(bad))
        with np.load(self.dir / "skin.npz") as z:
            self.skin_vertices = z["vertices"]
            self.skin_faces = z["faces"]
            self.skin_normals = z["normals"]
        with np.load(self.dir / "muscles.npz") as z:
            self._mv, self._mf, self._mn = z["vertices"], z["faces"], z["normals"]
            vc, fc = z["vertex_counts"], z["face_counts"]
        if (len(vc) != len(self.manifest["parts"]) or int(vc.sum()) != len(self._mv)
                or int(fc.sum()) != len(self._mf) or len(self.skin_faces) == 0
                or int(self.skin_faces.max()) >= len(self.skin_vertices)):   # hook (packfs): shape check
            raise packfs.damaged(self.dir, "muscles.npz, skin.npz and manifest.json do not agree")
        vo, fo = np.concatenate([[0], np.cumsum(vc)]), np.concatenate([[0], np.cumsum(fc)])
        self.parts: list[Part] = []
        for i, e in enumerate(self.manifest["parts"]):
            self.parts.append(Part(e["id"], e["name"], e["base"], e["side"], e.get("fma"),
                                   e["region"], tuple(e.get("aliases", [])),
                                   (int(vo[i]), int(vo[i + 1])), (int(fo[i]), int(fo[i + 1])),
                                   e["whole_fma"] if "whole_fma" in e else e.get("fma"),
                                   e.get("source", "z-anatomy"),
                                   bool(e.get("mirrored", False))))
        # Organs (BodyParts3D 3.0, kind "organ") come after the muscles in self.parts, so
        # that a referral map names them in mesh_parts like a muscle part ("Stomach",
        # "Kidney" with side right/left); their arrays are in organs.npz. The live
        # view's muscle mesh (muscles_display.npz) holds the muscles only.
        organs = self.manifest.get("organs") or []
        if organs:
            with np.load(self.dir / "organs.npz") as z:
                ov, of, on = z["vertices"], z["faces"], z["normals"]
                ovc, ofc = z["vertex_counts"], z["face_counts"]
            if len(ovc) != len(organs) or int(ovc.sum()) != len(ov) or int(ofc.sum()) != len(of):
                raise packfs.damaged(self.dir, "organs.npz and manifest.json do not agree")
            ovo = len(self._mv) + np.concatenate([[0], np.cumsum(ovc)])
            ofo = len(self._mf) + np.concatenate([[0], np.cumsum(ofc)])
            self._mv, self._mf, self._mn = (np.vstack([self._mv, ov]), np.vstack([self._mf, of]),
                                            np.vstack([self._mn, on]))
            for i, e in enumerate(organs):
                self.parts.append(Part(e["id"], e["name"], e["base"], e["side"], e.get("fma"),
                                       e.get("region", "organ"), tuple(e.get("aliases", [])),
                                       (int(ovo[i]), int(ovo[i + 1])), (int(ofo[i]), int(ofo[i + 1])),
                                       e.get("whole_fma") or e.get("fma"), e.get("source", "bp3d-3.0"),
                                       False, "organ"))
        self.bones: list[Bone] = []
        self._bv = self._bf = self._bn = None
        if (self.dir / "bones.npz").exists():
            with np.load(self.dir / "bones.npz") as z:
                self._bv, self._bf, self._bn = z["vertices"], z["faces"], z["normals"]
                bvo = np.concatenate([[0], np.cumsum(z["vertex_counts"])])
                bfo = np.concatenate([[0], np.cumsum(z["face_counts"])])
            for i, e in enumerate(self.manifest.get("bones", [])):
                self.bones.append(Bone(e["id"], e["name"], e.get("fma"), e["side"], e.get("element", ""),
                                       (int(bvo[i]), int(bvo[i + 1])), (int(bfo[i]), int(bfo[i + 1]))))
        self._by_key: dict[str, list[Part]] = {}
        for p in self.parts:
            keys = {p.id.lower(), p.name.lower(), normalize(p.base), *(a.lower() for a in p.aliases)}
            if p.fma:
                keys.add(p.fma.lower())
            if p.whole_fma:
                keys.add(p.whole_fma.lower())
            for k in keys:
                self._by_key.setdefault(k, []).append(p)

    @property
    def organs(self) -> list[Part]:
        """The organ parts (stomach, liver, kidneys, trachea), also in self.parts."""
        return [p for p in self.parts if p.kind == "organ"]

    @property
    def muscles(self) -> list[Part]:
        """The muscle parts only (self.parts without the organs)."""
        return [p for p in self.parts if p.kind == "muscle"]

    @property
    def key(self) -> str:
        return self.manifest["key"]

    def find(self, query: str) -> list[Part]:
        """Parts matching an id, FMA id, name or alias (case-insensitive)."""
        q = query.strip().lower()
        return list(self._by_key.get(q) or self._by_key.get(normalize(q)) or [])

    @cached_property
    def part_keys(self) -> list[str]:
        """normalize(base) of every part, in `parts` order, computed once (every pattern of every
        map matches its mesh_parts against them: 410 x 700 regular expressions cost 0.37 s a start)."""
        return [normalize(p.base) for p in self.parts]

    def muscle_parts(self, fma: str, side: str | None = None) -> list[Part]:
        """Every part mesh of a whole muscle (by its FMA id), e.g. the three
        trapezius parts for FMA9626; optionally one side only."""
        key = fma.strip().upper()
        return [p for p in self.parts if (p.whole_fma == key or p.fma == key)
                and (side is None or p.side == side)]

    def bone_arrays(self, bone: Bone) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vertices (pack frame, mm), faces (local indices) and normals of one bone."""
        (v0, v1), (f0, f1) = bone.vertex_range, bone.face_range
        return self._bv[v0:v1], self._bf[f0:f1], self._bn[v0:v1]

    def display_bones(self):
        """All bones as one light mesh: (vertices, faces, normals, bone index of each face),
        or None for a pack without bones."""
        path = self.dir / "bones_display.npz"
        if not self.bones or not path.exists():
            return None
        with np.load(path) as z:
            return z["vertices"], z["faces"], z["normals"], z["face_part"]

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)

    def part_arrays(self, part: Part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        (v0, v1), (f0, f1) = part.vertex_range, part.face_range
        return self._mv[v0:v1], self._mf[f0:f1], self._mn[v0:v1]

    def display_muscles(self):
        """All muscles as one light mesh for the live view: (vertices, faces, normals,
        part index of each face). Falls back to the full meshes for older packs."""
        path = self.dir / "muscles_display.npz"
        if path.exists():
            with np.load(path) as z:
                return z["vertices"], z["faces"], z["normals"], z["face_part"]
        counts = [p.face_range[1] - p.face_range[0] for p in self.parts]
        offsets = np.repeat([p.vertex_range[0] for p in self.parts], counts)
        return (self._mv, self._mf + offsets[:, None], self._mn,
                np.repeat(np.arange(len(self.parts)), counts))

    def part_polydata(self, part: Part):
        # lazy: meshutil pulls pyvista (~0.5-1.9 s, -X importtime): `lookup` and `info` never draw
        from viewer.anatomy.meshutil import to_polydata

        v, f, n = self.part_arrays(part)
        poly = to_polydata(v, f)
        poly.point_data["Normals"] = n
        return poly

    @cached_property
    def skin(self):
        """The skin as a pyvista.PolyData with outward point normals."""
        from viewer.anatomy.meshutil import to_polydata

        poly = to_polydata(self.skin_vertices, self.skin_faces)
        poly.point_data["Normals"] = self.skin_normals
        return poly


def load_pack(meshes: str | Path | None = None) -> Pack:
    root = config.meshes_dir(meshes)
    pack = current_pack(root)
    pointer = Path(root) / "current.json"
    if pack is None and pointer.exists():
        # the pointer is there but unreadable, or names a pack that is gone: say so
        raise ViewerError("The mesh pack's pointer is damaged or names a pack that is not there.",
                          path=pointer, fix="run `referral-viewer build` again from the same anatomy source: it "
                                            "builds a fresh pack and rewrites current.json.")
    if pack is None:
        raise ViewerError("No mesh pack is built yet.", path=root,
                          fix="build it from an anatomy source (a folder like ../shared/anatomy, or the official "
                              "download of BodyParts3D), or choose the meshes folder that holds one.")
    try:
        return Pack(pack)
    except ViewerError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile) as exc:
        raise packfs.damaged(pack, f"{type(exc).__name__}: {exc}") from None
