"""Body segments on the skin: head, neck, trunk and, per side, upper arm,
forearm, hand, thigh, leg and foot.

The skin is one closed surface on which the hanging arm is fused with the
chest wall below the axilla (and lies a few mm from the hip), so planes and
nearest-bone rules alone mislabel the trunk beside the arm. Labels come in
two steps:

1. *Which limb, or the axial body.* Conservative core vertices are picked for
   each limb (near its bone axis, facing away from it) and for the axial body
   (near the midline, facing away from the trunk axis); every other vertex
   takes the group of its geodesically nearest core (heat method, along the
   skin), so the seam where the arm meets the trunk falls midway along the
   skin, in the crease, never across the trunk.
2. *Which segment within the group.* Limb vertices go to the nearest bone of
   their own limb's chain (shoulder-elbow-wrist-fingertips, hip-knee-ankle-
   toes), which cuts each joint on the bisector of its bend; axial vertices
   are cut into head, neck and trunk by two planes (chin-mastoid-occiput and
   sternal notch-acromion-C7).

The skeleton is taken from the skin landmarks (landmarks.yaml), so the labels
follow the skin, not a particular bone set.
"""

from __future__ import annotations

import numpy as np

from viewer.constants import SIDES
from viewer.referral.geometry import SkinGeometry
from viewer.referral.loader import Landmark

SIDED = ("upper_arm", "forearm", "hand", "thigh", "leg", "foot")
SEGMENTS = ("head", "neck", "trunk") + tuple(f"{s}_{side}" for side in SIDES for s in SIDED)
SEGMENT_INDEX = {name: i for i, name in enumerate(SEGMENTS)}
# SIDE_SWAP[k]: the same segment on the other side of the body (head, neck, trunk stay)
SIDE_SWAP = np.array([SEGMENT_INDEX[n.replace("_right", "_L").replace("_left", "_right").replace("_L", "_left")]
                      for n in SEGMENTS], dtype=np.int8)
MIRROR = np.array([-1.0, 1.0, 1.0])


def _adjacency() -> np.ndarray:
    """ADJACENT[a, b]: segments a and b meet at a joint (or are the same segment)."""
    pairs = [("head", "neck"), ("neck", "trunk")]
    for side in SIDES:
        chain = ["trunk", f"upper_arm_{side}", f"forearm_{side}", f"hand_{side}"]
        chain2 = ["trunk", f"thigh_{side}", f"leg_{side}", f"foot_{side}"]
        pairs += list(zip(chain, chain[1:])) + list(zip(chain2, chain2[1:]))
    a = np.eye(len(SEGMENTS), dtype=bool)
    for x, y in pairs:
        a[SEGMENT_INDEX[x], SEGMENT_INDEX[y]] = a[SEGMENT_INDEX[y], SEGMENT_INDEX[x]] = True
    return a


ADJACENT = _adjacency()
# Joints along a limb (and head-neck-trunk) where the skin is one continuous sheet. The
# shoulder and the hip are left out: there the hanging arm's skin is fused with the chest
# wall and the thighs meet at the perineum, so "near" across them is not "on the drawing".
ALONG_LIMB = ADJACENT.copy()
for _side in SIDES:
    for _limb in ("upper_arm", "thigh"):
        ALONG_LIMB[SEGMENT_INDEX["trunk"], SEGMENT_INDEX[f"{_limb}_{_side}"]] = False
        ALONG_LIMB[SEGMENT_INDEX[f"{_limb}_{_side}"], SEGMENT_INDEX["trunk"]] = False


def _p(landmarks: dict[str, Landmark], name: str) -> np.ndarray:
    lm = landmarks[name]
    if lm.point is None:
        raise ValueError(f"segments: landmark {name!r} has no measured point")
    return np.asarray(lm.point, dtype=np.float64)


