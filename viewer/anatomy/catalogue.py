"""Names, sides, FMA ids and body regions of the parts the pack may hold."""

from __future__ import annotations

import re

# FMA concept ids of whole (unsided) muscles, keyed by Z-Anatomy part base name.
# Only ids confirmed against FMA / BodyParts3D tables are listed; others stay None.
FMA_BY_BASE = {
    "Gluteus_maximus_muscle": "FMA22314",
    "Gluteus_medius_muscle": "FMA22315",
    "Gluteus_minimus_muscle": "FMA22317",
    "Piriformis_muscle": "FMA19082",
    "Tensor_fasciae_latae": "FMA22423",
    "Psoas_muscle": "FMA18060",
    "Iliacus_muscle": "FMA22310",
    "Iliocostalis_lumborum_muscle": "FMA22702",
    "Longissimus_thoracis_muscle": "FMA22709",
    "Semitendinosus_muscle": "FMA22357",
    "Semimembranosus_muscle": "FMA22438",
    "Adductor_longus": "FMA22441",
    "Descending_part_of_trapezius_muscle": "FMA32557",
    "Levator_scapulae": "FMA32519",
    "Sternocleidomastoid_muscle": "FMA13407",
    "Scalene_anterior_muscle": "FMA13385",
    "Splenius_capitis_muscle": "FMA22653",
    "Infraspinatus_muscle": "FMA32546",
    "Supraspinatus_muscle": "FMA9629",
    "Subscapular_muscle": "FMA13413",
    "Serratus_anterior_muscle": "FMA13397",
    "Pectoralis_minor_muscle": "FMA13109",
    "Temporalis_muscle": "FMA49006",
    "Diaphragm": "FMA13295",
    # confirmed by the content authors against BodyParts3D / FMA mapping tables
    "Teres_minor_muscle": "FMA32550",
    "Teres_major_muscle": "FMA32549",
    "Rhomboid_major_muscle": "FMA13379",
    "Rhomboid_minor_muscle": "FMA13380",
    "Rectus_posterior_major_capitis_muscle": "FMA32525",
    "Rectus_posterior_minor_capitis_muscle": "FMA32526",
    "Obliquus_superior_capitis_muscle": "FMA32527",
    "Obliquus_inferior_capitis_muscle": "FMA32528",
    "Rectus_femoris_muscle": "FMA22430",
    "Vastus_lateralis_muscle": "FMA22431",
    "Vastus_medialis_muscle": "FMA22432",
    "Vastus_intermedius_muscle": "FMA22433",
    "Sartorius_muscle": "FMA22353",
    "Gracilis_muscle": "FMA43882",
    "Soleus_muscle": "FMA22542",
    "Tibialis_anterior_muscle": "FMA22532",
    "Brachialis_muscle": "FMA37667",
    "Supinator": "FMA38512",
    "Iliocostalis_thoracis_muscle": "FMA22703",
}

# Whole muscle of Z-Anatomy parts that BodyParts3D 4.0 lacks (no twin to take it from).
WHOLE_BY_BASE = {
    "Superficial_part_of_masseter": "FMA48996",
    "Deep_part_of_masseter": "FMA48996",
}

# Body region of each part, for grouping in the browser and the manifest.
_REGION_RULES = [
    (r"masseter|temporalis", "head"),
    (r"capitis|sternocleido|scalen|colli|levator_scap", "neck"),
    (r"trapezius|supraspinatus|infraspinatus|teres|subscapular|deltoid|rhomboid", "shoulder"),
    (r"pectoral|serratus", "chest"),
    (r"diaphragm", "trunk"),
    (r"iliocostalis|longissimus|spinalis", "back"),
    (r"psoas|iliacus|gluteus|piriformis|tensor", "hip"),
    (r"rectus_femoris|vastus|sartorius|gracilis|adductor|biceps_femoris|semitend|semimemb", "thigh"),
    (r"gastrocnemius|soleus|tibialis", "leg"),
    (r"triceps|brachialis", "arm"),
    (r"supinator", "forearm"),
]

PLACEHOLDER = re.compile(r"placeholder", re.IGNORECASE)
SIDE_BY_SUFFIX = {"r": "right", "l": "left"}


def split_name(node_name: str) -> tuple[str, str]:
    """'Gluteus_medius_muscle.r' -> ('Gluteus_medius_muscle', 'right')."""
    base, dot, suffix = node_name.rpartition(".")
    if dot and suffix.lower() in SIDE_BY_SUFFIX:
        return base, SIDE_BY_SUFFIX[suffix.lower()]
    return node_name, "midline"


def english_name(base: str) -> str:
    return base.replace("_", " ").strip().capitalize()


def region_of(base: str) -> str:
    low = base.lower()
    for pattern, region in _REGION_RULES:
        if re.search(pattern, low):
            return region
    return "other"


def aliases_of(base: str, side: str) -> list[str]:
    """Case-insensitive names a user may type for this part."""
    plain = base.replace("_", " ").lower()
    short = re.sub(r"\s*muscle\b", "", plain).strip()
    names = {plain, short}
    if side != "midline":
        names |= {f"{side} {plain}", f"{side} {short}"}
    return sorted(names)
