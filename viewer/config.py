"""Where things live: pack directory, referral maps, user maps, sources."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import platformdirs

from viewer.errors import ViewerError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
ENV_MESHES = "REFERRAL_VIEWER_MESHES"
ENV_SOURCE = "REFERRAL_VIEWER_SOURCE"
ENV_MAPS = "REFERRAL_VIEWER_MAPS"


def _in_checkout() -> bool:
    return (REPO_DIR / "pyproject.toml").exists() and (REPO_DIR / "referral_maps").is_dir()


def _resolved(text, what: str) -> Path:
    """Path.resolve with a symlink loop as the app's one-paragraph error, not a RuntimeError."""
    path = Path(text).expanduser()
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise ViewerError(f"the {what} cannot be followed ({exc}): it is a symlink loop or unreadable.",
                          path=path, fix=f"point the {what} at a real folder.") from None


def meshes_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Pack root: --meshes, then $REFERRAL_VIEWER_MESHES, then meshes/ in a checkout."""
    if explicit:
        return _resolved(explicit, "mesh pack folder (--meshes)")
    if os.environ.get(ENV_MESHES):
        return _resolved(os.environ[ENV_MESHES], f"mesh pack folder (${ENV_MESHES})")
    if _in_checkout():
        return REPO_DIR / "meshes"
    return Path(platformdirs.user_data_dir("referral-viewer")) / "meshes"


def builtin_maps_dir() -> Path:
    """The built-in maps, landmarks and regions (`referral_maps/`).

    They ship as package data of the top-level `referral_maps` package (a
    namespace package: the folder stays at the repository top level, as the
    design card wants) and are found through importlib.resources, so a wheel
    installed anywhere finds them; a checkout without an install falls back to
    the folder beside `viewer/`.
    """
    try:
        # joinpath on a namespace package's MultiplexedPath returns a real path on disk
        landmarks = importlib.resources.files("referral_maps").joinpath("landmarks.yaml")
        path = Path(str(landmarks)).parent
        if (path / "muscles").is_dir():
            return path
    except (ImportError, OSError, TypeError, ValueError):
        pass   # an editable install maps the namespace to a placeholder path: use the checkout
    return REPO_DIR / "referral_maps"


def user_maps_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    if explicit:
        return _resolved(explicit, "user maps folder (--maps)")
    if os.environ.get(ENV_MAPS):
        return _resolved(os.environ[ENV_MAPS], f"user maps folder (${ENV_MAPS})")
    return None


def default_source() -> str | None:
    return os.environ.get(ENV_SOURCE) or None


def cache_dir() -> Path:
    """Downloads (anatomy sources) and other re-creatable files (per user)."""
    return Path(platformdirs.user_cache_dir("referral-viewer"))


def state_dir() -> Path:
    """Autosave and recovery files (per user)."""
    return Path(platformdirs.user_state_dir("referral-viewer"))
