#!/usr/bin/env python
"""Regenerate (or check) the example outputs in README.md from what the CLI prints now.

    .venv/bin/python scripts/readme_examples.py            # rewrite the examples in README.md
    .venv/bin/python scripts/readme_examples.py --check    # exit 1 and print the drift

An example is the fenced block right after a marker line naming its command:

    <!-- output of: referral-viewer lookup --point -165 -75 801 --top 2 --json -->
    ```json
    ...
    ```

The command runs as `python -m viewer ...` with this Python (the venv's), from the
repository root, with the environment as given (REFERRAL_VIEWER_MESHES etc.). JSON output
is written compactly (one line per top-level key, one per item of a list of objects);
whatever keys the CLI prints are kept. Figures that change from run to run (VOLATILE:
timings) are regenerated but compared by presence only. tests/test_readme_commands.py
fails when an example has drifted.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
VOLATILE = {"lookup_ms"}          # keys whose values differ run to run
MARKER = re.compile(r"<!-- output of: (?P<cmd>.+?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def examples(text: str) -> list[re.Match]:
    return list(MARKER.finditer(text))


def run(cmd: str) -> str:
    """What `cmd` (a `referral-viewer ...` line) prints on stdout."""
    argv = shlex.split(cmd)
    if argv[0] != "referral-viewer":
        raise SystemExit(f"README.md example {cmd!r}: only `referral-viewer ...` commands can be regenerated")
    r = subprocess.run([sys.executable, "-m", "viewer", *argv[1:]], cwd=REPO, capture_output=True, text=True,
                       env=dict(os.environ), timeout=900)
    if r.returncode != 0:
        raise SystemExit(f"README.md example {cmd!r} failed (exit {r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout


def _one_line(v) -> str:
    return json.dumps(v, separators=(", ", ": "), ensure_ascii=False)


def compact_json(obj) -> str:
    """A JSON object as the README shows it: a line per key, a line per object in a list."""
    if not isinstance(obj, dict):
        return _one_line(obj) + "\n"
    lines = []
    for k, v in obj.items():
        head = f"{json.dumps(k)}: "
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            pad = " " * (len(head) + 2)
            v = "[" + (",\n" + pad).join(_one_line(x) for x in v) + "]"
        else:
            v = _one_line(v)
        lines.append(head + v)
    return "{" + ",\n ".join(lines) + "}\n"


def render(cmd: str, lang: str) -> str:
    out = run(cmd)
    return compact_json(json.loads(out)) if lang == "json" else out


def _stable(obj):
    """The value without its VOLATILE figures (kept as keys: a key that disappears is drift)."""
    if isinstance(obj, dict):
        return {k: ("<varies>" if k in VOLATILE else _stable(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_stable(x) for x in obj]
    return obj


def same(shown: str, fresh: str, lang: str) -> bool:
    if lang == "json":
        try:
            return _stable(json.loads(shown)) == _stable(json.loads(fresh))
        except ValueError:
            return False
    return shown.strip() == fresh.strip()


def regenerate(text: str, render=render) -> str:
    out, last = [], 0
    for m in examples(text):
        out += [text[last:m.start("body")], render(m["cmd"], m["lang"])]
        last = m.end("body")
    return "".join(out) + text[last:]


def drift(text: str, render=render) -> list[str]:
    """One message (with a diff) per example that no longer matches what its command prints."""
    problems = []
    for m in examples(text):
        fresh = render(m["cmd"], m["lang"])
        if not same(m["body"], fresh, m["lang"]):
            diff = "".join(difflib.unified_diff(m["body"].splitlines(True), fresh.splitlines(True),
                                                "README.md", "now"))
            problems.append(f"README.md example `{m['cmd']}` has drifted; run scripts/readme_examples.py to "
                            f"regenerate it:\n{diff}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report drift (exit 1 if any)")
    args = ap.parse_args()
    text = README.read_text()
    if not examples(text):
        print("README.md has no `<!-- output of: ... -->` examples", file=sys.stderr)
        return 1
    if args.check:
        problems = drift(text)
        print("\n".join(problems) or f"{len(examples(text))} README example(s) match the CLI")
        return 1 if problems else 0
    new = regenerate(text)
    if new != text:
        README.write_text(new)
    print(f"regenerated {len(examples(text))} example(s) in README.md" + ("" if new != text else " (unchanged)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
