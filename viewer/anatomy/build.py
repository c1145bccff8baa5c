"""Build the mesh pack from a source, atomically, and skip the work when nothing changed.

Pack layout under the pack root (meshes/ by default):
    current.json          -> {"pack": "pack-<key12>", "key": ...}   (swapped atomically)
    pack-<key12>/manifest.json, skin.npz, muscles.npz
A build writes a new pack-<key> directory beside the old one and only then
points current.json at it, so a crash or a full disk never damages the pack
in use.
"""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from viewer import ATTRIBUTION, __version__, atomic
from viewer.anatomy import catalogue, packfs, register, sources
from viewer.anatomy.muscles import MusclePart, make_part, muscles_from_glb
from viewer.anatomy.pack import current_pack
from viewer.anatomy.skin import build_skin
from viewer.errors import ViewerError

BUILDER_VERSION = "5"   # bump when the output for the same inputs changes
FORMAT = 1
FRAME = {"units": "mm", "up": "+Z", "anterior": "-Y", "subject_right": "-X",
         "name": "BodyParts3D native"}


@dataclass
class BuildReport:
    pack_dir: Path
    skipped: bool
    seconds: float
    manifest: dict


def _key(src: sources.Source, params: dict) -> str:
    blob = json.dumps({"builder": BUILDER_VERSION, "format": FORMAT, "params": params,
                       "sources": src.sha256}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def build_pack(source, root, *, sha256: str | None = None, verify: bool = True,
               target_vertices: int = 50_000, progress=None, force: bool = False) -> BuildReport:
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    root = Path(root)
    src = sources.resolve(source, sha256=sha256, verify=verify, progress=progress is not None)
    params = {"target_vertices": target_vertices, "voxel_mm": 4.0}
    key = _key(src, params)
    with packfs.build_lock(root, say):   # hook (packfs): one build at a time per pack folder
        packfs.clean_stale(root)
        return _build_locked(src, root, key, params, target_vertices, force, say, t0)


def _build_locked(src, root, key, params, target_vertices, force, say, t0) -> BuildReport:
    existing = current_pack(root)
    if existing is not None and not force:
        try:
            manifest = json.loads((existing / "manifest.json").read_text())
        except (OSError, ValueError):
            manifest = {}
        if isinstance(manifest, dict) and manifest.get("key") == key:
            bad = packfs.problems(existing, manifest)   # hook (packfs): a damaged pack is rebuilt
            if not bad:
                return BuildReport(existing, True, time.perf_counter() - t0, manifest)
            say(f"the pack is damaged ({'; '.join(bad)}); rebuilding")

    say(f"building pack from {src.origin}")
    skin_v, skin_f, parts, skipped, source_files = _read_source(src)
    timings = {}
    t = time.perf_counter()
    skin = build_skin(skin_v, skin_f, voxel_mm=params["voxel_mm"],
                      target_vertices=target_vertices, progress=say)
    timings["skin_s"] = round(time.perf_counter() - t, 2)

    say("registering muscles into the skin frame")
    t = time.perf_counter()
    all_v = np.vstack([p.vertices for p in parts]).astype(np.float64)
    before = register.inside_fraction(all_v, skin.vertices, skin.faces)
    if src.kind == "folder":
        matrix, reg = register.fit_similarity(all_v, skin.gwn_grid)
        for p in parts:
            p.vertices = register.apply(matrix, p.vertices.astype(np.float64)).astype(np.float32)
    else:  # the archive is already in the native frame
        matrix, reg = np.eye(4), {"scale": 1.0, "translation_mm": [0.0, 0.0, 0.0]}
    all_v = np.vstack([p.vertices for p in parts]).astype(np.float64)
    inside = register.inside_fraction(all_v, skin.vertices, skin.faces)
    timings["register_s"] = round(time.perf_counter() - t, 2)

    manifest = {
        "format": FORMAT, "key": key, "builder_version": BUILDER_VERSION,
        "app_version": __version__, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "frame": FRAME, "attribution": ATTRIBUTION,
        "source": {"kind": src.kind, "origin": src.origin, "files": source_files},
        "skin": {"vertices": int(len(skin.vertices)), "faces": int(len(skin.faces)), **skin.stats},
        "registration": {**reg, "matrix": np.round(matrix, 6).tolist(),
                         "inside_fraction_before": round(before, 4)},
        "inside_fraction": round(inside, 4),
        "excluded_parts": skipped,
        "parts": [_part_entry(p, source_files) for p in parts],
        "timings": timings,
    }
    say("writing pack")
    pack = _write(root, key, skin, parts, manifest)
    manifest["timings"]["total_s"] = round(time.perf_counter() - t0, 2)
    return BuildReport(pack, False, time.perf_counter() - t0, manifest)


def _read_source(src: sources.Source):
    """Skin triangles and muscle parts (canonical frame, before registration)."""
    if src.kind == "folder":
        import trimesh

        skin_path, muscles_path = src.files["skin"], src.files["muscles"]
        try:
            mesh = trimesh.load(str(skin_path), process=False, force="mesh")
            skin_v, skin_f = np.asarray(mesh.vertices), np.asarray(mesh.faces)
        except Exception as exc:  # trimesh raises many types for a broken file
            raise ViewerError(f"The skin OBJ could not be read ({type(exc).__name__}: {exc}).",
                              path=skin_path, fix="restore the original file.") from None
        if len(skin_f) < 1000:
            raise ViewerError(f"The skin OBJ has only {len(skin_f)} triangles; it is not the "
                              "BodyParts3D skin.", path=skin_path, fix="restore the original file.")
        try:
            parts, skipped = muscles_from_glb(muscles_path)
        except Exception as exc:
            raise ViewerError(f"The muscle GLB could not be read ({type(exc).__name__}: {exc}).",
                              path=muscles_path, fix="restore the original file.") from None
        if not parts:
            raise ViewerError("The muscle GLB holds no meshes.", path=muscles_path,
                              fix="restore the original file.")
        files = {"skin": {"file": skin_path.name, "sha256": src.sha256["skin"]},
                 "muscles": {"file": muscles_path.name, "sha256": src.sha256["muscles"]}}
        for p in parts:
            p.source_role = "muscles"
        return skin_v, skin_f, parts, skipped, files

    from viewer.anatomy.bp3d_archive import part_id, read_archive

    archive = src.files["archive"]
    skin_els, muscle_els = read_archive(archive)
    verts, faces, off = [], [], 0
    for el in skin_els:
        verts.append(el.vertices)
        faces.append(el.faces + off)
        off += len(el.vertices)
    by_concept: dict[str, list] = {}
    for el in muscle_els:
        by_concept.setdefault(el.concept, []).append(el)
    parts = []
    for concept, els in sorted(by_concept.items()):
        pid, _side = part_id(els[0].name)
        v = np.vstack([e.vertices for e in els])
        offs = np.cumsum([0] + [len(e.vertices) for e in els[:-1]])
        f = np.vstack([e.faces + o for e, o in zip(els, offs)])
        part = make_part(pid, v, f, fma=concept, name=els[0].name)
        part.source_role = "archive"
        part.source_members = [e.member.split("!")[-1] for e in els]
        parts.append(part)
    files = {"archive": {"file": archive.name, "sha256": src.sha256["archive"]}}
    return np.vstack(verts), np.vstack(faces), parts, [], files


def _part_entry(p: MusclePart, files: dict) -> dict:
    role = getattr(p, "source_role", "muscles")
    entry = {
        "id": p.id, "fma": p.fma, "name": p.name, "base": p.base, "side": p.side,
        "region": p.region, "aliases": catalogue.aliases_of(p.base, p.side),
        "vertices": int(len(p.vertices)), "faces": int(len(p.faces)),
        "source_file": files[role]["file"], "source_sha256": files[role]["sha256"],
    }
    if getattr(p, "source_members", None):
        entry["source_members"] = p.source_members
    return entry


def _write(root: Path, key: str, skin, parts: list[MusclePart], manifest: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    # A fresh name every build: the pack in use is never renamed or deleted
    # before current.json points elsewhere.
    final = root / f"pack-{key[:12]}-{uuid.uuid4().hex[:6]}"
    tmp = packfs.new_workdir(root)   # hook (packfs): marked working folder
    try:
        np.savez(tmp / "skin.npz", vertices=skin.vertices, faces=skin.faces, normals=skin.normals)
        counts_v = np.array([len(p.vertices) for p in parts])
        counts_f = np.array([len(p.faces) for p in parts])
        np.savez(tmp / "muscles.npz",
                 vertices=np.vstack([p.vertices for p in parts]).astype(np.float32),
                 faces=np.vstack([p.faces for p in parts]).astype(np.int32),
                 normals=np.vstack([p.normals for p in parts]).astype(np.float32),
                 vertex_counts=counts_v, face_counts=counts_f)
        _write_display_lod(tmp / "muscles_display.npz", parts)
        manifest["files"] = packfs.checksums(tmp)   # hook (packfs): verified on load and by build
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        tmp.rename(final)
        atomic.write_json(root / "current.json", {"pack": final.name, "key": key})
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        what = "The disk is full" if exc.errno == errno.ENOSPC else f"Writing the pack failed ({exc})"
        raise ViewerError(f"{what}; the new pack was discarded and the previous pack is untouched.",
                          path=root, fix="free some disk space (about 30 MB are needed) or choose "
                                         "another location with --meshes DIR, then build again.") from None
    packfs.remove_old_packs(root, keep=final)   # hook (packfs): only marked folders of ours
    return final


DISPLAY_REDUCTION = 0.6   # the live view draws muscles with 40% of their triangles


def _write_display_lod(path: Path, parts: list[MusclePart]) -> None:
    """A lighter copy of all muscles for the live 3D view: software OpenGL
    draws 200k triangles at ~4 frames/s, 80k at about twice that. Picking and
    highlighting still use the full meshes."""
    from viewer.anatomy.meshutil import consistent_outward, to_polydata, triangles

    vs, fs, ns, part = [], [], [], []
    off = 0
    for i, p in enumerate(parts):
        mesh = to_polydata(p.vertices, p.faces).clean()
        if mesh.n_cells > 200:
            mesh = mesh.decimate(DISPLAY_REDUCTION, volume_preservation=True)
        v, f, n = consistent_outward(np.asarray(mesh.points), triangles(mesh))
        vs.append(v)
        fs.append(f + off)
        ns.append(n)
        part.append(np.full(len(f), i, dtype=np.int32))
        off += len(v)
    np.savez(path, vertices=np.vstack(vs).astype(np.float32), faces=np.vstack(fs).astype(np.int32),
             normals=np.vstack(ns).astype(np.float32), face_part=np.concatenate(part))
