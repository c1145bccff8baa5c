"""Download exactly the files the development folder (../shared/anatomy) holds,
from their public homes pinned by commit and checked by SHA-256, into the
user cache. pooch does the fetching: progress bar, checksum, skipping files
already present and intact, atomic writes (a partial download never takes a
file's place).

Layout of the cache folder, identical to ../shared/anatomy so the same build
code and the same pack key follow:

    skin_bodyparts3d.obj, muscles_zanatomy.glb,
    bodyparts3d-4.0/{bones,muscles}/FJxxxx.glb, bodyparts3d-4.0/tables/*.txt,
    bodyparts3d-3.0/{muscles,organs}/*.obj (list: data/bp3d30_files.csv)

REFERRAL_VIEWER_MIRROR replaces https://raw.githubusercontent.com (tests
point it at a local server that is laid out like that host).
"""

from __future__ import annotations

import csv
import os
import urllib.parse
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from viewer.config import cache_dir
from viewer.errors import ViewerError

GITHUB_RAW = "https://raw.githubusercontent.com"
BP40 = ("travong8-star/Trigger-point-month", "f866a2307592f160b77f3238c2493ec8ac6e63af")
SKIN = ("dbcls/bp3d", "1d8b09f7f62c4a01cf4f5de4ebb2d947b91dab46",
        "FMASearch_SegmentUI/htdocs/static/obj/body.obj",
        "4c7fc2bccdbaf1131128ce753fed24a8577d2c985e55eadef14c264887c0e18f")
ZANATOMY = ("travong8-star/Trigger-point-month", "b995dbbc3e6140b1333d4f1c3dd45c2db15b5c8c",
            "TrP_Muscles_web.glb",
            "78f5fb7e103dfab0fb228793a6314ceb2abe8673b07ec8259ac01d42ffc6c09a")
# DBCLS tables as kept in jpneylon/anatotree (tab separated, "concept_id" headers).
TABLES = {
    "isa_element_parts.txt": ("24e536d04b6782ec53b88993982c5ce777a505be",
                              "adf4f8c347ea19a309e3aadc6d100c1cc36676d61c54492bd4a45b4147949733"),
    "isa_inclusion_relation_list.txt": ("24e536d04b6782ec53b88993982c5ce777a505be",
                                        "d8822bbfb32c42cb967e1d8421bd126a3a663c39102c8ffe10f0eeb3982dee92"),
    "isa_parts_list_e.txt": ("24e536d04b6782ec53b88993982c5ce777a505be",
                             "ac287482e2f3679ca8739fbb9dd281622e14e80e55bb75bd46bece6f198c63f9"),
    "partof_element_parts.txt": ("1f02b38bce03112ea63c8600c6a30a81d57748b2",
                                 "0c54db9738eb9fed097a262a160e5cf95e7832ba5cd75482a016596f241fb920"),
    "partof_parts_list_e.txt": ("1f02b38bce03112ea63c8600c6a30a81d57748b2",
                                "837f522a55afc5c06a94cee1ce6ba510ffcdac04f8da126dc2c3d991f9a1d18f"),
}
ELEMENTS_LIST = "bp3d40_elements.csv"   # pinned element list: file, element id, sha256, upstream path
BP30_LIST = "bp3d30_files.csv"   # BodyParts3D 3.0 muscles and organs: local path, ids, sha256, repo, commit, path


@dataclass(frozen=True)
class Pinned:
    local: str        # path inside the cache folder
    repo: str
    commit: str
    path: str         # path inside the repository
    sha256: str


def mirror() -> str:
    return os.environ.get("REFERRAL_VIEWER_MIRROR", GITHUB_RAW).rstrip("/")


def elements_list_text() -> str:
    return resources.files("viewer.anatomy").joinpath("data", ELEMENTS_LIST).read_text(encoding="utf-8")


def bp30_list_text() -> str:
    return resources.files("viewer.anatomy").joinpath("data", BP30_LIST).read_text(encoding="utf-8")


def pinned_bp30_rows() -> list[dict]:
    """Rows of the pinned 3.0 list (see viewer/anatomy/bp3d30.py)."""
    return list(csv.DictReader(bp30_list_text().splitlines()))


