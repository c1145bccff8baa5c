"""BodyParts3D 4.0 bones and muscles for the pack: read, select, mirror, register.

The elements come from the shared folder (glTF, ``parts.csv``) or from the
official archive (OBJ); both give native-frame :class:`Element` objects, so the
rest of the pipeline is the same for both.
"""

from __future__ import annotations

import re
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import fast_simplification
import numpy as np
from scipy.spatial import cKDTree

from viewer.anatomy import warp as W
from viewer.anatomy.bp3d_elements import (Element, Row, Selection, Tables, display_alias, parse_obj,
                                          read_glb, read_parts_csv)
from viewer.anatomy.download import pinned_element_rows
from viewer.anatomy.pack import normalize
from viewer.anatomy.sources import check_pinned_file
from viewer.constants import OTHER_SIDE, SIDES
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


@dataclass
class Item:
    """One 4.0 element on its way into the pack."""
    sel: Selection
    el: Element
    mirrored: bool = False
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
    return pinned_element_rows()


def check_folder(folder: Path, *, verify: bool = True) -> None:
    """Fail fast, before the long build steps, on a missing or damaged element file."""
    for row in pinned_elements():
        check_pinned_file(folder / row["file"], f"the BodyParts3D 4.0 element {row['element_file_id']}",
                          row["sha256"], "viewer/anatomy/data/bp3d40_elements.csv", verify)


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
    if it.sel.side not in SIDES:
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
                          fix="download it again, or build from the official download.") from None
    return items


def _item(tables: Tables, el: Element) -> Item:
    sel = tables.classify(el.file_id, el.concept, el.name)
    if not el.name:
        el.name = sel.name
    return Item(sel, el)


def mirror_missing(items: list[Item]) -> list[Item]:
    """Copies of muscles present for one side only (x mirrored, as BodyParts3D's own M
    files are): left ones for the 86 right-only muscles, and a right one for the longus
    colli, whose parts the set has for the left only."""
    have = {(it.sel.part_name, it.sel.side) for it in items if it.sel.kind == "muscle"}
    other = OTHER_SIDE
    out = []
    for it in items:
        s = it.sel
        if s.kind != "muscle" or s.side not in other or (s.part_name, other[s.side]) in have:
            continue
        side = other[s.side]
        v = it.el.vertices * np.array([-1.0, 1.0, 1.0])
        f = it.el.faces[:, ::-1]          # mirroring flips the winding back outward
        name = (s.name.replace("right", "left").replace("Right", "Left") if side == "left"
                else s.name.replace("left", "right").replace("Left", "Right"))
        el = Element(it.el.file_id + "M", s.concept, name, v, f, it.el.source)
        sel = Selection(el.file_id, "muscle", s.concept, name, side, s.whole_fma, s.whole_name, s.part_name)
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
    """Feet, from the skin (Z-Anatomy has no foot muscles). The hands are not fitted to
    the skin's hand box (that stretched the finger bones ~1.24x across the palm and
    shortened them ~0.86x): the warp holds them with the forearm and pose_extremities
    bends them into the skin's hand joint by joint."""
    src, dst, kinds = [], [], []
    for side, sign in (("right", -1.0), ("left", 1.0)):
        feet = extremity_bones(items, side, FOOT_BONE_WORDS)
        if feet:
            skin_foot = skin_v[(skin_v[:, 2] < FOOT_TOP_MM) & (np.sign(skin_v[:, 0]) == sign)]
            s, d, k = W.extremity_landmarks(feet, skin_foot, inset_xy=(W.SIDE_MM, W.TOE_PULP_MM),
                                            inset_bottom=W.SOLE_PAD_MM, scale_z=False, name=f"foot:{side}")
            src.append(s), dst.append(d), kinds.extend(k)
    if not src:
        return np.zeros((0, 3)), np.zeros((0, 3)), []
    return np.vstack(src), np.vstack(dst), kinds


FOOT_TOP_MM = 60.0     # the skin's foot: below the ankle (malleoli ~70-80 mm)
HAND_X_MM = 195.0      # the skin's hands hang beside the thighs, clear of them beyond |x| 195 mm


# --- Hands and toes posed joint by joint (warp.fit_articulated) ---
ORDINALS = ("first", "second", "third", "fourth", "fifth")
FINGERS = ("thumb", "index finger", "middle finger", "ring finger", "little finger")
TOES = ("big toe", "second toe", "third toe", "fourth toe", "little toe")


