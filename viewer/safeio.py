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

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: ~10x faster


class _YamlLoader(_BaseLoader):
    """The safe loader, stricter: a key given twice in one mapping is an error (YAML
    says keys are unique; PyYAML silently kept the last), and `!!binary`, `!!set`,
    `!!omap`, `!!pairs` values, which no file of ours uses, are refused."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    k = key_node.value
                    if k in seen:
                        raise yaml.constructor.ConstructorError(
                            "while reading a mapping", node.start_mark,
                            f"the key {k!r} is given twice (first on line {seen[k] + 1})",
                            key_node.start_mark)
                    seen[k] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _refuse_tag(loader, node):
    raise yaml.constructor.ConstructorError(None, None, f"{node.tag.rsplit(':', 1)[-1]} values "
                                            f"({node.tag}) are not allowed", node.start_mark)


for _tag in ("binary", "set", "omap", "pairs"):
    _YamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def decode_text(raw: bytes, path, *, what: str = "file", fix: str | None = None) -> str:
    """Text of a file as an editor may save it: UTF-8 (with or without a BOM) or UTF-16
    (with a BOM, or without one when every other byte is zero). A lone surrogate or
    other undecodable bytes are a ViewerError naming the file."""
    enc = "utf-8"
    if raw.startswith(b"\xef\xbb\xbf"):
        enc, raw = "utf-8", raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")) and not raw.startswith(b"\xff\xfe\x00\x00"):
        enc = "utf-16"
    elif len(raw) >= 4 and len(raw) % 2 == 0:
        # no BOM: ASCII-range text saved as UTF-16 has a zero in every other byte
        if raw[1::2].count(0) > len(raw) * 0.4 and raw[0::2].count(0) == 0:
            enc = "utf-16-le"
        elif raw[0::2].count(0) > len(raw) * 0.4 and raw[1::2].count(0) == 0:
            enc = "utf-16-be"
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as exc:
        raise ViewerError(f"the {what} is not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start}).",
                          path=path, fix=fix or "save it as UTF-8.") from None
    return text.lstrip("\ufeff")


def _open_nonblocking(path: Path, what: str) -> int:
    """A read-only descriptor opened without blocking (a FIFO would wait forever for a writer)."""
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ViewerError(f"cannot read the {what} ({exc.strerror or exc}).", path=path,
                          fix="check that the file exists and is readable.") from None


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
    fd = _open_nonblocking(path, what)
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


def open_regular(path, what: str = "file"):
    """A binary file object for a regular file (no size cap: for checksumming sources).
    A FIFO, a device such as /dev/zero, or a folder is a ViewerError, never a hang."""
    path = Path(path)
    fd = _open_nonblocking(path, what)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ViewerError(f"the {what} is not a regular file (a folder, device, FIFO or socket).",
                          path=path, fix="give a plain file.")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


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
    text = decode_text(raw, path, what=what)
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

    def unique(pairs):
        out = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"the key {k[:40]!r} is given twice in one object")
            out[k] = v
        return out

    text = decode_text(raw, path, what=what, fix=fix or "save it as UTF-8 JSON.") \
        if isinstance(raw, bytes) else raw
    try:
        return json.loads(text, parse_constant=no_constants, parse_float=finite, object_pairs_hook=unique)
    except ValueError as exc:
        raise ViewerError(f"the {what} is not valid JSON ({exc}).", path=path,
                          fix=fix or "check the file's syntax.") from None
    except (RecursionError, MemoryError):
        raise ViewerError(f"the {what} is nested too deeply or too large to read.", path=path,
                          fix=fix or "give the right file.") from None