def pinned_element_rows() -> list[dict]:
    """Rows of the pinned element list: file, element_file_id, sha256, upstream_path."""
    return list(csv.DictReader(elements_list_text().splitlines()))


def pinned_files() -> list[Pinned]:
    files = [Pinned("skin_bodyparts3d.obj", *SKIN), Pinned("muscles_zanatomy.glb", *ZANATOMY)]
    for name, (commit, sha) in TABLES.items():
        files.append(Pinned(f"bodyparts3d-4.0/tables/{name}", "jpneylon/anatotree", commit, f"tsv/{name}", sha))
    for row in pinned_element_rows():
        files.append(Pinned(f"bodyparts3d-4.0/{row['file']}", BP40[0], BP40[1], row["upstream_path"],
                            row["sha256"]))
    for row in pinned_bp30_rows():   # 3.0 muscles and organs, raw files by commit
        files.append(Pinned(row["local"], row["repo"], row["commit"], row["path"], row["sha256"]))
    return files


def url_of(f: Pinned, base: str | None = None) -> str:
    """Raw URL of a pinned file: <host>/<repo>/<commit>/<path>, the path URL-encoded
    (the 3.0 muscle files have spaces in their names)."""
    return f"{base or mirror()}/{f.repo}/{f.commit}/{urllib.parse.quote(f.path)}"


def check_cache_dir(folder: Path) -> None:
    """The download cache folder must exist or be creatable: a read-only or full disk is one
    paragraph (files already there are still used from a read-only folder)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError) as exc:
        raise ViewerError(f"the download cache folder cannot be written "
                          f"({getattr(exc, 'strerror', None) or exc}).", path=folder,
                          fix="make it writable or free disk space, set XDG_CACHE_HOME to a writable "
                              "folder, or give as the source a folder with a local copy of the anatomy.") from None


def fetch_all(dest: Path | None = None, *, progress: bool = True, elements: bool = True) -> Path:
    """Download every pinned file into dest (default: the user cache) and return it.
    elements=False leaves out the 4.0 element files (--source official reads
    them from the DBCLS archive instead)."""
    # lazy: pooch ~0.13 s, tqdm ~0.04 s (-X importtime): only a download needs them
    import pooch

    dest = Path(dest or (cache_dir() / "anatomy"))
    check_cache_dir(dest)
    base = mirror()
    wanted = [f for f in pinned_files()
              if elements or not f.local.startswith("bodyparts3d-4.0/") or "/tables/" in f.local]
    dl = pooch.HTTPDownloader(progressbar=False, timeout=60)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(wanted), unit="file", desc="anatomy files")
    for f in wanted:
        target = dest / f.local
        url = url_of(f, base)
        # skips a file already present with the right hash; downloads to a temporary name first
        retrieve(url, f.sha256, target, downloader=dl,
                 mismatch="The file changed upstream or the download is damaged; nothing was kept.",
                 fix_mismatch="try again later; if the upstream file changed on purpose, update the "
                              "pinned list in viewer/anatomy/download.py.",
                 fix_failed="check the network and run the build again (finished files are kept), or "
                            "pass --source DIR with a copy of the anatomy folder.")
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return dest


def retrieve(url: str, sha256: str | None, target: Path, *, downloader, mismatch: str, fix_mismatch: str,
             fix_failed: str) -> Path:
    """pooch.retrieve with the app's errors: one paragraph naming the URL and the fix."""
    # lazy: pooch ~0.13 s (-X importtime): only a download needs it
    import pooch

    try:
        return Path(pooch.retrieve(url, known_hash=f"sha256:{sha256.lower()}" if sha256 else None,
                                   fname=target.name, path=target.parent, downloader=downloader,
                                   progressbar=False))
    except ValueError as exc:   # pooch: hash mismatch
        raise ViewerError(f"Checksum mismatch after download ({exc}). {mismatch}", path=url,
                          fix=fix_mismatch) from None
    except Exception as exc:  # requests raises many types
        raise ViewerError(f"Download failed ({type(exc).__name__}: {exc}).", path=url, fix=fix_failed) from None