def _ray_bones(names: list[str], side: str, digit: str, long_bone: str, ordinal: str) -> list[int]:
    """Indices of a ray's bones, proximal first: metacarpal/metatarsal, then phalanges."""
    want = [f"{side} {ordinal} {long_bone}"] + [f"{k} phalanx of {side} {digit}"
                                                for k in ("proximal", "middle", "distal")]
    return [next(i for i, n in enumerate(names) if n.startswith(w)) for w in want
            if any(n.startswith(w) for n in names)]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _palmar(bones, names, side) -> np.ndarray:
    """Unit vector toward the palm: the normal of the plane of metacarpals 2-5, on the
    side of the pisiform (which sits on the palmar face of the triquetral)."""
    meta = [b for b, n in zip(bones, names) if "metacarpal" in n and "first" not in n]
    if len(meta) < 2:
        return np.array([0.0, -1.0, 0.0])
    v = np.vstack(meta)
    n = np.linalg.svd(v - v.mean(axis=0), full_matrices=False)[2][2]
    pis = [b for b, nm in zip(bones, names) if "pisiform" in nm]
    tri = [b for b, nm in zip(bones, names) if "triquetr" in nm]
    ref = (pis[0].mean(axis=0) - tri[0].mean(axis=0)) if pis and tri else np.array([0.0, -1.0, 0.0])
    return n if n @ ref > 0 else -n


# Joint ranges (flex lo, flex hi, spread lo, spread hi) in degrees: base of the ray
# (carpometacarpal, tarsometatarsal), knuckle or ball of the toe, then the phalangeal joints.
# Usual active ranges of motion, a little narrowed so that no pose looks forced.
FINGER_LIMITS = ((-5, 10, -5, 5), (-20, 90, -20, 20), (0, 100, 0, 0), (0, 80, 0, 0))
THUMB_LIMITS = ((-30, 30, -30, 30), (-10, 60, -10, 10), (-10, 80, 0, 0))
TOE_LIMITS = ((-5, 5, -5, 5), (-40, 40, -15, 15), (-10, 60, 0, 0), (-10, 60, 0, 0))


def extremity_rays(bones: list[np.ndarray], names: list[str], side: str, *, hand: bool):
    """The five rays of a hand or foot with their joint centres, flexion and spreading axes
    and ranges. The joint at the base of a ray is stiff except for the thumb's."""
    digits, long_bone = (FINGERS, "metacarpal") if hand else (TOES, "metatarsal")
    names = [n.lower() for n in names]
    palm = _palmar(bones, names, side) if hand else np.array([0.0, 0.0, -1.0])
    rays = [(ordinal, _ray_bones(names, side, digit, long_bone, ordinal))
            for ordinal, digit in zip(ORDINALS, digits)]
    rays = [(o, idx) for o, idx in rays if len(idx) >= 2]
    in_ray = {i for _, idx in rays for i in idx}
    base = np.vstack([bones[i] for i in range(len(bones)) if i not in in_ray])
    out = []
    for ordinal, idx in rays:
        joints = [W.joint_centre(base, bones[idx[0]])]
        joints += [W.joint_centre(bones[a], bones[b]) for a, b in zip(idx, idx[1:])]
        flex, spread = [], []
        for j, i in zip(joints, idx):
            u = _unit(bones[i].mean(axis=0) - j)             # along the bone, distally
            p = _unit(palm - (palm @ u) * u)
            flex.append(_unit(np.cross(u, p)))               # +angle bends toward palm or sole
            spread.append(p)
        thumb = hand and ordinal == "first"
        limits = THUMB_LIMITS if thumb else FINGER_LIMITS if hand else TOE_LIMITS
        if len(idx) < len(limits):    # big toe: no middle phalanx
            limits = limits[:len(idx)]
        stiff = np.array([BASE_STIFF_THUMB if thumb else BASE_STIFF] + [JOINT_STIFF] * (len(idx) - 1))
        out.append(W.Ray(idx, np.array(joints), np.array(flex), np.array(spread),
                         np.array(limits[:len(idx)], float), stiff))
    return out, base


BASE_STIFF, BASE_STIFF_THUMB, JOINT_STIFF = 20.0, 1.0, 1.0


def _side_of(v: np.ndarray) -> str:
    return "right" if float(np.median(v[:, 0])) < 0 else "left"


