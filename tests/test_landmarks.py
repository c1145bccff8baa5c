"""Landmarks checked against their anatomical definitions.

Soft-tissue landmarks against the skin's shape (and the pack's pectoral
muscle); bony ones against the skeleton: the pack's own bones when it has
them, else the BodyParts3D 4.0 bone files in ../shared/anatomy (trunk, head
and upper limb only: the 4.0 lower limbs are 10-65 mm off this skin until they
are warped into it, so the lower-limb bony landmarks are not checked yet).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from viewer.referral.loader import load_landmarks
from viewer.referral.segments import SEGMENT_INDEX

SHARED_ANATOMY = Path(os.environ.get("REFERRAL_VIEWER_SOURCE",
                                    Path(__file__).resolve().parents[2] / "shared" / "anatomy"))
LM = {k: np.asarray(v.point, float) for k, v in load_landmarks().items() if v.point is not None}
BONES = SHARED_ANATOMY / "bodyparts3d-4.0"


def _front_y(model, x, z):
    """y of the front skin at (x, z): the most anterior vertex in a small window."""
    V = model.geo.vertices
    sel = (np.abs(V[:, 0] - x) < 4) & (np.abs(V[:, 2] - z) < 3) & (model.geo.normals[:, 1] < -0.3)
    return V[sel, 1].min()


def genital_half_width(model) -> float:
    V = model.geo.vertices
    pub = LM["pubis"]
    slab = V[(V[:, 2] < pub[2] - 20) & (V[:, 2] > pub[2] - 110) & (np.abs(V[:, 0]) < 60)]
    return float(np.percentile(np.abs(slab[slab[:, 1] < pub[1] + 5][:, 0]), 95))


def test_groin_is_on_the_thigh_trunk_crease_lateral_to_the_genitals(model):
    g = LM["groin"]
    edge = genital_half_width(model)
    assert abs(g[0]) > edge + 10, f"groin x={g[0]:.0f} is on the genitals (their edge is at |x|={edge:.0f})"
    assert abs(g[0]) < abs(LM["asis"][0]) - 10, "groin must lie medial to the ASIS"
    # on the crease: both the trunk and the right thigh within 15 mm ...
    V, seg = model.geo.vertices, model.segment_labels
    near = np.linalg.norm(V - g, axis=1) < 15
    assert (seg[near] == SEGMENT_INDEX["trunk"]).any() and (seg[near] == SEGMENT_INDEX["thigh_right"]).any(), \
        "groin is not on the thigh-trunk boundary"
    # ... and in the fold: behind the chord of the front skin 30 mm above and below
    y = _front_y(model, g[0], g[2])
    chord = (_front_y(model, g[0], g[2] + 30) + _front_y(model, g[0], g[2] - 30)) / 2
    assert y - chord > 2, f"groin is not in the fold between abdomen and thigh ({y - chord:.1f} mm deep)"


def test_axilla_at_the_level_of_pectoralis_majors_lower_border(pack):
    parts = [q for q in pack.parts if q.side == "right" and
             ("Sternocostal_head_of_pectoralis" in q.id or "Abdominal_part_of_pectoralis" in q.id)]
    pec = np.vstack([pack.part_arrays(q)[0] for q in parts]).astype(float)
    wall = LM["lateral_chest"][0]
    z_border = pec[np.abs(pec[:, 0] - wall) < 5][:, 2].min()   # where the border leaves the chest wall
    for name in ("axilla", "anterior_axillary_fold"):
        assert abs(LM[name][2] - z_border) < 15, \
            f"{name} z={LM[name][2]:.0f}, pectoralis major's lower border at the chest wall z={z_border:.0f}"
    assert LM["posterior_axillary_fold"][2] > LM["lateral_chest"][2], "posterior fold below the lateral chest"


def test_coccyx_below_the_sacrum():
    assert LM["coccyx"][2] < LM["sacrum"][2] - 40
    assert LM["sacrum"][2] < LM["psis"][2]


# -- bony landmarks on the skeleton ------------------------------------------------------------

def _bone_loader(pack):
    own = getattr(pack, "bones", None)
    if own:   # anatomy-2 packs: a list of Bone (name, fma, side); vertices from bone_arrays
        by_name = {b.name: b for b in own}
        return lambda n: np.asarray(pack.bone_arrays(by_name[n])[0], float)
    table = BONES / "parts.csv"
    if not table.exists():
        pytest.skip(f"no bones in the pack nor at {BONES}")
    import trimesh

    files = {r["english_name"]: BONES / r["file"] for r in csv.DictReader(table.open()) if r["kind"] == "bone"}

    def load(name):
        v = np.asarray(trimesh.load(files[name], force="mesh").vertices, float)
        # the converter's transform, inverted (bodyparts3d-4.0/README.md)
        return np.column_stack([(v[:, 0] + 0.0000105) / 0.001, -(v[:, 2] + 0.10570935) / 0.001,
                                (v[:, 1] - 0.0728882) / 0.001])
    return load


@pytest.fixture(scope="module")
def bone(pack):
    cache, load = {}, _bone_loader(pack)

    def get(name):
        if name not in cache:
            cache[name] = load(name)
        return cache[name]
    return get


def _tip(v):
    v = v[np.abs(v[:, 0]) < 8]
    return v[np.argmax(v[:, 1])]


@pytest.mark.parametrize("lm,vertebra,neighbours", [
    ("c7_spinous", "Seventh cervical vertebra", ["Sixth cervical vertebra", "First thoracic vertebra"]),
    ("t7_spinous", "Seventh thoracic vertebra", ["Sixth thoracic vertebra", "Eighth thoracic vertebra"]),
    ("l3_spinous", "Third lumbar vertebra", ["Second lumbar vertebra", "Fourth lumbar vertebra"]),
])
def test_spinous_processes_over_their_vertebra(bone, lm, vertebra, neighbours):
    z = LM[lm][2]
    own = abs(_tip(bone(vertebra))[2] - z)
    assert own < 10, f"{lm} is {own:.0f} mm from the {vertebra}'s spinous tip"
    for n in neighbours:
        assert abs(_tip(bone(n))[2] - z) > own, f"{lm} is nearer the {n}"


def test_scapular_landmarks_on_the_scapula(bone):
    sc = bone("Right scapula")
    assert abs(LM["scapula_inferior_angle"][2] - sc[:, 2].min()) < 15
    top = sc[sc[:, 2] > sc[:, 2].max() - 25]
    acro = top[np.argmin(top[:, 0])]
    assert np.linalg.norm(LM["acromion"] - acro) < 25, "acromion is not over the lateral end of the scapula"
    mb = LM["scapula_medial_border"]
    band = sc[np.abs(sc[:, 2] - mb[2]) < 6]
    assert abs(mb[0] - band[:, 0].max()) < 15, "medial border is not over the scapula's vertebral border"


def test_elbow_and_pelvis_landmarks_over_their_bone(bone):
    hu = bone("Right humerus")
    low = hu[hu[:, 2] < hu[:, 2].min() + 50]
    checks = {"lateral_epicondyle": low[np.argmin(low[:, 0])], "medial_epicondyle": low[np.argmax(low[:, 0])]}
    hb = bone("Right hip bone")
    il = hb[hb[:, 2] > bone("Sacrum")[:, 2].max() - 60]
    checks["asis"] = il[np.argmin(il[:, 1])]
    bad = {k: round(float(np.linalg.norm(LM[k] - p)), 1) for k, p in checks.items() if np.linalg.norm(LM[k] - p) > 25}
    assert not bad, f"more than 25 mm from the bony point (mm): {bad}"


def test_sacrum_coccyx_and_sternum_levels(bone):
    sac = bone("Sacrum")
    assert sac[:, 2].min() < LM["sacrum"][2] < sac[:, 2].max()
    apex = sac[:, 2].min()
    assert apex - 40 < LM["coccyx"][2] < apex, "coccyx tip must lie just below the sacral apex"
    man = bone("Manubrium")
    notch = man[np.abs(man[:, 0]) < 6][:, 2].max()
    assert abs(LM["sternal_notch"][2] - notch) < 12
    xi = bone("Xiphoid process")
    assert abs(LM["xiphoid"][2] - xi[:, 2].min()) < 15


def test_wrist_and_hand_landmarks_over_their_bone(bone):
    """The wrist landmarks sat 51-59 mm above the radiocarpal joint and the finger tips were
    those of the old closed hand, one finger off (index_finger on the middle finger)."""
    end = bone("Right radius")[:, 2].min()                 # the radiocarpal joint line
    bad = [k for k in ("wrist_dorsal", "wrist_volar", "wrist_radial", "wrist_ulnar") if abs(LM[k][2] - end) > 15]
    assert not bad, f"not at the radiocarpal joint (z {end:.0f}): " + ", ".join(f"{k} z {LM[k][2]:.0f}" for k in bad)
    m3 = bone("Right third metacarpal bone")
    for k in ("palm", "hand_dorsal"):
        assert m3[:, 2].min() < LM[k][2] < m3[:, 2].max(), f"{k} is not over the third metacarpal"
    for k, digit in (("thumb", "thumb"), ("index_finger", "index finger"), ("middle_finger", "middle finger"),
                     ("ring_finger", "ring finger"), ("little_finger", "little finger")):
        d = np.linalg.norm(bone(f"Distal phalanx of right {digit}") - LM[k], axis=1).min()
        assert d < 15, f"{k} is {d:.0f} mm from the distal phalanx of the {digit}"
