"""Measure the named skin landmarks on the built mesh pack and write them into
referral_maps/landmarks.yaml.

Usage:  python scripts/measure_landmarks.py [--dry-run]

Only the `point: [x, y, z]` values are rewritten (names, sides, descriptions,
comments and order are kept).  Frame: BodyParts3D canonical millimetres, +Z up,
-Y anterior, -X the subject's RIGHT.  Only right-side points are measured (the
code mirrors them); midline points get x = 0 and are snapped to the skin along y.

Method, per landmark: an *inside* reference point is derived from the bones
where a skeleton is available and agrees with the skin (see `bony()`: the
pack's own bones when the pack has them, else BodyParts3D 4.0 bone files in
../shared/anatomy/bodyparts3d-4.0/bones, brought back to native millimetres;
trunk, head and upper limb only, since the 4.0 lower limbs are 10-65 mm off
this skin until they are warped into it), from the skin's own shape for the
soft-tissue landmarks (groin crease, axilla; see `soft_tissue()`), else from
the muscle geometry of the pack or the skin itself for the face, hand and foot; it is then projected onto the skin along the direction
the landmark faces (see `onto_skin`).  Levels that no muscle marks (e.g. the
spinous processes between C7 and L4) are interpolated between levels that
are marked by muscles; a few face levels come from the skin's midline profile.

The model stands in anatomical position: arms at the sides with the palms
facing forward (-Y), so the thumb / radius are lateral (-X) and the back of the
hand / forearm faces backward (+Y).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from viewer.anatomy import load_pack  # noqa: E402

YAML = ROOT / "referral_maps" / "landmarks.yaml"

pack = load_pack()
SKIN = pack.skin
V = np.asarray(SKIN.points, dtype=float)
F = np.asarray(SKIN.faces).reshape(-1, 4)[:, 1:]
# Face normals from the winding, flipped if needed to agree with the pack's
# outward vertex normals.
_fn = np.cross(V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]])
_fn /= np.linalg.norm(_fn, axis=1, keepdims=True) + 1e-12
if np.sum(_fn * np.asarray(pack.skin_normals)[F].mean(1)) < 0:
    _fn = -_fn
FACE_N = _fn

ANT, POST, LAT, MED, UP, DOWN = (0, -1, 0), (0, 1, 0), (-1, 0, 0), (1, 0, 0), (0, 0, 1), (0, 0, -1)


# --------------------------------------------------------------------------- helpers

def unit(d) -> np.ndarray:
    d = np.asarray(d, float)
    return d / np.linalg.norm(d)


def muscle(base: str) -> np.ndarray:
    """Vertices of the right-side (or midline) parts whose id starts with `base`."""
    parts = [q for q in pack.parts if q.id.startswith(base) and q.side in ("right", "midline")]
    if not parts:
        raise KeyError(base)
    return np.vstack([pack.part_arrays(q)[0] for q in parts]).astype(float)


def extreme(P: np.ndarray, d, n: int = 15) -> np.ndarray:
    """Mean of the n points of P furthest along direction d (a robust extreme)."""
    k = P @ unit(d)
    return P[np.argsort(k)[-n:]].mean(0)


def band(P: np.ndarray, axis: int, value: float, half: float = 6.0) -> np.ndarray:
    """Points of P within `half` mm of `value` along an axis (0=x, 1=y, 2=z)."""
    return P[np.abs(P[:, axis] - value) < half]


def onto_skin(p, d, back: float = 25.0) -> np.ndarray:
    """Project p onto the skin along the outward direction d.

    A ray through p along d is intersected with the skin; only crossings where
    the skin faces along d (exits, outward normal . d > 0) are kept, and the
    first one beyond p (allowing p to lie up to `back` mm outside the skin,
    since the muscles are only roughly registered) is returned.  This keeps a
    point on the right thigh from landing on the hand hanging beside it.
    """
    p, d = np.asarray(p, float), unit(d)
    pts, cells = SKIN.ray_trace(p - d * 600, p + d * 600)
    pts, cells = np.asarray(pts), np.asarray(cells)
    ok = FACE_N[cells] @ d > 0.05
    pts = pts[ok]
    if not len(pts):
        raise RuntimeError(f"no skin along {d} from {p}")
    t = (pts - p) @ d
    ahead = t >= -back
    if ahead.any():
        return pts[ahead][np.argmin(t[ahead])]
    return pts[np.argmax(t)]


def midline(z: float, face=ANT, y_ref: float | None = None) -> np.ndarray:
    """Midline point: x = 0 at height z, snapped to the skin along y."""
    y0 = -100.0 if y_ref is None else y_ref  # inside the trunk / neck / head
    return onto_skin((0.0, y0, z), face, back=400)


def section(z: float, xmin: float, xmax: float, half: float = 4.0,
            ymin: float = -1e9, ymax: float = 1e9) -> np.ndarray:
    """Centre of a limb cross-section: mean of skin vertices in a z slab."""
    m = ((np.abs(V[:, 2] - z) < half) & (V[:, 0] > xmin) & (V[:, 0] < xmax)
         & (V[:, 1] > ymin) & (V[:, 1] < ymax))
    if m.sum() < 6:
        raise RuntimeError(f"empty section at z={z}")
    q = V[m]
    return (q.min(0) + q.max(0)) / 2  # bounding-box centre: insensitive to vertex density


def lerp(a, b, t):
    return np.asarray(a, float) + (np.asarray(b, float) - np.asarray(a, float)) * t


def front_y(x, z):
    return onto_skin((x, -100, z), ANT, back=400)[1]


def back_y(x, z):
    return onto_skin((x, -100, z), POST, back=400)[1]


# --------------------------------------------------------------------------- reference levels
# Everything below is derived once and reused by the landmark functions.

M = {k: muscle(k) for k in [
    "Gluteus_maximus", "Gluteus_medius", "Gluteus_minimus", "Tensor_fasciae", "Sartorius",
    "Iliacus", "Acromial_part_of_deltoid", "Clavicular_part_of_deltoid", "Infraspinatus",
    "Supraspinatus", "Teres_major", "Teres_minor", "Rhomboid_major", "Rhomboid_minor",
    "Levator_scapulae", "Sternocleidomastoid", "Temporalis", "Superficial_part_of_masseter",
    "Deep_part_of_masseter", "Descending_part_of_trapezius", "Scalen", "Splenius_capitis",
    "Rectus_posterior_major", "Obliquus_inferior", "Diaphragm", "Clavicular_head_of_pectoralis",
    "Sternocostal_head_of_pectoralis", "Abdominal_part_of_pectoralis", "Semitendinosus",
    "Long_head_of_biceps_femoris", "Lateral_head_of_gastrocnemius", "Medial_head_of_gastrocnemius",
    "Soleus", "Tibialis_anterior", "Supinator", "Brachialis", "Lateral_head_of_triceps",
    "Vastus_lateralis", "Vastus_medialis", "Rectus_femoris", "Iliocostalis_lumborum",
    "Longissimus_thoracis", "Subscapular", "Serratus_anterior", "Pectoralis_minor",
]}

Z_TOP = V[:, 2].max()                                      # vertex of the skull

# Face levels from the skin (midline profile + look at the face images):
# the nose tip is the most anterior midline point of the face.
_face = V[(np.abs(V[:, 0]) < 6) & (V[:, 2] > 1420) & (V[:, 2] < 1600)]
NOSE = _face[np.argmin(_face[:, 1])]                       # ~z 1500
Z_EYE = NOSE[2] + 32                                       # lateral canthus: ~1/2 nose length above the tip
Z_BROW = Z_EYE + 13
Z_MOUTH = NOSE[2] - 30

# Chin: most anterior midline point below the lower lip and above the
# chin-neck angle (the neck front is far behind).
_chin = _face[(_face[:, 2] < Z_MOUTH - 12) & (_face[:, 2] > Z_MOUTH - 50)]
CHIN = _chin[np.argmin(_chin[:, 1] + 0.35 * (_chin[:, 2] - Z_MOUTH))]  # lower-front point

# Sternal notch: SCM sternal heads reach down onto the manubrium; the notch
# lies at the level of the top of the medial clavicle (clavicular pectoral
# head's upper edge near the midline) -> average of the two, a little above.
_scm_low = extreme(M["Sternocleidomastoid"], DOWN)
_pec_clav_top = band(M["Clavicular_head_of_pectoralis"], 0, -50, 12)[:, 2].max()
Z_NOTCH = max(_scm_low[2], _pec_clav_top) + 8

# Xiphoid: the sternal slip of the diaphragm attaches to the back of the
# xiphoid; its most anterior midline point marks the xiphoid.
_dia_mid = band(M["Diaphragm"], 0, 0, 8)
Z_XIPH = _dia_mid[np.argmin(_dia_mid[:, 1])][2]

# Spine levels. C7: top of rhomboid minor (origin C7-T1 spines).
# T7: inferior angle of the scapula (lowest rhomboid major / teres major).
# L4: top of the iliac crest (top of gluteus medius / iliacus).
Z_C7 = extreme(M["Rhomboid_minor"], UP)[2]
INF_ANGLE = (extreme(M["Teres_major"], DOWN) + extreme(M["Rhomboid_major"], DOWN)) / 2
Z_T7 = INF_ANGLE[2]
Z_CREST = max(extreme(M["Gluteus_medius"], UP)[2], extreme(M["Iliacus"], UP)[2])
Z_L4 = Z_CREST


def z_thoracic(n):  # T1..T12 interpolated between C7 and T7, then T7..L4
    if n <= 7:
        return lerp(Z_C7, Z_T7, n / 7)
    return lerp(Z_T7, Z_L4, (n - 7) / 9)


def z_lumbar(n):  # L1..L5 (T12 -> L4 spacing continued)
    return z_thoracic(12 + n) if n <= 4 else Z_L4 - (z_thoracic(11) - z_thoracic(12))


# Pelvis.
_gmax_top_med = extreme(M["Gluteus_maximus"], (0.6, 0.3, 1.0))    # PSIS ~ upper medial Gmax origin
PSIS = _gmax_top_med + (0, 0, -10)   # Gmax also arises from the crest just above the PSIS
ASIS = (extreme(M["Sartorius"], UP) + extreme(M["Tensor_fasciae"], UP)) / 2
TROCH = (extreme(M["Gluteus_medius"], (-0.6, 0, -1)) + extreme(M["Gluteus_minimus"], (-0.6, 0, -1))) / 2

# Coccyx tip ~ top of the gluteal cleft: going down the midline from the
# PSIS level, the first height where the midline lies >10 mm deeper than the
# skin 2 cm beside it.
COCCYX_Z = next(z for z in np.arange(PSIS[2], 760, -3.0)
                if back_y(-20, z) - back_y(0, z) > 10)

# Gluteal fold: where the back of the buttock (4 cm from the midline) falls
# away fastest into the thigh.
_zf = np.arange(700, 800, 3.0)
_by = np.array([back_y(-40, z) for z in _zf])
Z_GLUTEAL_FOLD = _zf[np.argmax(np.gradient(_by))]

# Umbilicus: a dimple of the anterior midline between the xiphoid and the pubis.
_zs = np.arange(Z_CREST - 60, Z_CREST + 90, 3.0)
_fy = np.array([front_y(0, z) for z in _zs])
_dip = _fy - np.convolve(np.pad(_fy, 4, mode="edge"), np.ones(9) / 9, "valid")
Z_UMB = _zs[np.argmax(_dip)]

# Pubic symphysis: the most posterior point of the anterior midline between
# the lower abdomen and the genitals.
_zs2 = np.arange(770, 880, 3.0)
_fy2 = np.array([front_y(0, z) for z in _zs2])
Z_PUBIS = _zs2[np.argmax(_fy2)] + 6

# Knee: the popliteal crease / femoral condyles (tops of the gastrocnemius
# heads ~30 mm above the joint line); the patella sits just above the line.
Z_GASTRO_TOP = (extreme(M["Lateral_head_of_gastrocnemius"], UP)[2]
                + extreme(M["Medial_head_of_gastrocnemius"], UP)[2]) / 2
Z_KNEE = Z_GASTRO_TOP - 35                                 # joint line (popliteal crease ~Z_KNEE+15)
Z_PATELLA = Z_KNEE + 20                                    # most anterior point of the knee in profile

# Leg levels: knee joint to the ankle (lower end of soleus ~ musculotendinous
# junction; malleoli found on the skin below).
Z_CROTCH = 690.0


def leg_centre(z):
    """Centre of the right leg (thigh / leg) cross-section at height z."""
    return section(z, -200, 0, half=5)


def thigh_z(frac):  # 0 = top of thigh (just below the gluteal fold), 1 = knee
    return lerp(Z_CROTCH + 50, Z_PATELLA + 40, frac)


def legz(frac):     # 0 = below the knee (tibial tuberosity), 1 = above the ankle
    return lerp(Z_KNEE - 40, 110, frac)


# Arm: arms hang at the sides, palms forward.
Z_ELBOW = extreme(M["Supinator"], UP)[2] - 10             # humeroradial joint ~ top of supinator
Z_SHOULDER = extreme(M["Acromial_part_of_deltoid"], UP)[2]


def arm_centre(z):
    return section(z, -340, -160 if z < 1130 else -175, half=5)


# Wrist: the narrowest arm section between the supinator and the hand.
_zw = np.arange(820, 900, 4.0)
_ww = [np.ptp(V[(np.abs(V[:, 2] - z) < 3) & (V[:, 0] < -190)][:, 0]) for z in _zw]
Z_WRIST = _zw[int(np.argmin(_ww))]

HAND = V[(V[:, 0] < -195) & (V[:, 2] < Z_WRIST - 5) & (V[:, 2] > 600)]


# --------------------------------------------------------------------------- landmarks

L: dict[str, np.ndarray] = {}


def head_and_neck():
    L["vertex"] = onto_skin((0, V[np.argmax(V[:, 2])][1], Z_TOP - 50), UP, back=60)  # along z: top
    L["forehead"] = onto_skin((-28, -120, Z_BROW + 30), ANT)
    # The eye openings of this model are centred ~25 mm from the midline;
    # the lateral canthus is ~13 mm further out, the lateral brow above it.
    L["eyebrow"] = onto_skin((-42, -120, Z_BROW), (-0.1, -1, 0.1))
    L["eye"] = onto_skin((-38, -120, Z_EYE), (-0.1, -1, 0))          # lateral canthus
    # Temple: anterior part of the temporal fossa = temporalis fibres behind
    # the orbit, above the zygomatic arch (~brow level).
    T = M["Temporalis"]
    t = T[(T[:, 2] > Z_EYE) & (T[:, 2] < Z_BROW + 25)]
    L["temple"] = onto_skin(t.mean(0) + (0, -10, 0), (-1, -0.2, 0.1))
    L["cheek"] = onto_skin((-38, -130, NOSE[2] + 5), (-0.45, -1, 0))
    # Molars: just in front of the masseter's anterior border.
    mas = M["Superficial_part_of_masseter"]
    front = mas[mas[:, 1] < np.percentile(mas[:, 1], 15)]
    L["upper_teeth"] = onto_skin((-40, front[:, 1].mean() - 8, Z_MOUTH + 8), (-1, -0.7, 0))
    L["lower_teeth"] = onto_skin((-40, front[:, 1].mean() - 8, Z_MOUTH - 12), (-1, -0.7, 0))
    # TMJ: behind the upper-posterior corner of the (deep) masseter, which
    # arises from the zygomatic arch in front of the condyle.
    deep = M["Deep_part_of_masseter"]
    tmj = extreme(deep, (0, 1, 1)) + (0, 8, 0)
    L["tmj"] = onto_skin(tmj, LAT)
    L["ear"] = onto_skin(tmj + (0, 20, 2), LAT)                      # meatus ~2 cm behind the TMJ
    # Mastoid: SCM upper (mastoid) insertion.
    L["mastoid"] = onto_skin(extreme(M["Sternocleidomastoid"], UP), (-1, 0.4, -0.2))
    # Angle of the jaw: lower-posterior corner of the masseter insertion.
    L["angle_of_jaw"] = onto_skin(extreme(mas, (0, 1, -1.2)), (-1, 0.3, -0.4))
    L["chin"] = midline(CHIN[2])
    # Occiput: external occipital protuberance, ~1.5 cm above the highest
    # suboccipital insertions (inferior nuchal line).
    z_inion = max(extreme(M["Splenius_capitis"], UP)[2], M["Rectus_posterior_major"][:, 2].max()) + 12
    L["occiput"] = midline(z_inion, POST, y_ref=-60)
    L["occipital"] = onto_skin((-32, -60, z_inion + 12), (-0.3, 1, 0.1))
    rcp = M["Rectus_posterior_major"]
    L["suboccipital"] = onto_skin((-25, -60, rcp[:, 2].mean()), POST)
    z_c4 = lerp(Z_C7, rcp[:, 2].mean(), 0.45)                        # C2 ~ rectus major origin level
    L["posterior_neck"] = onto_skin((-22, -60, z_c4), POST)
    sc = M["Scalen"]
    L["lateral_neck"] = onto_skin(sc[(sc[:, 2] > 1375) & (sc[:, 2] < 1420)].mean(0), (-1, 0, 0.1))
    z_throat = lerp(Z_NOTCH, CHIN[2], 0.45)
    L["throat"] = midline(z_throat)
    L["anterior_neck"] = onto_skin((-22, -110, z_throat - 5), (-0.5, -1, 0))
    L["c7_spinous"] = midline(Z_C7, POST)
    L["sternal_notch"] = midline(Z_NOTCH)


def shoulder_girdle():
    # Clavicle: its upper border runs along the tops of the clavicular
    # pectoral head (medially) and clavicular deltoid (laterally).
    acro = M["Acromial_part_of_deltoid"]
    top = acro[acro[:, 2] > acro[:, 2].max() - 8]
    acromion = top[np.argmin(top[:, 0])]                            # lateral edge of the top
    L["acromion"] = onto_skin(acromion + (0, 0, -4), (-0.5, 0, 1))
    x_mid = (acromion[0] + (-15)) / 2                               # sterno-clavicular joint ~ x -15
    # The clavicular pectoral head hangs from the clavicle's front-lower edge:
    # its top at the mid-clavicle, moved up/back by half a clavicle, is the bone.
    cl = band(M["Clavicular_head_of_pectoralis"], 0, x_mid, 6)
    clav = cl[np.argmax(cl[:, 2])] + (0, 6, 8)
    L["clavicle_mid"] = onto_skin(clav, (0, -1, 0.6))
    # Supraclavicular fossa: above and behind the clavicle, lateral of the SCM.
    L["supraclavicular"] = onto_skin((x_mid + 15, clav[1] + 25, clav[2] + 10), (0, -0.7, 1))
    # Superior angle: lower end of levator scapulae.
    L["neck_shoulder_angle"] = onto_skin(extreme(M["Levator_scapulae"], DOWN), (0, 1, 0.5))
    # Upper trapezius: crest of the descending trapezius halfway neck-acromion.
    tr = M["Descending_part_of_trapezius"]
    xm = (acromion[0] + (-45)) / 2
    ridge = band(tr, 0, xm, 6)
    L["upper_trapezius"] = onto_skin(ridge[np.argmax(ridge[:, 2])], (0, 0.3, 1))
    L["suprascapular"] = onto_skin(M["Supraspinatus"][M["Supraspinatus"][:, 0] > -150].mean(0), (0, 1, 0.5))
    # Spine of the scapula: between supraspinatus (above) and infraspinatus
    # (below) halfway along.
    xs = (acromion[0] + extreme(M["Infraspinatus"], MED)[0]) / 2
    sup_low = band(M["Supraspinatus"], 0, xs, 8)[:, 2].min()
    inf = band(M["Infraspinatus"], 0, xs, 8)
    inf_top = inf[inf[:, 1] > np.median(inf[:, 1])][:, 2].max()
    L["scapular_spine"] = onto_skin((xs, -40, (sup_low + inf_top) / 2), (0, 1, 0.2))
    L["infraspinous"] = onto_skin(M["Infraspinatus"].mean(0), (0, 1, 0))
    # Medial border: lateral edge (insertion) of the rhomboid major halfway
    # between the superior and inferior angles.
    z_mid = (extreme(M["Levator_scapulae"], DOWN)[2] + Z_T7) / 2
    rb = band(np.vstack([M["Rhomboid_major"], M["Rhomboid_minor"]]), 2, z_mid, 8)
    L["scapula_medial_border"] = onto_skin(rb[np.argmin(rb[:, 0])], POST)
    L["scapula_inferior_angle"] = onto_skin(INF_ANGLE, (0, 1, -0.2))
    L["interscapular"] = onto_skin((lerp(0, rb[:, 0].min(), 0.5), -40, (z_thoracic(4) + z_thoracic(5)) / 2), POST)


def shoulder_and_arm():
    acro = M["Acromial_part_of_deltoid"]
    c = acro.mean(0)
    L["lateral_shoulder"] = onto_skin(c + (0, 0, 15), LAT)
    L["anterior_shoulder"] = onto_skin(M["Clavicular_part_of_deltoid"][M["Clavicular_part_of_deltoid"][:, 0] < -150].mean(0) + (0, 0, 15), ANT)
    L["posterior_shoulder"] = onto_skin(c + (10, 0, 15), POST)
    L["deltoid_insertion"] = onto_skin(extreme(acro, DOWN), (-1, -0.2, 0))
    # Axilla: the arm hangs against the chest wall, so the armpit is a closed
    # crevice.  Cast rays upward between arm and chest wall and take the vault
    # (first skin hit from below) midway between the axillary folds.
    best = None
    for x in np.arange(-180, -148, 3.0):
        hits, _ = SKIN.ray_trace((x, -75, 1000), (x, -75, 1400))
        if len(hits):
            h = hits[np.argmin(hits[:, 2])]
            if h[2] < 1300 and (best is None or h[2] > best[2]):
                best = h
    ax = np.asarray(best)
    L["axilla"] = ax
    # The folds are the front and back lips of that crevice (pectoralis
    # major in front, latissimus / teres major behind), a little above the vault.
    L["anterior_axillary_fold"] = onto_skin((ax[0], -100, ax[2] + 45), ANT)
    L["posterior_axillary_fold"] = onto_skin((ax[0], -40, ax[2] + 30), POST)
    zm = (Z_SHOULDER - 90 + Z_ELBOW) / 2                             # mid upper arm
    c = arm_centre(zm)
    L["anterior_arm"] = onto_skin(c, ANT)
    L["posterior_arm"] = onto_skin(c, POST)
    L["lateral_arm"] = onto_skin(c, LAT)
    # The arm skin is fused with the chest wall up to the axillary vault, so
    # the inner arm is taken just below the vault (a little below midway).
    L["medial_arm"] = onto_skin(arm_centre(min(zm, ax[2] - 40)), MED)
    # Elbow: lateral epicondyle ~ origin (top) of supinator; medial epicondyle
    # at the same level on the other side; olecranon behind, cubital fossa in front.
    ce = arm_centre(Z_ELBOW)
    L["lateral_epicondyle"] = onto_skin(extreme(M["Supinator"], UP), (-1, 0.3, 0))
    L["medial_epicondyle"] = onto_skin(ce + (0, 5, 0), (1, 0.3, 0))
    L["olecranon"] = onto_skin(arm_centre(Z_ELBOW - 5), POST)
    L["cubital_fossa"] = onto_skin(arm_centre(Z_ELBOW + 5), ANT)
    cf = arm_centre((Z_ELBOW + Z_WRIST) / 2)
    L["forearm_dorsal"] = onto_skin(cf, POST)
    L["forearm_volar"] = onto_skin(cf, ANT)
    L["forearm_radial"] = onto_skin(cf, LAT)
    L["forearm_ulnar"] = onto_skin(cf, MED)
    cw = arm_centre(Z_WRIST)
    L["wrist_dorsal"] = onto_skin(cw, POST)
    L["wrist_volar"] = onto_skin(cw, ANT)


def hand():
    H = HAND
    # Palm: centre of the metacarpal region between the wrist and the finger roots.
    zp = Z_WRIST - 65
    cp = section(zp, -340, -195, half=4)
    L["palm"] = onto_skin(cp, ANT)
    L["hand_dorsal"] = onto_skin(cp, POST)
    # Thumb: the digit sticking out laterally (-X) from the thenar region.
    th = H[H[:, 0] < H[:, 0].min() + 10]
    L["thumb"] = th[np.argmin(th[:, 2])] if len(th) else H[np.argmin(H[:, 0])]
    # Fingers hang below the palm, index laterally, little finger medially:
    # split the lowest 40 mm of the hand into x bands.
    low = H[H[:, 2] < H[:, 2].min() + 40]
    x0, x1 = low[:, 0].min(), low[:, 0].max()
    def tip(a, b):
        q = low[(low[:, 0] >= lerp(x0, x1, a)) & (low[:, 0] <= lerp(x0, x1, b))]
        return q[np.argmin(q[:, 2])]
    L["index_finger"] = tip(0.0, 0.28)
    L["ring_finger"] = tip(0.52, 0.76)
    L["little_finger"] = tip(0.80, 1.0)


def chest_and_abdomen():
    L["sternum"] = midline((Z_NOTCH + Z_XIPH) / 2)
    L["xiphoid"] = midline(Z_XIPH)
    # Nipple: the skin has no nipple; it lies on the mid-clavicular line
    # (below the clavicle's midpoint) at the 4th intercostal space, just
    # above the lower border of the pectoral bulge (~3.5 cm above the xiphoid).
    nip = onto_skin((L["clavicle_mid"][0] + 3, -120, Z_XIPH + 35), ANT)
    L["nipple"] = nip
    L["pectoral"] = onto_skin(((nip[0] + L["clavicle_mid"][0]) / 2, -100,
                               (nip[2] + L["clavicle_mid"][2]) / 2), ANT)
    # Lateral chest: mid-axillary line (axilla's y).  The hanging arm covers
    # the chest wall down to the axillary vault, so the point is taken just
    # below the vault (ribs 7-8), on the chest wall inside the armpit gap.
    L["lateral_chest"] = onto_skin((-60, L["axilla"][1], min(Z_XIPH, L["axilla"][2] - 20)), LAT)
    # Costal margin: lowest anterior costal attachment of the diaphragm ~8 cm lateral.
    d = band(M["Diaphragm"], 0, -85, 6)
    d = d[d[:, 1] < d[:, 1].min() + 10]
    L["costal_margin"] = onto_skin(d[np.argmin(d[:, 2])], ANT)
    L["epigastrium"] = midline(Z_XIPH - 45)
    L["upper_abdomen"] = onto_skin((-45, -100, (Z_XIPH + Z_UMB) / 2 - 10), ANT)
    L["umbilicus"] = midline(Z_UMB)
    L["lower_abdomen"] = onto_skin((-40, -100, (Z_UMB + Z_PUBIS) / 2), ANT)
    L["asis"] = onto_skin(ASIS, (-0.3, -1, 0))
    # McBurney: one third of the way from the ASIS to the umbilicus.
    L["mcburney"] = onto_skin(lerp(ASIS, (0, -100, Z_UMB), 1 / 3), ANT)
    L["pubis"] = midline(Z_PUBIS)
    # Inguinal fold, midway between ASIS and pubic tubercle (~2.5 cm lateral).
    g = lerp(ASIS, (-25, -100, Z_PUBIS), 0.5)
    L["groin"] = onto_skin(g + (0, 0, -12), ANT)
    # Flank: mid-axillary line halfway between costal margin and crest.
    L["flank"] = onto_skin((-60, -70, (Z_CREST + L["costal_margin"][2]) / 2 - 20), LAT)


def back_and_pelvis():
    L["thoracic_paraspinal_upper"] = onto_skin((-30, -40, z_thoracic(3)), POST)
    L["thoracic_paraspinal_mid"] = onto_skin((-30, -40, z_thoracic(7)), POST)
    L["thoracic_paraspinal_lower"] = onto_skin((-32, -40, z_thoracic(11)), POST)
    L["t7_spinous"] = midline(Z_T7, POST, y_ref=-60)
    # 12th rib: lateral to the erectors (lateral edge of iliocostalis lumborum)
    L["rib12"] = onto_skin((-85, -50, z_lumbar(1) + 10), (-0.3, 1, 0))
    L["l1_paraspinal"] = onto_skin((-32, -50, z_lumbar(1)), POST)
    L["l3_paraspinal"] = onto_skin((-32, -50, z_lumbar(3)), POST)
    L["l5_paraspinal"] = onto_skin((-30, -50, z_lumbar(5)), POST)
    L["l3_spinous"] = midline(z_lumbar(3), POST, y_ref=-60)
    L["psis"] = onto_skin(PSIS, POST)
    # Posterior iliac crest: Gmed top rim lateral of the PSIS.
    gm = M["Gluteus_medius"]
    pc = band(gm, 0, PSIS[0] - 30, 8)
    L["iliac_crest_posterior"] = onto_skin(pc[np.argmax(pc[:, 2])] + (0, 0, -8), POST)
    top = gm[gm[:, 2] > gm[:, 2].max() - 12]
    L["iliac_crest_lateral"] = onto_skin(top[np.argmin(top[:, 0])], (-1, 0, 0.5))
    L["si_joint"] = onto_skin(PSIS + (10, 0, -25), POST)
    L["sacrum"] = midline((PSIS[2] + COCCYX_Z) / 2, POST, y_ref=-60)
    L["coccyx"] = midline(COCCYX_Z, POST, y_ref=-60)
    gx = M["Gluteus_maximus"]
    L["buttock_center"] = onto_skin(gx.mean(0), POST)
    L["buttock_upper_outer"] = onto_skin((gx[:, 0].mean() - 25, -60, gx.mean(0)[2] + 45), POST)
    L["buttock_medial"] = onto_skin((-25, -60, gx.mean(0)[2] - 10), POST)
    # Ischial tuberosity: common origin of the hamstrings.
    it = (extreme(M["Semitendinosus"], UP) + extreme(M["Long_head_of_biceps_femoris"], UP)) / 2
    # palpated under the medial gluteal fold, facing back and down
    L["ischial_tuberosity"] = onto_skin((it[0], it[1], Z_GLUTEAL_FOLD + 25), (0, 1, -0.5))
    L["buttock_lower"] = onto_skin((it[0] - 20, -40, Z_GLUTEAL_FOLD + 25), POST)
    L["greater_trochanter"] = onto_skin(TROCH, LAT)
    t = M["Tensor_fasciae"]
    L["tfl"] = onto_skin(t[t[:, 2] > np.median(t[:, 2])].mean(0), (-1, -0.8, 0))


def leg():
    for name, frac in [("upper", 1 / 6), ("mid", 0.5), ("lower", 5 / 6)]:
        c = leg_centre(thigh_z(frac))
        L[f"anterior_thigh_{name}"] = onto_skin(c, ANT)
        L[f"lateral_thigh_{name}"] = onto_skin(c, LAT)
        L[f"posterior_thigh_{name}"] = onto_skin(c, POST)
        L[f"medial_thigh_{name}"] = onto_skin(c + (0, 0, -25 if name == "upper" else 0), MED)
    L["patella"] = onto_skin(leg_centre(Z_PATELLA), ANT)
    ck = leg_centre(Z_KNEE)
    L["knee_lateral"] = onto_skin(ck, LAT)
    L["knee_medial"] = onto_skin(ck, MED)
    L["popliteal"] = onto_skin(leg_centre(Z_KNEE + 15), POST)
    for name, frac in [("upper", 1 / 6), ("mid", 0.5), ("lower", 5 / 6)]:
        c = leg_centre(legz(frac))
        # The tibial crest is antero-medial; "beside the crest" -> just lateral of it.
        L[f"shin_{name}"] = onto_skin(c + (-6, 0, 0), ANT)
        L[f"lateral_leg_{name}"] = onto_skin(c, LAT)
        L[f"calf_{name}"] = onto_skin(c, POST)
        if name != "lower":
            L[f"medial_leg_{name}"] = onto_skin(c, (1, 0.3, 0))


def foot():
    R = V[V[:, 0] < 0]
    F_ = R[R[:, 2] < 140]
    heel = F_[F_[:, 2] < 60]
    back = heel[np.argmax(heel[:, 1] - 0.3 * heel[:, 2])]
    L["heel"] = back
    # Malleoli: the ankle is narrowest above them; the lateral malleolus is the
    # most lateral point of the ankle, lower and more posterior than the medial.
    ank = R[(R[:, 2] > 45) & (R[:, 2] < 95) & (R[:, 1] > -90)]
    lat = ank[np.argmin(ank[:, 0])]
    med = ank[np.argmax(ank[:, 0])]
    L["lateral_malleolus"] = lat
    L["medial_malleolus"] = med
    z_mall = (lat[2] + med[2]) / 2
    ca = section(z_mall + 15, -200, 0, half=4, ymin=-120)
    L["ankle_anterior"] = onto_skin(ca, ANT)
    L["achilles"] = onto_skin(section(z_mall + 40, -200, 0, half=4), POST)
    # Sole: middle of the plantar surface; arch: medial part of the mid-foot
    # sole (raised off the ground); dorsum: over the metatarsals.
    y_toe = R[:, 1].min()
    y_heel = R[:, 1].max()

    def foot_x(y, side):  # medial (+1) / lateral (-1) edge of the foot print at y
        q = F_[(np.abs(F_[:, 1] - y) < 4) & (F_[:, 2] < 20)]
        return q[:, 0].max() if side > 0 else q[:, 0].min()

    ym = lerp(y_heel, y_toe, 0.45)
    xm = (foot_x(ym, 1) + foot_x(ym, -1)) / 2
    L["sole"] = onto_skin((xm, ym, 20), DOWN)
    ya = lerp(y_heel, y_toe, 0.5)
    L["arch"] = onto_skin((lerp(xm, foot_x(ya, 1), 0.6), ya, 15), (0.5, 0, -1))
    yd = lerp(y_heel, y_toe, 0.62)
    L["foot_dorsal"] = onto_skin(((foot_x(yd, 1) + foot_x(yd, -1)) / 2, yd, 5), UP)
    # Big toe: the medial part of the toe tips (the foot is turned out a little).
    tips = R[(R[:, 1] < y_toe + 8) & (R[:, 2] < 40)]
    bt = tips[tips[:, 0] > np.percentile(tips[:, 0], 60)].mean(0)
    L["big_toe"] = onto_skin(bt + (0, 8, 0), (0, -1, 0.6))


# --------------------------------------------------------------------------- bones

BONES_DIR = ROOT.parent / "shared" / "anatomy" / "bodyparts3d-4.0"


def _glb_native(path: Path) -> np.ndarray:
    """Vertices of a BodyParts3D 4.0 glTF file in native mm (inverse of the converter's
    transform, ../shared/anatomy/bodyparts3d-4.0/README.md)."""
    import trimesh

    g = trimesh.load(path, force="mesh")
    v = np.asarray(g.vertices, float)
    return np.column_stack([(v[:, 0] + 0.0000105) / 0.001, -(v[:, 2] + 0.10570935) / 0.001,
                            (v[:, 1] - 0.0728882) / 0.001])


def bone_source():
    """name -> vertices (mm, pack frame) of a bone, e.g. bone("Right scapula"); None without bones.

    Prefers the pack's own skeleton (`pack.bones`, from the anatomy-2 build) and falls back to the shared
    BodyParts3D 4.0 bone files."""
    own = getattr(pack, "bones", None)
    if own:   # anatomy-2 packs: a list of Bone (name, fma, side); vertices from bone_arrays
        by_name = {b.name: b for b in own}

        def from_pack(name):
            return np.asarray(pack.bone_arrays(by_name[name])[0], float)
        return from_pack
    table = BONES_DIR / "parts.csv"
    if not table.exists():
        return None
    import csv

    files = {r["english_name"]: BONES_DIR / r["file"] for r in csv.DictReader(table.open())
             if r["kind"] == "bone"}
    cache = {}

    def from_files(name):
        if name not in cache:
            cache[name] = _glb_native(files[name])
        return cache[name]
    return from_files


ORDINAL = {1: "First", 3: "Third", 5: "Fifth", 7: "Seventh", 11: "Eleventh"}


def spinous_tip(B, name: str) -> np.ndarray:
    """Most posterior point of a vertebra near the midline (its spinous process tip)."""
    v = B(name)
    v = v[np.abs(v[:, 0]) < 8]
    return v[np.argmax(v[:, 1])]


def bony():
    """Landmarks that have a bone under them, measured on the skeleton and projected onto
    the skin. Lower-limb landmarks (trochanter, knee, malleoli, calcaneus) and the ischial
    tuberosity stay muscle-derived until the bones are warped into this skin."""
    B = bone_source()
    if B is None:
        print("no bones found: bony landmarks stay muscle-derived")
        return
    c7 = spinous_tip(B, "Seventh cervical vertebra")
    L["c7_spinous"] = onto_skin(c7, POST)
    L["t7_spinous"] = onto_skin(spinous_tip(B, "Seventh thoracic vertebra"), POST)
    L["l3_spinous"] = onto_skin(spinous_tip(B, "Third lumbar vertebra"), POST)
    for key, vert in [("thoracic_paraspinal_upper", "Third thoracic vertebra"),
                      ("thoracic_paraspinal_mid", "Seventh thoracic vertebra"),
                      ("thoracic_paraspinal_lower", "Eleventh thoracic vertebra"),
                      ("l1_paraspinal", "First lumbar vertebra"), ("l3_paraspinal", "Third lumbar vertebra"),
                      ("l5_paraspinal", "Fifth lumbar vertebra")]:
        t = spinous_tip(B, vert)
        L[key] = onto_skin((-30, t[1] - 40, t[2]), POST)
    # Scapula: acromion = lateral end of its top; inferior angle = lowest point; medial
    # border midway between the angles; superior angle = top of the medial half; spine =
    # its most posterior ridge halfway from the medial border to the acromion.
    sc = B("Right scapula")
    top = sc[sc[:, 2] > sc[:, 2].max() - 25]
    acro = top[np.argmin(top[:, 0])]
    L["acromion"] = onto_skin(acro + (0, 0, -4), (-0.5, 0, 1))
    inf = sc[np.argmin(sc[:, 2])]
    L["scapula_inferior_angle"] = onto_skin(inf, (0, 1, -0.2))
    medial = sc[sc[:, 0] > np.percentile(sc[:, 0], 60)]
    sup = medial[np.argmax(medial[:, 2])]
    L["neck_shoulder_angle"] = onto_skin(sup, (0, 1, 0.5))
    zb = (sup[2] + inf[2]) / 2
    bb = band(sc, 2, zb, 6)
    L["scapula_medial_border"] = onto_skin(bb[np.argmax(bb[:, 0])], POST)
    xs = (bb[:, 0].max() + acro[0]) / 2
    sp = band(sc, 0, xs, 6)
    sp = sp[sp[:, 2] > np.median(sc[:, 2])]            # the spine crosses the upper half
    L["scapular_spine"] = onto_skin(sp[np.argmax(sp[:, 1])], (0, 1, 0.2))
    # Clavicle: top of its middle; sternum: notch = top of the manubrium, body midpoint,
    # xiphoid = its lowest point.
    cl = B("Right clavicle")
    xm = (cl[:, 0].min() + cl[:, 0].max()) / 2
    cb = band(cl, 0, xm, 5)
    L["clavicle_mid"] = onto_skin(cb[np.argmax(cb[:, 2])], (0, -1, 0.6))
    man = B("Manubrium")
    notch = band(man, 0, 0.0, 6)
    L["sternal_notch"] = onto_skin(notch[np.argmax(notch[:, 2])], (0, -1, 0.3))
    xi = B("Xiphoid process")
    L["xiphoid"] = onto_skin(xi[np.argmin(xi[:, 2])] * (0, 1, 1), ANT)
    # middle of the sternum: halfway from the notch to the xiphoid, on the bone's front
    body = np.vstack([man, B("Body of sternum")])
    z_mid = (notch[:, 2].max() + xi[:, 2].min()) / 2
    L["sternum"] = onto_skin(band(body, 2, z_mid, 4).mean(0) * (0, 1, 1), ANT)
    # Elbow: epicondyles = the humerus's lateral and medial extremes in its lowest 50 mm;
    # olecranon = the top of the ulna, behind.
    hu = B("Right humerus")
    low = hu[hu[:, 2] < hu[:, 2].min() + 50]
    L["lateral_epicondyle"] = onto_skin(low[np.argmin(low[:, 0])], (-1, 0.3, 0))
    L["medial_epicondyle"] = onto_skin(low[np.argmax(low[:, 0])], (1, 0.3, 0))
    ul = B("Right ulna")
    L["olecranon"] = onto_skin(ul[np.argmax(ul[:, 2] + 0.3 * ul[:, 1])], POST)
    # Pelvis: ASIS = most anterior point of the ilium; PSIS = most posterior point of the
    # ilium beside the sacrum; crest = its top, laterally and just lateral of the PSIS.
    hb = B("Right hip bone")
    sac = B("Sacrum")
    il = hb[hb[:, 2] > sac[:, 2].max() - 60]
    L["asis"] = onto_skin(il[np.argmin(il[:, 1])], (-0.3, -1, 0))
    post = hb[(hb[:, 2] > sac[:, 2].min() + 30)]
    psis = post[np.argmax(post[:, 1] - 0.3 * post[:, 2])]
    L["psis"] = onto_skin(psis, POST)
    crest_top = hb[hb[:, 2] > hb[:, 2].max() - 10]
    L["iliac_crest_lateral"] = onto_skin(crest_top[np.argmin(crest_top[:, 0])], (-1, 0, 0.5))
    pc = band(hb, 0, psis[0] - 30, 6)
    L["iliac_crest_posterior"] = onto_skin(pc[np.argmax(pc[:, 2])], POST)
    L["si_joint"] = onto_skin(psis + (10, 0, -25), POST)
    # Sacrum: middle of its posterior (dorsal) surface; coccyx: the sacrum has no coccyx in
    # this set, so its tip is taken ~30 mm below the sacral apex, curving forward.
    mid = band(sac, 2, (sac[:, 2].min() + sac[:, 2].max()) / 2, 6)
    mid = mid[np.abs(mid[:, 0]) < 10]
    L["sacrum"] = onto_skin(mid[np.argmax(mid[:, 1])] * (0, 1, 1), POST)
    apex = sac[np.argmin(sac[:, 2])]
    tip = onto_skin((0, apex[1], apex[2] - 20), POST, back=60)
    while tip[1] < 0:            # below the cleft's top the ray leaves through the perineum
        tip = onto_skin((0, apex[1], tip[2] + 4), POST, back=60)
    L["coccyx"] = tip
    # Head: mastoid = lowest point of the temporal bone behind the ear canal; external
    # occipital protuberance = most posterior midline point of the occipital bone's
    # lower half; angle of the mandible = its lowest-back-outer corner.
    tb = B("Right temporal bone")
    ear_y = np.median(tb[:, 1])
    back = tb[tb[:, 1] > ear_y]
    L["mastoid"] = onto_skin(back[np.argmin(back[:, 2])], (-1, 0.4, 0))
    oc = B("Occipital bone")
    oc = oc[(np.abs(oc[:, 0]) < 8) & (oc[:, 2] < np.median(oc[:, 2]))]
    L["occiput"] = onto_skin(oc[np.argmax(oc[:, 1])] * (0, 1, 1), POST)
    md = B("Mandible")
    md = md[md[:, 0] < -20]
    L["angle_of_jaw"] = onto_skin(md[np.argmax(md @ unit((-0.35, 0.55, -0.75)))], (-1, 0.2, -0.3))
    wrist_and_hand(B)


def wrist_and_hand(B):
    """Wrist and hand landmarks on the hand skeleton (posed into the rebuilt skin hands): the
    skin's narrowest forearm section lies ~55 mm above the radiocarpal joint, and the finger
    tips of the old closed hand were one finger off the real ones."""
    rad, uln = B("Right radius"), B("Right ulna")
    z0 = rad[:, 2].min()                                   # distal end of the radius
    distal = np.vstack([rad[rad[:, 2] < z0 + 12], uln[uln[:, 2] < uln[:, 2].min() + 12]])
    joint = distal.mean(0)
    joint[2] = z0 + 4                                      # the radiocarpal joint line
    L["wrist_dorsal"] = onto_skin(joint, POST)
    L["wrist_volar"] = onto_skin(joint, ANT)
    tip = rad[rad[:, 2] < z0 + 6]
    L["wrist_radial"] = onto_skin(tip[np.argmin(tip[:, 0])] + (8, 0, 0), LAT)        # radial styloid
    tip = uln[uln[:, 2] < uln[:, 2].min() + 6]
    L["wrist_ulnar"] = onto_skin(tip[np.argmax(tip[:, 0])] - (8, 0, 0), MED)         # ulnar styloid

    def centre(name):
        v = B(name)
        return (v.min(0) + v.max(0)) / 2
    m1, m2, m3 = (centre(f"Right {n} metacarpal bone") for n in ("first", "second", "third"))
    m4, m5 = centre("Right fourth metacarpal bone"), centre("Right fifth metacarpal bone")
    L["hand_dorsal"], L["palm"] = onto_skin(m3, POST), onto_skin(m3, ANT)
    L["hand_dorsal_ulnar"] = onto_skin((m4 + m5) / 2, POST)
    L["thenar"] = onto_skin(m1, (0.3, -1, 0))
    L["hypothenar"] = onto_skin(m5, (0.3, -1, 0))
    L["first_web_dorsal"] = onto_skin((m1 + m2) / 2, POST)
    # digit landmarks: the skin at the tip of the distal phalanx (the fingers are flexed)
    for key, digit in (("thumb", "thumb"), ("index_finger", "index finger"), ("ring_finger", "ring finger"),
                       ("little_finger", "little finger")):
        d = B(f"Distal phalanx of right {digit}")
        L[key] = V[np.argmin(np.linalg.norm(V - d[np.argmin(d[:, 2])], axis=1))]
    # middle finger: the palmar face of its distal phalanx
    dm, mm = centre("Distal phalanx of right middle finger"), centre("Middle phalanx of right middle finger")
    axis = unit(dm - mm)
    palmar = np.asarray(ANT, float) - (np.asarray(ANT, float) @ axis) * axis
    L["middle_finger"] = onto_skin(dm, palmar)


def soft_tissue():
    """Soft-tissue landmarks from the skin's shape (and the pectoral muscles).

    Groin: the deepest point of the fold between the lower abdomen and the front of the
    thigh (the front skin profile's valley), midway between the ASIS and the side of the
    genitals. Axilla: the chest wall deep in the armpit, at the level where pectoralis
    major's lower border leaves the chest wall (the anterior axillary fold)."""
    genital_edge = genital_half_width()
    x = (L["asis"][0] - genital_edge) / 2
    zs = np.arange(L["pubis"][2] - 60, L["asis"][2] - 20, 3.0)
    prof = np.array([onto_skin((x, -100, z), ANT, back=400) for z in zs])
    # valley: furthest behind the chord of the profile 30 mm above and below
    depth = [prof[i, 1] - (prof[i - 10, 1] + prof[i + 10, 1]) / 2 for i in range(10, len(zs) - 10)]
    L["groin"] = prof[10 + int(np.argmax(depth))]
    pec = np.vstack([M["Sternocostal_head_of_pectoralis"], M["Abdominal_part_of_pectoralis"]])
    wall = L["lateral_chest"][0]
    z_ax = band(pec, 0, wall, 5)[:, 2].min()          # lower border where it meets the chest wall
    ring = (np.abs(V[:, 2] - z_ax) < 4) & (np.asarray(pack.skin_normals)[:, 0] < -0.7) \
        & (V[:, 0] > wall - 25) & (V[:, 0] < -100) & (V[:, 1] < -60)
    q = V[ring]
    ax = q[np.argmax(q[:, 1])]                          # deepest in the armpit: furthest back
    L["axilla"] = ax
    L["anterior_axillary_fold"] = onto_skin((ax[0] - 15, ax[1], z_ax - 5), ANT)
    td = M["Teres_major"]
    z_post = extreme(td[td[:, 0] < np.percentile(td[:, 0], 30)], DOWN)[2]
    L["posterior_axillary_fold"] = onto_skin((ax[0] - 15, -40, z_post + 5), POST)


def genital_half_width() -> float:
    """|x| of the outer edge of the external genitals: skin in front of the thighs' inner
    fronts, below the pubis, near the midline."""
    z_pub = L["pubis"][2]
    slab = V[(V[:, 2] < z_pub - 20) & (V[:, 2] > z_pub - 110) & (np.abs(V[:, 0]) < 60)]
    front = slab[slab[:, 1] < L["pubis"][1] + 5]
    return float(np.percentile(np.abs(front[:, 0]), 95))


BONY_OR_SOFT: set[str] = set()


def measure() -> dict[str, np.ndarray]:
    head_and_neck()
    shoulder_girdle()
    shoulder_and_arm()
    hand()
    chest_and_abdomen()
    back_and_pelvis()
    leg()
    foot()
    # what bony() and soft_tissue() set, even to the value the skin-derived pass found (the
    # finger tips are the same skin vertex either way): every assignment is a new array
    before = dict(L)
    bony()
    soft_tissue()
    BONY_OR_SOFT.update(k for k, v in L.items() if before.get(k) is not v)
    return L


# --------------------------------------------------------------------------- YAML rewrite

LINE = re.compile(r"^(\s+)([a-z0-9_]+):\s*\{(.*)point:\s*(null|\[[^\]]*\])\s*\}\s*$")


def rewrite(points: dict[str, np.ndarray], dry_run: bool = False) -> list[str]:
    lines = YAML.read_text().splitlines(keepends=True)
    out, missing, seen = [], [], set()
    for line in lines:
        m = LINE.match(line.rstrip("\n"))
        if not m:
            out.append(line)
            continue
        name = m.group(2)
        if name not in points:
            missing.append(name)
            out.append(line)
            continue
        p = np.round(np.asarray(points[name], float)).astype(int)
        if "side: midline" in m.group(3):
            p[0] = 0
        seen.add(name)
        out.append(f"{m.group(1)}{name}: {{{m.group(3)}point: [{p[0]}, {p[1]}, {p[2]}]}}\n")
    if not dry_run:
        YAML.write_text("".join(out))
    extra = sorted(set(points) - seen)
    if missing:
        print("kept as they are:", ", ".join(missing))
    if extra:
        print("measured but not in the YAML:", ", ".join(extra))
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the YAML")
    ap.add_argument("--all", action="store_true",
                    help="rewrite every landmark (default: only those measured on bone or from the "
                         "skin's shape, so the muscle-derived ones keep their checked-by-eye values)")
    args = ap.parse_args()
    pts = measure()
    for k, v in pts.items():
        print(f"{k:28s} {np.round(v).astype(int).tolist()}")
    if not args.all:
        pts = {k: v for k, v in pts.items() if k in BONY_OR_SOFT}
    rewrite(pts, args.dry_run)


if __name__ == "__main__":
    main()
