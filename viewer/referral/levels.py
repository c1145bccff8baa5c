"""Spinal levels to the vertebrae that carry them (BodyParts3D bone names).

The segmental (paravertebral) level of a nerve root or a facet joint is shown on the
skeleton: a root's vertebra ("L5" -> the fifth lumbar vertebra), or both vertebrae of a
joint's level ("L5-S1" -> the fifth lumbar vertebra and the sacrum).
"""

from __future__ import annotations

import re

ORDINALS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth",
            "Eleventh", "Twelfth")
REGION = {"C": "cervical", "T": "thoracic", "L": "lumbar"}
LEVEL = re.compile(r"\b([CTLS])(\d{1,2})\b")


def vertebra_name(segment: str) -> str | None:
    """BodyParts3D name of the vertebra of one spinal segment: C1 "Atlas", C2 "Axis", S1-S5
    "Sacrum", C3..L5 "<Ordinal> <region> vertebra"; None for anything else (C0: the skull)."""
    m = LEVEL.fullmatch(segment.strip())
    if not m:
        return None
    letter, n = m.group(1), int(m.group(2))
    if letter == "S":
        return "Sacrum" if 1 <= n <= 5 else None
    if letter == "C" and n in (1, 2):
        return ("Atlas", "Axis")[n - 1]
    limit = {"C": 7, "T": 12, "L": 5}[letter]
    return f"{ORDINALS[n - 1]} {REGION[letter]} vertebra" if 1 <= n <= limit else None


def level_vertebrae(level: str) -> list[str]:
    """Vertebra names of a level as printed ("L5", "L5-S1", "S4-S5", "C0-C1"), without repeats."""
    names = [vertebra_name(f"{a}{b}") for a, b in LEVEL.findall(level)]
    return list(dict.fromkeys(n for n in names if n))


SPINAL_ORDER = ([f"C{i}" for i in range(0, 9)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
                + [f"S{i}" for i in range(1, 6)])


def level_key(m) -> tuple:
    """Sort key of a map: spinal order of its level (C2-C3 before T3-T4 before T10-T11 before
    L1-L2), then its name; maps without a level after those with one."""
    found = LEVEL.search(m.level or "")
    idx = SPINAL_ORDER.index(found.group(0)) if found and found.group(0) in SPINAL_ORDER else len(SPINAL_ORDER)
    return idx, m.name.lower()
