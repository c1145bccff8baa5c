"""Every `referral-viewer` command shown in README.md runs and succeeds, so the README cannot drift.

Optional parts written as `[--flag value]` are run both without and with them;
`[FILE ...]` is run empty and with one built-in map file. Commands run in a
scratch folder beside a link to ../shared/anatomy, as in a checkout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
EXE = Path(sys.executable).parent / "referral-viewer"


def readme_commands() -> list[str]:
    cmds = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("referral-viewer "):
                cmds.append(line)
    return cmds


def variants(cmd: str) -> list[str]:
    """Without and with the optional [...] parts."""
    without = re.sub(r"\s*\[[^\]]*\]", "", cmd)
    with_all = re.sub(r"\[([^\]]*)\]", r"\1", cmd).replace("FILE ...", str(REPO / "referral_maps" / "muscles"
                                                                            / "piriformis.yaml"))
    return [without] if with_all == without else [without, with_all]


COMMANDS = [v for c in readme_commands() for v in variants(c)]


def test_readme_shows_the_commands():
    names = {c.split()[1] for c in COMMANDS}
    assert {"build", "info", "lookup", "validate", "export"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("cmd", COMMANDS)
def test_readme_command_succeeds(cmd, tmp_path, pack):
    work = tmp_path / "work"
    work.mkdir()
    shared = REPO.parent / "shared"
    if shared.exists():
        (tmp_path / "shared").symlink_to(shared.resolve())
    (work / "area.json").write_text(json.dumps([[-165, -75, 801], [-160, -70, 760]]))
    env = {**os.environ, "REFERRAL_VIEWER_MESHES": str(pack.dir.parent)}
    argv = [str(EXE)] + shlex.split(cmd)[1:]
    r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    assert "Traceback" not in r.stderr
    if " --out " in cmd:
        out = work / shlex.split(cmd)[shlex.split(cmd).index("--out") + 1]
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if " --all " in cmd:
        assert len(list((work / "gallery").glob("*.png"))) >= 3 * 40
