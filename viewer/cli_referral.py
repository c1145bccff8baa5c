"""CLI commands of the referral layer: lookup, validate, export, handout."""

from __future__ import annotations

import json
import logging
import sys
import time

from viewer.constants import DEFAULT_RADIUS_MM, SIDES, VIEW_CHOICES
from viewer.errors import ExistingOutput, ViewerError

log = logging.getLogger("referral-viewer")


def _model(args, progress=True):
    # lazy: numpy, scipy and the model ~0.6 s (-X importtime): `--help` and argument errors stay ~60 ms
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


# API argument names -> the CLI's flags, for errors raised below the CLI
LOOKUP_FLAGS = {"point": "--point", "points": "--points", "radius_mm": "--radius", "top": "--top"}


def cmd_lookup(args) -> int:
    # lazy: the API pulls numpy, scipy and the model (~0.7 s, -X importtime): arguments are parsed first
    from viewer import api

    try:
        return _lookup(args, api)
    except ViewerError as exc:
        raise exc.renamed(LOOKUP_FLAGS) from None


def _lookup(args, api) -> int:
    # check every argument before the (slow) model load
    top = api.as_top(args.top)
    radius = api.as_radius(args.radius)
    if args.points:
        pts, area_radius = api.check_area(api.read_points(args.points), radius or DEFAULT_RADIUS_MM)
    elif args.point is not None:
        point = api.as_point(args.point)
    else:
        raise ViewerError("lookup needs --point X Y Z or --points FILE.", fix="see referral-viewer lookup --help")
    model = _model(args, progress=not args.json)
    if args.points:
        result = api.lookup_area(model, pts, area_radius, top=top).to_json()
    else:
        t = time.perf_counter()
        result = api.lookup(model, point, radius, top=top).to_json()
        result["lookup_ms"] = round((time.perf_counter() - t) * 1000, 3)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_lookup(result)
    return 0


def print_lookup(result: dict) -> None:
    """The text answer: red flags first, then the muscles, the segmental level and the other sources."""
    for f in result["red_flags"]:
        print(f"!! RED FLAG: {f['name']}: {f['warning']}\n   {f['action']}")
    if "region" in result:
        print(f"{result['region']['label']}  (snapped {result['snap_mm']} mm)")
    for i, c in enumerate(result["candidates"], 1):
        mesh = "" if c["has_mesh"] else "  [no mesh in this anatomy pack]"
        zone = (f"{c['zone']} (near, {c['edge_mm']:.0f} mm)" if c.get("tier") == "near" else
                f"{c['zone']} (at the edge, {c['edge_mm']:.0f} mm)" if c.get("at_edge") else c["zone"])
        print(f"{i:2d}. {c['name']} ({c['side']})  {zone:<9}  {c['score']:.2f}{mesh}")
    if not result["candidates"]:
        print("No published muscle pattern in the maps covers this spot.")
    if result["dermatomes"]:
        print(f"Dermatome (segmental level): {', '.join(result['dermatomes'])}")
    if result["other_sources"]:
        print("Also consider (joints, nerve roots, nerves, organs):")
        for i, o in enumerate(result["other_sources"], 1):
            zone = o["zone"] + (f", {o['frequency'] * 100:.0f}% of patients" if "frequency" in o else "")
            if o.get("at_edge"):
                zone += f" (at the edge, {o['edge_mm']:.0f} mm)"
            side = "" if o["side"] == "midline" else f" ({o['side']})"
            flag = "  [RED FLAG]" if o["red_flag"] else ""
            print(f"{i:2d}. {o['name']}{side}  [{o['kind']}]  {zone}  {o['score']:.2f}{flag}")
    print("Published patterns, not a diagnosis.")


def cmd_validate(args) -> int:
    # lazy: numpy, scipy and the maps (~0.6 s): only `validate` needs them
    from viewer.referral.validate import validate

    problems, summary = validate(args.paths or None, meshes=args.meshes, user_maps=args.maps)
    for p in problems:
        print(p)
    print(summary)   # a missing pack is a note in the summary, not a problem: exit 0 then
    return 1 if problems else 0


def _csv(text):
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


# API argument names -> the flags of export and handout (the source's flag is added per call)
EXPORT_FLAGS = {"size": "--size", "view": "--views", "views": "--views", "out": "--out", "out_dir": "--all",
                "sources": "--muscles", "notes": "--notes", "page": "--page", "side": "--side"}


def _for_cli(exc: ViewerError, names: dict[str, str]) -> ViewerError:
    """An API error naming the CLI's flags; an existing output's fix names --force."""
    if isinstance(exc, ExistingOutput):
        return ViewerError(exc.what, path=names.get(exc.path, exc.path),
                           fix="add --force to replace it, or give another file name."
                           if len(exc.paths) == 1 else "add --force to replace them, or give an empty folder.")
    return exc.renamed(names)


