"""Where the anatomy comes from: a local folder, the pinned downloads, or those with
the BodyParts3D 4.0 elements taken from DBCLS's official archive (local or downloaded)."""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path


from viewer.anatomy import download as dl
from viewer.anatomy.download import (bp30_list_text, check_cache_dir, elements_list_text, pinned_element_rows,
                                     retrieve)
from viewer.config import cache_dir
from viewer.errors import ViewerError
from viewer.safeio import open_regular

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
BP30_DIR = "bodyparts3d-3.0"   # BodyParts3D 3.0 muscles and five organs (optional)


@dataclass
class Source:
    kind: str                      # "folder" | "official" (4.0 elements from the archive)
    files: dict[str, Path]         # role -> path ("skin", "muscles" | "archive")
    sha256: dict[str, str]         # role -> sha256 of the file
    origin: str                    # what the user gave


def check_pinned_file(path: Path, what: str, sha256: str, source_hint: str, verify: bool = True) -> None:
    """A pinned source file must be there and match its checksum (unless `verify` is off);
    a ViewerError naming the file and what to do otherwise. `what` names the file for the
    message ("the BodyParts3D 4.0 element FJ1431"), `source_hint` where its source is listed."""
    if not path.is_file():
        raise ViewerError(f"{what[:1].upper() + what[1:]} is missing.", path=path,
                          fix=f"restore it (its source is in {source_hint}) or build with no source given "
                              "to download it.")
    if verify and sha256_of(path) != sha256:
        raise ViewerError(f"Checksum mismatch for {what}: the file is damaged or a different version.",
                          path=path, fix="restore it from its source, or allow unverified sources if you "
                                         "changed it on purpose.")


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open_regular(path, "anatomy source file") as fh:   # a FIFO or /dev/zero: an error, not a hang
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def resolve(source: str | os.PathLike | None, *, sha256: str | None = None,
            verify: bool = True, progress: bool = True) -> Source:
    """Turn what the user gave (--source) into checked local files.

    No source: download exactly the files of the development folder from their
    pinned public homes (download.py). "official", a URL or a local copy of
    DBCLS's archive: the same skin, Z-Anatomy muscles and tables, with the
    BodyParts3D 4.0 elements read from the archive's OBJ files. Every source
    therefore builds the same pack frame, and the maps' landmarks fit any of them.
    """
    if source is None or str(source).strip() in ("", "download"):
        return _folder(dl.fetch_all(progress=progress), verify=verify)
    text = str(source)
    if text == "official":
        url = os.environ.get("REFERRAL_VIEWER_OFFICIAL_URL", OFFICIAL_URL)
        archive = download(url, expected_sha256=sha256 or OFFICIAL_SHA256, progress=progress)
        return _with_archive(archive, f"official ({url})", verify=verify, progress=progress)
    if text.startswith(("http://", "https://")):
        expected = sha256 or (OFFICIAL_SHA256 if text == OFFICIAL_URL else None)
        archive = download(text, expected_sha256=expected, progress=progress)
        return _with_archive(archive, text, verify=verify, progress=progress)
    path = Path(text).expanduser()
    if not path.exists():
        raise ViewerError("The anatomy source does not exist.", path=path,
                          fix="check the path (e.g. ../shared/anatomy), or use the official download.")
    if path.is_dir():
        return _folder(path, verify=verify)
    return _with_archive(path, text, verify=verify, progress=progress, expected_sha256=sha256)


def _with_archive(archive: Path, origin: str, *, verify: bool, progress: bool,
                  expected_sha256: str | None = None) -> Source:
    """The pinned skin, Z-Anatomy muscles and DBCLS tables (downloaded into the cache
    unless already there), with the 4.0 elements to be read from the archive."""
    digest = _check_archive(archive, expected_sha256=expected_sha256)   # before any download
    folder = _folder(dl.fetch_all(progress=progress, elements=False), verify=verify)
    folder.kind = "official"
    folder.files["archive"] = archive
    folder.sha256["archive"] = digest
    folder.origin = origin
    return folder


