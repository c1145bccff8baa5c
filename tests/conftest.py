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


# The field cache is keyed (inside load_model) on the pack, the maps and FIELDS_VERSION, not on
# the code that computes the fields: a change to the field maths could hide behind an old
# cache. The tests keep their cache in a folder named after that code, so a change to it
# recomputes the fields (about 20 s) the first time the tests run.
FIELD_CODE = ("fields.py", "geometry.py", "loader.py", "model.py", "points.py", "regions.py", "schema.py",
              "segments.py")


def field_code_digest() -> str:
    import hashlib

    h = hashlib.sha256()
    for name in FIELD_CODE:
        h.update(name.encode() + (REPO / "viewer" / "referral" / name).read_bytes())
    return h.hexdigest()[:12]


def field_cache_dir(pack, tag: str = "") -> Path:
    """$REFERRAL_VIEWER_TEST_CACHE (else the pack's cache folder) / code-<digest of the field code>[/tag];
    folders of other code versions not used for two days are removed."""
    import shutil
    import time

    root = Path(os.environ.get("REFERRAL_VIEWER_TEST_CACHE") or pack.dir.parent / "cache")
    here = root / f"code-{field_code_digest()}"
    for old in root.glob("code-*") if root.is_dir() else []:
        try:
            if old != here and time.time() - old.stat().st_mtime > 2 * 86400:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    here = here / tag if tag else here
    here.mkdir(parents=True, exist_ok=True)
    os.utime(here.parent if tag else here)
    return here


@pytest.fixture()
def pack_copy(tmp_path, pack):
    """A copy of the built pack in a folder of its own, for tests that damage it: (root, pack dir)."""
    import shutil

    root = tmp_path / "meshes"
    root.mkdir()
    shutil.copytree(pack.dir, root / pack.dir.name)
    shutil.copy(pack.dir.parent / "current.json", root / "current.json")
    return root, root / pack.dir.name


@pytest.fixture(scope="session")
def model(pack):
    from viewer.referral.model import load_model

    m = load_model(pack, cache_dir=field_cache_dir(pack))
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


# Leave without the interpreter's finalisation: VTK and Qt objects torn down by the garbage
# collector at exit occasionally abort the process ("none_dealloc", exit 134) after every test
# has passed, which would turn a green run red. The status pytest decided is kept.
def pytest_sessionfinish(session, exitstatus):
    session.config._final_status = int(exitstatus)


def pytest_unconfigure(config):
    status = getattr(config, "_final_status", None)
    if status is not None and os.environ.get("REFERRAL_VIEWER_TEST_HARD_EXIT", "1") == "1":
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