def cmd_export(args) -> int:
    query, flag = _source_arg(args)
    try:
        return _export(args, query)
    except ViewerError as exc:
        raise _for_cli(exc, {**EXPORT_FLAGS, "source": flag}) from None


def _export(args, query) -> int:
    from viewer import api

    # check every argument before the (slow) model load
    size = api.as_size(args.size)
    views = api.as_views(_csv(args.views) or ([args.view] if args.view else ["best"]))
    sides = SIDES if args.side == "both" else (args.side or SIDES[0],)
    if args.all and (query or args.out):
        raise ViewerError("--all DIR renders many muscles; it cannot be combined with --muscle or --out.",
                          fix="give either --all DIR (with --muscles/--regions to choose), or --muscle NAME --out FILE.png.")
    if args.all:
        api.check_out_dir(args.all, "out_dir")
    elif args.out:
        api.check_new_file(api.check_png_path(args.out, "out"), "out", args.force)
    api.as_name(query, "source")
    if not args.all and (not query or not args.out):
        raise ViewerError("export needs --muscle NAME (or --source NAME) and --out FILE.png (or --all DIR).",
                          fix="e.g. referral-viewer export --muscle 'gluteus medius' --out gmed.png")
    model = _model(args)
    if args.all:
        def prog(i, n, path):
            print(f"[{i}/{n}] {path}", file=sys.stderr)
        paths = api.export_all(model, args.all, views=views, size=size, progress=prog, sides=sides,
                               theme=args.theme, transparent=args.transparent, sources=_csv(args.muscles),
                               regions=_csv(args.regions), contact_sheets=args.contact_sheets,
                               images=not args.sheets_only, force=args.force)
        print(f"Wrote {len(paths)} images to {args.all}")
        return 0
    out = api.export(model, query, args.out, side=sides[0], view=views[0], size=size, theme=args.theme,
                     transparent=args.transparent, title=not args.no_title, legend=not args.no_legend,
                     attribution=not args.no_attribution, labels=not args.no_labels, force=args.force)
    print(f"Wrote {out} ({size[0]}x{size[1]})")
    return 0


def _source_arg(args) -> tuple[str | None, str]:
    """The source a command names, and the flag it came by (--source or --muscle)."""
    src = getattr(args, "source", None)
    if src and args.muscle:
        raise ViewerError("give --muscle or --source, not both.", fix="--source takes any kind, muscles too.")
    return (src, "--source") if src else (args.muscle, "--muscle")


MAX_NOTES_FILE_BYTES = 1_000_000


def read_notes_file(path) -> str:
    """The notes file through the safe reader: a FIFO or /dev/zero is refused at once."""
    # lazy: safeio pulls yaml (~15 ms, -X importtime) into every `--help`
    from viewer import safeio

    raw = safeio.read_regular(path, MAX_NOTES_FILE_BYTES, "notes file")
    return safeio.decode_text(raw, path, what="notes file",
                              fix="save it as UTF-8 text, or pass the notes with --notes TEXT.")




def cmd_list(args) -> int:
    """Print every source that can be shown (name, kind, level, aliases), or JSON."""
    from viewer import api

    model = _model(args, progress=not args.json)
    rows = api.sources(model, args.kind)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    kind = None
    for r in rows:
        if r["kind"] != kind:
            kind = r["kind"]
            print(f"\n{PLURAL_TITLES[kind]}:")
        extra = f"  ({', '.join(r['aliases'][:4])})" if r["aliases"] else ""
        flag = "  [red flag]" if r["red_flag"] else ""
        print(f"  {r['name']}{extra}{flag}")
    print(f"\n{len(rows)} sources. Use any name or alias with export/handout --source (typos are fine).")
    return 0


PLURAL_TITLES = {"muscle": "Muscles", "joint": "Joints", "root": "Nerve roots (dermatomes)",
                 "nerve": "Peripheral nerves", "organ": "Organs"}


def cmd_handout(args) -> int:
    query, flag = _source_arg(args)
    flags = {**EXPORT_FLAGS, "source": flag, "notes": "--notes-file" if args.notes_file else "--notes"}
    try:
        return _handout(args, query)
    except ViewerError as exc:
        raise _for_cli(exc, flags) from None


def _handout(args, query) -> int:
    from viewer import api

    if not query:
        raise ViewerError("handout needs --muscle NAME or --source NAME.",
                          fix="e.g. referral-viewer handout --muscle 'gluteus minimus' --out gmin.pdf")
    # check every argument before the (slow) model load
    api.check_new_file(api.check_pdf_path(args.out, "out"), "out", args.force)
    api.as_name(query, "source")
    notes = read_notes_file(args.notes_file) if args.notes_file else (args.notes or "")
    api.check_notes(notes, "notes")
    model = _model(args)
    out = api.handout(model, query, args.out, side=args.side, notes=notes, page=args.page, force=args.force)
    print(f"Wrote {out}")
    return 0


