"""Reading untrusted files: regular files only, size and nesting caps, YAML alias cap.

Every loader of user-supplied or rebuildable data (maps, landmarks, regions,
sessions, points files, pack manifests) goes through here, so a FIFO, a
symlink to /dev/zero, a 100,000-bracket document or a YAML alias bomb gives a
`ViewerError` naming the file instead of a hang, a MemoryError or a segfault.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import yaml

from viewer.errors import ViewerError

MAX_YAML_BYTES = 1_000_000       # a real map is < 10 KB, landmarks.yaml ~ 14 KB
MAX_JSON_BYTES = 50_000_000      # sessions with a full-body drawing are < 1 MB
MAX_DEPTH = 40                   # nesting of lists/mappings; real files use < 10
MAX_ALIASES = 50                 # YAML aliases (*name); real maps use none

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: ~10x faster


def read_regular(path, max_bytes: int, what: str = "file") -> bytes:
    """Bytes of a regular file no larger than max_bytes.

    Opens without blocking (a FIFO would wait forever for a writer) and checks
    the opened file itself, so a symlink to a device or a FIFO is refused.

    Raises
    ------
    ViewerError
        Not a regular file, too large, or unreadable; the message names the file.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ViewerError(f"cannot read the {what} ({exc.strerror or exc}).", path=path,
                          fix="check that the file exists and is readable.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ViewerError(f"the {what} is not a regular file (a folder, device, FIFO or socket).",
                              path=path, fix="give a plain file.")
        if st.st_size > max_bytes:
            raise ViewerError(f"the {what} is {st.st_size:,} bytes, more than the {max_bytes:,} allowed.",
                              path=path, fix="give the right file; this one is far too large.")
        chunks, n = [], 0
        while True:   # read to EOF but never past the cap (the file may grow while we read)
            b = os.read(fd, min(1 << 20, max_bytes + 1 - n))
            if not b:
                break
            chunks.append(b)
            n += len(b)
            if n > max_bytes:
                raise ViewerError(f"the {what} is more than {max_bytes:,} bytes.", path=path,
                                  fix="give the right file; this one is far too large.")
        return b"".join(chunks)
    except OSError as exc:
        raise ViewerError(f"cannot read the {what} ({exc.strerror or exc}).", path=path,
                          fix="check that the file is readable.") from None
    finally:
        os.close(fd)


def check_yaml_shape(text: str, path, max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES) -> None:
    """Refuse deep nesting and alias bombs before building any objects.

    The event stream is produced iteratively by libyaml, so this never recurses,
    whereas composing a 100,000-deep document overflows the C stack.
    """
    depth = aliases = 0
    try:
        for ev in yaml.parse(text, Loader=_YamlLoader):
            if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > max_depth:
                    raise ViewerError(f"lists and mappings are nested more than {max_depth} deep "
                                      f"(line {ev.start_mark.line + 1}).", path=path,
                                      fix="see referral_maps/README.md for the file format.")
            elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            elif isinstance(ev, yaml.AliasEvent):
                aliases += 1
                if aliases > max_aliases:
                    raise ViewerError(f"more than {max_aliases} YAML aliases (*name) (line "
                                      f"{ev.start_mark.line + 1}).", path=path,
                                      fix="write the repeated parts out instead of aliasing them.")
    except yaml.YAMLError:
        return   # the real parse reports syntax errors with their line


def load_yaml(path, *, what: str = "YAML file", max_bytes: int = MAX_YAML_BYTES):
    """Parse a YAML file safely (see module docstring); returns (data, text).

    Raises
    ------
    ViewerError
        Unreadable, too large, too deep, too many aliases, not UTF-8 or not valid YAML.
    """
    raw = read_regular(path, max_bytes, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ViewerError(f"the {what} is not UTF-8 text ({exc.reason} at byte {exc.start}).", path=path,
                          fix="save it as UTF-8.") from None
    check_yaml_shape(text, path)
    try:
        return yaml.load(text, Loader=_YamlLoader), text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ViewerError(f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}.", path=path,
                          fix="fix the syntax (see referral_maps/README.md).") from None
    except (RecursionError, MemoryError):
        raise ViewerError(f"the {what} is too deeply nested or too large to read.", path=path,
                          fix="give the right file.") from None


def load_json(path, *, what: str = "JSON file", max_bytes: int = MAX_JSON_BYTES, fix: str | None = None):
    """Parse a JSON file safely (regular file, size cap, no RecursionError escapes).

    Raises
    ------
    ViewerError
        Unreadable, too large, too deeply nested or not valid JSON.
    """
    raw = read_regular(path, max_bytes, what)
    return parse_json(raw, path, what=what, fix=fix)


def parse_json(raw: bytes | str, path, *, what: str = "JSON file", fix: str | None = None):
    """json.loads with the app's error: NaN/Infinity literals, deep nesting and bad UTF-8 refused."""
    def no_constants(name):
        raise ValueError(f"{name} is not allowed")

    def finite(s):
        x = float(s)
        if not math.isfinite(x):
            raise ValueError(f"the number {s[:20]} is out of range")
        return x

    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=no_constants, parse_float=finite)
    except UnicodeDecodeError as exc:
        raise ViewerError(f"the {what} is not UTF-8 text ({exc.reason}).", path=path,
                          fix=fix or "save it as UTF-8 JSON.") from None
    except ValueError as exc:
        raise ViewerError(f"the {what} is not valid JSON ({exc}).", path=path,
                          fix=fix or "check the file's syntax.") from None
    except (RecursionError, MemoryError):
        raise ViewerError(f"the {what} is nested too deeply or too large to read.", path=path,
                          fix=fix or "give the right file.") from None