def pose_extremities(items: list[Item], skin) -> dict:
    """Pose each hand and the toes of each foot inside the skin (warp.fit_articulated),
    in place, after the warp. Bones move rigidly, joint by joint; muscles and tendons
    near them follow with a faded thin-plate spline held still on the forearm or leg
    bones. Returns what was done, for the manifest."""
    sv, sf = np.asarray(skin.vertices, np.float64), np.asarray(skin.faces, np.int64)
    bones = [it for it in items if it.sel.kind == "bone"]
    muscles = [it for it in items if it.sel.kind == "muscle"]
    report = {}
    for side in SIDES:
        for hand, words, holders in ((True, HAND_BONES, ("radius", "ulna")),
                                     (False, FOOT_BONE_WORDS, ("tibia", "fibula"))):
            its = [it for it in bones if it.sel.side == side and any(w in it.sel.name.lower() for w in words)]
            if not its:
                continue
            vs = [it.el.vertices for it in its]
            rays, base = extremity_rays(vs, [it.sel.name for it in its], side, hand=hand)
            if not rays:
                continue
            allv = np.vstack(vs)
            sdf = W.sdf_sampler(sv, sf, allv.min(axis=0) - 20, allv.max(axis=0) + 20, SDF_GRID_MM)
            # hands: the whole hand turns about the wrist first; feet stand where the warp put them
            pose, rep = W.fit_articulated(vs, rays, sdf, root_centre=base.mean(axis=0), root=hand, root_stiffness=1.0,
                                          margin_mm=HAND_MARGIN_MM if hand else TOE_MARGIN_MM)
            src = np.vstack([v[::3] for v in vs])
            dst = np.vstack([W.apply_rigid(v[::3], Rt) for v, Rt in zip(vs, pose)])
            moved = np.linalg.norm(dst - src, axis=1)
            for it, Rt in zip(its, pose):
                it.el.vertices = W.apply_rigid(it.el.vertices, Rt)
            held = [it.el.vertices for it in bones if it.sel.side == side
                    and any(w in it.sel.name.lower() for w in holders)]
            top = base[:, 2].max()
            anchors = np.vstack([h[::6] for h in held]) if held else np.zeros((0, 3))
            anchors = anchors[anchors[:, 2] > top + 25]
            # the hand's own muscles and the forearm's (median |x| >= 200 mm, where the thigh's
            # reach 150 at most: the hands hang beside the thighs and must not drag them)
            near = [it for it in muscles if _side_of(it.el.vertices) == side
                    and it.el.vertices[:, 2].min() < top + 60
                    and (not hand or np.median(np.abs(it.el.vertices[:, 0])) > HAND_X_MM - 20)]
            if near:   # one spline for all of them (fitting it is the cost)
                _set_vertices(near, W.follow_field(src, dst, anchors, np.vstack([it.el.vertices for it in near])))
            if hand and near:
                rep["muscle_refine_mm_max"] = _refine_hand_muscles(near, dst, anchors, top, skin)
            rep["bone_move_mm_max"] = round(float(moved.max()), 1)
            report[f"{'hand' if hand else 'foot'}:{side}"] = rep
    return report


def _refine_hand_muscles(near: list[Item], bone_pts, anchors, top: float, skin) -> float:
    """Muscles and tendons are soft: where the posed hand's tendons still leave the
    skin's mitten, a spline fitted on the skin (warp.refine_on_skin), held still on the
    posed bones and forearm, moves them in; faded out over 40 mm above the wrist.
    Returns the largest displacement applied (mm)."""
    held = np.vstack([bone_pts, anchors])
    v = np.vstack([it.el.vertices for it in near])
    low = v[:, 2] < top + 40
    if not low.any():
        return 0.0
    warp = W.refine_on_skin(W.Warp(held, held, ["bone"] * len(held), smoothing=1.0), v[low][::2],
                            skin.vertices, skin.faces, skin.normals, margin_mm=2.0, grid_mm=6.0,
                            iterations=2)
    wgt = np.clip((top + 40 - v[:, 2]) / 40.0, 0.0, 1.0)
    moved = v.copy()
    moved[low] = v[low] + wgt[low, None] * (warp(v[low]) - v[low])
    _set_vertices(near, moved)
    return round(float(np.linalg.norm(moved - v, axis=1).max()), 1)


def _set_vertices(its: list[Item], stacked: np.ndarray) -> None:
    """Give each item its rows of the stacked vertex array, in order."""
    off = 0
    for it in its:
        n = len(it.el.vertices)
        it.el.vertices = stacked[off:off + n]
        off += n


SDF_GRID_MM = 3.0
HAND_MARGIN_MM, TOE_MARGIN_MM = 2.0, 2.0


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
    hands = {id(v) for side in SIDES for v in extremity_bones(items, side, HAND_BONES)}
    fixed = [W.slab_points(it.el.vertices, fractions=(0.1, 0.5, 0.9)) for it in items
             if it.sel.kind == "bone" and (it.el.vertices[:, 2].mean() > FIXED_ABOVE_MM
                                           or id(it.el.vertices) in hands)]
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
    for it in items:
        n = len(it.el.faces)
        target = max(MIN_FACES / max(n, 1), KEEP_FRACTION)
        if target >= 1.0:
            continue
        v, f = fast_simplification.simplify(it.el.vertices.astype(np.float32),
                                            it.el.faces.astype(np.int32), 1.0 - target)
        if len(f):
            it.el.vertices, it.el.faces = np.asarray(v, np.float64), np.asarray(f, np.int64)


