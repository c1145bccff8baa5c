"""`referral-viewer validate`: every problem in the map files, with file:line."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viewer.referral.loader import Problem, _Loader, _node_line, load_landmarks, load_maps, load_regions
from viewer.referral.points import UnknownLandmark, resolve
from viewer.referral.schema import Anchored, MuscleMap

MAX_OFF_SKIN_MM = 60.0


def _landmark_names(m: MuscleMap):
    """(field path, landmark name) of every landmark reference in a map."""
    for i, tp in enumerate(m.trigger_points):
        if tp.at:
            yield ("trigger_points", i, "at"), tp.at
    for kind in ("essential", "spillover"):
        for zi, z in enumerate(getattr(m.zones, kind)):
            for si, s in enumerate(z.strokes):
                for pi, p in enumerate(s.points):
                    name = p if isinstance(p, str) else p.at if isinstance(p, Anchored) else None
                    if name:
                        yield ("zones", kind, zi, "strokes", si, "points", pi), name


def _line(path: Path, loc) -> int | None:
    import yaml

    try:
        return _node_line(yaml.compose(Path(path).read_text(), Loader=_Loader), loc)
    except Exception:
        return None


def validate(paths=None, *, meshes=None, user_maps=None) -> tuple[list[Problem], str]:
    files = [Path(p) for p in paths] if paths else None
    maps = load_maps(user_maps, files=files)
    problems = list(maps.problems)
    landmarks, regions = load_landmarks(), load_regions()

    skin_tree, part_bases = None, None
    try:
        from viewer.anatomy.pack import load_pack, normalize

        pack = load_pack(meshes)
        from scipy.spatial import cKDTree

        skin_tree = cKDTree(pack.skin_vertices)
        part_bases = {normalize(p.base) for p in pack.parts}
    except Exception as exc:  # validation of the text still works without a pack
        problems.append(Problem(Path("meshes"), None, "", f"no pack loaded, geometry checks skipped ({exc})"))

    n_tps = n_zones = 0
    for m in maps.maps:
        path = maps.files[m.id]
        n_tps += len(m.trigger_points)
        n_zones += len(m.zones.essential) + len(m.zones.spillover)
        for loc, name in _landmark_names(m):
            lm = landmarks.get(name)
            if lm is None:
                problems.append(Problem(path, _line(path, loc), ".".join(map(str, loc)),
                                        f"unknown landmark {name!r} (names are in referral_maps/landmarks.yaml)"))
            elif lm.point is None:
                problems.append(Problem(path, _line(path, loc), ".".join(map(str, loc)),
                                        f"landmark {name!r} has no measured point"))
        for kind in ("essential", "spillover"):
            for zi, z in enumerate(getattr(m.zones, kind)):
                for ri, r in enumerate(z.region_refs()):
                    if r.name not in regions:
                        loc = ("zones", kind, zi, "regions", ri)
                        problems.append(Problem(path, _line(path, loc), ".".join(map(str, loc)),
                                                f"unknown region {r.name!r} (see referral_maps/regions.yaml)"))
        for si, src in enumerate(m.sources):
            if len(src.strip()) < 20:
                problems.append(Problem(path, _line(path, ("sources", si)), f"sources.{si}",
                                        "a source must be a full citation"))
        if part_bases is not None:
            for pi, base in enumerate(m.mesh_parts):
                if normalize(base) not in part_bases:
                    problems.append(Problem(path, _line(path, ("mesh_parts", pi)), f"mesh_parts.{pi}",
                                            f"no part {base!r} in the mesh pack (see `referral-viewer info`)"))
        if skin_tree is not None:
            for i, tp in enumerate(m.trigger_points):
                try:
                    p = resolve(tp.ref, landmarks)
                except UnknownLandmark:
                    continue
                d = skin_tree.query(p)[0]
                if d > MAX_OFF_SKIN_MM:
                    loc = ("trigger_points", i)
                    problems.append(Problem(path, _line(path, loc), f"trigger_points.{i}",
                                            f"{tp.label} is {d:.0f} mm from the skin (limit {MAX_OFF_SKIN_MM:.0f}); "
                                            "check the offset"))
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
                                loc = ("zones", kind, zi, "strokes", si, "points", pi)
                                problems.append(Problem(path, _line(path, loc), ".".join(map(str, loc)),
                                                        f"point is {d:.0f} mm from the skin; check the offset"))
    if paths is None:
        missing = [n for n, lm in landmarks.items() if lm.point is None]
        if missing:
            problems.append(Problem(Path("referral_maps/landmarks.yaml"), None, "landmarks",
                                    f"{len(missing)} landmarks have no point: {', '.join(missing[:10])}"))
    geometry_only = [p for p in problems if "geometry checks skipped" in p.message]
    real = [p for p in problems if p not in geometry_only]
    summary = (f"{len(maps.maps)} muscles, {n_tps} trigger points, {n_zones} zones: "
               + ("OK" if not real else f"{len(real)} problem(s)"))
    return real + geometry_only, summary
