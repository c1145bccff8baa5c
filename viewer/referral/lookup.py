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

The candidate list holds muscles only. Joints, nerve roots, nerves and organs
are ranked apart (`other_sources`, the "Also consider" list): zones covering
the spot first, scored by the published frequency of pain in the covering zone
where the paper gives one (Slipman 2000: the sacroiliac joint refers to the
buttock in 94% of patients), else 1.0 on an essential zone's centre line and
half that on a spillover zone; then the zones whose edge passes within EDGE_MM.
Organs with a red flag whose essential zone covers the spot raise it, and the
nerve roots whose dermatome covers it give the spot's segmental level.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from viewer.constants import DEFAULT_RADIUS_MM
from viewer.errors import ViewerError
from viewer.referral.fields import IN_ZONE, distance_beyond, value_beyond
from viewer.referral.model import ReferralModel
from viewer.referral.segments import ADJACENT

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
        """The candidate as JSON (coverage and edge distance only where they apply)."""
        d = asdict(self)
        if d["coverage_essential"] is None:
            d.pop("coverage_essential")
            d.pop("coverage_spillover")
        if d["edge_mm"] is None:
            d.pop("edge_mm")
        return d


@dataclass
class OtherSource:
    """A joint, nerve root, nerve or organ whose published map covers (or nearly covers) the spot."""
    source_id: str
    kind: str           # "joint" | "root" | "nerve" | "organ"
    name: str
    level: str          # e.g. "L5-S1", "C6"; "" when the source has none
    side: str           # "right" | "left" | "midline"
    zone: str           # "essential" | "spillover"
    score: float        # 0..1: the published frequency where given, else the zone strength
    frequency: float | None   # published share of patients with pain here, when the paper gives it
    red_flag: bool
    pattern: int
    sources: list[str]
    segments: list[str]
    at_edge: bool = False
    edge_mm: float | None = None
    coverage: float | None = None     # area lookups: share of the painted area inside its zones

    @property
    def label(self) -> str:
        """Zone as shown, e.g. "essential, 94% of patients" or "spillover (at the edge, 9 mm)"."""
        text = self.zone
        if self.frequency is not None:
            text += f", {self.frequency * 100:.0f}% of patients"
        return f"{text} (at the edge, {self.edge_mm:.0f} mm)" if self.at_edge else text

    def to_json(self) -> dict:
        """The source as JSON (frequency, edge distance and coverage only where they apply)."""
        d = asdict(self)
        for k in ("edge_mm", "coverage", "frequency"):
            if d[k] is None:
                d.pop(k)
        return d


@dataclass
class RedFlag:
    """An urgent source whose zone covers the spot or area: its warning signs and what to do."""
    source_id: str
    name: str
    side: str
    warning: str
    patient: str
    action: str

    def to_json(self) -> dict:
        """The red flag as JSON."""
        return asdict(self)


@dataclass
class SpotResult:
    vertex: int
    point: np.ndarray
    snap_mm: float
    region: dict
    candidates: list[Candidate]
    other_sources: list[OtherSource] = field(default_factory=list)
    dermatomes: list[str] = field(default_factory=list)     # levels of the roots covering the spot
    red_flags: list[RedFlag] = field(default_factory=list)

    def to_json(self) -> dict:
        """The spot's answer as JSON: region, snap, red flags, dermatomes, candidates, other sources."""
        return {"region": self.region, "snap_mm": round(self.snap_mm, 2),
                "vertex": self.vertex, "point": [round(float(x), 1) for x in self.point],
                "red_flags": [r.to_json() for r in self.red_flags],
                "dermatomes": list(self.dermatomes),
                "candidates": [c.to_json() for c in self.candidates],
                "other_sources": [o.to_json() for o in self.other_sources]}


@dataclass
class AreaResult:
    """A painted area's answer: muscles, the other sources and red flags, ranked like a spot's."""
    n_vertices: int
    candidates: list[Candidate]
    other_sources: list[OtherSource] = field(default_factory=list)
    dermatomes: list[str] = field(default_factory=list)
    red_flags: list[RedFlag] = field(default_factory=list)
    snap_mm: float | None = None      # the largest snap of the painted points to the skin

    def to_json(self) -> dict:
        """The area's answer as JSON: size, red flags, dermatomes, candidates, other sources."""
        return {"area_vertices": self.n_vertices,
                **({} if self.snap_mm is None else {"snap_mm": round(self.snap_mm, 2)}),
                "red_flags": [r.to_json() for r in self.red_flags],
                "dermatomes": list(self.dermatomes),
                "candidates": [c.to_json() for c in self.candidates],
                "other_sources": [o.to_json() for o in self.other_sources]}


