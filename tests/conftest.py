"""Shared fixtures: the real pack built from ../shared/anatomy, and its referral model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ANATOMY = Path(os.environ.get("REFERRAL_VIEWER_SOURCE", REPO.parent / "shared" / "anatomy"))


@pytest.fixture(scope="session")
def shared_anatomy() -> Path:
    if not (SHARED_ANATOMY / "skin_bodyparts3d.obj").exists():
        pytest.skip(f"anatomy source not found at {SHARED_ANATOMY}")
    return SHARED_ANATOMY


@pytest.fixture(scope="session")
def pack(shared_anatomy):
    """The default pack (meshes/ or $REFERRAL_VIEWER_MESHES); built once if missing."""
    from viewer.anatomy import load_pack
    from viewer.anatomy.build import build_pack
    from viewer.config import meshes_dir
    from viewer.errors import ViewerError

    try:
        return load_pack()
    except ViewerError:
        build_pack(shared_anatomy, meshes_dir())
        return load_pack()


@pytest.fixture(scope="session")
def model(pack):
    from viewer.referral.model import load_model

    m = load_model(pack)
    if not m.patterns:
        pytest.fail(f"no referral patterns loaded: {[str(p) for p in m.problems[:5]]}")
    return m