def _folder(path: Path, *, verify: bool) -> Source:
    files, sums = {}, {}
    for name, expected in FOLDER_FILES.items():
        f = path / name
        if not f.is_file():
            raise ViewerError(f"The source folder has no {name}.", path=path,
                              fix=f"give as the source a folder holding {' and '.join(FOLDER_FILES)} "
                                  "(like ../shared/anatomy) or at the official archive.")
        digest = sha256_of(f)
        if verify and digest != expected:
            raise ViewerError(
                f"Checksum mismatch: sha256 is {digest}, expected {expected}. "
                "The file is damaged or a different version.", path=f,
                fix="restore the original file, or allow unverified sources if you changed it on purpose.")
        role = "skin" if name.endswith(".obj") else "muscles"
        files[role], sums[role] = f, digest
    bp40 = path / BP40_DIR
    if (bp40 / "tables" / "isa_element_parts.txt").is_file():
        # The pinned element list holds every element's sha256 (checked when
        # read), so it and the tables stand for the whole folder in the pack key.
        h = hashlib.sha256(elements_list_text().encode())
        for f in sorted((bp40 / "tables").glob("*.txt")):
            h.update(f.name.encode() + sha256_of(f).encode())
        files["bp40"], sums["bp40"] = bp40, h.hexdigest()
    bp30 = path / BP30_DIR
    if bp30.is_dir():
        # every file's sha256 is in the pinned list (checked when read): the list
        # stands for the folder in the pack key
        files["bp30"], sums["bp30"] = bp30, hashlib.sha256(bp30_list_text().encode()).hexdigest()
    return Source("folder", files, sums, str(path))


def _check_archive(path: Path, *, expected_sha256: str | None) -> str:
    """The archive's sha256 (read once: it is ~136 MB) after checking it against the
    expected one, that it is a zip, and that it holds every pinned element."""
    digest = sha256_of(path)
    if expected_sha256 and digest != expected_sha256.lower():
        raise ViewerError(f"Checksum mismatch: sha256 is {digest}, expected {expected_sha256}.",
                          path=path, fix="download the archive again; if DBCLS released a new "
                                         "version, give its checksum (sha256).")
    if not zipfile.is_zipfile(path):
        raise ViewerError("This is not a zip archive.", path=path,
                          fix=f"give the official {ARCHIVE_NAME} or a folder like ../shared/anatomy.")
    # Every pinned element must be there: checked now, before the long build
    # steps, so a wrong or truncated archive fails at once and names a file.
    try:
        with zipfile.ZipFile(path) as zf:
            have = {Path(n).stem for n in zf.namelist() if n.lower().endswith(".obj")}
    except (zipfile.BadZipFile, OSError) as exc:
        raise ViewerError(f"The archive is damaged ({exc}).", path=path,
                          fix="download it again, or build from the official download.") from None
    wanted = [r["element_file_id"] for r in pinned_element_rows()]
    missing = [w for w in wanted if w not in have]
    if missing:
        more = f" (and {len(missing) - 1} more of the {len(wanted)} pinned elements)" if len(missing) > 1 else ""
        raise ViewerError(f"The archive has no element file {missing[0]}.obj{more}; it is not "
                          f"BodyParts3D 4.0's {ARCHIVE_NAME}, or it is truncated.", path=path,
                          fix="download the official archive again (or build from the official download), or "
                              "pass a folder like ../shared/anatomy.")
    return digest


def download(url: str, *, expected_sha256: str | None, progress: bool = True,
             dest_dir: Path | None = None, timeout: float = 60.0) -> Path:
    """Download to the cache with pooch (temporary name first, checksum checked,
    a cached copy with the right checksum reused) and return the file."""
    # lazy: pooch ~0.13 s, tqdm ~0.04 s (-X importtime): only a download needs them
    import pooch

    dest_dir = Path(dest_dir or cache_dir())
    check_cache_dir(dest_dir)
    name = Path(url.split("?")[0]).name or "download.zip"
    bar = False
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="B", unit_scale=True, desc=f"downloading {name}")
    try:
        return retrieve(url, expected_sha256, dest_dir / name,
                        downloader=pooch.HTTPDownloader(progressbar=bar, timeout=timeout),
                        mismatch="The download is damaged or the file changed.",
                        fix_mismatch="try again; if DBCLS released a new version, give its checksum "
                                     "(sha256).",
                        fix_failed="check the network, or download the archive by hand and give "
                                   "as the source its path, /path/to/" + ARCHIVE_NAME)
    finally:
        if bar is not False:
            bar.close()