def side_of_point(model: ReferralModel, vertex: int) -> str:
    """The side of the body a skin vertex is on (its region's, else by x)."""
    r = model.region_of(vertex)
    if r.side != "midline":
        return r.side
    return "right" if model.geo.vertices[vertex, 0] < 0 else "left"


def rank_memberships(model: ReferralModel, e: np.ndarray, s: np.ndarray, pain_side: str) -> list[Candidate]:
    """Candidate muscles from per-pattern essential/spillover memberships at the painful spot."""
    idx = np.flatnonzero(((e >= IN_ZONE) | (s >= IN_ZONE)) & model.muscle_mask())
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
    return model.zone_sizes()


def edge_candidates(model: ReferralModel, e: np.ndarray, s: np.ndarray, pain_side: str, covered: set[int],
                    edge_mm: float = EDGE_MM) -> list[Candidate]:
    """Patterns not covering the spot whose zone's edge lies within edge_mm of it (along the
    skin), nearest first, from the memberships e, s at the spot."""
    lo = value_beyond(edge_mm, IN_ZONE)
    out = []
    ks = [k for k in np.flatnonzero(((e >= lo) | (s >= lo)) & model.muscle_mask()) if int(k) not in covered]
    ess = e[ks] >= lo
    vals = np.where(ess, e[ks], s[ks])
    dist = distance_beyond(vals, IN_ZONE)          # one vectorised inverse for every row
    for k, essential, v, d in zip(ks, ess, vals, dist):
        p = model.patterns[k]
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side, "essential" if essential else "spillover",
                             round(float(v) * (1.0 if essential else 0.5), 4), p.has_mesh, int(k),
                             at_edge=True, edge_mm=round(max(float(d), 0.0), 1)))
    out.sort(key=lambda c: (c.zone != "essential", c.edge_mm, c.side != pain_side, c.name))
    return out


def _spot_memberships(model: ReferralModel, vertex: int, radius_mm: float | None):
    """(vertices, essential, spillover) at a spot: one vertex, or the disc around it."""
    verts = disc(model, vertex, radius_mm) if radius_mm else np.array([vertex])
    if len(verts) == 1:
        return verts, model.ess[vertex].astype(np.float32), model.spill[vertex].astype(np.float32)
    return verts, model.ess[verts].max(axis=0).astype(np.float32), model.spill[verts].max(axis=0).astype(np.float32)


def lookup_vertex(model: ReferralModel, vertex: int, radius_mm: float | None = None,
                  edge_mm: float | None = EDGE_MM) -> list[Candidate]:
    """Candidate muscles for a spot: the zones covering it, then (edge_mm > 0) those at its edge
    (the muscles of `lookup_spot`, the one path a click takes)."""
    return lookup_spot(model, vertex, radius_mm, edge_mm)[0]


def _other(model: ReferralModel, k: int, zone: str, score: float, frequency: float | None, **extra) -> OtherSource:
    p = model.patterns[k]
    m = p.muscle
    return OtherSource(m.id, m.kind, m.name, m.level, p.side, zone, round(score, 4),
                       None if frequency is None else round(frequency, 2), m.red_flag is not None, int(k),
                       list(m.sources), list(m.segments), **extra)


def _frequency_at(model: ReferralModel, k: int, verts: np.ndarray) -> float | None:
    col = model.frequency.get(int(k))
    if col is None:
        return None
    f = float(col[verts].max())
    return f if f > 0 else None


