"""`referral-viewer validate`: every problem in the map files, with file:line."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from viewer.anatomy.pack import load_pack, normalize
from viewer.errors import ViewerError
from viewer.referral.loader import Problem, load_landmarks, load_maps, load_regions
from viewer.referral.points import UnknownLandmark, resolve
from viewer.referral.schema import KINDS, MAX_STROKE_MM, Anchored, MuscleMap

PLURALS = {"muscle": "muscles", "joint": "joints", "root": "nerve roots", "nerve": "nerves", "organ": "organs"}

MAX_OFF_SKIN_MM = 60.0

# Work budget: what computing one map's skin fields costs, in units of about 0.1 s on
# one core (fitted to the built-in maps and to maps made to sit at the budget: a stroke
# costs a geodesic solve and its band search, length x width^2; a region two solves over
# large vertex sets; a zone its segment masks). `validate` refuses a map over MAX_WORK and
# the model skips it (check_map is shared), so no accepted map can stall `lookup` or the
# window. MAX_WORK is the largest built-in map's work (Triceps brachii, 18.1) plus ~10%.
ZONE_WORK = 0.25
STROKE_WORK = 1.0
REGION_WORK = 3.0
BAND_MM3_PER_WORK = 3.3e7
MAX_WORK = 20.0
MAX_STEP_MM = 600.0      # consecutive stroke points farther apart jump across the body
MAX_BODY_MM = 1900.0     # a stroke longer than the body (head to heel) is a typing error


def _landmark_names(m: MuscleMap):
    """(field path, landmark name) of every landmark reference in a map."""
    field = "trigger_points" if m.trigger_points else "sites"
    for i, tp in enumerate(m.markers):
        if tp.at:
            yield (field, i, "at"), tp.at
    for kind in ("essential", "spillover"):
        for zi, z in enumerate(getattr(m.zones, kind)):
            for si, s in enumerate(z.strokes):
                for pi, p in enumerate(s.points):
                    name = p if isinstance(p, str) else p.at if isinstance(p, Anchored) else None
                    if name:
                        yield ("zones", kind, zi, "strokes", si, "points", pi), name


def map_work(m: MuscleMap, landmarks) -> float:
    """Estimated cost of a map's fields (see MAX_WORK); unknown landmarks count as no length."""
    work = 0.0
    for kind in ("essential", "spillover"):
        for z in getattr(m.zones, kind):
            work += ZONE_WORK + REGION_WORK * len(z.regions)
            for s in z.strokes:
                try:
                    pts = np.array([resolve(ref, landmarks) for ref in s.points])
                    length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()) if len(pts) > 1 else 0.0
                except UnknownLandmark:
                    length = 0.0
                work += STROKE_WORK + (length + s.width) * s.width ** 2 / BAND_MM3_PER_WORK
    return work


