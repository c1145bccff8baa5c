"""CLI commands of the referral layer: lookup, validate, export."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from viewer.errors import ViewerError

log = logging.getLogger("referral-viewer")


def _model(args, progress=True):
    from viewer.anatomy.pack import load_pack
    from viewer.referral.model import load_model

    pack = load_pack(args.meshes)
    log.info("pack %s (key %s)", pack.dir, pack.key[:12])
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else None
    model = load_model(pack, user_maps=getattr(args, "maps", None), progress=say)
    log.info("%d maps, %d patterns, %d problems; timings %s", len(model.maps.maps), len(model.patterns),
             len(model.problems), model.timings)
    for p in model.problems:
        print(f"warning: {p}", file=sys.stderr)
    return model


def cmd_lookup(args) -> int:
    from viewer import api
    from viewer.referral.lookup import area_from_points, lookup_area, lookup_point

    # check every argument before the (slow) model load, naming the flag
    top = api.as_top(args.top, "--top")
    radius = api.as_radius(args.radius, "--radius")
    if args.points:
        pts = api.read_points(args.points)
    elif args.point is not None:
        point = api.as_point(args.point, "--point")
    else:
        raise ViewerError("lookup needs --point X Y Z or --points FILE.", fix="see referral-viewer lookup --help")
    model = _model(args, progress=not args.json)
    if args.points:
        verts, snap = area_from_points(model, pts, radius or 25.0)
        cands = lookup_area(model, verts)[:top]
        result = {"area_vertices": int(len(verts)), "snap_mm": round(snap, 2),
                  "candidates": [c.to_json() for c in cands]}
    else:
        t = time.perf_counter()
        res = lookup_point(model, point, radius)
        res.candidates = res.candidates[:top]
        result = res.to_json()
        result["lookup_ms"] = round((time.perf_counter() - t) * 1000, 3)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if "region" in result:
        print(f"{result['region']['label']}  (snapped {result['snap_mm']} mm)")
    for i, c in enumerate(result["candidates"], 1):
        mesh = "" if c["has_mesh"] else "  [no mesh in this anatomy pack]"
        print(f"{i:2d}. {c['name']} ({c['side']})  {c['zone']:<9}  {c['score']:.2f}{mesh}")
    if not result["candidates"]:
        print("No published pattern in the maps covers this spot.")
    return 0


def cmd_validate(args) -> int:
    from viewer.referral.validate import validate

    problems, summary = validate(args.paths or None, meshes=args.meshes, user_maps=args.maps)
    for p in problems:
        print(p)
    print(summary)   # a missing pack is a note in the summary, not a problem: exit 0 then
    return 1 if problems else 0


def cmd_export(args) -> int:
    from viewer import api
    from viewer.render.export import gallery, parse_size, render_pattern

    try:
        size = parse_size(args.size)
    except ValueError as exc:
        raise ViewerError(str(exc), path="--size", fix="use WIDTHxHEIGHT such as 1920x1080") from None
    if args.all and (args.muscle or args.out):
        raise ViewerError("--all DIR renders every muscle; it cannot be combined with --muscle or --out.",
                          fix="give either --all DIR, or --muscle NAME --out FILE.png.")
    if args.all:
        api.check_out_dir(args.all, "--all")
    elif args.out:
        api.check_png_path(args.out, "--out")
    model = _model(args)
    if args.all:
        def prog(i, n, path):
            print(f"[{i}/{n}] {path}", file=sys.stderr)
        sides = ("right", "left") if args.side == "both" else (args.side or "right",)
        views = (args.view,) if args.view else ("anterior", "posterior", "right")
        paths = gallery(model, args.all, views=views, size=size, progress=prog, sides=sides)
        print(f"Wrote {len(paths)} images to {args.all}")
        return 0
    if not args.muscle or not args.out:
        raise ViewerError("export needs --muscle NAME and --out FILE.png (or --all DIR).",
                          fix="e.g. referral-viewer export --muscle 'gluteus medius' --out gmed.png")
    found = model.find_muscles(args.muscle)
    if not found:
        raise ViewerError(f"no muscle matches {args.muscle!r}.", path="--muscle",
                          fix="use a name, alias or FMA id; `referral-viewer validate` lists the maps.")
    if len(found) > 1:
        names = ", ".join(m.name for m in found[:8])
        raise ViewerError(f"{args.muscle!r} matches several muscles: {names}.", path="--muscle",
                          fix="give the full name or FMA id.")
    pattern = model.pattern(found[0].id, args.side or "right")
    out = render_pattern(model, pattern, args.out, view=args.view, size=size, transparent=args.transparent,
                         title=not args.no_title, legend=not args.no_legend,
                         attribution=not args.no_attribution)
    print(f"Wrote {out} ({size[0]}x{size[1]})")
    return 0


def add_commands(sub, common) -> None:
    """Add lookup, validate and export; `common` adds the options every command accepts."""
    lk = sub.add_parser("lookup", help="which muscles can refer pain to this spot or area")
    where = lk.add_mutually_exclusive_group()
    where.add_argument("--point", nargs=3, type=float, metavar=("X", "Y", "Z"),
                       help="a painful spot in canonical-frame mm (+Z up, -Y anterior, -X subject's right)")
    where.add_argument("--points", metavar="FILE",
                       help="JSON file with a list of [x, y, z] points in mm (a painted area)")
    lk.add_argument("--radius", type=float, metavar="MM",
                    help="include the skin within MM of the point(s), 0 < MM <= 300 (area default 25)")
    lk.add_argument("--top", type=int, default=20, metavar="N", help="show at most N candidates (default 20)")
    lk.add_argument("--json", action="store_true", help="print machine-readable JSON")
    common(lk)
    lk.set_defaults(func=cmd_lookup)

    va = sub.add_parser("validate", help="check referral-map files")
    va.add_argument("paths", nargs="*", help="map files (default: all built-in and user maps)")
    common(va)
    va.set_defaults(func=cmd_validate)

    ex = sub.add_parser("export", help="render a pattern (or every pattern) to PNG off-screen")
    ex.add_argument("--muscle", help="muscle name, alias or FMA id, e.g. 'gluteus minimus'")
    ex.add_argument("--side", choices=["right", "left", "both"], help="which side's pattern (default right)")
    ex.add_argument("--view", choices=["anterior", "posterior", "right", "left", "superior"],
                    help="camera direction (default: the one facing the pattern; with --all, three views)")
    ex.add_argument("--out", metavar="FILE.png", help="the PNG file to write")
    ex.add_argument("--all", metavar="DIR", help="render a gallery of every muscle into DIR")
    ex.add_argument("--size", default="1600x1200", metavar="WxH",
                    help="image size in pixels, up to 3840x2160 (default 1600x1200)")
    ex.add_argument("--transparent", action="store_true", help="transparent background")
    ex.add_argument("--no-title", action="store_true", help="leave out the title")
    ex.add_argument("--no-legend", action="store_true", help="leave out the colour legend")
    ex.add_argument("--no-attribution", action="store_true", help="leave out the anatomy attribution line")
    common(ex)
    ex.set_defaults(func=cmd_export)