def add_commands(sub, common) -> None:
    """Add lookup, validate, export and handout; `common` adds the options every command accepts."""
    lk = sub.add_parser("lookup", help="which muscles can refer pain to this spot or area")
    where = lk.add_mutually_exclusive_group()
    where.add_argument("--point", nargs=3, type=float, metavar=("X", "Y", "Z"),
                       help="a painful spot in canonical-frame mm (+Z up, -Y anterior, -X subject's right)")
    where.add_argument("--points", metavar="FILE",
                       help="JSON file with a list of [x, y, z] points in mm (a painted area)")
    lk.add_argument("--radius", type=float, metavar="MM",
                    help=f"include the skin within MM of the point(s), 0 < MM <= 300 (area default {DEFAULT_RADIUS_MM:.0f})")
    lk.add_argument("--top", type=int, default=20, metavar="N", help="show at most N candidates (default 20)")
    lk.add_argument("--json", action="store_true", help="print machine-readable JSON")
    common(lk)
    lk.set_defaults(func=cmd_lookup)

    va = sub.add_parser("validate", help="check referral-map files")
    va.add_argument("paths", nargs="*", help="map files (default: all built-in and user maps)")
    common(va)
    va.set_defaults(func=cmd_validate)

    ex = sub.add_parser("export", help="render a pattern (or many) to slide-ready PNGs off-screen")
    ex.add_argument("--muscle", help="muscle name, alias or FMA id, e.g. 'gluteus minimus' (typos are fine)")
    ex.add_argument("--source", help="any source: muscle, joint, nerve root, nerve or organ, e.g. "
                                     "'L5-S1 facet joint', 'L5', 'gallbladder' (see `referral-viewer list`)")
    ex.add_argument("--side", choices=[*SIDES, "both"], help="which side's pattern (default right)")
    ex.add_argument("--view", choices=VIEW_CHOICES,
                    help="camera direction (default best: a plate of the 1-3 views that show every essential "
                         "zone and trigger point)")
    ex.add_argument("--views", metavar="V1,V2",
                    help="with --all: comma-separated views, e.g. best,anterior,posterior")
    ex.add_argument("--out", metavar="FILE.png", help="the PNG file to write")
    ex.add_argument("--all", metavar="DIR", help="render many patterns into DIR (see --muscles, --regions)")
    ex.add_argument("--muscles", metavar="NAMES", help="with --all: comma-separated muscle names, aliases or FMA ids")
    ex.add_argument("--regions", metavar="REGIONS", help="with --all: comma-separated body regions or source kinds, e.g. hip,thigh,neck or joint,organ")
    ex.add_argument("--contact-sheets", action="store_true",
                    help="with --all: also one contact sheet per body region and side")
    ex.add_argument("--sheets-only", action="store_true", help="with --all: contact sheets only")
    ex.add_argument("--size", default="1920x1080", metavar="WxH",
                    help="image size in pixels, up to 3840x2160 (default 1920x1080)")
    ex.add_argument("--theme", choices=["light", "dark"], default="light", help="slide theme (default light)")
    ex.add_argument("--transparent", action="store_true",
                    help="no background; text keeps a halo so it reads on light and dark slides")
    ex.add_argument("--no-title", action="store_true", help="leave out the title")
    ex.add_argument("--no-legend", action="store_true", help="leave out the colour legend")
    ex.add_argument("--no-attribution", action="store_true", help="leave out the attribution line")
    ex.add_argument("--no-labels", action="store_true", help="no trigger-point labels")
    ex.add_argument("--force", action="store_true",
                    help="replace existing image files (without it an existing --out or --all file is refused)")
    common(ex)
    ex.set_defaults(func=cmd_export)

    ho = sub.add_parser("handout", help="write a one-page patient handout PDF for a muscle or other source")
    ho.add_argument("--muscle", help="muscle name, alias or FMA id (typos are fine)")
    ho.add_argument("--source", help="any source: muscle, joint, nerve root, nerve or organ")
    ho.add_argument("--side", choices=SIDES, default="right", help="which side (default right)")
    ho.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF file to write")
    ho.add_argument("--notes", help="the therapist's notes, printed on the handout")
    ho.add_argument("--notes-file", metavar="FILE", help="read the notes from a UTF-8 text file")
    ho.add_argument("--page", choices=["A4", "Letter"], default="A4", help="paper size (default A4)")
    ho.add_argument("--force", action="store_true", help="replace an existing --out file")
    common(ho)
    ho.set_defaults(func=cmd_handout)

    li = sub.add_parser("list", help="every muscle, joint, nerve root, nerve and organ that can be shown")
    li.add_argument("--kind", choices=["muscle", "joint", "root", "nerve", "organ"], help="only this kind")
    li.add_argument("--json", action="store_true", help="print machine-readable JSON")
    common(li)
    li.set_defaults(func=cmd_list)
