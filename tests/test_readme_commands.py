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
        block = re.sub(r"\\\n\s*", " ", block)            # join `\` line continuations
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("referral-viewer "):
                cmds.append(line)
    return cmds


def _first_choice(text: str) -> str:
    """`--notes TEXT | --notes-file FILE` -> `--notes TEXT`; `best|anterior|...` -> `best`."""
    text = text.split(" | ")[0]
    return re.sub(r"(\S+?)\|\S+", r"\1", text)


def variants(cmd: str) -> list[str]:
    """Without and with the optional [...] parts (the first of any alternatives)."""
    without = re.sub(r"\s*\[[^\]]*\]", "", cmd)
    with_all = re.sub(r"\[([^\]]*)\]", lambda m: _first_choice(m.group(1)), cmd)
    with_all = with_all.replace("FILE ...", str(REPO / "referral_maps" / "muscles" / "piriformis.yaml"))
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
        magic = b"%PDF" if out.suffix == ".pdf" else b"\x89PNG\r\n\x1a\n"
        assert out.read_bytes()[:len(magic)] == magic
    if " --all " in cmd:
        written = int(re.search(r"Wrote (\d+) images", r.stdout).group(1))
        assert written >= 1 and len(list((work / "gallery").rglob("*.png"))) == written


# -- example outputs (scripts/readme_examples.py) ---------------------------------------------
def _examples_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_examples", REPO / "scripts" / "readme_examples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_has_regenerated_examples():
    ex = _examples_module()
    cmds = [m["cmd"] for m in ex.examples(README)]
    assert any(c.startswith("referral-viewer lookup") and "--json" in c for c in cmds), cmds


def test_readme_examples_match_what_the_cli_prints(pack, monkeypatch):
    ex = _examples_module()
    monkeypatch.setenv("REFERRAL_VIEWER_MESHES", str(pack.dir.parent))
    problems = ex.drift(README)
    assert not problems, "\n".join(problems)


def test_a_drifted_example_is_caught():
    """The check is not blind: change one figure of an example (not a timing) and it fails;
    change only a timing and it passes."""
    ex = _examples_module()
    m = next(m for m in ex.examples(README) if m["lang"] == "json")
    fresh = m["body"]
    drifted = re.sub(r'("snap_mm": )([\d.]+)', lambda g: g[1] + str(float(g[2]) + 1.0), README, count=1)
    timing = re.sub(r'("lookup_ms": )([\d.]+)', lambda g: g[1] + str(float(g[2]) + 5.0), README, count=1)
    assert drifted != README and timing != README
    shown = lambda cmd, lang: fresh  # noqa: E731  (what the CLI "prints": the README's own block)
    assert ex.drift(README, render=shown) == []
    assert ex.drift(timing, render=shown) == []
    problems = ex.drift(drifted, render=shown)
    assert len(problems) == 1 and "snap_mm" in problems[0] and "scripts/readme_examples.py" in problems[0]


def test_readme_python_example_runs_as_written(tmp_path):
    """The README's Python API block, as a user pastes it (off screen: show() returns at once)."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README has no Python example"
    env = {**os.environ, "PYVISTA_OFF_SCREEN": "true",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    for code in blocks:
        r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "gmin.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