def rank_other_sources(model: ReferralModel, verts: np.ndarray, e: np.ndarray, s: np.ndarray, pain_side: str,
                       edge_mm: float | None = EDGE_MM) -> list[OtherSource]:
    """Joints, roots, nerves and organs at a spot (memberships e, s over `verts`): covering zones
    by score (published frequency, else zone strength; spillover counts half), then zones whose
    edge passes within edge_mm, nearest first."""
    others = ~model.muscle_mask()
    sizes = _zone_sizes(model)
    covering, size = [], {}
    for k in np.flatnonzero(((e >= IN_ZONE) | (s >= IN_ZONE)) & others):
        essential = bool(e[k] >= IN_ZONE)
        freq = _frequency_at(model, k, verts)
        strength = float(max(e[k], 0.5 * s[k])) if essential else float(0.5 * max(s[k], e[k]))
        covering.append(_other(model, k, "essential" if essential else "spillover",
                               freq if freq is not None else strength, freq))
        size[int(k)] = float(sizes[0 if essential else 1][k])
    covering.sort(key=lambda o: (-o.score, size[o.pattern], o.side not in (pain_side, "midline"), o.name))
    if not edge_mm:
        return covering
    lo, done, near = value_beyond(edge_mm, IN_ZONE), {o.pattern for o in covering}, []
    ks = [k for k in np.flatnonzero(((e >= lo) | (s >= lo)) & others) if int(k) not in done]
    ess = e[ks] >= lo
    vals = np.where(ess, e[ks], s[ks])
    for k, essential, v, d in zip(ks, ess, vals, distance_beyond(vals, IN_ZONE)):
        near.append(_other(model, k, "essential" if essential else "spillover",
                           float(v) * (1.0 if essential else 0.5), None,
                           at_edge=True, edge_mm=round(max(float(d), 0.0), 1)))
    near.sort(key=lambda o: (o.zone != "essential", o.edge_mm, o.side not in (pain_side, "midline"), o.name))
    return covering + near


def red_flags_of(model: ReferralModel, patterns) -> list[RedFlag]:
    """The red flags of the given patterns (indices), once per source, in their order."""
    out, seen = [], set()
    for k in patterns:
        p = model.patterns[int(k)]
        rf = p.muscle.red_flag
        if rf is not None and p.muscle.id not in seen:
            seen.add(p.muscle.id)
            out.append(RedFlag(p.muscle.id, p.muscle.name, p.side, rf.warning, rf.patient, rf.action))
    return out


def dermatome_levels(others: list[OtherSource]) -> list[str]:
    """Levels of the nerve roots whose dermatome covers the spot (not those at the edge), best first."""
    levels = []
    for o in others:
        if o.kind == "root" and not o.at_edge and o.level and o.level not in levels:
            levels.append(o.level)
    return levels


def lookup_spot(model: ReferralModel, vertex: int, radius_mm: float | None = None,
                edge_mm: float | None = EDGE_MM):
    """Everything a click answers: (muscle candidates, other sources, dermatome levels, red flags)."""
    verts, e, s = _spot_memberships(model, vertex, radius_mm)
    pain_side = side_of_point(model, vertex)
    cands = rank_memberships(model, e, s, pain_side)
    if edge_mm:
        cands += edge_candidates(model, e, s, pain_side, {c.pattern for c in cands}, edge_mm)
    others = rank_other_sources(model, verts, e, s, pain_side, edge_mm)
    # a red flag is raised by the organ's usual (essential) area, not by its rarer spread, so it
    # keeps its weight: a warning on every low-back click would soon be ignored
    flags = red_flags_of(model, [o.pattern for o in others if not o.at_edge and o.zone == "essential"])
    return cands, others, dermatome_levels(others), flags


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
    """Everything a click at a canonical point answers (`lookup_spot`), snapped to the skin.

    Raises
    ------
    ViewerError
        The point is more than MAX_SNAP_MM from the skin (names the argument ``point``)."""
    point = np.asarray(point, dtype=np.float64).reshape(3)
    idx, dist = model.geo.snap(point)
    v, d = int(idx[0]), float(dist[0])
    if d > MAX_SNAP_MM:
        raise ViewerError(f"The point {point.round(1).tolist()} is {d:.0f} mm from the skin "
                          f"(more than {MAX_SNAP_MM:.0f} mm).", path="point",
                          fix="give canonical-frame millimetres on the body surface "
                              "(+Z up, -Y anterior, -X the subject's right); see `referral-viewer info` "
                              "for the body bounds.")
    r = model.region_of(v)
    cands, others, levels, flags = lookup_spot(model, v, radius_mm)
    return SpotResult(v, model.geo.vertices[v], d, {"name": r.name, "side": r.side, "label": r.display},
                      cands, others, levels, flags)


