"""Reverse lookup: a painful spot (or area) on the skin -> ranked candidate muscles.

A click stands for a fingertip-sized spot on a patient's body, not on the
body in the drawings, so a zone is not all-or-nothing at its drawn edge.
Ranking for a spot: muscles whose essential zone covers it come first, then
spillover; within each, by field strength; on a tie, the muscle on the same
side as the pain first. After them come the zones whose edge passes within
EDGE_MM of the spot (along the same sheet of skin), marked `at_edge` with the
distance to the edge, essential before spillover, nearest first. For a
painted area: by how much of the area the pattern explains (essential counts
1, spillover 0.5).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from viewer.errors import ViewerError
from viewer.referral.model import IN_ZONE, ReferralModel
from viewer.referral.segments import ADJACENT

MAX_SNAP_MM = 50.0
# A fingertip covers about 10 mm; published drawings are of one body and people differ by
# about as much again, so a zone whose edge passes within 20 mm of a spot is "at the edge".
EDGE_MM = 20.0


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
    out = []
    for k in idx:
        p = model.patterns[k]
        essential = e[k] >= IN_ZONE
        score = float(max(e[k], 0.5 * s[k])) if essential else float(0.5 * max(s[k], e[k]))
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side, "essential" if essential else "spillover",
                             round(score, 4), p.has_mesh, int(k)))
    out.sort(key=lambda c: (c.zone != "essential", -c.score, c.side != pain_side, c.name))
    return out


def edge_candidates(model: ReferralModel, vertex: int, covered: set[int],
                    edge_mm: float = EDGE_MM) -> list[Candidate]:
    """Patterns not covering the spot whose zone reaches within edge_mm of it, nearest first."""
    verts, dist = disc(model, vertex, edge_mm, with_distance=True)
    in_e, in_s = model.in_zone
    e, s = in_e[verts], in_s[verts]
    out = []
    for k in np.flatnonzero(e.any(axis=0) | s.any(axis=0)):
        if int(k) in covered:
            continue
        p = model.patterns[k]
        essential = bool(e[:, k].any())
        d = float(dist[e[:, k] if essential else s[:, k]].min())
        v = model.ess if essential else model.spill
        score = float(v[vertex, k]) * (1.0 if essential else 0.5)
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side, "essential" if essential else "spillover",
                             round(score, 4), p.has_mesh, int(k), at_edge=True, edge_mm=round(d, 1)))
    pain_side = _side_of_point(model, vertex)
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
    out = rank_memberships(model, e, s, _side_of_point(model, vertex))
    if edge_mm:
        reach = max(edge_mm, radius_mm or 0.0)
        out += edge_candidates(model, vertex, {c.pattern for c in out}, reach)
    return out


def disc(model: ReferralModel, vertex: int, radius_mm: float, with_distance: bool = False):
    """Skin vertices within radius of a vertex on the same sheet of skin (normals agree) and
    on its body segment or one meeting it at a joint, so a disc on the inner thigh does not
    pick up the other thigh, nor one on the hip the hand resting beside it. With
    `with_distance`, also their distances (mm)."""
    geo = model.geo
    idx = np.asarray(geo.tree.query_ball_point(geo.vertices[vertex], radius_mm), dtype=np.int64)
    if geo.normals is not None and len(idx):
        idx = idx[geo.normals[idx] @ geo.normals[vertex] > 0.0]
    seg = getattr(model, "segment_labels", None)
    if seg is not None and len(idx):
        idx = idx[ADJACENT[seg[vertex], seg[idx]]]
    if not len(idx):
        idx = np.array([vertex])
    if with_distance:
        return idx, np.linalg.norm(geo.vertices[idx] - geo.vertices[vertex], axis=1).astype(np.float32)
    return idx


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


def area_from_points(model: ReferralModel, points, radius_mm: float = 25.0) -> tuple[np.ndarray, float]:
    """Skin vertices painted by discs around points; returns (vertices, max snap distance)."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    idx, dist = model.geo.snap(pts)
    if dist.max() > MAX_SNAP_MM:
        bad = pts[int(np.argmax(dist))].round(1).tolist()
        raise ViewerError(f"The point {bad} is {dist.max():.0f} mm from the skin.", path="--points",
                          fix="give points on the body surface in canonical millimetres.")
    verts = np.unique(np.concatenate([disc(model, int(v), radius_mm) for v in idx]))
    return verts, float(dist.max())
