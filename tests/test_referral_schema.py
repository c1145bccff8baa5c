"""Referral-map files: schema, file:line errors, user maps that are broken."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from viewer.referral.loader import load_maps, parse_map

GOOD = textwrap.dedent("""\
    id: FMA99999
    name: Test muscle
    aliases: [TM]
    body_region: hip
    mesh_parts: []
    no_mesh: true
    description: A test muscle used only by the unit tests of the loader.
    trigger_points:
      - label: TrP1
        at: greater_trochanter
        description: On the trochanter.
    zones:
      essential:
        - description: Lateral hip.
          from: [TrP1]
          strokes:
            - points: [greater_trochanter, {at: lateral_thigh_upper, offset: [0, 0, 10]}]
              width: 60
      spillover:
        - description: Lateral thigh.
          regions: [lateral_thigh]
    sources:
      - "Travell JG, Simons DG. Myofascial Pain and Dysfunction: The Trigger Point Manual. Vol. 2. 1992."
    """)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_file_parses(tmp_path):
    m, problems, _ = parse_map(write(tmp_path, "ok.yaml", GOOD))
    assert problems == [] and m.id == "FMA99999"
    assert m.zones.essential[0].strokes[0].width == 60
    assert m.zones.spillover[0].region_refs()[0].name == "lateral_thigh"


@pytest.mark.parametrize("old,new,line,field,words", [
    ("width: 60", "width: -5", 18, "zones.essential.0.strokes.0.width", "greater than or equal to 1"),
    ("id: FMA99999", "id: gluteus", 1, "id", "FMA id like FMA22315"),
    ("body_region: hip", "body_region: elbowish", 4, "body_region", "Input should be"),
    ("    from: [TrP1]", "    from: [TrP9]", 15, "zones.essential.0.from", "unknown trigger points"),
    ("  - \"Travell", "  - Note: \"Travell", 23, "sources.0", "put it in quotes"),
])
def test_errors_name_file_line_and_field(tmp_path, old, new, line, field, words):
    assert old in GOOD
    path = write(tmp_path, "bad.yaml", GOOD.replace(old, new))
    m, problems, _ = parse_map(path)
    assert m is None and problems
    p = problems[0]
    text = str(p)
    assert text.startswith(f"{path}:{line}: "), text
    assert field in text and words in text


def test_missing_required_fields(tmp_path):
    path = write(tmp_path, "bad.yaml", "id: FMA1\nname: X\n")
    _, problems, _ = parse_map(path)
    fields = {p.field for p in problems}
    assert {"trigger_points", "zones", "sources", "description", "body_region"} <= fields


def test_yaml_syntax_error_has_line(tmp_path):
    path = write(tmp_path, "bad.yaml", GOOD.replace("aliases: [TM]", "aliases: [TM"))
    _, problems, _ = parse_map(path)
    assert problems and problems[0].line is not None and "not valid YAML" in problems[0].message


def test_broken_user_map_is_reported_and_skipped(tmp_path):
    builtin = tmp_path / "builtin"
    user = tmp_path / "user"
    builtin.mkdir()
    user.mkdir()
    write(builtin, "good.yaml", GOOD)
    write(user, "broken.yaml", "id: [unclosed\n")
    write(user, "dupe.yaml", GOOD)
    write(user, "extra.yaml", GOOD.replace("FMA99999", "FMA88888").replace("Test muscle", "User muscle")
          .replace("aliases: [TM]", "aliases: [UM]"))   # a user map may not reuse a built-in's alias
    ms = load_maps(user, builtin_dir=builtin)
    assert [m.id for m in ms.maps] == ["FMA99999", "FMA88888"]
    messages = [str(p) for p in ms.problems]
    assert any("broken.yaml" in m and "not valid YAML" in m for m in messages)
    assert any("dupe.yaml" in m and "duplicate id FMA99999" in m for m in messages)


def test_shipped_maps_parse_and_meet_the_content_bar():
    ms = load_maps(builtin_dir=Path(__file__).resolve().parents[1] / "referral_maps" / "muscles")
    assert ms.problems == [], "\n".join(map(str, ms.problems))
    assert len(ms.maps) >= 45
    for m in ms.maps:
        assert m.trigger_points and m.zones.essential and m.description and m.sources, m.name


def test_validate_reads_and_parses_each_file_once_even_with_problems(tmp_path, monkeypatch):
    """One load path: every file is read once and parsed (composed) once, and the problems found
    after the schema (unknown landmark, region, mesh part) still carry their line numbers."""
    import yaml

    from viewer import safeio
    from viewer.referral import loader
    from viewer.referral.validate import validate

    bad = GOOD.replace("points: [greater_trochanter, {at: lateral_thigh_upper",
                       "points: [no_such_landmark, {at: lateral_thigh_upper")
    paths = [write(tmp_path, "a.yaml", GOOD), write(tmp_path, "b.yaml", bad.replace("FMA99999", "FMA99998")
                                                   .replace("name: Test muscle", "name: Other muscle")
                                                   .replace("aliases: [TM]", "aliases: []"))]
    reads, composes, loads = [], [], []
    real_read, real_compose, real_load = safeio.read_regular, yaml.compose, yaml.load
    monkeypatch.setattr(safeio, "read_regular", lambda p, *a, **k: reads.append(Path(p).name) or real_read(p, *a, **k))
    def mine(text) -> bool:      # a parse of one of the two map files (not landmarks or regions)
        return isinstance(text, str) and "id: FMA9999" in text
    monkeypatch.setattr(loader.yaml, "compose", lambda t, *a, **k: (mine(t) and composes.append(1))
                        or real_compose(t, *a, **k))
    monkeypatch.setattr(loader.yaml, "load", lambda t, *a, **k: (mine(t) and loads.append(1)) or real_load(t, *a, **k))
    problems, _summary = validate([str(p) for p in paths])
    assert sorted(r for r in reads if r.endswith(".yaml") and r in ("a.yaml", "b.yaml")) == ["a.yaml", "b.yaml"]
    assert len(composes) == 2 and not loads
    found = [p for p in problems if "no_such_landmark" in p.message]
    assert found and found[0].line == 17 and found[0].file.name == "b.yaml", [str(p) for p in problems]


def test_parse_cache_skips_the_yaml_of_unchanged_files_only(tmp_path, monkeypatch):
    """The window's start reads each map's YAML data from the parse cache when the file's bytes
    are those parsed before: no YAML parse then, the same maps, a problem's line still found (the
    file is parsed when a line is asked for); a changed file is parsed again and its new content
    used; a damaged cache is an empty one."""
    import yaml

    from viewer.referral import loader
    from viewer.referral.loader import ParseCache

    bad = (GOOD.replace("points: [greater_trochanter, {at: lateral_thigh_upper",
                        "points: [no_such_landmark, {at: lateral_thigh_upper")
           .replace("FMA99999", "FMA99998").replace("name: Test muscle", "name: Other muscle")
           .replace("aliases: [TM]", "aliases: []"))
    (tmp_path / "maps").mkdir()
    paths = [write(tmp_path / "maps", "a.yaml", GOOD),
             write(tmp_path / "maps", "b.yaml", bad)]
    composes = []
    real_compose = yaml.compose
    monkeypatch.setattr(loader.yaml, "compose", lambda t, *a, **k: composes.append(1) or real_compose(t, *a, **k))
    where = ("zones", "essential", 0, "strokes", 0, "points", 0)
    cache_file = tmp_path / "cache" / "maps.json"

    first = load_maps(files=paths, cache=ParseCache(cache_file))
    assert len(composes) == 2 and cache_file.is_file() and first.problems == []
    line = first.line("FMA99998", where)
    assert line == 17

    composes.clear()
    second = load_maps(files=paths, cache=ParseCache(cache_file))
    assert composes == []                                          # no YAML parse at all
    assert [m.model_dump() for m in second.maps] == [m.model_dump() for m in first.maps]
    assert second.hashes == first.hashes and second.digest == first.digest
    assert second.line("FMA99998", where) == 17 and len(composes) == 1    # parsed for the line

    composes.clear()
    paths[0].write_text(GOOD.replace("name: Test muscle", "name: Renamed muscle"))
    third = load_maps(files=paths, cache=ParseCache(cache_file))
    assert len(composes) == 1 and third.by_id("FMA99999").name == "Renamed muscle"

    composes.clear()
    cache_file.write_text('{"version": 1, "maps": {"' + "0" * 64 + '": [1, 2]}} trailing garbage')
    fourth = load_maps(files=paths, cache=ParseCache(cache_file))
    assert len(composes) == 2 and [m.name for m in fourth.maps] == ["Renamed muscle", "Other muscle"]
