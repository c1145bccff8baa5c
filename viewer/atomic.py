"""Crash-safe writes: write beside the target, fsync, then rename over it.

- A symlink is followed: the file it points at is replaced, the link stays.
- An existing file keeps its permission bits (a 0644 file stays 0644).
- The temp file is named ``.<name>.<pid>-<random>.tmp``; a write removes such
  files of the same target whose process is gone (left by a kill -9), so no
  temp file outlives the next save.
- A new file gets the user's umask mode (0644 with the usual umask 022).
- Every failure (full disk, read-only folder, short write, a symlink to a file of
  another kind) is a `WriteError`: one paragraph naming the file and the fix, and
  the old file is untouched. It is both a `ViewerError` and an `OSError`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import stat
from pathlib import Path

from viewer.errors import ExistingOutput, ViewerError


class WriteError(ViewerError, OSError):
    """A file could not be written; the previous file (if any) is unchanged."""

    def __str__(self) -> str:   # the paragraph, not OSError's "[Errno 28] ..." once errno is set
        return self.args[0] if self.args else ""


_FIXES = {
    errno.ENOSPC: ("the disk is full", "free some disk space, or write to another disk."),
    errno.EDQUOT: ("the disk quota is used up", "free some space, or write to another disk."),
    errno.EROFS: ("the folder is on a read-only file system", "write to a folder you can change."),
    errno.EACCES: ("permission denied", "write to a folder you can change, or fix its permissions."),
    errno.EPERM: ("permission denied", "write to a folder you can change, or fix its permissions."),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "give a path inside a folder."),
    errno.EISDIR: ("it is a folder", "give a file name."),
    errno.ELOOP: ("the path is a symlink loop", "give a path without looping symlinks."),
    errno.ENAMETOOLONG: ("the name is too long", "give a shorter file name."),
}


def write_error(path, exc: OSError) -> WriteError:
    """The one paragraph for an OSError raised while writing `path`."""
    what, fix = _FIXES.get(exc.errno, (exc.strerror or str(exc), "check the folder and try again."))
    err = WriteError(f"cannot write this file: {what} ({exc.strerror or exc}); nothing was changed.",
                     path=path, fix=fix)
    err.errno, err.strerror = exc.errno, exc.strerror
    return err


def kind_of(head: bytes) -> str:
    """What a file holds, from its first bytes: png, pdf, zip (npz), or text."""
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK"):
        return "zip"
    return "text"


def _check_link(path: Path, data: bytes) -> None:
    """Refuse to write through a symlink onto something that is not a regular file of
    the same kind (`innocent.png` -> `notes.txt` must not turn the notes into PNG bytes)."""
    if not path.is_symlink():
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return   # a dangling link: its target is created
    except OSError as exc:
        raise write_error(path, exc) from None
    real = os.path.realpath(path)
    if not stat.S_ISREG(st.st_mode):
        raise WriteError(f"this is a symlink to {real}, which is not a regular file; nothing was written.",
                         path=path, fix="remove the link or give another file name.")
    try:
        with open(real, "rb") as fh:
            head = fh.read(8)
    except OSError:
        head = b""
    other_suffix = Path(real).suffix.lower() != path.suffix.lower()   # session.json -> notes.txt
    if head and (kind_of(head) != kind_of(data[:8]) or other_suffix):
        what = f"a {kind_of(head)} file" if kind_of(head) != kind_of(data[:8]) else \
            f"a {Path(real).suffix or 'suffix-less'} file"
        raise WriteError(f"this is a symlink to {real}, {what}; writing a {path.suffix or kind_of(data[:8])} "
                         "file through it would destroy it, so nothing was written.", path=path,
                         fix="remove the link or give another file name.")


def _target(path: Path) -> Path:
    """The real file to replace: follow symlinks (also dangling ones, to their target path)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(path: str | os.PathLike) -> list[Path]:
    """Remove temp files of `path` left by writers that were killed. Returns what was removed."""
    path = _target(Path(path))
    pat = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)-[0-9a-f]{{8}}\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for e in entries:
        m = pat.match(e.name)
        if m and e.is_file(follow_symlinks=False) and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(e.path)
                removed.append(Path(e.path))
            except OSError:
                pass
    return removed


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace `path` with `data` atomically (see the module docstring).

    Raises
    ------
    WriteError
        (an OSError and a ViewerError) the folder cannot be written (read-only, full
        disk, short write); the old file and its mode are untouched.
    """
    given = Path(path)
    try:
        _check_link(given, data)
        path = _target(given)
        path.parent.mkdir(parents=True, exist_ok=True)
    except WriteError:
        raise
    except (OSError, RuntimeError) as exc:   # RuntimeError: Path's "Symlink loop"
        raise write_error(given, exc if isinstance(exc, OSError) else OSError(errno.ELOOP, str(exc))) from None
    clean_stale(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~current_umask()
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise write_error(given, exc) from None
    try:
        try:
            view = memoryview(data)
            done = 0
            while done < len(view):   # os.write may write less than asked: never take that for success
                n = os.write(fd, view[done:])
                if n <= 0:
                    raise OSError(errno.ENOSPC, "short write: the disk took only part of the file")
                done += n
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.getsize(tmp) != len(data):
            raise OSError(errno.EIO, f"short write: {os.path.getsize(tmp)} of {len(data)} bytes")
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise write_error(given, exc) from None
        raise
    try:   # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def current_umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def refuse_overwrite(path, name: str = "out", force: bool = False) -> None:
    """Refuse to replace an existing output unless `force` (the API's and the CLI's rule).

    Parameters
    ----------
    path : path-like
        The output about to be written.
    name : str
        The argument named in the error (the CLI renames it to its flag).
    force : bool
        Replace an existing file.

    Raises
    ------
    ExistingOutput
        `path` exists (or is a symlink) and `force` is false.
    """
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not force:
        raise ExistingOutput(f"{path} already exists; nothing was written.", [path], path=name)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")
