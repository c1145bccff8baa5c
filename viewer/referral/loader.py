"""Load referral maps, landmarks and regions, with file:line errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from viewer import config
from viewer.referral.schema import MuscleMap, cross_check


@dataclass
class Problem:
    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class MapSet:
    maps: list[MuscleMap] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)       # id -> file
    hashes: dict[str, str] = field(default_factory=dict)       # id -> sha256 of the file
    problems: list[Problem] = field(default_factory=list)
    digest: str = ""                                           # content hash of the loaded files

    def by_id(self, muscle_id: str) -> MuscleMap:
        for m in self.maps:
            if m.id == muscle_id:
                return m
        raise KeyError(muscle_id)


def _node_line(root, loc) -> int | None:
    """1-based line of the YAML node at a pydantic error location (best effort)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == key:
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                return line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: ~10x faster


def _is_union_tag(x) -> bool:
    """Pydantic puts the tried union member ('str', 'tuple[...]', 'Anchored') in error paths."""
    return isinstance(x, str) and (x in ("str", "Anchored", "RegionRef") or x.startswith(("tuple[", "function-")))


def parse_map(path: Path) -> tuple[MuscleMap | None, list[Problem], bytes]:
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path, None, "", f"cannot read the file ({exc})")], b""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return None, [Problem(path, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")], raw
    if not isinstance(data, dict):
        return None, [Problem(path, 1, "", "expected a mapping of fields (id, name, zones, ...)")], raw
    root = None   # the node tree (for line numbers) is only parsed when there is an error
    try:
        m = MuscleMap.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text, Loader=_Loader)
        problems = []
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not _is_union_tag(x))
            msg = err["msg"]
            if isinstance(err.get("input"), dict) and "string" in msg:
                msg += " (this text was read as a mapping because it contains ': '; put it in quotes)"
            problems.append(Problem(path, _node_line(root, loc), ".".join(map(str, loc)) or "(file)", msg))
        return None, problems, raw
    checks = cross_check(m)
    if checks:
        root = yaml.compose(text, Loader=_Loader)
    problems = [Problem(path, _node_line(root, loc), ".".join(map(str, loc)), msg) for loc, msg in checks]
    return (None if problems else m), problems, raw


def load_maps(user_dir: str | Path | None = None, builtin_dir: Path | None = None,
              files: list[Path] | None = None) -> MapSet:
    """Built-in maps plus a user's maps; a broken user file is reported and skipped."""
    builtin_dir = builtin_dir or (config.builtin_maps_dir() / "muscles")
    paths = list(files) if files is not None else sorted(Path(builtin_dir).glob("*.yaml"))
    user = config.user_maps_dir(user_dir)
    if files is None and user is not None:
        if user.is_dir():
            paths += sorted(user.glob("*.yaml")) + sorted(user.glob("*.yml"))
    out = MapSet()
    h = hashlib.sha256()
    if files is None and user is not None and not user.is_dir():
        out.problems.append(Problem(user, None, "", "the user maps folder does not exist"))
    for path in paths:
        m, problems, raw = parse_map(path)
        out.problems += problems
        if m is None:
            continue
        if m.id in out.files:
            out.problems.append(Problem(path, 1, "id", f"duplicate id {m.id}, already defined in "
                                                        f"{out.files[m.id]}; this file is skipped"))
            continue
        out.maps.append(m)
        out.files[m.id] = path
        out.hashes[m.id] = hashlib.sha256(raw).hexdigest()
        h.update(path.name.encode() + b"\0" + raw + b"\0")
    out.digest = h.hexdigest()
    return out


@dataclass
class Landmark:
    name: str
    side: str           # right | midline
    description: str
    point: tuple[float, float, float] | None


def load_landmarks(path: Path | None = None) -> dict[str, Landmark]:
    path = path or config.builtin_maps_dir() / "landmarks.yaml"
    data = yaml.safe_load(Path(path).read_text())["landmarks"]
    return {name: Landmark(name, v["side"], v.get("description", ""),
                           tuple(v["point"]) if v.get("point") else None)
            for name, v in data.items()}


@dataclass
class RegionDef:
    name: str
    side: str
    label: str
    seeds: list[str]


def load_regions(path: Path | None = None) -> dict[str, RegionDef]:
    path = path or config.builtin_maps_dir() / "regions.yaml"
    data = yaml.safe_load(Path(path).read_text())["regions"]
    return {n: RegionDef(n, v["side"], v["label"], list(v["seeds"])) for n, v in data.items()}


def file_digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()