def skeleton(landmarks: dict[str, Landmark]) -> dict[str, np.ndarray]:
    """Right-side joint centres (mm) estimated from skin landmarks."""
    L = lambda n: _p(landmarks, n)  # noqa: E731
    elbow = (L("lateral_epicondyle") + L("medial_epicondyle")) / 2
    wrist = (L("wrist_dorsal") + L("wrist_volar")) / 2
    # Glenohumeral centre: below and medial to the acromion, in line with the arm.
    shoulder = L("acromion") + np.array([20.0, 0.0, -40.0])
    fingers = (L("index_finger") + L("ring_finger")) / 2
    knee = (L("knee_lateral") + L("knee_medial")) / 2
    ankle = (L("lateral_malleolus") + L("medial_malleolus")) / 2
    # Hip centre: at the level of the greater trochanter, under the groin crease.
    gt, groin = L("greater_trochanter"), L("groin")
    hip = np.array([(gt[0] + groin[0]) / 2 + 10.0, (gt[1] + groin[1]) / 2, gt[2] + 15.0])
    toes = L("big_toe") * np.array([1.0, 0.75, 1.0]) + np.array([-10.0, 0.0, 0.0])
    # The foot's bone runs from inside the heel (behind and below the ankle) to the toes,
    # so the heel is nearer the foot than the leg.
    calcaneus = L("heel") + np.array([0.0, -25.0, 25.0])
    return {"shoulder": shoulder, "elbow": elbow, "wrist": wrist, "fingers": fingers,
            "hip": hip, "knee": knee, "ankle": ankle, "calcaneus": calcaneus, "toes": toes}


