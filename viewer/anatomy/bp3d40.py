"""BodyParts3D 4.0 bones and muscles for the pack: read, select, mirror, register.

The elements come from the shared folder (glTF, ``parts.csv``) or from the
official archive (OBJ); both give native-frame :class:`Element` objects, so the
rest of the pipeline is the same for both.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from viewer.anatomy import warp as W
from viewer.anatomy.bp3d_elements import (Element, Row, Selection, Tables, display_alias, parse_obj,
                                          read_glb, read_parts_csv)
from viewer.anatomy.pack import normalize
from viewer.errors import ViewerError

# Z-Anatomy names that differ from the 4.0 names of the same muscle (normalized).
ZANATOMY_TO_40 = {
    "psoas": "psoas major", "subscapular": "subscapularis",
    "scalene anterior": "scalenus anterior", "scalenus medius and posterior": "scalenus medius",
    "rectus posterior major capitis": "rectus capitis posterior major",
    "rectus posterior minor capitis": "rectus capitis posterior minor",
    "obliquus inferior capitis": "obliquus capitis inferior",
    "obliquus superior capitis": "obliquus capitis superior",
    "clavicular head of pectoralis major": "clavicular part of pectoralis major",
    "sternocostal head of pectoralis major": "sternocostal part of pectoralis major",
    "iliocostalis colli": "iliocostalis cervicis", "longissimus colli": "longissimus cervicis",
}
FOOT_BONES = ("calcane", "talus", "navicular", "cuboid", "cuneiform", "metatarsal", "phalanx of")
FOOT_TOE = ("toe", "hallux", "foot")


@dataclass
class Item:
    """One 4.0 element on its way into the pack."""
    sel: Selection
    el: Element
    mirrored: bool = False
    zanatomy: str | None = None          # id of the Z-Anatomy part of the same muscle
    notes: dict = field(default_factory=dict)

    @property
    def part_id(self) -> str:
        base = self.sel.part_name.replace(" ", "_")
        base = base[:1].upper() + base[1:]
        return f"{base}.{self.sel.side[0]}" if self.sel.side != "midline" else base


def pinned_elements() -> list[dict]:
    """The BodyParts3D 4.0 elements the pack uses: file, element id, sha256 and
    upstream path (viewer/anatomy/data/bp3d40_elements.csv). Names and concept
    ids come from the DBCLS tables, so a downloaded folder, the shared folder
    and the official archive give the same pack."""
    import csv

    from viewer.anatomy.download import elements_list_text

    return list(csv.DictReader(elements_list_text().splitlines()))


def check_folder(folder: Path, *, verify: bool = True) -> None:
    """Fail fast, before the long build steps, on a missing or damaged element file."""
    from viewer.anatomy.sources import sha256_of

    for row in pinned_elements():
        path = folder / row["file"]
        fid = row["element_file_id"]
        if not path.is_file():
            raise ViewerError(f"The BodyParts3D 4.0 element {fid} is missing.", path=path,
                              fix="restore it (its upstream path is in viewer/anatomy/data/"
                                  "bp3d40_elements.csv) or run `referral-viewer build` with no "
                                  "--source to download it.")
        if verify and sha256_of(path) != row["sha256"]:
            raise ViewerError(f"Checksum mismatch for the BodyParts3D 4.0 element {fid}: the file "
                              "is damaged or a different version.", path=path,
                              fix="restore it from its source, or pass --allow-unverified if you "
                                  "changed it on purpose.")


def read_folder(folder: Path, tables: Tables, *, verify: bool = True) -> list[Item]:
    """Elements of the glTF copy (bodyparts3d-4.0/), checked against their pinned sha256."""
    check_folder(folder, verify=verify)
    items = []
    for row in pinned_elements():
        path = folder / row["file"]
        fid = row["element_file_id"]
        sel = tables.classify(fid)
        el = read_glb(path, file_id=fid, concept=sel.concept, name=sel.name)
        items.append(_side_from_geometry(Item(sel, el)))
    return items


def _side_from_geometry(it: Item) -> Item:
    """The tables swap a few sides (FJ1469, a right flexor pollicis brevis at
    x = -257 mm, is listed under "left flexor pollicis brevis"): the geometry
    decides (-X is the subject's right), and the manifest notes the fix."""
    if it.sel.side not in ("right", "left"):
        return it
    geo = "right" if float(np.median(it.el.vertices[:, 0])) < 0 else "left"
    if geo == it.sel.side:
        return it
    swap = {"right": "left", "left": "right", "Right": "Left", "Left": "Right"}
    name = re.sub(r"\b(right|left|Right|Left)\b", lambda m: swap[m.group(1)], it.sel.name)
    it.sel = replace(it.sel, side=geo, name=name)
    it.el.name = name
    it.notes["side_fixed"] = f"tables say {swap[geo].lower()}, geometry says {geo}"
    return it


def read_archive(archive: Path, tables: Tables, file_ids: list[str]) -> list[Item]:
    """The same elements from the official archive's OBJ files."""
    items = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = {Path(i.filename).stem: i for i in zf.infolist() if i.filename.lower().endswith(".obj")}
            for fid in file_ids:
                info = members.get(fid)
                if info is None:
                    raise ViewerError(f"The archive has no element file {fid}.obj.", path=archive,
                                      fix="use the official isa_BP3D_4.0_obj_99.zip (BodyParts3D 4.0).")
                text = zf.read(info).decode("utf-8", "replace")
                items.append(_side_from_geometry(_item(tables, parse_obj(text, f"{archive}!{info.filename}"))))
    except zipfile.BadZipFile as exc:
        raise ViewerError(f"The archive is damaged ({exc}).", path=archive,
                          fix="download it again or use --source official.") from None
    return items


def _item(tables: Tables, el: Element) -> Item:
    sel = tables.classify(el.file_id, el.concept, el.name)
    if not el.name:
        el.name = sel.name
    return Item(sel, el)


def mirror_missing(items: list[Item]) -> list[Item]:
    """Left copies of muscles present for the right side only (x mirrored, as
    BodyParts3D's own M files are)."""
    have = {(it.sel.part_name, it.sel.side) for it in items if it.sel.kind == "muscle"}
    out = []
    for it in items:
        s = it.sel
        if s.kind != "muscle" or s.side != "right" or (s.part_name, "left") in have:
            continue
        v = it.el.vertices * np.array([-1.0, 1.0, 1.0])
        f = it.el.faces[:, ::-1]          # mirroring flips the winding back outward
        name = s.name.replace("right", "left").replace("Right", "Left")
        el = Element(it.el.file_id + "M", s.concept, name, v, f, it.el.source)
        sel = Selection(el.file_id, "muscle", s.concept, name, "left", s.whole_fma, s.whole_name, s.part_name)
        out.append(Item(sel, el, mirrored=True))
    return items + out


def match_zanatomy(items: list[Item], z_parts) -> list[tuple[Item, object]]:
    """(4.0 item, Z-Anatomy part) pairs of the same muscle and side."""
    by_name = {(normalize(it.sel.part_name), it.sel.side): it for it in items if it.sel.kind == "muscle"}
    pairs = []
    for p in z_parts:
        key = normalize(p.base)
        key = ZANATOMY_TO_40.get(key, key)
        it = by_name.get((key, p.side))
        if it is not None:
            it.zanatomy = p.id
            pairs.append((it, p))
    return pairs


HAND_BONES = ("finger", "thumb", "metacarpal", "hamate", "capitate", "trapezium", "trapezoid",
              "scaphoid", "lunate", "pisiform", "triquetr", "sesamoid bone of right hand",
              "sesamoid bone of left hand")
FOOT_BONE_WORDS = ("toe", "calcane", "talus", "navicular", "cuboid", "cuneiform", "metatarsal",
                   "sesamoid bone of right foot", "sesamoid bone of left foot")


def extremity_bones(items: list[Item], side: str, words) -> list[np.ndarray]:
    return [it.el.vertices for it in items if it.sel.kind == "bone" and it.sel.side == side
            and any(w in it.sel.name.lower() for w in words)]


def extremity_landmarks(items: list[Item], skin_v: np.ndarray):
    """Hands and feet, from the skin (Z-Anatomy has no hand or foot muscles)."""
    src, dst, kinds = [], [], []
    for side, sign in (("right", -1.0), ("left", 1.0)):
        feet = extremity_bones(items, side, FOOT_BONE_WORDS)
        if feet:
            skin_foot = skin_v[(skin_v[:, 2] < FOOT_TOP_MM) & (np.sign(skin_v[:, 0]) == sign)]
            s, d, k = W.extremity_landmarks(feet, skin_foot, inset_xy=(W.SIDE_MM, W.TOE_PULP_MM),
                                            inset_bottom=W.SOLE_PAD_MM, scale_z=False, name=f"foot:{side}")
            src.append(s), dst.append(d), kinds.extend(k)
        hands = extremity_bones(items, side, HAND_BONES)
        if hands:
            hv = np.vstack(hands)
            top = hv[:, 2].max()
            skin_hand = skin_v[(skin_v[:, 2] < top) & (sign * skin_v[:, 0] > HAND_X_MM)
                               & (skin_v[:, 2] > hv[:, 2].min() - 100)]
            s, d, k = W.extremity_landmarks(hands, skin_hand, inset_xy=(W.SIDE_MM, W.SIDE_MM),
                                            inset_bottom=W.TOE_PULP_MM, scale_z=True, name=f"hand:{side}")
            src.append(s), dst.append(d), kinds.extend(k)
    if not src:
        return np.zeros((0, 3)), np.zeros((0, 3)), []
    return np.vstack(src), np.vstack(dst), kinds


FOOT_TOP_MM = 60.0     # the skin's foot: below the ankle (malleoli ~70-80 mm)
HAND_X_MM = 195.0      # the skin's hands hang beside the thighs, clear of them beyond |x| 195 mm


# Above this height (mm) the 4.0 body already agrees with the skin (README: trunk,
# arms and face within a few mm): its bones there are fixed points of the warp.
# Below it the legs and feet differ and move onto the Z-Anatomy leg muscles and
# the skin's feet.
FIXED_ABOVE_MM = 820.0
LEG_MUSCLES_BELOW_MM = 760.0


def fit_warp(items: list[Item], z_parts, skin_v: np.ndarray, *, smoothing: float = 20.0):
    """The thin-plate-spline warp from the 4.0 frame into the pack frame, and the
    (4.0, Z-Anatomy) muscle pairs it was fitted on."""
    pairs = match_zanatomy(items, z_parts)
    legs = [(p.id, it.el.vertices, p.vertices) for it, p in pairs
            if np.median(it.el.vertices[:, 2]) < LEG_MUSCLES_BELOW_MM]
    ms, md, mk = W.muscle_landmarks(legs)
    # a pair whose slabs move far more than its neighbours' is a naming mismatch, not anatomy
    d = np.linalg.norm(md - ms, axis=1)
    keep = d < max(3.0 * np.median(d), 40.0) + 40.0
    ms, md, mk = ms[keep], md[keep], [k for k, ok in zip(mk, keep) if ok]
    fs, fd, fk = extremity_landmarks(items, skin_v)
    hands = {id(v) for side in ("right", "left") for v in extremity_bones(items, side, HAND_BONES)}
    fixed = [W.slab_points(it.el.vertices, fractions=(0.1, 0.5, 0.9)) for it in items
             if it.sel.kind == "bone" and it.el.vertices[:, 2].mean() > FIXED_ABOVE_MM
             and id(it.el.vertices) not in hands]
    ks = np.vstack(fixed) if fixed else np.zeros((0, 3))
    src = np.vstack([ms, fs, ks])
    dst = np.vstack([md, fd, ks])
    kinds = mk + fk + ["fixed"] * len(ks)
    return W.Warp(src, dst, kinds, smoothing=smoothing), pairs


# Stored 4.0 meshes keep this share of their triangles (at least MIN_FACES):
# the official "99% reduced" elements are still ~1.7M triangles in all, more
# than picking and highlighting need on a 2-core machine.
KEEP_FRACTION, MIN_FACES = 0.2, 150


def decimate(items: list[Item]) -> None:
    """Lighter meshes, in place (before mirroring, so mirrored pairs stay identical).
    fast-simplification (quadric error, C++) does the 500 elements in a few
    seconds where VTK's quadric decimation takes ~30 s."""
    import fast_simplification

    for it in items:
        n = len(it.el.faces)
        target = max(MIN_FACES / max(n, 1), KEEP_FRACTION)
        if target >= 1.0:
            continue
        v, f = fast_simplification.simplify(it.el.vertices.astype(np.float32),
                                            it.el.faces.astype(np.int32), 1.0 - target)
        if len(f):
            it.el.vertices, it.el.faces = np.asarray(v, np.float64), np.asarray(f, np.int64)


@dataclass
class Layer:
    """The registered 4.0 bones and muscles, ready for the pack."""
    bones: list[Item]
    muscles: list[Item]                  # 4.0 muscles the pack uses (no Z-Anatomy twin)
    twins: list[tuple[Item, object]]     # (4.0 muscle, Z-Anatomy part) of the same muscle
    report: dict


def build_layer(items: list[Item], z_parts, skin, *, say=lambda m: None) -> Layer:
    """Decimate, mirror, warp into the pack frame and measure."""
    import time

    from scipy.spatial import cKDTree

    t = time.perf_counter()
    say("simplifying BodyParts3D 4.0 elements")
    items = [it for it in items if it.sel.kind in ("muscle", "bone")]
    decimate(items)
    items = mirror_missing(items)
    t_dec = time.perf_counter() - t
    say("fitting the warp of the 4.0 skeleton into the skin")
    warp, pairs = fit_warp(items, z_parts, skin.vertices)
    samples = np.vstack([it.el.vertices[::4] for it in items])
    before = {k: W.inside_by_band(np.vstack([it.el.vertices for it in items if it.sel.kind == k]),
                                  skin.vertices, skin.faces) for k in ("bone", "muscle")}
    n_landmarks = len(warp.source)
    warp = refine_on_skin_all(warp, samples, skin)
    allv = np.vstack([it.el.vertices for it in items])
    moved = warp.mixed(allv, W.extremities(allv), spacing_mm=12.0)
    off = 0
    for it in items:
        n = len(it.el.vertices)
        it.el.vertices = moved[off:off + n]
        off += n
    after = {k: W.inside_by_band(np.vstack([it.el.vertices for it in items if it.sel.kind == k]),
                                 skin.vertices, skin.faces) for k in ("bone", "muscle")}
    dists = {}
    for it, p in pairs:
        d, _ = cKDTree(np.asarray(p.vertices, np.float64)).query(it.el.vertices)
        dists[p.id] = round(float(d.mean()), 2)
    twins = {id(it) for it, _ in pairs}
    report = {
        "elements": len(items), "mirrored": sum(it.mirrored for it in items),
        "warp": {"kind": "thin-plate spline (scipy RBFInterpolator), smoothing %.0f" % warp.smoothing,
                 "landmarks": n_landmarks, "skin_landmarks": len(warp.source) - n_landmarks,
                 "landmark_kinds": sorted({k.split(":")[0] for k in warp.kinds}),
                 "residual_mm_mean": round(float(warp.residuals().mean()), 2)},
        "inside_fraction_before": {"bones": before["bone"], "muscles": before["muscle"]},
        "inside_fraction": {"bones": after["bone"], "muscles": after["muscle"]},
        "twin_distance_mm": {"mean": round(float(np.mean(list(dists.values()))), 2) if dists else None,
                             "per_muscle": dists},
        "seconds": {"decimate": round(t_dec, 1), "total": round(time.perf_counter() - t, 1)},
    }
    return Layer([it for it in items if it.sel.kind == "bone"],
                 [it for it in items if it.sel.kind == "muscle" and id(it) not in twins], pairs, report)


def refine_on_skin_all(warp, samples, skin):
    return W.refine_on_skin(warp, samples, skin.vertices, skin.faces, skin.normals,
                            iterations=REFINE_ITERATIONS, grid_mm=20.0)


REFINE_ITERATIONS = 3