def lookup_area(model: ReferralModel, vertices) -> list[Candidate]:
    """Rank muscle patterns by the share of a painted area (skin vertex ids) they explain."""
    return area_result(model, vertices).candidates


def area_result(model: ReferralModel, vertices) -> AreaResult:
    """A painted area's full answer: muscles and the other sources ranked by the share of the
    area they explain (essential counts 1, spillover 0.5), the dermatomes and red flags whose
    zones reach into it."""
    verts = np.unique(np.asarray(vertices, dtype=np.int64))
    if len(verts) == 0:
        return AreaResult(0, [])
    e = model.ess[verts].astype(np.float32)
    s = model.spill[verts].astype(np.float32)
    in_e = (e >= IN_ZONE).mean(axis=0)
    in_s = ((s >= IN_ZONE) & (e < IN_ZONE)).mean(axis=0)
    explained = np.maximum(e, 0.5 * s).mean(axis=0)
    xs = model.geo.vertices[verts, 0]
    pain_side = "right" if np.mean(xs) < 0 else "left"
    muscle = model.muscle_mask()
    cands, others = [], []
    for k in np.flatnonzero((in_e > 0) | (in_s > 0)):
        p = model.patterns[k]
        zone = "essential" if in_e[k] >= in_s[k] else "spillover"
        if muscle[k]:
            cands.append(Candidate(p.muscle.id, p.muscle.name, p.side, zone, round(float(explained[k]), 4),
                                   p.has_mesh, int(k), round(float(in_e[k]), 4), round(float(in_s[k]), 4)))
        else:
            inside = verts[(e[:, k] >= IN_ZONE) | (s[:, k] >= IN_ZONE)]
            others.append(_other(model, k, zone, float(explained[k]), _frequency_at(model, k, inside),
                                 coverage=round(float(in_e[k] + in_s[k]), 4)))
    cands.sort(key=lambda c: (-c.score, c.side != pain_side, c.name))
    others.sort(key=lambda o: (-o.score, o.side not in (pain_side, "midline"), o.name))
    return AreaResult(int(len(verts)), cands, others, dermatome_levels(others),
                      red_flags_of(model, [o.pattern for o in others if in_e[o.pattern] > 0]))


# points x radius^2 of a painted area: 100,000 points at the default 25 mm, or 694 at the
# largest radius (300 mm). Above it one lookup took minutes and gigabytes (99,999 points at
# 300 mm: 171 s, 7.5 GB); at the cap it stays within seconds and well under 1 GB.
MAX_AREA_WORK_MM2 = 100_000 * 25.0 ** 2


def check_area_work(n_points: int, radius_mm: float, name: str = "points") -> None:
    """Refuse a painted area too costly to compute (see MAX_AREA_WORK_MM2)."""
    if n_points * radius_mm ** 2 > MAX_AREA_WORK_MM2:
        most = int(MAX_AREA_WORK_MM2 // radius_mm ** 2)
        raise ViewerError(f"{n_points:,} points with a {radius_mm:g} mm radius paint too much to compute "
                          f"(at most {most:,} points at {radius_mm:g} mm; points x radius^2 at most "
                          f"{MAX_AREA_WORK_MM2:,.0f} mm^2).", path=name,
                          fix="give fewer points (a painted area needs a few hundred) or a smaller --radius.")


def area_from_points(model: ReferralModel, points, radius_mm: float = DEFAULT_RADIUS_MM) -> tuple[np.ndarray, float]:
    """Skin vertices painted by discs around points; returns (vertices, max snap distance)."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    check_area_work(len(pts), radius_mm)
    idx, dist = model.geo.snap(pts)
    if dist.max() > MAX_SNAP_MM:
        bad = pts[int(np.argmax(dist))].round(1).tolist()
        raise ViewerError(f"The point {bad} is {dist.max():.0f} mm from the skin.", path="points",
                          fix="give points on the body surface in canonical millimetres.")
    painted = np.zeros(model.geo.n, dtype=bool)   # memory stays one flag per vertex
    for v in np.unique(idx):                      # points snapping to one vertex paint one disc
        painted[disc(model, int(v), radius_mm)] = True
    return np.flatnonzero(painted), float(dist.max())
