"""Read the official BodyParts3D archive (isa_BP3D_4.0_obj_99.zip).

Each element file (FJxxxx.obj, FJxxxxM.obj for mirrored copies) starts with a
comment header naming its concept (FMA id) and English name, followed by plain
v/f records in the native frame (mm, +Z up, -Y anterior, -X subject's right).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.errors import ViewerError

SKIN = re.compile(r"\bskin\b", re.IGNORECASE)
SIDED_MUSCLE = re.compile(r"^(right|left)\s+(.+)$", re.IGNORECASE)
# BodyParts3D names muscles without the word "muscle" ("Right gluteus medius"),
# so sided elements are recognised by the words of skeletal-muscle names.
MUSCLE_WORDS = re.compile(
    r"muscle|gluteus|psoas|iliacus|piriformis|tensor fasciae|quadratus|rectus|obliquus|oblique|"
    r"transversus|latissimus|trapezius|rhomboid|levator scapulae|serratus|pectoralis|deltoid|"
    r"supraspinatus|infraspinatus|teres|subscapularis|biceps|triceps|brachialis|brachioradialis|"
    r"supinator|pronator|flexor|extensor|abductor|adductor|sartorius|gracilis|vastus|semitendinosus|"
    r"semimembranosus|gastrocnemius|soleus|plantaris|tibialis|peroneus|fibularis|popliteus|pectineus|"
    r"scalen|sternocleidomastoid|splenius|semispinalis|multifidus|longissimus|iliocostalis|spinalis|"
    r"masseter|temporalis|pterygoid|digastric|coracobrachialis|anconeus|gemellus|obturator",
    re.IGNORECASE)
HEADER = re.compile(r"^#\s*([^:]+?)\s*:\s*(.*)$")


@dataclass
class Element:
    file_id: str
    concept: str
    name: str
    vertices: np.ndarray
    faces: np.ndarray
    member: str


def parse_obj(text: str, member: str) -> Element:
    header, verts, faces = {}, [], []
    for line in text.splitlines():
        if line.startswith("#"):
            m = HEADER.match(line)
            if m:
                header[m.group(1).strip().lower()] = m.group(2).strip()
        elif line.startswith("v "):
            verts.append(line.split()[1:4])
        elif line.startswith("f "):
            faces.append([int(tok.split("/")[0]) for tok in line.split()[1:4]])
    if not verts or not faces:
        raise ViewerError("An OBJ in the archive has no vertices or faces.", path=member,
                          fix="download the archive again (it is damaged).")
    if "concept id" not in header or "english name" not in header:
        raise ViewerError("An OBJ in the archive lacks the BodyParts3D header (Concept ID, English name).",
                          path=member, fix="use the official isa_BP3D_4.0_obj_99.zip.")
    try:
        v = np.asarray(verts, dtype=np.float64)
        f = np.asarray(faces, dtype=np.int64) - 1
    except ValueError:
        raise ViewerError("An OBJ in the archive has malformed v/f records.", path=member,
                          fix="download the archive again (it is damaged).") from None
    if f.min() < 0 or f.max() >= len(v):
        raise ViewerError("An OBJ in the archive has face indices out of range.", path=member,
                          fix="download the archive again (it is damaged).")
    return Element(header.get("file id", Path(member).stem), header["concept id"],
                   header["english name"], v, f, member)


def read_archive(path: Path) -> tuple[list[Element], list[Element]]:
    """Skin elements and sided muscle elements of the archive."""
    skin, muscles = [], []
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.lower().endswith(".obj"):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(2048).decode("utf-8", "replace")
                name = next((m.group(2) for m in map(HEADER.match, head.splitlines())
                             if m and m.group(1).strip().lower() == "english name"), "")
                is_skin = bool(SKIN.search(name))
                is_muscle = bool(SIDED_MUSCLE.match(name) and MUSCLE_WORDS.search(name))
                if not (is_skin or is_muscle):
                    continue
                el = parse_obj(zf.read(info).decode("utf-8", "replace"), f"{path}!{info.filename}")
                (skin if is_skin else muscles).append(el)
    except zipfile.BadZipFile as exc:
        raise ViewerError(f"The archive is damaged ({exc}).", path=path,
                          fix="download it again or use --source official.") from None
    if not skin:
        raise ViewerError("The archive has no skin part (no OBJ whose English name mentions skin).",
                          path=path, fix="use the official isa_BP3D_4.0_obj_99.zip, which has the skin.")
    if not muscles:
        raise ViewerError("The archive has no sided muscle parts (e.g. 'Right gluteus medius').",
                          path=path, fix="use the official isa_BP3D_4.0_obj_99.zip.")
    return skin, muscles


def part_id(english: str) -> tuple[str, str]:
    """'Right gluteus medius' -> ('Gluteus_medius.r', 'right')."""
    m = SIDED_MUSCLE.match(english.strip())
    side, rest = m.group(1).lower(), m.group(2)
    base = re.sub(r"\s+", "_", rest.strip()).capitalize()
    return f"{base}.{side[0]}", side
