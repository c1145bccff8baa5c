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
from viewer.anatomy.bp3d_elements import Tables, display_alias
from viewer.anatomy.meshutil import consistent_outward, to_polydata, triangles
from viewer.anatomy.muscles import MusclePart, make_part, muscles_from_glb
from viewer.anatomy.pack import current_pack
from viewer.anatomy.skin import build_skin
from viewer.errors import ViewerError
from viewer.safeio import load_json

BUILDER_VERSION = "17"   # bump when the output for the same inputs changes
FORMAT = 2   # 2: bones.npz, BodyParts3D 4.0 muscles, whole-muscle catalogue (+ optional organs.npz)
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
        return _build_locked(src, root, key, params, target_vertices, force, say, t0, verify)


def _build_locked(src, root, key, params, target_vertices, force, say, t0, verify=True) -> BuildReport:
    existing = current_pack(root)
    if existing is not None and not force:
        try:
            manifest = load_json(existing / "manifest.json", what="pack manifest", max_bytes=20_000_000)
        except (ViewerError, OSError, ValueError):
            manifest = {}
        if isinstance(manifest, dict) and manifest.get("key") == key:
            bad = packfs.problems(existing, manifest)   # hook (packfs): a damaged pack is rebuilt
            if not bad:
                return BuildReport(existing, True, time.perf_counter() - t0, manifest)
            say(f"the pack is damaged ({'; '.join(bad)}); rebuilding")

    say(f"building pack from {src.origin}")
    if "bp40" in src.files and "archive" not in src.files:
        # lazy: the layers (scipy, igl, trimesh: ~1.4 s) load only when a build runs, not for an up-to-date pack
        from viewer.anatomy.bp3d40 import check_folder

        check_folder(src.files["bp40"], verify=verify)
    if "bp30" in src.files:
        from viewer.anatomy import bp3d30

        bp3d30.check_folder(src.files["bp30"].parent, verify=verify)
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
    matrix, reg = register.fit_similarity(all_v, skin.gwn_grid)
    for p in parts:
        p.vertices = register.apply(matrix, p.vertices.astype(np.float64)).astype(np.float32)
    all_v = np.vstack([p.vertices for p in parts]).astype(np.float64)
    inside = register.inside_fraction(all_v, skin.vertices, skin.faces)
    timings["register_s"] = round(time.perf_counter() - t, 2)

    bones, layer_report = [], None
    if "bp40" in src.files:
        t = time.perf_counter()
        bones, extra, layer_report = _bp40_layer(src, parts, skin, verify=verify, say=say)
        dropped = layer_report["replaced_zanatomy"]   # misnamed Z-Anatomy parts (bp3d40.build_layer)
        parts = sorted([p for p in parts if p.id not in dropped] + extra, key=lambda p: p.id)
        timings["bp3d40_s"] = round(time.perf_counter() - t, 2)
        source_files["bp3d40"] = {"file": "bodyparts3d-4.0/", "sha256": src.sha256["bp40"]}
        if "archive" in src.files:   # the 4.0 elements were read from DBCLS's archive
            source_files["archive"] = {"file": src.files["archive"].name, "sha256": src.sha256["archive"]}

    organs, layer30 = [], None
    if "bp30" in src.files:
        t = time.perf_counter()
        extra30, organs, layer30 = _bp30_layer(src, parts, skin, verify=verify, say=say)
        parts = sorted(parts + extra30, key=lambda p: p.id)
        timings["bp3d30_s"] = round(time.perf_counter() - t, 2)
        source_files["bp3d30"] = {"file": f"{src.files['bp30'].name}/", "sha256": src.sha256["bp30"]}

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
        "bones": [_bone_entry(b) for b in bones],
        "organs": [_part_entry(o, source_files) for o in organs],
        "bp3d40": layer_report,
        "bp3d30": layer30,
        "muscle_choice": MUSCLE_CHOICE if layer_report else None,
        "timings": timings,
    }
    say("writing pack")
    pack = _write(root, key, skin, parts, manifest, bones, organs)
    manifest["timings"]["total_s"] = round(time.perf_counter() - t0, 2)
    return BuildReport(pack, False, time.perf_counter() - t0, manifest)