TWIN_MISMATCH_MM = 40.0   # mean distance at which a Z-Anatomy/4.0 twin is a naming mistake


@dataclass
class Layer:
    """The registered 4.0 bones and muscles, ready for the pack."""
    bones: list[Item]
    muscles: list[Item]                  # 4.0 muscles the pack uses (no Z-Anatomy twin)
    twins: list[tuple[Item, object]]     # (4.0 muscle, Z-Anatomy part) of the same muscle
    report: dict


def build_layer(items: list[Item], z_parts, skin, *, say=lambda m: None) -> Layer:
    """Decimate, mirror, warp into the pack frame and measure."""
    t = time.perf_counter()
    say("simplifying BodyParts3D 4.0 elements")
    items = [it for it in items if it.sel.kind in ("muscle", "bone")]
    decimate(items)
    items = mirror_missing(items)
    t_dec = time.perf_counter() - t
    say("fitting the warp of the 4.0 skeleton into the skin")
    warp, pairs = fit_warp(items, z_parts, skin.vertices)
    samples = np.vstack([it.el.vertices[::4] for it in items])
    samples = samples[~in_hands(samples, items)]   # the hands are posed afterwards
    before = {k: W.inside_by_band(np.vstack([it.el.vertices for it in items if it.sel.kind == k]),
                                  skin.vertices, skin.faces) for k in ("bone", "muscle")}
    n_landmarks = len(warp.source)
    warp = refine_on_skin_all(warp, samples, skin)
    allv = np.vstack([it.el.vertices for it in items])
    moved = warp.mixed(allv, W.extremities(allv), spacing_mm=12.0)
    _set_vertices(items, moved)
    say("posing the hands and toes inside the skin")
    posed = pose_extremities(items, skin)
    after = {k: W.inside_by_band(np.vstack([it.el.vertices for it in items if it.sel.kind == k]),
                                 skin.vertices, skin.faces) for k in ("bone", "muscle")}
    dists = {}
    for it, p in pairs:
        d, _ = cKDTree(np.asarray(p.vertices, np.float64)).query(it.el.vertices)
        dists[p.id] = round(float(d.mean()), 2)
    # A pair lying far apart after the warp is a naming mistake, not anatomy: Z-Anatomy's
    # "Descending part of trapezius" lies where the ascending part is (T12 to the shoulder,
    # ~89 mm from the 4.0 descending part, occiput to clavicle). There the 4.0 element is
    # used and the Z-Anatomy part is to be dropped (report["replaced_zanatomy"]).
    misnamed = [(it, p) for it, p in pairs if dists[p.id] > TWIN_MISMATCH_MM]
    pairs = [(it, p) for it, p in pairs if dists[p.id] <= TWIN_MISMATCH_MM]
    twins = {id(it) for it, _ in pairs}
    report = {
        "elements": len(items), "mirrored": sum(it.mirrored for it in items),
        "warp": {"kind": "thin-plate spline (scipy RBFInterpolator), smoothing %.0f" % warp.smoothing,
                 "landmarks": n_landmarks, "skin_landmarks": len(warp.source) - n_landmarks,
                 "landmark_kinds": sorted({k.split(":")[0] for k in warp.kinds}),
                 "residual_mm_mean": round(float(warp.residuals().mean()), 2)},
        "posed": posed,
        "inside_fraction_before": {"bones": before["bone"], "muscles": before["muscle"]},
        "inside_fraction": {"bones": after["bone"], "muscles": after["muscle"]},
        "twin_distance_mm": {"mean": round(float(np.mean(list(dists.values()))), 2) if dists else None,
                             "per_muscle": dists},
        "replaced_zanatomy": {p.id: {"twin_distance_mm": dists[p.id], "kept": it.el.file_id}
                              for it, p in misnamed},
        "seconds": {"decimate": round(t_dec, 1), "total": round(time.perf_counter() - t, 1)},
    }
    return Layer([it for it in items if it.sel.kind == "bone"],
                 [it for it in items if it.sel.kind == "muscle" and id(it) not in twins], pairs, report)


def in_hands(pts: np.ndarray, items: list[Item]) -> np.ndarray:
    """Points beside the thighs below the top of the 4.0 hand bones (native frame)."""
    top = max((float(np.max(v[:, 2])) for side in SIDES
               for v in extremity_bones(items, side, HAND_BONES)), default=-1e9)
    return (np.abs(pts[:, 0]) > HAND_X_MM - 5) & (pts[:, 2] < top)


def refine_on_skin_all(warp, samples, skin):
    return W.refine_on_skin(warp, samples, skin.vertices, skin.faces, skin.normals,
                            iterations=REFINE_ITERATIONS, grid_mm=20.0)


REFINE_ITERATIONS = 3
