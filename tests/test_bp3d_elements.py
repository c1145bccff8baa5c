"""BodyParts3D 4.0 elements: one reader for the official OBJ and the shared glTF,
and the choice of bones and muscles from the real DBCLS tables."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.anatomy import bp3d_elements as E
from viewer.errors import ViewerError


@pytest.fixture(scope="module")
def bp4(shared_anatomy):
    d = shared_anatomy / "bodyparts3d-4.0"
    if not (d / "parts.csv").exists():
        pytest.skip("bodyparts3d-4.0 not present")
    return d


@pytest.fixture(scope="module")
def rows(bp4):
    return E.read_parts_csv(bp4 / "parts.csv")


@pytest.fixture(scope="module")
def tables(bp4):
    return E.Tables(bp4 / "tables")


@pytest.mark.parametrize("file_id", ["FJ1431", "FJ1520", "FJ3152"])
def test_official_obj_and_glb_agree(bp4, rows, file_id):
    """An OBJ written in the official format from a shared GLB element reads back
    to the same native-frame geometry (0.01 mm)."""
    row = next(r for r in rows if r.file_id == file_id)
    glb = E.read_glb(bp4 / row.file, file_id=row.file_id, concept=row.concept, name=row.name)
    text = E.official_obj_text(glb, representation="BP4701")
    assert text.startswith("#\n# The license for this database")
    assert "f 1//1" in text or "//" in text.splitlines()[-1]
    obj = E.parse_obj(text, f"{file_id}.obj")
    assert (obj.file_id, obj.concept, obj.name) == (row.file_id, row.concept, row.name)
    assert np.array_equal(obj.faces, glb.faces)
    assert np.abs(obj.vertices - glb.vertices).max() < 0.01


def test_glb_inverse_transform_matches_official_bounds(bp4, rows):
    """README: the inverted FJ1431 has the official header's bounds within ~0.5 mm."""
    row = next(r for r in rows if r.file_id == "FJ1431")
    el = E.read_glb(bp4 / row.file, file_id=row.file_id, concept=row.concept, name=row.name)
    official_lo = np.array([-113.8045, -119.9172, 735.1077])
    official_hi = np.array([-7.4752, -53.1349, 1098.7407])
    assert np.abs(el.vertices.min(axis=0) - official_lo).max() < 0.5
    assert np.abs(el.vertices.max(axis=0) - official_hi).max() < 0.5


def test_empty_english_name_is_named_from_the_tables(tables):
    text = ("#\n# Compatibility version : 4.0\n# File ID : FJ1451\n# Concept ID : FMA9756\n"
            "# English name : \n#\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvn 0 0 1\nf 1//1 2//1 3//1 \n")
    el = E.parse_obj(text, "FJ1451.obj")
    assert el.name == ""
    sel = tables.classify(el.file_id, el.concept, el.name)
    assert sel.kind == "muscle"
    assert sel.name == "External intercostal muscle"


def test_broken_obj_names_the_file():
    with pytest.raises(ViewerError) as err:
        E.parse_obj("# Concept ID : FMA1\n# English name : x\nv 0 0 0\nf 1 2 3\n", "zip!FJ9.obj")
    assert "FJ9.obj" in str(err.value) and "out of range" in str(err.value)


def test_every_parts_csv_row_is_classified(tables, rows):
    kinds = {}
    for r in rows:
        sel = tables.classify(r.file_id, r.concept, r.name)
        kinds[r.file_id] = sel.kind
        if r.kind == "bone":
            assert sel.kind == "bone", r
        if sel.kind == "muscle":
            assert r.kind == "muscle", r
            assert sel.side == (r.laterality if r.laterality in ("right", "left") else "midline"), r
    assert sum(k == "bone" for k in kinds.values()) == 242
    # the two "muscle" files that are connective tissue: a tendinous arch and a retinaculum
    assert sorted(f for f, k in kinds.items() if k == "other") == ["FJ1465", "FJ1471"]


def test_whole_table_no_vessel_nerve_or_ligament_among_muscles(tables):
    import re

    bad = re.compile(r"\b(veins?|artery|arteries|nerves?|ligaments?|tendon|retinaculum|fascia|vessel)\b")
    muscles, bones = [], []
    for fid in tables.ancestors:
        sel = tables.classify(fid)
        assert sel.name, fid
        if sel.kind == "muscle":
            muscles.append(sel)
            assert not bad.search(sel.name.lower()), sel
        elif sel.kind == "bone":
            bones.append(sel)
            assert "muscle" not in sel.name.lower(), sel
    assert len(muscles) > 400 and len(bones) > 250
    obturator_vein = [f for f in tables.ancestors if tables.classify(f).name.lower() == "right obturator vein"]
    assert obturator_vein and all(tables.classify(f).kind == "other" for f in obturator_vein)


@pytest.mark.parametrize("file_id, whole, fma, side", [
    ("FJ1520", "trapezius", "FMA9626", "right"),
    ("FJ1521", "trapezius", "FMA9626", "right"),
    ("FJ1467", "deltoid", "FMA32521", "right"),
    ("FJ1395", "biceps femoris", "FMA22356", "right"),
    ("FJ1397M", "gastrocnemius", "FMA22541", "left"),
    ("FJ1477", "triceps brachii", "FMA37688", "right"),
    ("FJ1478", "biceps brachii", "FMA37670", "right"),
    ("FJ1383", "first lumbrical of foot", "FMA37479", "right"),
    ("FJ1431", "psoas major", "FMA18060", "right"),
    ("FJ3153", "sternum", "FMA7485", "midline"),
])
def test_whole_muscle_of_parts(tables, rows, file_id, whole, fma, side):
    r = next(r for r in rows if r.file_id == file_id)
    sel = tables.classify(r.file_id, r.concept, r.name)
    assert (sel.whole_name, sel.whole_fma, sel.side) == (whole, fma, side)


def test_descending_trapezius_is_upper_trapezius(tables, rows):
    r = next(r for r in rows if r.file_id == "FJ1521")
    sel = tables.classify(r.file_id, r.concept, r.name)
    assert sel.part_name == "descending part of trapezius"
    assert E.display_alias(sel) == "upper trapezius"


def test_muscles_of_todays_maps_found(tables, rows):
    """Every whole muscle a referral map names by FMA id is found where 4.0 has it."""
    found = {tables.classify(r.file_id, r.concept, r.name).whole_fma for r in rows}
    in_40 = {"FMA22443", "FMA22440", "FMA9626", "FMA32521", "FMA22356", "FMA22541", "FMA9627",
             "FMA37688", "FMA13397", "FMA22542", "FMA22532"}
    assert in_40 <= found, in_40 - found
    absent = {"FMA15569", "FMA9628", "FMA22827", "FMA13357", "FMA48996", "FMA49006"}
    assert not absent & found