def _read_source(src: sources.Source):
    """Skin triangles and muscle parts (canonical frame, before registration)."""
    # lazy: trimesh ~1 s to import (-X importtime): only when a source is read
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


def _part_entry(p: MusclePart, files: dict) -> dict:
    role = getattr(p, "source_role", "muscles")
    entry = {
        "id": p.id, "fma": p.fma, "name": p.name, "base": p.base, "side": p.side,
        "region": p.region,
        "aliases": sorted(set(catalogue.aliases_of(p.base, p.side)) | set(p.extra_aliases)),
        # a 4.0 part whose whole muscle has no FMA id in the tables (pronator
        # teres heads) is grouped by whole_name; never by its own sided concept
        "whole_fma": p.whole_fma if p.source == "bp3d-4.0" else (p.whole_fma or p.fma),
        "whole_name": p.whole_name,
        "source": p.source, "mirrored": p.mirrored,
        "vertices": int(len(p.vertices)), "faces": int(len(p.faces)),
        "source_file": getattr(p, "source_file", None) or files[role]["file"],
        "source_sha256": getattr(p, "source_sha256", None) or files[role]["sha256"],
    }
    if p.element:
        entry["element"] = p.element
    if getattr(p, "kind", "muscle") != "muscle":
        entry["kind"] = p.kind
    if getattr(p, "source_members", None):
        entry["source_members"] = p.source_members
    return entry


MUSCLE_CHOICE = (
    "Where Z-Anatomy and BodyParts3D 4.0 both have a muscle, the pack keeps the Z-Anatomy mesh: it is "
    "registered to the skin (the pack frame), today's referral maps and measured landmarks were made "
    "on it, and the 4.0 twin was warped onto it anyway (bp3d40.twin_distance_mm). 4.0 supplies every "
    "muscle Z-Anatomy lacks, and the bones. Where a pair lies more than 40 mm apart after the warp the "
    "Z-Anatomy part is misnamed, and the 4.0 element is kept instead (bp3d40.replaced_zanatomy).")


def _bp40_layer(src, z_parts, skin, *, verify: bool, say):
    """Bones and the muscles Z-Anatomy lacks, from BodyParts3D 4.0, in the pack frame."""
    from viewer.anatomy import bp3d40

    folder = src.files["bp40"]
    tables = Tables(folder / "tables")
    if "archive" not in src.files:
        items = bp3d40.read_folder(folder, tables, verify=verify)
    else:   # --source official: the same elements from DBCLS's OBJ archive
        ids = [r["element_file_id"] for r in bp3d40.pinned_elements()]
        items = bp3d40.read_archive(src.files["archive"], tables, ids)
    layer = bp3d40.build_layer(items, z_parts, skin, say=say)
    whole_of = {p.id: it.sel for it, p in layer.twins}
    for p in z_parts:
        sel = whole_of.get(p.id)
        p.whole_fma = p.whole_fma or catalogue.WHOLE_BY_BASE.get(p.base)
        if sel is not None:
            p.whole_fma, p.whole_name = sel.whole_fma or p.fma, sel.whole_name
            alias = display_alias(sel)
            if alias:
                p.extra_aliases = (alias, f"{p.side} {alias}")
    extra = []
    for it in layer.muscles:
        part = make_part(it.part_id, it.el.vertices, it.el.faces, fma=it.sel.concept, name=it.el.name)
        part.base = part.id.rsplit(".", 1)[0] if it.sel.side != "midline" else part.id
        part.whole_fma, part.whole_name = it.sel.whole_fma, it.sel.whole_name
        part.source, part.element, part.mirrored = "bp3d-4.0", it.el.file_id, it.mirrored
        part.region = catalogue.region_of(part.base)
        part.source_role = "bp3d40"
        alias = display_alias(it.sel)
        part.extra_aliases = (it.sel.whole_name, f"{it.sel.side} {it.sel.whole_name}") + (
            (alias, f"{it.sel.side} {alias}") if alias else ())
        extra.append(part)
    bones = []
    for it in layer.bones:
        b = make_part(it.part_id, it.el.vertices, it.el.faces, fma=it.sel.concept, name=it.el.name)
        b.whole_fma, b.whole_name = it.sel.whole_fma, it.sel.whole_name
        b.source, b.element, b.mirrored = "bp3d-4.0", it.el.file_id, it.mirrored
        b.side = it.sel.side
        bones.append(b)
    _unique_ids(extra, {p.id for p in z_parts})
    _unique_ids(bones, set())
    return sorted(bones, key=lambda b: b.id), extra, layer.report


