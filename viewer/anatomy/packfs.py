"""The pack folder's housekeeping: one build at a time, delete only what we made, checksums.

- `build_lock(root)`: an exclusive `flock` on ``root/.build.lock``, so two builds
  run one after the other instead of removing each other's working folders.
- Working folders (``.building-XXXX``) and packs (``pack-<key12>-<6 hex>``) get a
  marker file when they are created; cleaning removes a folder only if its name
  matches the exact pattern *and* it holds the marker, so ``--meshes ~/Pictures``
  never loses ``pack-photos/``.
- `checksums` / `verify`: SHA-256 of every pack file in the manifest, checked on
  load (a damaged pack is one clear paragraph) and by `build` (which rebuilds).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from viewer.errors import ViewerError
from viewer.safeio import load_json, open_regular

log = logging.getLogger(__name__)

MARKER = ".referral-viewer-pack"
LOCK = ".build.lock"
PACK_RE = re.compile(r"^pack-[0-9a-f]{12}-[0-9a-f]{6}$")
WORK_RE = re.compile(r"^\.building-[A-Za-z0-9_]{4,16}$")
PACK_FILES = ("skin.npz", "muscles.npz", "muscles_display.npz", "bones.npz", "bones_display.npz")
REQUIRED_FILES = ("skin.npz", "muscles.npz")   # the others are optional in older packs


@contextlib.contextmanager
def build_lock(root: Path, say=None):
    """Hold the pack folder's build lock (blocking; tells the user when it has to wait)."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise ViewerError(f"cannot write to the pack folder ({exc.strerror or exc}).", path=root,
                          fix="make it writable, or build the pack in another meshes folder.") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if say:
                say(f"another build is running in {root}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)   # releases the lock; the (empty) lock file stays, harmlessly


def new_workdir(root: Path) -> Path:
    """A fresh working folder for one build, marked as ours."""
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        (tmp / MARKER).write_text(f"referral-viewer build working folder, pid {os.getpid()}\n")
    except BaseException:   # full disk: no marker, so remove the folder now (it is empty but for the marker)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def is_ours(path: Path, pattern: re.Pattern) -> bool:
    path = Path(path)
    if not (pattern.fullmatch(path.name) and path.is_dir() and not path.is_symlink()):
        return False
    if (path / MARKER).is_file():
        return True
    if pattern is PACK_RE:   # packs built before the marker existed: their manifest names the key
        try:
            key = load_json(path / "manifest.json", what="pack manifest", max_bytes=20_000_000).get("key", "")
            return isinstance(key, str) and key[:12] == path.name[5:17]
        except (ViewerError, OSError, ValueError, AttributeError):
            return False
    return False


def clean_stale(root: Path) -> list[Path]:
    """Remove working folders left by killed builds. Call with the build lock held:
    then no other build is running, so every working folder of ours is stale."""
    removed = []
    for p in Path(root).glob(".building-*"):
        if is_ours(p, WORK_RE):
            log.info("removing the working folder of an interrupted build: %s", p)
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def remove_old_packs(root: Path, keep: Path) -> None:
    """Remove the packs this app built before `keep` (never anything unmarked)."""
    for p in Path(root).glob("pack-*"):
        if p.name != Path(keep).name and is_ours(p, PACK_RE):
            log.info("removing the previous pack %s", p)
            shutil.rmtree(p, ignore_errors=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path, "pack file") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checksums(pack_dir: Path) -> dict[str, dict]:
    """{file: {"sha256", "bytes"}} of the pack's array files, for the manifest."""
    out = {}
    for name in PACK_FILES:
        p = Path(pack_dir) / name
        if p.is_file():
            out[name] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
    return out


def problems(pack_dir: Path, manifest: dict) -> list[str]:
    """What is wrong with the pack's files ([] when sound).

    Files with checksums in the manifest are checked against them; files the
    manifest has no checksum for (older packs: every file, or the bones before
    they were checksummed) are checked by opening every array."""
    pack_dir = Path(pack_dir)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    files = files if isinstance(files, dict) else {}
    out = []
    for name, entry in files.items():
        p = pack_dir / str(name)
        if not isinstance(entry, dict) or not p.is_file():
            out.append(f"{name} is missing")
        elif p.stat().st_size != entry.get("bytes") or sha256_file(p) != entry.get("sha256"):
            out.append(f"{name} is damaged (its checksum differs from the manifest)")

    for name in PACK_FILES:
        if name in files:
            continue
        p = pack_dir / name
        if not p.exists():
            if name in REQUIRED_FILES and not files:
                out.append(f"{name} is missing")
            continue
        try:
            with np.load(p, allow_pickle=False) as z:
                for k in z.files:
                    z[k]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            out.append(f"{name} is damaged ({type(exc).__name__})")
    return out


def damaged(pack_dir: Path, what: str) -> ViewerError:
    """The one paragraph every part of the app shows for a damaged pack."""
    return ViewerError(f"The mesh pack is damaged: {what}.", path=pack_dir,
                       fix="rebuild it with `referral-viewer build` (it notices the damage and rebuilds; "
                           "give it the anatomy source, e.g. ../shared/anatomy or the official download, if none is set).")


def check_manifest(m, pack_dir: Path) -> dict:
    """The manifest's shape, so a hand-edited or truncated one is a clear error, not a KeyError."""
    def need(cond, what):
        if not cond:
            raise damaged(pack_dir, f"manifest.json {what}")

    need(isinstance(m, dict), "is not a JSON object")
    need(isinstance(m.get("key"), str) and len(m["key"]) >= 12, "has no pack key")
    parts = m.get("parts")
    need(isinstance(parts, list) and parts, "has no parts list")
    for i, e in enumerate(parts):
        need(isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("id", "name", "base", "side",
                                                                            "region")),
             f"parts[{i}] lacks id, name, base, side or region")
        need(isinstance(e.get("aliases", []), list), f"parts[{i}].aliases is not a list")
    organs = m.get("organs", [])
    need(isinstance(organs, list), "organs is not a list")
    for i, e in enumerate(organs):
        need(isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("id", "name", "base", "side")),
             f"organs[{i}] lacks id, name, base or side")
    skin = m.get("skin")
    need(isinstance(skin, dict) and all(isinstance(skin.get(k), int) for k in ("vertices", "faces")),
         "has no skin vertex and face counts")
    need(isinstance(m.get("frame"), dict), "has no frame")
    need(isinstance(m.get("registration"), dict), "has no registration")
    return m
