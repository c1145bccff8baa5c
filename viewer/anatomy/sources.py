"""Where the anatomy comes from: a local folder, the official archive (local or downloaded)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path


from viewer.config import cache_dir
from viewer.errors import ViewerError

OFFICIAL_URL = "https://dbarchive.biosciencedbc.jp/data/bodyparts3d/LATEST/isa_BP3D_4.0_obj_99.zip"
# SHA-256 of isa_BP3D_4.0_obj_99.zip as recorded by an independent anatomy
# pipeline that pins the same file; re-verify when DBCLS publishes a new release.
OFFICIAL_SHA256 = "40665852c49f218326590e204db91064a1ecfc3c6f8cbd7bbbcaac62c7cd409e"
ARCHIVE_NAME = "isa_BP3D_4.0_obj_99.zip"

# The development folder (shared/anatomy): file name -> expected sha256.
FOLDER_FILES = {
    "skin_bodyparts3d.obj": "4c7fc2bccdbaf1131128ce753fed24a8577d2c985e55eadef14c264887c0e18f",
    "muscles_zanatomy.glb": "78f5fb7e103dfab0fb228793a6314ceb2abe8673b07ec8259ac01d42ffc6c09a",
}


BP40_DIR = "bodyparts3d-4.0"   # BodyParts3D 4.0 bones and muscles (optional)


@dataclass
class Source:
    kind: str                      # "folder" | "archive"
    files: dict[str, Path]         # role -> path ("skin", "muscles" | "archive")
    sha256: dict[str, str]         # role -> sha256 of the file
    origin: str                    # what the user gave


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def resolve(source: str | os.PathLike | None, *, sha256: str | None = None,
            verify: bool = True, progress: bool = True) -> Source:
    """Turn what the user gave (--source) into checked local files.

    No source: download exactly the files of the development folder from their
    pinned public homes (download.py). "official": the same skin and Z-Anatomy
    muscles, with the BodyParts3D 4.0 elements read from DBCLS's archive.
    """
    from viewer.anatomy import download as dl

    if source is None or str(source).strip() in ("", "download"):
        return _folder(dl.fetch_all(progress=progress), verify=verify)
    text = str(source)
    if text == "official":
        folder = _folder(dl.fetch_all(progress=progress, elements=False), verify=verify)
        url = os.environ.get("REFERRAL_VIEWER_OFFICIAL_URL", OFFICIAL_URL)
        archive = download(url, expected_sha256=sha256 or OFFICIAL_SHA256, progress=progress)
        folder.files["archive"] = archive
        folder.sha256["archive"] = sha256_of(archive)
        folder.origin = f"official ({url})"
        return folder
    if text.startswith(("http://", "https://")):
        expected = sha256 or (OFFICIAL_SHA256 if text == OFFICIAL_URL else None)
        path = download(text, expected_sha256=expected, progress=progress)
        return _archive(path, text, expected_sha256=None)
    path = Path(text).expanduser()
    if not path.exists():
        raise ViewerError("The anatomy source does not exist.", path=path,
                          fix="check the path, e.g. --source ../shared/anatomy, or use --source official.")
    if path.is_dir():
        return _folder(path, verify=verify)
    return _archive(path, text, expected_sha256=sha256)


def _folder(path: Path, *, verify: bool) -> Source:
    files, sums = {}, {}
    for name, expected in FOLDER_FILES.items():
        f = path / name
        if not f.is_file():
            raise ViewerError(f"The source folder has no {name}.", path=path,
                              fix=f"point --source at a folder holding {' and '.join(FOLDER_FILES)} "
                                  "(like ../shared/anatomy) or at the official archive.")
        digest = sha256_of(f)
        if verify and digest != expected:
            raise ViewerError(
                f"Checksum mismatch: sha256 is {digest}, expected {expected}. "
                "The file is damaged or a different version.", path=f,
                fix="restore the original file, or pass --allow-unverified if you changed it on purpose.")
        role = "skin" if name.endswith(".obj") else "muscles"
        files[role], sums[role] = f, digest
    bp40 = path / BP40_DIR
    if (bp40 / "tables" / "isa_element_parts.txt").is_file():
        # The pinned element list holds every element's sha256 (checked when
        # read), so it and the tables stand for the whole folder in the pack key.
        from viewer.anatomy.download import elements_list_text

        h = hashlib.sha256(elements_list_text().encode())
        for f in sorted((bp40 / "tables").glob("*.txt")):
            h.update(f.name.encode() + sha256_of(f).encode())
        files["bp40"], sums["bp40"] = bp40, h.hexdigest()
    return Source("folder", files, sums, str(path))


def _archive(path: Path, origin: str, *, expected_sha256: str | None) -> Source:
    digest = sha256_of(path)
    if expected_sha256 and digest != expected_sha256.lower():
        raise ViewerError(f"Checksum mismatch: sha256 is {digest}, expected {expected_sha256}.",
                          path=path, fix="download the archive again; if DBCLS released a new "
                                         "version, pass its checksum with --sha256.")
    if not zipfile.is_zipfile(path):
        raise ViewerError("This is not a zip archive.", path=path,
                          fix=f"give the official {ARCHIVE_NAME} or a folder like ../shared/anatomy.")
    return Source("archive", {"archive": path}, {"archive": digest}, origin)


def download(url: str, *, expected_sha256: str | None, progress: bool = True,
             dest_dir: Path | None = None, timeout: float = 60.0) -> Path:
    """Download to the cache atomically; reuse a cached copy whose checksum matches."""
    from tqdm import tqdm

    dest_dir = Path(dest_dir or cache_dir())
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / (Path(url.split("?")[0]).name or "download.zip")
    if dest.exists() and expected_sha256 and sha256_of(dest) == expected_sha256.lower():
        return dest
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest_dir)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {dest.name}",
                      disable=not progress) as bar:
                while block := resp.read(1 << 16):
                    out.write(block)
                    h.update(block)
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if expected_sha256 and digest != expected_sha256.lower():
            raise ViewerError(f"Checksum mismatch after download: sha256 is {digest}, expected "
                              f"{expected_sha256}. The download is damaged or the file changed.",
                              path=url, fix="try again; if DBCLS released a new version, pass its "
                                            "checksum with --sha256.")
        os.replace(tmp, dest)
        return dest
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise ViewerError(f"Download failed ({exc}).", path=url,
                          fix="check the network, or download the archive by hand and pass "
                              "--source /path/to/" + ARCHIVE_NAME) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
