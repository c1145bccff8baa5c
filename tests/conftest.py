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


# -- `content` tests: rules today's map files do not meet yet (issue 9). By default they
# run as strict xfails, so CI stays green while they fail and turns red the day they pass
# (remove the marker then); `--content` runs them as plain tests to see the failures.
def pytest_addoption(parser):
    parser.addoption("--content", action="store_true",
                     help="run tests marked `content` as plain tests (default: strict xfail)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--content"):
        return
    for item in items:
        mark = item.get_closest_marker("content")
        if mark is not None:
            reason = mark.kwargs.get("reason", "content not there yet (issue 9)")
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
