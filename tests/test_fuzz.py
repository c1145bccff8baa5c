"""Property-based fuzzing (hypothesis) of the map, session and --points parsers.

Random and mutated inputs may only ever raise the app's own error type (or, for
maps, come back as reported problems), each example has a time bound (the
hypothesis deadline), and the built-in maps are never changed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from viewer.errors import ViewerError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUILTIN = REPO / "referral_maps"
SEEDS = [p.read_bytes() for p in sorted((BUILTIN / "muscles").glob("*.yaml"))[:8]]
FUZZ = settings(max_examples=150, deadline=timedelta(seconds=5), derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _builtin_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(BUILTIN.rglob("*.yaml")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


BEFORE = _builtin_digest()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda kids: st.lists(kids, max_size=6) | st.dictionaries(st.text(max_size=12), kids, max_size=6),
    max_leaves=40,
)


@st.composite
def mutated(draw, seeds=SEEDS):
    """A real file with random byte edits: flips, deletions, insertions, duplications."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "delete", "insert", "dup"]))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[i: i + draw(st.integers(1, 200))]
        elif op == "insert":
            data[i:i] = draw(st.sampled_from([b"[", b"{", b"*a", b"&a ", b": ", b"- ", b".nan", b"1e999",
                                              b"\n  ", b"'", b'"', b"\x00", b"!!python/object:os.system "]))
        else:
            j = draw(st.integers(i, min(len(data), i + 300)))
            data[j:j] = data[i:j]
    return bytes(data)


def _check_map_bytes(tmp_path, data: bytes):
    from viewer.referral.loader import parse_map

    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    m, problems, _ = parse_map(path)      # must not raise: bad content is a reported problem
    assert (m is None) == bool(problems)
    for p in problems:
        assert Path(p.file) == path and str(p)


@FUZZ
@given(data=mutated())
def test_map_parser_mutated_real_maps(tmp_path, data):
    _check_map_bytes(tmp_path, data)


@FUZZ
@given(doc=json_values)
def test_map_parser_random_documents(tmp_path, doc):
    try:
        text = yaml.safe_dump(doc)
    except (yaml.YAMLError, RecursionError):
        return
    _check_map_bytes(tmp_path, text.encode())


@FUZZ
@given(data=st.binary(max_size=2000))
def test_map_parser_random_bytes(tmp_path, data):
    _check_map_bytes(tmp_path, data)


@FUZZ
@given(doc=json_values)
def test_session_from_random_json(doc):
    """A random document is refused with SessionError, or it is a version-1 session of this
    format and survives a round trip unchanged (the loader never takes in what it cannot write)."""
    from viewer.session import FORMAT, Session, SessionError

    for candidate in (doc, {"format": FORMAT, "version": 1, "marks": doc},
                      {"format": FORMAT, "version": 1, "drawing": doc, "selected": doc, "notes": doc}):
        try:
            s = Session.from_json(candidate)
        except SessionError as exc:
            assert str(exc)
            continue
        assert isinstance(candidate, dict) and candidate["format"] == FORMAT and candidate["version"] == 1
        back = Session.from_json(s.to_json())
        assert (back.marks, back.drawing, back.selected, back.notes, back.pack_key) == \
            (s.marks, s.drawing, s.selected, s.notes, s.pack_key)
        assert all(m.vertex >= 0 and len(m.point) == 3 for m in s.marks)
        assert all(isinstance(v, int) and v >= 0 for v in s.drawing)
        assert isinstance(s.notes, str)


@FUZZ
@given(data=st.binary(max_size=3000) | st.builds(lambda d: json.dumps(d).encode(), json_values))
def test_session_load_random_files(tmp_path, data):
    from viewer.session import Session, SessionError

    f = tmp_path / "s.json"
    f.write_bytes(data)
    try:
        Session.load(f)
    except SessionError as exc:
        assert str(f) in str(exc)


numbers = st.integers(-5000, 5000) | st.floats(allow_nan=True, allow_infinity=True) | st.booleans() | st.none()
point_lists = st.lists(st.lists(numbers, min_size=0, max_size=5) | numbers | st.text(max_size=3), max_size=6)


@FUZZ
@given(doc=json_values | point_lists)
def test_points_parser(tmp_path, doc):
    from viewer import api

    f = tmp_path / "area.json"
    try:
        f.write_text(json.dumps(doc))
    except ValueError:
        return
    try:
        pts = api.read_points(f)
    except ViewerError:
        return
    assert pts.ndim == 2 and pts.shape[1] == 3 and len(pts) >= 1
    assert (abs(pts) < api.MAX_COORD_MM).all()


@pytest.fixture(autouse=True)
def builtin_maps_untouched():
    """After every test of this module (whatever order they run in): the built-in maps are unchanged."""
    yield
    assert _builtin_digest() == BEFORE, "a fuzz test changed the built-in maps"


def test_builtin_maps_all_load():
    from viewer.referral.loader import load_maps

    ms = load_maps()
    kinds = ("muscles", "joints", "roots", "nerves", "organs")     # every built-in kind is loaded
    assert not ms.problems and len(ms.maps) == sum(len(list((BUILTIN / k).glob("*.yaml"))) for k in kinds)
