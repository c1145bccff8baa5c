"""Command line: the same operations as the window, for scripting and tests."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from viewer import __version__, cli_referral, config
from viewer.atomic import _FIXES
from viewer.errors import ViewerError


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_build(args) -> int:
    # lazy: build ~1.4 s to import (-X importtime): `--help` stays ~60 ms
    from viewer.anatomy.build import build_pack

    source = args.source or config.default_source()
    report = build_pack(source, config.meshes_dir(args.meshes), sha256=args.sha256,
                        verify=not args.allow_unverified, force=args.force,
                        target_vertices=args.skin_vertices,
                        progress=None if args.quiet else _progress)
    m = report.manifest
    if report.skipped:
        print(f"Pack is up to date ({report.pack_dir}); nothing to do ({report.seconds:.2f} s).")
    else:
        print(f"Built {report.pack_dir} in {report.seconds:.1f} s: skin {m['skin']['vertices']} "
              f"vertices, {len(m['parts'])} muscle parts, {len(m.get('bones', []))} bones, "
              f"inside fraction {m['inside_fraction']:.4f}.")
    return 0


def cmd_info(args) -> int:
    # lazy: numpy and the pack ~0.27 s (-X importtime): `--help` stays ~60 ms
    from viewer.anatomy.pack import load_pack

    t = time.perf_counter()
    pack = load_pack(args.meshes)
    load_s = time.perf_counter() - t
    m = pack.manifest
    v = pack.skin_vertices
    info = {
        "pack": str(pack.dir),
        "key": m["key"],
        "frame": m["frame"],
        "skin_vertices": m["skin"]["vertices"],
        "skin_faces": m["skin"]["faces"],
        "bounds_mm": {"min": v.min(axis=0).round(1).tolist(), "max": v.max(axis=0).round(1).tolist()},
        "muscles": [{"id": p.id, "name": p.name, "side": p.side, "fma": p.fma, "region": p.region,
                     "whole_fma": p.whole_fma, "source": p.source, "mirrored": p.mirrored}
                    for p in pack.muscles],
        "organs": [{"id": p.id, "name": p.name, "side": p.side, "fma": p.fma, "source": p.source}
                   for p in pack.organs],
        "whole_muscles": _whole_muscles(pack),
        "bones": {"count": len(pack.bones),
                  "list": [{"id": b.id, "name": b.name, "fma": b.fma, "side": b.side,
                            "element": b.element} for b in pack.bones]},
        "bp3d40": {k: v for k, v in (m.get("bp3d40") or {}).items() if k != "twin_distance_mm"}
                  | ({"twin_distance_mm_mean": m["bp3d40"]["twin_distance_mm"]["mean"]}
                     if m.get("bp3d40") else {}),
        "inside_fraction": m["inside_fraction"],
        "registration": {k: m["registration"][k] for k in ("scale", "translation_mm")},
        "excluded_parts": m.get("excluded_parts", []),
        "source": m["source"],
        "attribution": m["attribution"],
        "load_seconds": round(load_s, 4),
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    sides = {}
    for p in pack.muscles:
        sides[p.side] = sides.get(p.side, 0) + 1
    print(f"Pack:            {info['pack']}")
    print(f"Frame:           {m['frame']['name']} ({m['frame']['units']}, up {m['frame']['up']}, "
          f"anterior {m['frame']['anterior']}, subject's right {m['frame']['subject_right']})")
    print(f"Skin:            {info['skin_vertices']} vertices, {info['skin_faces']} faces")
    print(f"Bounds (mm):     {info['bounds_mm']['min']} .. {info['bounds_mm']['max']}")
    print(f"Muscles:         {len(pack.muscles)} ({', '.join(f'{n} {s}' for s, n in sorted(sides.items()))})")
    print(f"Inside fraction: {info['inside_fraction']:.4f}")
    if info["organs"]:
        print(f"Organs:          {', '.join(p['id'] for p in info['organs'])}")
    print(f"Whole muscles:   {len(info['whole_muscles'])}; bones: {len(pack.bones)}")
    if info["bp3d40"].get("inside_fraction"):
        for kind, bands in info["bp3d40"]["inside_fraction"].items():
            print(f"  4.0 {kind:8s} inside: " + ", ".join(f"{k} {v}" for k, v in bands.items()))
    print(f"Loaded in:       {load_s * 1000:.0f} ms")
    print(f"Attribution:     {info['attribution']}")
    return 0


def _common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Options accepted before or after the command (`--meshes D info` == `info --meshes D`).

    SUPPRESS keeps a subcommand's unset option from overwriting the value given
    before the command name."""
    d = argparse.SUPPRESS
    parser.add_argument("--meshes", metavar="DIR", default=d,
                        help="mesh pack folder (default: meshes/ in a checkout, $REFERRAL_VIEWER_MESHES, "
                             "or the per-user data folder)")
    parser.add_argument("--maps", metavar="DIR", default=d,
                        help="folder of extra user referral maps (default: $REFERRAL_VIEWER_MAPS)")
    parser.add_argument("-v", "--verbose", action="count", default=d,
                        help="log what the app does to stderr (-vv for debug detail)")