def _seg_dist(P: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distance, parameter t in [0, 1], radial unit vector) of points P to segment ab."""
    ab = b - a
    t = np.clip(((P - a) @ ab) / (ab @ ab), 0.0, 1.0)
    foot = a + t[:, None] * ab
    r = P - foot
    d = np.linalg.norm(r, axis=1)
    return d, t, r / np.maximum(d, 1e-9)[:, None]


def label_segments(geo: SkinGeometry, landmarks: dict[str, Landmark]) -> np.ndarray:
    """Segment index (into SEGMENTS) of every skin vertex, int8 (V,)."""
    V = geo.vertices
    N = geo.normals if geo.normals is not None else np.zeros_like(V)
    sk = skeleton(landmarks)
    chains = {"arm": [("upper_arm", "shoulder", "elbow", 55.0), ("forearm", "elbow", "wrist", 45.0),
                      ("hand", "wrist", "fingers", 45.0)],
              "leg": [("thigh", "hip", "knee", 95.0), ("leg", "knee", "ankle", 65.0),
                      ("foot", "calcaneus", "toes", 60.0)]}
    groups: list[tuple[str, str | None, np.ndarray]] = []   # (limb, side, core vertices)

    for limb, chain in chains.items():
        for side in SIDES:
            m = MIRROR if side == "left" else np.ones(3)
            core = np.zeros(geo.n, dtype=bool)
            for _name, a, b, radius in chain:
                d, t, r = _seg_dist(V, sk[a] * m, sk[b] * m)
                # Interior of the bone only, close to it, and the skin facing away from it:
                # the trunk beside the arm faces the arm, so it never enters an arm core.
                core |= (t > 0.2) & (t < 0.8) & (d < radius) & (np.einsum("ij,ij->i", N, r) > 0.5)
            groups.append((limb, side, np.flatnonzero(core)))

    # Axial core: the trunk between the shoulders and the groin facing away from the body's
    # vertical axis, out to the chest wall under the armpit (the arm's own skin there faces
    # the trunk, or lies beyond this width, so never enters it), and never a limb core.
    limb_core = np.zeros(geo.n, dtype=bool)
    for _limb, _side, core in groups:
        limb_core[core] = True
    radial = V * np.array([1.0, 1.0, 0.0]) - np.array([0.0, -80.0, 0.0])
    radial /= np.maximum(np.linalg.norm(radial, axis=1), 1e-9)[:, None]
    z_low = _p(landmarks, "asis")[2] + 5.0   # the trunk core stops above the hip joints
    trunk_half_width = abs(_p(landmarks, "lateral_chest")[0]) + 10.0
    # Above the armpit the shoulder cap belongs to the arm: the core stops well inside it.
    half = np.where(V[:, 2] > _p(landmarks, "axilla")[2], 0.6 * abs(sk["shoulder"][0]), trunk_half_width)
    axial = ((np.abs(V[:, 0]) < half) & (V[:, 2] > z_low)
             & (np.einsum("ij,ij->i", N, radial) > 0.5) & ~limb_core)
    axial |= V[:, 2] > _p(landmarks, "chin")[2] + 40.0          # the whole head
    # The external genitals (midline, in front, below the pubis) belong to the trunk.
    pubis = _p(landmarks, "pubis")
    axial |= (np.abs(V[:, 0]) < 25.0) & (V[:, 1] < pubis[1] + 20.0) & (V[:, 2] < pubis[2]) \
        & (V[:, 2] > pubis[2] - 150.0)
    # So do the gluteal cleft, the anus and the perineum (midline, behind the genitals, from
    # the coccyx down between the thighs): left to distance alone they went to the thighs,
    # and a zone drawn at the coccyx or the anus was cut to the thigh's side of the line.
    axial |= (np.abs(V[:, 0]) < 15.0) & (V[:, 1] > pubis[1] + 20.0) & (V[:, 2] < z_low) \
        & (V[:, 2] > _p(landmarks, "perineum")[2] - 20.0) & ~limb_core
    groups.append(("axial", None, np.flatnonzero(axial)))

    best = np.full(geo.n, np.inf)
    group = np.full(geo.n, -1, dtype=np.int64)
    for g, (_limb, _side, core) in enumerate(groups):
        d = geo.distance(core)
        closer = d < best
        best[closer], group[closer] = d[closer], g

    labels = np.zeros(geo.n, dtype=np.int8)
    for g, (limb, side, _core) in enumerate(groups):
        sel = np.flatnonzero(group == g)
        P = V[sel]
        if limb == "axial":
            labels[sel] = _axial_labels(P, landmarks)
            continue
        m = MIRROR if side == "left" else np.ones(3)
        dists = np.column_stack([_seg_dist(P, sk[a] * m, sk[b] * m)[0] for _n, a, b, _r in chains[limb]])
        names = [f"{n}_{side}" for n, *_ in chains[limb]]
        labels[sel] = np.array([SEGMENT_INDEX[n] for n in names])[np.argmin(dists, axis=1)]
    # The left side is the mirror of the right: the skin mesh is not exactly symmetric, and
    # a spot on a joint line (the groin) must not be thigh on one side and trunk on the other.
    left = V[:, 0] > 0
    labels[left] = SIDE_SWAP[labels[geo.mirror_index[left]]]
    return labels


def _plane_side(P: np.ndarray, a, b, c, up: np.ndarray) -> np.ndarray:
    """True where points lie on the `up` side of the plane through a, b, c."""
    n = np.cross(b - a, c - a)
    if n @ up < 0:
        n = -n
    return (P - a) @ n > 0


def _axial_labels(P: np.ndarray, landmarks: dict[str, Landmark]) -> np.ndarray:
    L = lambda n: _p(landmarks, n)  # noqa: E731
    up, x = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    # Planes level from side to side: the head lies above the line from just under the
    # chin to the external occipital protuberance (the mastoids fall above it), the neck
    # above the line from the suprasternal notch to the C7 spine.
    chin_under = L("chin") + np.array([0.0, 25.0, -15.0])
    occ = L("occiput") + np.array([0.0, 0.0, -25.0])   # the superior nuchal line, below the protuberance
    head = _plane_side(P, chin_under, occ, chin_under + x, up)
    neck = _plane_side(P, L("sternal_notch"), L("c7_spinous"), L("sternal_notch") + x, up)
    out = np.full(len(P), SEGMENT_INDEX["trunk"], dtype=np.int8)
    out[neck] = SEGMENT_INDEX["neck"]
    out[head] = SEGMENT_INDEX["head"]
    return out