MUSCLE_CHOICE_30 = (
    "BodyParts3D 3.0 muscles (bodyparts3d-3.0/, the skin's own frame: no registration, no warp) are "
    "added for the referral maps' muscles that neither Z-Anatomy nor 4.0 has, under the whole muscle's "
    "FMA id of the map (viewer/anatomy/data/bp3d30_files.csv). A muscle Z-Anatomy or 4.0 already has "
    "is kept (bp3d30.kept_existing). Measured on the 48 maps meshed by 4.0 or Z-Anatomy that 3.0 also "
    "has: the warped 4.0 meshes are all 1.000 inside the skin, the native 3.0 ones 0.918-1.000 (forearm "
    "and leg muscles lowest); 3.0 brings the trigger points nearer on some maps and farther on others "
    "(fibularis longus 14 -> 3 mm, obturator internus 6 -> 17 mm, subclavius 3 -> 12 mm) and would sit "
    "beside the warped 4.0 bones, not on them. So no existing muscle is replaced.")


def _bp30_layer(src, parts, skin, *, verify: bool, say):
    """The 3.0 muscles the pack lacks and the five organs, in the pack frame (= native)."""
    from viewer.anatomy import bp3d30

    say("adding BodyParts3D 3.0 muscles and organs")
    t = time.perf_counter()
    items = bp3d30.read_folder(src.files["bp30"].parent, verify=verify)
    have = {p.whole_fma for p in parts if p.whole_fma} | {p.fma for p in parts if p.fma}
    muscles, organs, kept = [], [], {}
    for it in items:
        row = it.row
        if it.kind == "muscle" and row["whole_fma"] in have:
            kept[it.part_id] = "the pack already has this muscle"
            continue
        p = make_part(it.part_id, it.vertices, it.faces, fma=row["concept"], name=row["name"])
        p.base = row["part_base"]
        p.whole_fma = row["whole_fma"]
        p.whole_name = row["part_base"].replace("_", " ").lower()
        p.source, p.element, p.mirrored = bp3d30.SOURCE, row["file_id"] or None, False
        p.source_role = "bp3d30"
        p.source_file, p.source_sha256 = row["local"], row["sha256"]
        p.kind = row["kind"]
        p.region = "organ" if it.kind == "organ" else catalogue.region_of(p.base)
        p.extra_aliases = (p.whole_name, f"{p.side} {p.whole_name}") if p.side != "midline" else (p.whole_name,)
        (organs if it.kind == "organ" else muscles).append(p)
    inside = bp3d30.inside_by_part([it for it in items if it.part_id not in kept], skin)

    def _all(ps):
        v = np.vstack([p.vertices for p in ps]) if ps else np.zeros((0, 3))
        from viewer.anatomy import register

        return round(register.inside_fraction(v, skin.vertices, skin.faces), 4) if len(v) else None

    _unique_ids(muscles, {p.id for p in parts})
    report = {
        "frame": "native (the skin's frame): no registration, no warp",
        "muscles": [p.id for p in muscles], "organs": [o.id for o in organs],
        "kept_existing": kept,
        "welded_vertices": {it.part_id: it.welded for it in items if it.welded},
        "inside_fraction": {"muscles": _all(muscles), "organs": _all(organs), "per_part": inside},
        "choice": MUSCLE_CHOICE_30,
        "seconds": round(time.perf_counter() - t, 1),
    }
    return muscles, organs, report


def _unique_ids(parts, taken: set) -> None:
    """Element names repeat (two 'Sesamoid bone of left foot'): suffix the element id."""
    for p in parts:
        if p.id in taken:
            p.id = f"{p.id}#{p.element}"
        taken.add(p.id)