def _whole_muscles(pack) -> list[dict]:
    """Whole muscles (by FMA id, or by name where BodyParts3D gives none) with
    their sides and part meshes."""
    groups: dict[str, dict] = {}
    names = {e["id"]: e.get("whole_name") for e in pack.manifest["parts"]}
    for p in pack.muscles:
        key = p.whole_fma or f"name:{names.get(p.id) or p.base}"
        g = groups.setdefault(key, {"fma": p.whole_fma, "name": names.get(p.id) or p.base,
                                    "sides": set(), "parts": []})
        g["sides"].add(p.side)
        g["parts"].append(p.id)
    return [{**g, "sides": sorted(g["sides"])} for g in groups.values()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="referral-viewer", description=(
        "Myofascial trigger points and referred-pain patterns on a 3D body. "
        "With no command, opens the desktop window."))
    p.add_argument("--version", action="version", version=f"referral-viewer {__version__}",
                   help="print the version and exit")
    _common(p, top=True)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", help="build the mesh pack from an anatomy source")
    b.add_argument("--source", help="folder like ../shared/anatomy, isa_BP3D_4.0_obj_99.zip (read like "
                                    "official), a URL, or 'official' (default: $REFERRAL_VIEWER_SOURCE, "
                                    "else download the pinned files)")
    b.add_argument("--sha256", help="expected SHA-256 of an archive or download")
    b.add_argument("--allow-unverified", action="store_true",
                   help="accept folder files whose checksums differ from the known ones")
    b.add_argument("--force", action="store_true", help="rebuild even if the pack is up to date")
    b.add_argument("--skin-vertices", type=_int_range(2_000, 500_000), default=50_000,
                   help="target skin resolution, 2000..500000 (default 50000; fewer for slow machines)")
    b.add_argument("--quiet", action="store_true", help="no progress messages")
    _common(b)
    b.set_defaults(func=cmd_build)

    i = sub.add_parser("info", help="summary of the built pack")
    i.add_argument("--json", action="store_true", help="print machine-readable JSON")
    _common(i)
    i.set_defaults(func=cmd_info)

    cli_referral.add_commands(sub, _common)
    return p


def _int_range(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{v} is outside {lo}..{hi}")
        return v
    return parse


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    session = argv.pop(0) if argv and argv[0].lower().endswith(".json") else None   # referral-viewer FILE.json
    args = parser.parse_args(argv)
    for name in ("meshes", "maps"):
        setattr(args, name, getattr(args, name, None))
    args.verbose = getattr(args, "verbose", 0) or 0
    _setup_logging(args.verbose)
    if args.maps:   # the window reads the user maps folder from the environment
        os.environ[config.ENV_MAPS] = str(args.maps)
    args.session = session
    if args.command is None:
        # lazy: Qt and pyvista (~2 s): only the window needs them, never a command
        from viewer.gui.app import run

        return run(args)
    if sys.stdout is None:   # started with stdout closed (`info >&-`)
        _say_error("error: standard output is closed, so there is nowhere to print the result. Fix: run the "
                   "command with its output going to a terminal, a file or a pipe.")
        return 2
    try:
        code = args.func(args)
        sys.stdout.flush()   # inside the try: a closed pipe shows up here, not at exit
        return code
    except ViewerError as exc:
        _say_error(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `referral-viewer info | head`: the reader left; exit quietly like other Unix tools
        _silence_stdout()
        return 141
    except (OSError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and "symlink loop" not in str(exc).lower():
            raise
        # an output that cannot be written (`info > /dev/full`, a full or read-only disk) or a
        # symlink loop: one paragraph and exit 2, and stdout no longer flushed at exit
        _say_error(f"error: {_os_error_text(exc)}")
        _silence_stdout()
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def _say_error(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, AttributeError, ValueError):
        pass   # stderr is closed or full too: the exit code still says it


def _os_error_text(exc: Exception) -> str:
    if isinstance(exc, RuntimeError):   # pathlib's "Symlink loop from ..."
        return f"{exc}. Fix: give a path without looping symlinks."
    what, fix = _FIXES.get(exc.errno, (exc.strerror or str(exc), "check the path and try again."))
    where = exc.filename if exc.filename is not None else "the output (standard output or a file)"
    if exc.filename is None and exc.errno == 28:
        fix = "free some disk space, or send the output somewhere else."
    return f"{where}: {what} ({exc.strerror or exc}). Fix: {fix}"
