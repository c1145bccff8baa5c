"""Load referral maps, landmarks and regions, with file:line errors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from viewer import atomic, config, safeio
from viewer.anatomy.pack import normalize
from viewer.errors import ViewerError
from viewer.referral.schema import MuscleMap, cross_check

# Built-in map folders, one per source kind (muscles first: the order patterns are listed in).
KIND_FOLDERS = {"muscle": "muscles", "joint": "joints", "root": "roots", "nerve": "nerves", "organ": "organs"}

MAX_MAP_BYTES = 256_000        # the largest built-in map is ~9 KB
MAX_USER_MAPS = 500


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
    """Maps loaded from files, with what each came from; `nodes` holds each file's YAML node
    tree (its one parse) while the maps are being checked, for the problems' line numbers."""
    maps: list[MuscleMap] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)       # id -> file
    hashes: dict[str, str] = field(default_factory=dict)       # id -> sha256 of the file
    problems: list[Problem] = field(default_factory=list)
    digest: str = ""                                           # content hash of the loaded files
    n_builtin: int = 0                                         # built-in files read (the first ones)
    nodes: dict = field(default_factory=dict, repr=False)     # id -> YAML node tree (see line)

    def line(self, map_id: str, loc) -> int | None:
        """1-based line of a field (a path like ("zones", "essential", 0)) in a map's file, from
        the file's one parse; None once the node trees are dropped (`forget_nodes`). A map read
        from the parse cache is parsed here, the first time one of its lines is asked for."""
        if map_id in self.nodes and self.nodes[map_id] is None:
            self.nodes[map_id] = read_map(self.files[map_id])[3]     # None if it cannot be read now
        node = self.nodes.get(map_id)
        return node_line(node, loc) if node is not None else None

    def forget_nodes(self) -> None:
        """Drop the node trees (~60 KB a map) once the maps are checked."""
        self.nodes = {}

    def by_id(self, muscle_id: str) -> MuscleMap:
        """The loaded map with this id; KeyError when there is none."""
        for m in self.maps:
            if m.id == muscle_id:
                return m
        raise KeyError(muscle_id)


def node_line(root, loc) -> int | None:
    """1-based line of the YAML node at a field location, e.g. ("zones", "essential", 0) (best effort)."""
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


_Loader = safeio._YamlLoader


class ParseCache:
    """The YAML data of map files by the sha256 of their bytes, kept as JSON beside the field
    cache: reading 400 maps' YAML took about half a second of every start. A changed file has
    another hash and is parsed again; data that JSON cannot hold exactly is never cached; a
    missing, damaged or foreign cache file is an empty cache (it is only ever rebuilt).

    Parameters
    ----------
    path : path
        The cache file (``maps-<version>.json`` in the pack's cache folder).
    """

    VERSION = 1

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.used: dict[str, dict] = {}
        self.changed = False
        try:
            data = safeio.load_json(self.path, what="map parse cache")
            ok = isinstance(data, dict) and data.get("version") == self.VERSION
            self.data = data.get("maps", {}) if ok and isinstance(data.get("maps"), dict) else {}
        except ViewerError:
            self.data = {}

    def get(self, key: str) -> dict | None:
        """The cached data of a file whose bytes hash to `key`, or None."""
        found = self.data.get(key)
        if isinstance(found, dict):
            self.used[key] = found
            return found
        return None

    def put(self, key: str, data: dict) -> None:
        """Remember a file's parsed data, when JSON gives it back exactly."""
        try:
            same = json.loads(json.dumps(data, allow_nan=False)) == data
        except (TypeError, ValueError, RecursionError):
            same = False
        if same:
            self.used[key] = data
            self.changed = True

    def save(self) -> None:
        """Write the data of the files read this time (older entries dropped), when it changed."""
        if not self.changed and set(self.used) == set(self.data):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(self.path, json.dumps({"version": self.VERSION, "maps": self.used}))
        except OSError:          # read-only or full: parsed again next start
            pass


def _is_union_tag(x) -> bool:
    """Pydantic puts the tried union member ('str', 'tuple[...]', 'Anchored') in error paths."""
    return isinstance(x, str) and (x in ("str", "Anchored", "RegionRef") or x.startswith(("tuple[", "function-")))