def _bone_entry(b: MusclePart) -> dict:
    return {"id": b.id, "name": b.name, "fma": b.fma, "side": b.side, "element": b.element,
            "whole_fma": b.whole_fma, "whole_name": b.whole_name,
            "vertices": int(len(b.vertices)), "faces": int(len(b.faces))}


def _write(root: Path, key: str, skin, parts: list[MusclePart], manifest: dict,
           bones: list[MusclePart] = (), organs: list[MusclePart] = ()) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    # A fresh name every build: the pack in use is never renamed or deleted
    # before current.json points elsewhere.
    final = root / f"pack-{key[:12]}-{uuid.uuid4().hex[:6]}"
    try:
        tmp = None
        tmp = packfs.new_workdir(root)   # hook (packfs): marked working folder
        np.savez(tmp / "skin.npz", vertices=skin.vertices, faces=skin.faces, normals=skin.normals)
        _save_meshes(tmp / "muscles.npz", parts)
        _write_display_lod(tmp / "muscles_display.npz", parts)
        if bones:
            _save_meshes(tmp / "bones.npz", bones)
            _write_display_lod(tmp / "bones_display.npz", bones)
        if organs:   # kind "organ": loaded by Pack after the muscles (Pack.organs)
            _save_meshes(tmp / "organs.npz", organs)
        manifest["files"] = packfs.checksums(tmp)   # hook (packfs): verified on load and by build
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        tmp.rename(final)
        atomic.write_json(root / "current.json", {"pack": final.name, "key": key})
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        what = "The disk is full" if exc.errno == errno.ENOSPC else f"Writing the pack failed ({exc})"
        raise ViewerError(f"{what}; the new pack was discarded and the previous pack is untouched.",
                          path=root, fix="free some disk space (about 30 MB are needed) or choose "
                                         "another meshes folder, then build again.") from None
    packfs.remove_old_packs(root, keep=final)   # hook (packfs): only marked folders of ours
    return final


DISPLAY_REDUCTION = 0.68  # the live view draws Z-Anatomy muscles with 32% of their triangles
# (was 40%: the 4.0 muscles' share keeps the total near the 81k triangles of format 1)


def _save_meshes(path: Path, meshes) -> None:
    """Meshes (muscle parts, bones or organs) stacked into one .npz: vertices, faces and normals
    one after the other, and each mesh's vertex and face counts to cut them apart (Pack)."""
    np.savez(path,
             vertices=np.vstack([m.vertices for m in meshes]).astype(np.float32),
             faces=np.vstack([m.faces for m in meshes]).astype(np.int32),
             normals=np.vstack([m.normals for m in meshes]).astype(np.float32),
             vertex_counts=np.array([len(m.vertices) for m in meshes]),
             face_counts=np.array([len(m.faces) for m in meshes]))


def _write_display_lod(path: Path, parts: list[MusclePart]) -> None:
    """A lighter copy of all muscles for the live 3D view: software OpenGL
    draws 200k triangles at ~4 frames/s, 80k at about twice that. Picking and
    highlighting still use the full meshes."""
    vs, fs, ns, part = [], [], [], []
    off = 0
    for i, p in enumerate(parts):
        mesh = to_polydata(p.vertices, p.faces).clean()
        # 4.0 parts and bones are many and small: a stronger cut keeps the
        # first frame and frame time of the live view near today's.
        # (measured: with a 0.7 cut the live view drew 145k muscle triangles
        # instead of today's 81k and the frame time grew; 0.88 keeps ~100k)
        cut, floor = (DISPLAY_REDUCTION, 200) if p.source == "z-anatomy" else (0.9, 80)
        if mesh.n_cells > floor and mesh.is_all_triangles:
            mesh = mesh.decimate(cut, volume_preservation=True)
        v, f, n = consistent_outward(np.asarray(mesh.points), triangles(mesh))
        vs.append(v)
        fs.append(f + off)
        ns.append(n)
        part.append(np.full(len(f), i, dtype=np.int32))
        off += len(v)
    np.savez(path, vertices=np.vstack(vs).astype(np.float32), faces=np.vstack(fs).astype(np.int32),
             normals=np.vstack(ns).astype(np.float32), face_part=np.concatenate(part))