def check_map(m: MuscleMap, path: Path, landmarks, regions, skin_tree=None, part_bases=None,
              line=None) -> list[Problem]:
    """Every check beyond the schema, for one parsed map.

    The referral model applies exactly these rules when it loads maps (a map
    with any problem is skipped there), so `lookup` and the window never accept
    what `validate` rejects.

    Parameters
    ----------
    m : MuscleMap
        A map that passed the schema.
    path : Path
        Its file, for the messages.
    landmarks, regions : dict
        From `load_landmarks` and `load_regions`.
    skin_tree : scipy.spatial.cKDTree, optional
        Skin vertices of the pack; enables the distance-to-skin checks.
    part_bases : set of str, optional
        Normalised part names of the pack; enables the mesh_parts check.
    line : callable, optional
        ``line(loc)``: the file line of a field location, from the file's one parse
        (`MapSet.line`); without it problems carry no line.

    Returns
    -------
    list of Problem
    """
    problems: list[Problem] = []

    def add(loc, msg):
        problems.append(Problem(path, line(loc) if line else None, ".".join(map(str, loc)), msg))

    work = map_work(m, landmarks)
    if work > MAX_WORK:   # checked first: the checks below would be slow on such a map too
        zs = m.zones.essential + m.zones.spillover
        add(("zones",), f"the zones would take too long to compute: {len(zs)} zones, "
                        f"{sum(len(z.strokes) for z in zs)} strokes and {sum(len(z.regions) for z in zs)} "
                        f"regions cost {work:.0f} work units, at most {MAX_WORK:.0f} are allowed (the "
                        f"largest built-in map costs 18); use fewer or narrower strokes, fewer regions or "
                        f"fewer zones")
        return problems
    for loc, name in _landmark_names(m):
        lm = landmarks.get(name)
        if lm is None:
            add(loc, f"unknown landmark {name!r} (names are in referral_maps/landmarks.yaml)")
        elif lm.point is None:
            add(loc, f"landmark {name!r} has no measured point")
    for kind in ("essential", "spillover"):
        for zi, z in enumerate(getattr(m.zones, kind)):
            for ri, r in enumerate(z.region_refs()):
                if r.name not in regions:
                    add(("zones", kind, zi, "regions", ri), f"unknown region {r.name!r} (see referral_maps/regions.yaml)")
            for si, s in enumerate(z.strokes):
                try:
                    pts = np.array([resolve(ref, landmarks) for ref in s.points])
                except UnknownLandmark:
                    continue
                steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
                length = float(steps.sum())
                if length > min(MAX_STROKE_MM, MAX_BODY_MM):
                    add(("zones", kind, zi, "strokes", si), f"the stroke is {length:.0f} mm long, longer "
                                                            f"than the body (at most {MAX_BODY_MM:.0f} mm)")
                elif len(steps) and steps.max() > MAX_STEP_MM:
                    pi = int(steps.argmax())
                    add(("zones", kind, zi, "strokes", si, "points", pi + 1),
                        f"this point is {steps.max():.0f} mm from the one before (at most {MAX_STEP_MM:.0f} "
                        "mm): a stroke drawn across the body; add points along the way or split the stroke")
    for si, src in enumerate(m.sources):
        if len(src.strip()) < 20:
            add(("sources", si), "a source must be a full citation")
    if part_bases is not None:
        for pi, base in enumerate(m.mesh_parts):
            if normalize(base) not in part_bases:
                add(("mesh_parts", pi), f"no part {base!r} in the mesh pack (see `referral-viewer info`)")
    if skin_tree is not None:
        field = "trigger_points" if m.trigger_points else "sites"
        for i, tp in enumerate(m.markers):
            try:
                p = resolve(tp.ref, landmarks)
            except UnknownLandmark:
                continue
            d = skin_tree.query(p)[0]
            if d > MAX_OFF_SKIN_MM:
                add((field, i), f"{tp.label} is {d:.0f} mm from the skin (limit "
                                           f"{MAX_OFF_SKIN_MM:.0f}); check the offset")
        for kind in ("essential", "spillover"):
            for zi, z in enumerate(getattr(m.zones, kind)):
                for si, s in enumerate(z.strokes):
                    for pi, ref in enumerate(s.points):
                        try:
                            p = resolve(ref, landmarks)
                        except UnknownLandmark:
                            continue
                        d = skin_tree.query(p)[0]
                        if d > MAX_OFF_SKIN_MM:
                            add(("zones", kind, zi, "strokes", si, "points", pi),
                                f"point is {d:.0f} mm from the skin; check the offset")
    return problems


def validate(paths=None, *, meshes=None, user_maps=None) -> tuple[list[Problem], str]:
    """Check map files: schema, names, landmarks, regions and (with a pack) geometry.

    Returns
    -------
    problems : list of Problem
        Real problems first, then at most one note that no pack was found.
    summary : str
        One line: counts and OK or the number of problems.
    """
    files = [Path(p) for p in paths] if paths else None
    maps = load_maps(user_maps, files=files)
    problems = list(maps.problems)
    landmarks, regions = load_landmarks(), load_regions()

    skin_tree, part_bases, note = None, None, None
    try:
        pack = load_pack(meshes)
        skin_tree = cKDTree(pack.skin_vertices)
        part_bases = {normalize(p.base) for p in pack.parts}
    except ViewerError as exc:  # validation of the text still works without a pack
        note = Problem(Path(str(getattr(exc, "path", None) or "meshes")), None, "",
                       f"note: geometry checks skipped: {exc}")

    n_tps = n_zones = 0
    by_kind = Counter(m.kind for m in maps.maps)
    for m in maps.maps:
        path = maps.files[m.id]
        n_tps += len(m.trigger_points)
        n_zones += len(m.zones.essential) + len(m.zones.spillover)
        problems += check_map(m, path, landmarks, regions, skin_tree, part_bases,
                              line=lambda loc, mid=m.id: maps.line(mid, loc))
    maps.forget_nodes()
    if paths is None:
        missing = [n for n, lm in landmarks.items() if lm.point is None]
        if missing:
            problems.append(Problem(Path("referral_maps/landmarks.yaml"), None, "landmarks",
                                    f"{len(missing)} landmarks have no point: {', '.join(missing[:10])}"))
    others = ", ".join(f"{by_kind[k]} {PLURALS[k]}" for k in KINDS[1:] if by_kind[k])
    summary = (f"{by_kind['muscle']} muscles, {n_tps} trigger points"
               + (f", {others}" if others else "") + f", {n_zones} zones: "
               + ("OK" if not problems else f"{len(problems)} problem(s)")
               + (f"\n{note}" if note else ""))
    return problems, summary
