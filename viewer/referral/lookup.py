"""Reverse lookup: a painful spot (or area) on the skin -> ranked candidate muscles.

A click stands for a fingertip-sized spot on a patient's body, not on the
body in the drawings, so a zone is not all-or-nothing at its drawn edge.
Ranking for a spot: muscles whose essential zone covers it come first, then
spillover; within each, by field strength; on a tie, the smaller zone (the more
specific pattern) first, then the muscle on the same side as the pain. After them come the zones whose edge passes within
EDGE_MM of the spot, marked `at_edge` with the distance to the edge, essential
before spillover, nearest first. The distance is read off the field itself,
which falls off smoothly along the skin outside a zone (fields.distance_beyond):
it is geodesic, kept to the zone's body segments, and costs one row read. For a
painted area: by how much of the area the pattern explains (essential counts
1, spillover 0.5).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from viewer.errors import ViewerError
from viewer.referral.fields import distance_beyond, value_beyond
from viewer.referral.model import ReferralModel
from viewer.referral.segments import ADJACENT

IN_ZONE = 0.5          # membership at which a vertex counts as inside a zone
MAX_SNAP_MM = 50.0
# A fingertip covers about 10 mm and people differ from the one body in the drawings by
# about as much again; the fields' fall-off reaches ~19 mm beyond a zone's edge, so a zone
# whose edge passes within 15 mm of a spot is "at the edge".
EDGE_MM = 15.0


@dataclass
class Candidate:
    muscle_id: str
    name: str
    side: str
    zone: str           # "essential" | "spillover"
    score: float        # 0..1
    has_mesh: bool
    pattern: int
    coverage_essential: float | None = None   # area lookups: fraction of the area
    coverage_spillover: float | None = None
    at_edge: bool = False             # spot lookups: the zone's edge passes beside the spot
    edge_mm: float | None = None      # ... at this distance (mm); None when the zone covers it

    @property
    def label(self) -> str:
        """Zone as shown to the user, e.g. "essential" or "spillover (at the edge, 12 mm)"."""
        return f"{self.zone} (at the edge, {self.edge_mm:.0f} mm)" if self.at_edge else self.zone

    def to_json(self) -> dict:
        d = asdict(self)
        if d["coverage_essential"] is None:
            d.pop("coverage_essential")
            d.pop("coverage_spillover")
        if d["edge_mm"] is None:
            d.pop("edge_mm")
        return d


@dataclass
class SpotResult:
    vertex: int
    point: np.ndarray
    snap_mm: float
    region: dict
    candidates: list[Candidate]

    def to_json(self) -> dict:
        return {"region": self.region, "snap_mm": round(self.snap_mm, 2),
                "vertex": self.vertex, "point": [round(float(x), 1) for x in self.point],
                "candidates": [c.to_json() for c in self.candidates]}


def _side_of_point(model: ReferralModel, vertex: int) -> str:
    r = model.region_of(vertex)
    if r.side != "midline":
        return r.side
    return "right" if model.geo.vertices[vertex, 0] < 0 else "left"


def rank_memberships(model: ReferralModel, e: np.ndarray, s: np.ndarray, pain_side: str) -> list[Candidate]:
    """Candidates from per-pattern essential/spillover memberships at the painful spot."""
    idx = np.flatnonzero((e >= IN_ZONE) | (s >= IN_ZONE))
    sizes = _zone_sizes(model)
    out, size = [], {}
    for k in idx:
        p = model.patterns[k]
        essential = e[k] >= IN_ZONE
        score = float(max(e[k], 0.5 * s[k])) if essential else float(0.5 * max(s[k], e[k]))
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side, "essential" if essential else "spillover",
                             round(score, 4), p.has_mesh, int(k)))
        size[int(k)] = float(sizes[0 if essential else 1][k]) if sizes is not None else 0.0
    # Equal strength (a region's interior, a stroke's centre line): the smaller zone
    # first. A pattern confined to this part of the body points at it more
    # specifically than one spread over half the back (the likelihood of a spot
    # under a zone falls with the zone's area), and it beats the alphabet.
    out.sort(key=lambda c: (c.zone != "essential", -c.score, size[c.pattern], c.side != pain_side, c.name))
    return out


def _zone_sizes(model):
    sizes = getattr(model, "zone_sizes", None)
    return sizes() if callable(sizes) else None


def edge_candidates(model: ReferralModel, e: np.ndarray, s: np.ndarray, pain_side: str, covered: set[int],
                    edge_mm: float = EDGE_MM) -> list[Candidate]:
    """Patterns not covering the spot whose zone's edge lies within edge_mm of it (along the
    skin), nearest first, from the memberships e, s at the spot."""
    lo = value_beyond(edge_mm, IN_ZONE)
    out = []
    for k in np.flatnonzero((e >= lo) | (s >= lo)):
        if int(k) in covered:
            continue
        p = model.patterns[k]
        essential = bool(e[k] >= lo)
        v = float(e[k] if essential else s[k])
        d = float(distance_beyond(v, IN_ZONE))
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side, "essential" if essential else "spillover",
                             round(v * (1.0 if essential else 0.5), 4), p.has_mesh, int(k),
                             at_edge=True, edge_mm=round(max(d, 0.0), 1)))
    out.sort(key=lambda c: (c.zone != "essential", c.edge_mm, c.side != pain_side, c.name))
    return out


def lookup_vertex(model: ReferralModel, vertex: int, radius_mm: float | None = None,
                  edge_mm: float | None = EDGE_MM) -> list[Candidate]:
    """Candidates for a spot: the zones covering it, then (edge_mm > 0) those at its edge."""
    if radius_mm:
        verts = disc(model, vertex, radius_mm)
        e = model.ess[verts].max(axis=0).astype(np.float32)
        s = model.spill[verts].max(axis=0).astype(np.float32)
    else:
        e = model.ess[vertex].astype(np.float32)
        s = model.spill[vertex].astype(np.float32)
    pain_side = _side_of_point(model, vertex)
    out = rank_memberships(model, e, s, pain_side)
    if edge_mm:
        out += edge_candidates(model, e, s, pain_side, {c.pattern for c in out}, edge_mm)
    return out


def disc(model: ReferralModel, vertex: int, radius_mm: float) -> np.ndarray:
    """Skin vertices within radius of a vertex on the same sheet of skin (normals agree) and
    on its body segment or one meeting it at a joint, so a disc on the inner thigh does not
    pick up the other thigh, nor one on the hip the hand resting beside it."""
    geo = model.geo
    idx = np.asarray(geo.tree.query_ball_point(geo.vertices[vertex], radius_mm), dtype=np.int64)
    if geo.normals is not None and len(idx):
        idx = idx[geo.normals[idx] @ geo.normals[vertex] > 0.0]
    seg = getattr(model, "segment_labels", None)
    if seg is not None and len(idx):
        idx = idx[ADJACENT[seg[vertex], seg[idx]]]
    return idx if len(idx) else np.array([vertex])


def lookup_point(model: ReferralModel, point, radius_mm: float | None = None) -> SpotResult:
    point = np.asarray(point, dtype=np.float64).reshape(3)
    idx, dist = model.geo.snap(point)
    v, d = int(idx[0]), float(dist[0])
    if d > MAX_SNAP_MM:
        raise ViewerError(f"The point {point.round(1).tolist()} is {d:.0f} mm from the skin "
                          f"(more than {MAX_SNAP_MM:.0f} mm).", path="--point",
                          fix="give canonical-frame millimetres on the body surface "
                              "(+Z up, -Y anterior, -X the subject's right); see `referral-viewer info` "
                              "for the body bounds.")
    r = model.region_of(v)
    return SpotResult(v, model.geo.vertices[v], d, {"name": r.name, "side": r.side, "label": r.display},
                      lookup_vertex(model, v, radius_mm))


def lookup_area(model: ReferralModel, vertices) -> list[Candidate]:
    """Rank patterns by the share of a painted area (skin vertex ids) they explain."""
    verts = np.unique(np.asarray(vertices, dtype=np.int64))
    if len(verts) == 0:
        return []
    e = model.ess[verts].astype(np.float32)
    s = model.spill[verts].astype(np.float32)
    in_e = (e >= IN_ZONE).mean(axis=0)
    in_s = ((s >= IN_ZONE) & (e < IN_ZONE)).mean(axis=0)
    explained = np.maximum(e, 0.5 * s).mean(axis=0)
    xs = model.geo.vertices[verts, 0]
    pain_side = "right" if np.mean(xs) < 0 else "left"
    out = []
    for k in np.flatnonzero((in_e > 0) | (in_s > 0)):
        p = model.patterns[k]
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side,
                             "essential" if in_e[k] >= in_s[k] else "spillover",
                             round(float(explained[k]), 4), p.has_mesh, int(k),
                             round(float(in_e[k]), 4), round(float(in_s[k]), 4)))
    out.sort(key=lambda c: (-c.score, c.side != pain_side, c.name))
    return out


# points x radius^2 of a painted area: 100,000 points at the default 25 mm, or 694 at the
# largest radius (300 mm). Above it one lookup took minutes and gigabytes (99,999 points at
# 300 mm: 171 s, 7.5 GB); at the cap it stays within seconds and well under 1 GB.
MAX_AREA_WORK_MM2 = 100_000 * 25.0 ** 2


def check_area_work(n_points: int, radius_mm: float, name: str = "--points") -> None:
    """Refuse a painted area too costly to compute (see MAX_AREA_WORK_MM2)."""
    if n_points * radius_mm ** 2 > MAX_AREA_WORK_MM2:
        most = int(MAX_AREA_WORK_MM2 // radius_mm ** 2)
        raise ViewerError(f"{n_points:,} points with a {radius_mm:g} mm radius paint too much to compute "
                          f"(at most {most:,} points at {radius_mm:g} mm; points x radius^2 at most "
                          f"{MAX_AREA_WORK_MM2:,.0f} mm^2).", path=name,
                          fix="give fewer points (a painted area needs a few hundred) or a smaller --radius.")


def area_from_points(model: ReferralModel, points, radius_mm: float = 25.0) -> tuple[np.ndarray, float]:
    """Skin vertices painted by discs around points; returns (vertices, max snap distance)."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    check_area_work(len(pts), radius_mm)
    idx, dist = model.geo.snap(pts)
    if dist.max() > MAX_SNAP_MM:
        bad = pts[int(np.argmax(dist))].round(1).tolist()
        raise ViewerError(f"The point {bad} is {dist.max():.0f} mm from the skin.", path="--points",
                          fix="give points on the body surface in canonical millimetres.")
    painted = np.zeros(model.geo.n, dtype=bool)   # memory stays one flag per vertex
    for v in np.unique(idx):                      # points snapping to one vertex paint one disc
        painted[disc(model, int(v), radius_mm)] = True
    return np.flatnonzero(painted), float(dist.max())