def parse_map(path: Path) -> tuple[MuscleMap | None, list[Problem], bytes]:
    """One map file -> (map or None, problems, raw bytes). Never raises for bad content:
    a FIFO, a device, a huge, deep or alias-bombed file is a Problem like any other."""
    m, problems, raw, _node = read_map(path)
    return m, problems, raw


def _compose(text: str):
    """The document's node tree and its Python data, from one parse (the node tree gives the
    line numbers of problems found later)."""
    node = yaml.compose(text, Loader=_Loader)
    return node, (_Loader("").construct_document(node) if node is not None else None)


def read_map(path: Path, cache: ParseCache | None = None):
    """`parse_map` plus the file's YAML node tree: (map or None, problems, raw bytes, node).
    With a `cache`, a file whose bytes were parsed before and gave a valid map is not parsed
    again (node None: `MapSet.line` parses it if a line is asked for)."""
    path = Path(path)
    try:
        raw = safeio.read_regular(path, MAX_MAP_BYTES, "map file")
        key = hashlib.sha256(raw).hexdigest()
        data = cache.get(key) if cache is not None else None
        if data is not None:
            m, problems = _validate(path, None, data)
            if m is not None and not problems:
                return m, [], raw, None
        text = safeio.decode_text(raw, path, what="map file")   # UTF-8, with a BOM, or UTF-16
        safeio.check_yaml_shape(text, path)
    except ViewerError as exc:
        return None, [Problem(path, None, "", _strip_path(str(exc), path))], b"", None
    try:
        node, data = _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return None, [Problem(path, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")], raw, None
    except (RecursionError, MemoryError):
        return None, [Problem(path, None, "", "too deeply nested or too large to read")], raw, None
    if not isinstance(data, dict):
        return None, [Problem(path, 1, "", "expected a mapping of fields (id, name, zones, ...)")], raw, node
    try:
        m, problems = _validate(path, node, data)
        if cache is not None and m is not None and not problems:
            cache.put(key, data)
        return m, problems, raw, node
    except (RecursionError, MemoryError):
        return None, [Problem(path, None, "", "too deeply nested or too large to check")], raw, node


def _strip_path(msg: str, path: Path) -> str:
    prefix = f"{path}: "
    return msg[len(prefix):] if msg.startswith(prefix) else msg


def _validate(path: Path, root, data: dict):
    try:
        m = MuscleMap.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:20]:   # a garbage file can have thousands; the first ones say enough
            loc = tuple(x for x in err["loc"] if not _is_union_tag(x))
            msg = err["msg"]
            if isinstance(err.get("input"), dict) and "string" in msg:
                msg += " (this text was read as a mapping because it contains ': '; put it in quotes)"
            problems.append(Problem(path, node_line(root, loc), ".".join(map(str, loc)) or "(file)", msg))
        return None, problems
    problems = [Problem(path, node_line(root, loc), ".".join(map(str, loc)), msg) for loc, msg in cross_check(m)]
    return (None if problems else m), problems


def load_maps(user_dir: str | Path | None = None, builtin_dir: Path | None = None,
              files: list[Path] | None = None, cache: ParseCache | None = None) -> MapSet:
    """Built-in maps of every kind plus a user's maps; a broken user file is reported and skipped.

    Parameters
    ----------
    user_dir : path, optional
        A folder of the user's maps (any kind).
    builtin_dir : path, optional
        One folder replacing the built-in maps (tests); default every kind's folder.
    files : list of path, optional
        Exactly these files (``validate FILE ...``), no built-ins and no user folder.
    cache : ParseCache, optional
        Parsed data of files read before (the window's start); saved at the end.
    """
    if files is not None:
        paths = list(files)
    elif builtin_dir is not None:
        paths = sorted(Path(builtin_dir).glob("*.yaml"))
    else:
        root = config.builtin_maps_dir()
        paths = [p for folder in KIND_FOLDERS.values() for p in sorted((root / folder).glob("*.yaml"))]
    n_builtin = len(paths) if files is None else 0
    user = config.user_maps_dir(user_dir)
    out = MapSet()
    if files is None and user is not None:
        if user.is_dir():
            found = sorted(user.glob("*.yaml")) + sorted(user.glob("*.yml"))
            if len(found) > MAX_USER_MAPS:
                out.problems.append(Problem(user, None, "", f"{len(found)} map files; only the first "
                                                            f"{MAX_USER_MAPS} are read"))
            paths += found[:MAX_USER_MAPS]
        else:
            out.problems.append(Problem(user, None, "", "the user maps folder does not exist"))
    h = hashlib.sha256()
    builtin_names: dict[str, Path] = {}     # lower-case id/FMA/name/alias of built-ins -> file
    for i, path in enumerate(paths):
        m, problems, raw, node = read_map(path, cache)
        out.problems += problems
        if m is None:
            continue
        if m.id in out.files:
            out.problems.append(Problem(path, 1, "id", f"duplicate id {m.id}, already defined in "
                                                        f"{out.files[m.id]}; this file is skipped"))
            continue
        if i >= n_builtin:
            # built-ins may share a group alias ("quads"); a user map may not take any name of
            # a built-in, or the built-in would become unreachable by that name
            clash = next(((f, v) for f, v in _names_of(m) if name_key(v) in builtin_names), None)
            if clash is not None:
                fld, value = clash
                out.problems.append(Problem(
                    path, node_line(node, tuple(int(x) if x.isdigit() else x for x in fld.split("."))), fld,
                    f"{value!r} is already used by the built-in map {builtin_names[name_key(value)].name} "
                    "(names are compared as the name search compares them: ignoring case, spaces, "
                    "underscores and a word 'muscle'); "
                    "a user map needs its own id, FMA id, name and aliases; this file is skipped"))
                continue
        else:
            for _f, value in _names_of(m):
                builtin_names.setdefault(name_key(value), path)
        out.maps.append(m)
        out.nodes[m.id] = node
        out.files[m.id] = path
        out.hashes[m.id] = hashlib.sha256(raw).hexdigest()
        h.update(path.name.encode() + b"\0" + raw + b"\0")
    out.digest = h.hexdigest()
    out.n_builtin = n_builtin
    if cache is not None:
        cache.save()
    return out


def name_key(value: str) -> str:
    """The key the name search (viewer.referral.search.resolve) matches a name by, and the
    user-map clash check compares names by: case, spaces, underscores and a word "muscle" ignored."""
    return normalize(value.strip().lower())


def _names_of(m: MuscleMap):
    """(field, value) of every name a user can find this muscle by."""
    yield "id", m.id
    yield "name", m.name
    for i, a in enumerate(m.aliases):
        yield f"aliases.{i}", a
    for i, a in enumerate(m.also_fma):
        yield f"also_fma.{i}", a


@dataclass
class Landmark:
    name: str
    side: str           # right | midline
    description: str
    point: tuple[float, float, float] | None


def load_landmarks(path: Path | None = None) -> dict[str, Landmark]:
    """The named skin points of ``landmarks.yaml``; a ViewerError naming the file when damaged."""
    path = path or config.builtin_maps_dir() / "landmarks.yaml"
    data, _ = safeio.load_yaml(path, what="landmarks file")
    try:
        out = {}
        for name, v in data["landmarks"].items():
            pt = v.get("point")
            if pt is not None:
                pt = tuple(float(x) for x in pt)
                if len(pt) != 3 or not all(abs(x) < 3000 for x in pt):   # also refuses NaN
                    raise ValueError(f"landmark {name!r}: point must be [x, y, z] in mm, |x| < 3000")
            out[name] = Landmark(str(name), v["side"], v.get("description", ""), pt)
        return out
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ViewerError(f"the landmarks file is damaged ({type(exc).__name__}: {exc}).", path=path,
                          fix="restore it from the release (or `git checkout referral_maps/`).") from None


@dataclass
class RegionDef:
    name: str
    side: str
    label: str
    seeds: list[str]


def load_regions(path: Path | None = None) -> dict[str, RegionDef]:
    """The skin regions of ``regions.yaml``; a ViewerError naming the file when damaged."""
    path = path or config.builtin_maps_dir() / "regions.yaml"
    data, _ = safeio.load_yaml(path, what="regions file")
    try:
        return {str(n): RegionDef(str(n), v["side"], str(v["label"]), [str(x) for x in v["seeds"]])
                for n, v in data["regions"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ViewerError(f"the regions file is damaged ({type(exc).__name__}: {exc}).", path=path,
                          fix="restore it from the release (or `git checkout referral_maps/`).") from None


def file_digest(*paths: Path) -> str:
    """SHA-256 of the files' bytes, in order (a cache key)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()
