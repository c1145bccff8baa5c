#!/usr/bin/env python
"""Mutation check: break the code on purpose and see whether the tests notice.

    python scripts/mutation_check.py [--only NAME ...] [--list] [--baseline] [--json OUT]

Each mutant below is a deliberate break of the kind a careless edit makes (drop
"not a diagnosis" from an exported slide, leave the context muscles visible in
patient mode, accept a session of format version 2, write without fsync, ...):
a source file, a snippet of it and its replacement. Every mutant is applied to a
fresh temporary copy of the tree (never the working tree) and only the tests that
should catch it run, against that copy (PYTHONPATH points at it). A mutant the
tests catch is KILLED; one they pass with SURVIVED (a hole in the tests); ERROR
means the run could not say (the snippet is gone from the source, no test ran,
a crash or time-out), which needs a look as well.

Runs with the built pack ($REFERRAL_VIEWER_MESHES, else meshes/ here) and the
anatomy source ($REFERRAL_VIEWER_SOURCE, else ../shared/anatomy); the GUI mutants
run under `xvfb-run -a` when there is no display. Expect about a minute per
mutant, more for the window's. Exit status: 0 when every mutant is killed, 1 when
some survive or error. --baseline first runs each test selection on the unbroken
copy (a mutant only means something when its tests pass without it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".git", ".venv", "meshes", "__pycache__", "*.egg-info", ".pytest_cache",
                                ".hypothesis", "build", "dist")

GUI = "tests/test_gui.py"


@dataclass
class Mutant:
    name: str
    file: str           # path in the repository
    old: str            # must occur exactly once in the file
    new: str
    tests: tuple        # pytest arguments: files, node ids, -k expressions


MUTANTS = [
    # -- what an exported slide and a handout say ------------------------------------------------
    Mutant("attribution without 'not a diagnosis'", "viewer/render/export.py",
           'DISCLAIMER_SHORT = "Educational illustration of a published pattern, not a diagnosis."',
           'DISCLAIMER_SHORT = "Educational illustration of a published pattern."',
           ("tests/test_export.py", "-k", "attribution")),
    Mutant("attribution without the pattern's source", "viewer/render/export.py",
           'src = f" Pattern: {pattern_source(pattern)}" if pattern is not None and pattern.muscle.sources else ""',
           'src = ""',
           ("tests/test_export.py", "-k", "attribution")),
    Mutant("attribution without the BodyParts3D licence", "viewer/__init__.py",
           '"licensed CC BY 4.0 (older releases CC BY-SA 2.1 JP). "', '""',
           ("tests/test_export.py", "-k", "attribution")),
    Mutant("attribution composed but not drawn", "viewer/render/layout.py",
           "    if layout.attribution_lines:\n        fa = font(px[\"attribution\"])",
           "    if False:\n        fa = font(px[\"attribution\"])",
           ("tests/test_export.py", "-k", "attribution")),
    Mutant("handout disclaimer without 'not a diagnosis'", "viewer/__init__.py",
           '"They are not a diagnosis: pain can come from joints, nerves, viscera or "',
           '"They are one possibility: pain can come from joints, nerves, viscera or "',
           ("tests/test_handout.py",)),
    # -- patient mode -----------------------------------------------------------------------------
    Mutant("patient mode leaves the context muscles visible", "viewer/gui/modes.py",
           "win.scene.set_muscles_visible(not on and win.actions.chk_muscles.isChecked(), render=False)",
           "win.scene.set_muscles_visible(win.actions.chk_muscles.isChecked(), render=False)",
           (GUI, "-k", "patient_mode")),
    Mutant("patient mode shows the Notes tab", "viewer/gui/modes.py",
           "win.tabs.setTabVisible(1, not on)", "win.tabs.setTabVisible(1, True)",
           (GUI, "-k", "patient_mode")),
    Mutant("patient mode leaves the bones visible", "viewer/gui/modes.py",
           "win.view.set_bones_visible(not on and win.actions.chk_bones.isChecked())",
           "win.view.set_bones_visible(win.actions.chk_bones.isChecked())",
           (GUI, "-k", "patient_mode")),
    Mutant("patient mode keeps the clinical sections", "viewer/gui/modes.py",
           "    win.details.set_patient_mode(on)\n", "    win.details.set_patient_mode(False)\n",
           (GUI, "-k", "patient_mode")),
    # -- sessions and writes ----------------------------------------------------------------------
    Mutant("session loader accepts version 2", "viewer/session.py",
           "if version > VERSION:", "if version > VERSION + 1:",
           ("tests/test_session.py",)),
    Mutant("session loader accepts version 0 and -1", "viewer/session.py",
           "        if version < 1:\n", "        if False:\n",
           ("tests/test_session.py",)),
    Mutant("atomic writer without fsync", "viewer/atomic.py",
           "            os.fchmod(fd, mode)\n            os.fsync(fd)\n", "            os.fchmod(fd, mode)\n",
           ("tests/test_session.py", "tests/test_hardening.py", "-k", "atomic or sync")),
    Mutant("unwritable cache folder crashes the load", "viewer/referral/model.py",
           "    except OSError as exc:\n        problems.append(Problem(path, None, \"\", f\"could not save",
           "    except MemoryError as exc:\n        problems.append(Problem(path, None, \"\", f\"could not save",
           ("tests/test_hardening.py", "-k", "cache")),
    # -- ranking ----------------------------------------------------------------------------------
    Mutant("click score: spillover weighs as much as essential", "viewer/referral/lookup.py",
           'ZONE_WEIGHT = {"essential": 1.0, "spillover": 0.5}', 'ZONE_WEIGHT = {"essential": 1.0, "spillover": 1.0}',
           ("tests/test_lookup_ranking.py", "tests/test_state.py", "tests/test_clinical_points.py",
            "tests/test_referral_model.py")),
    Mutant("click score: the published frequency ignored", "viewer/referral/lookup.py",
           "return ZONE_WEIGHT[zone] * min(1.0, strength) * frequency",
           "return ZONE_WEIGHT[zone] * min(1.0, strength) * 1.0",
           ("tests/test_lookup_ranking.py", "tests/test_state.py", "tests/test_clinical_points.py")),
    Mutant("ties put the other side first", "viewer/referral/lookup.py",
           'c.zone != "essential", c.side != pain_side, c.name))',
           'c.zone != "essential", c.side == pain_side, c.name))',
           ("tests/test_clinical_points.py", "tests/test_state.py", "tests/test_referral_model.py",
            "tests/test_lookup_ranking.py")),
    Mutant("the near tier dropped", "viewer/referral/lookup.py",
           'out = first + ([c for c in beside if c.tier == "near"] if near_mm else [])', "out = first",
           ("tests/test_lookup_ranking.py", "tests/test_state.py", "tests/test_referral_model.py")),
    Mutant("area: spillover counts as much as essential", "viewer/referral/lookup.py",
           "explained = np.maximum(e, 0.5 * s).mean(axis=0)", "explained = np.maximum(e, s).mean(axis=0)",
           ("tests/test_state.py", "tests/test_api.py", "tests/test_referral_model.py", "-k",
            "not test_render_to_array and not test_show_draws")),
    Mutant("no zones at the edge", "viewer/referral/lookup.py",
           "                edge_mm: float | None = EDGE_MM, point: np.ndarray | None = None):\n"
           "    \"\"\"Everything a click answers",
           "                edge_mm: float | None = None, point: np.ndarray | None = None):\n"
           "    \"\"\"Everything a click answers",
           ("tests/test_pain_areas.py", "tests/test_api.py", "tests/test_lookup_ranking.py", "-k",
            "not test_render_to_array and not test_show_draws")),
    Mutant("stroke zones half as wide, FIELDS_VERSION not bumped (a stale cache would hide it)",
           "viewer/referral/fields.py",
           "    inside = 1.0 - (1.0 - EDGE) * np.clip(d / half_width, 0.0, 1.0) ** 2\n",
           "    d = 2.0 * d\n    inside = 1.0 - (1.0 - EDGE) * np.clip(d / half_width, 0.0, 1.0) ** 2\n",
           ("tests/test_clinical_points.py", "tests/test_pain_areas.py")),
    # -- what the window shows --------------------------------------------------------------------
    Mutant("a new pattern keeps the old one's colours", "viewer/render/scene.py",
           "            self._ess, self._spill = self.model.zone_weights(pattern)\n",
           "            self._ess, self._spill = (lambda e, s: (np.maximum(self._ess, e), np.maximum(self._spill, s)))"
           "(*self.model.zone_weights(pattern))\n",
           (GUI, "-k", "new_click")),
    Mutant("essential zones drawn in the wrong colour", "viewer/render/style.py",
           'ESSENTIAL_HEX = "#c51b7d"', 'ESSENTIAL_HEX = "#1b7dc5"',
           (GUI, "-k", "screenshot or click_lists")),
    Mutant("a click on a candidate row selects nothing", "viewer/gui/main_window.py",
           "            self.state.select(self.state.candidate_pattern(candidate))",
           "            pass",
           (GUI, "-k", "candidate_list")),
    Mutant("a click in the muscle browser selects nothing", "viewer/gui/main_window.py",
           "        if self.state.select_muscle(muscle_id):\n            self.view.fly_to_pattern()",
           "        if False:\n            self.view.fly_to_pattern()",
           (GUI, "-k", "escape_leaves")),
    Mutant("Export image ignores the size asked for", "viewer/gui/export_dialog.py",
           'return {"size": (self.w.value(), self.h.value()), "theme"',
           'return {"size": (1920, 1080), "theme"',
           (GUI, "-k", "file_export_image")),
    Mutant("Export image ignores Transparent", "viewer/gui/export_dialog.py",
           '"transparent": self.transparent.isChecked()}', '"transparent": False}',
           (GUI, "-k", "file_export_image")),
    Mutant("Export all ignores the muscles chosen", "viewer/gui/export_dialog.py",
           '            opts["muscles"] = _checked(self.muscles)\n', '            opts["muscles"] = None\n',
           (GUI, "-k", "file_export_all")),
    Mutant("Patient handout drops the notes typed in its dialog", "viewer/gui/handout.py",
           "return make_handout(model, patterns, notes_edit.toPlainText(), out)",
           "return make_handout(model, patterns, notes, out)",
           (GUI, "-k", "handout")),
    Mutant("Copy lookup command copies another point", "viewer/gui/widgets.py",
           'return "referral-viewer lookup --point " + " ".join(f"{x:.1f}" for x in point)',
           'return "referral-viewer lookup --point " + " ".join(f"{x + 5:.1f}" for x in point)',
           (GUI, "-k", "click_lists")),
]


def apply(tree: Path, m: Mutant) -> str | None:
    """Apply a mutant to the copy; None, or why it cannot be applied."""
    path = tree / m.file
    text = path.read_text()
    n = text.count(m.old)
    if not m.old or n != 1:
        return f"the snippet occurs {n} times in {m.file} (the source changed: update the mutant)"
    path.write_text(text.replace(m.old, m.new))
    return None


# the tests' field cache is keyed on these files (tests/conftest.py): a mutant of one of them
# computes its fields afresh, in a cache folder of this run (removed at the end), not the pack's
FIELD_CODE = {f"viewer/referral/{n}" for n in ("fields.py", "geometry.py", "loader.py", "model.py", "points.py",
                                              "regions.py", "schema.py", "segments.py")}


def env_for(tree: Path, cache: Path | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    if cache is not None:
        env["REFERRAL_VIEWER_TEST_CACHE"] = str(cache)
    env.setdefault("REFERRAL_VIEWER_MESHES", str(REPO / "meshes"))
    src = REPO.parent / "shared" / "anatomy"
    if "REFERRAL_VIEWER_SOURCE" not in env and src.exists():
        env["REFERRAL_VIEWER_SOURCE"] = str(src)
    env.pop("REFERRAL_VIEWER_UPDATE_REFERENCES", None)
    return env


def run_tests(tree: Path, tests: tuple, timeout: float, cache: Path | None = None) -> tuple[int | None, str, float]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    if GUI in tests and not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a"] + cmd
    t = time.perf_counter()
    try:
        res = subprocess.run(cmd, cwd=tree, env=env_for(tree, cache), capture_output=True, text=True,
                             timeout=timeout)
        return res.returncode, res.stdout + res.stderr, time.perf_counter() - t
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return None, out + f"\n(timed out after {timeout:.0f} s)", time.perf_counter() - t


def fresh_copy(root: Path) -> Path:
    tree = Path(tempfile.mkdtemp(prefix="mutant-", dir=root))
    shutil.copytree(REPO, tree / "repo", ignore=IGNORE)
    return tree / "repo"


def verdict(rc: int | None, out: str) -> tuple[str, str]:
    failed = [line for line in out.splitlines() if line.startswith(("FAILED", "ERROR"))]
    if rc == 1 and failed:
        return "KILLED", failed[0][:160]
    if rc == 0:
        return "SURVIVED", (out.strip().splitlines() or [""])[-1][:160]
    return "ERROR", f"pytest exit {rc}: " + " | ".join(out.strip().splitlines()[-3:])[:300]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", help="run the mutants whose name contains one of these words")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--baseline", action="store_true", help="first run each test selection unmutated")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per test run")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)

    mutants = []
    for m in MUTANTS:
        if args.only and not any(w.lower() in m.name.lower() for w in args.only):
            continue
        mutants.append(m)
    if args.list:
        for m in mutants:
            print(f"{m.name}\n    {m.file}: {m.old.strip()[:90]!r}\n    tests: {' '.join(m.tests)}")
        return 0

    work = Path(tempfile.mkdtemp(prefix="mutation-check-"))
    results = []
    try:
        if args.baseline:
            for tests in dict.fromkeys(m.tests for m in mutants):
                tree = fresh_copy(work)
                rc, out, secs = run_tests(tree, tests, args.timeout)
                ok = rc == 0
                print(f"baseline {'ok  ' if ok else 'FAIL'} ({secs:.0f} s) {' '.join(tests)}", flush=True)
                if not ok:
                    print(out[-3000:], flush=True)
                    results.append({"name": "baseline: " + " ".join(tests), "verdict": "ERROR",
                                    "detail": verdict(rc, out)[1]})
                shutil.rmtree(tree.parent, ignore_errors=True)
        for m in mutants:
            tree = fresh_copy(work)
            problem = apply(tree, m)
            if problem:
                v, detail, secs = "ERROR", problem, 0.0
            else:
                cache = work / "field-cache" if m.file in FIELD_CODE else None
                rc, out, secs = run_tests(tree, m.tests, args.timeout, cache)
                v, detail = verdict(rc, out)
            shutil.rmtree(tree.parent, ignore_errors=True)
            results.append({"name": m.name, "file": m.file, "verdict": v, "detail": detail,
                            "seconds": round(secs, 1), "tests": list(m.tests)})
            print(f"{v:<8} ({secs:4.0f} s) {m.name}: {detail}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    survived = [r for r in results if r["verdict"] != "KILLED"]
    print(f"\n{len(results) - len(survived)}/{len(results)} killed")
    for r in survived:
        print(f"  {r['verdict']}: {r['name']} ({r['detail']})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
