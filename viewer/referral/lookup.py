"""Reverse lookup: a painful spot (or area) on the skin -> ranked candidate muscles.

A click stands for a fingertip-sized spot on a patient's body, not on the
body in the drawings, so a zone is not all-or-nothing at its drawn edge.
Muscles are ranked by one clinical score (clinical_score; README "The click"):
zone weight W (essential 1, spillover 0.5) x S, the zone's membership averaged
over the skin around the spot (a Gaussian of SMOOTH_SIGMA_MM over the coarse
NEAR_DISC_MM neighbourhood, the fingertip's mean counting as one sample at the
spot; averaged with the mirror spot for the mirrored pattern) x F, the
published frequency of the muscle as a source of pain in the spot's body area
(frequency.py, referral_maps/area_frequency.yaml). Which zones are listed is
decided at the fingertip (a Gaussian-weighted disc, sigma TIP_SIGMA_MM): those
covering it (membership >= IN_ZONE) and those whose edge passes within EDGE_MM
rank together by score; then the zones within NEAR_MM ("near"), by score, each
marked with its distance. Scores within SCORE_STEP tie (then the smaller zone,
essential, the pain's side, the name). For a painted area: the share of the
area the pattern explains (essential counts 1, spillover 0.5) times F over the
area.

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

import math
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
    at_edge: bool = False             # spot lookups: the zone does not cover the spot but lies beside it
    edge_mm: float | None = None      # ... at this distance (mm); None when the zone covers it
    tier: str = "covers"              # "covers" | "edge" (within EDGE_MM) | "near" (within NEAR_MM)
    frequency: float | None = None    # F: the muscle's published frequency weight in this body area

    @property
    def label(self) -> str:
        """Zone as shown to the user, e.g. "essential", "spillover (at the edge, 12 mm)" or
        "essential (near, 38 mm)"."""
        if self.tier == "near":
            return f"{self.zone} (near, {self.edge_mm:.0f} mm)"
        return f"{self.zone} (at the edge, {self.edge_mm:.0f} mm)" if self.at_edge else self.zone

    def to_json(self) -> dict:
        """The candidate as JSON (coverage and edge distance only where they apply)."""
        d = asdict(self)
        if d["coverage_essential"] is None:
            d.pop("coverage_essential")
            d.pop("coverage_spillover")
        if d["edge_mm"] is None:
            d.pop("edge_mm")
        if d["frequency"] is None:
            d.pop("frequency")
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


ZONE_WEIGHT = {"essential": 1.0, "spillover": 0.5}
SPOT_MM = 10.0        # a click is a fingertip: the disc of this radius around the clicked vertex
TIP_SIGMA_MM = 0.5 * SPOT_MM    # the fingertip's Gaussian weight ...
TIP_REACH_MM = 1.5 * SPOT_MM    # ... over the skin within this distance of the click
NEAR_DISC_MM = 40.0   # the neighbourhood read for the "near" tier and the score's strength ...
NEAR_MM = 55.0        # ... listing zones whose edge lies within this distance (the disc + the fall-off)
_F16 = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)
SCORE_STEP = 0.02     # scores closer than this rank as equal (then: smaller zone, essential, side)
_FAINT = 1e-3         # field values below this say nothing about the distance
# the largest float16 bit pattern (of a value >= 0) not above _FAINT: a value is above _FAINT
# exactly when its bits are above this
_FAINT_BITS = int(np.flatnonzero(_F16[:0x7C01] <= _FAINT).max())


def pattern_swap(model: ReferralModel) -> np.ndarray:
    """(P,) index of each pattern's other-side pattern (itself for midline or one-sided ones)."""
    sw = getattr(model, "_swap", None)
    if sw is None or len(sw) != len(model.patterns):
        where = {(p.muscle.id, p.side): p.index for p in model.patterns}
        other = {"right": "left", "left": "right"}
        sw = np.array([where.get((p.muscle.id, other.get(p.side, p.side)), p.index) for p in model.patterns])
        try:
            model._swap = sw
        except AttributeError:
            pass
    return sw


def area_prior(model: ReferralModel):
    """The published-frequency prior (viewer.referral.frequency), built once per model; None
    when the model has no maps (synthetic models in tests)."""
    prior = getattr(model, "_prior", None)
    if prior is None and getattr(model, "maps", None) is not None:
        from viewer.referral.frequency import build_prior
        prior = build_prior(model)
        model._prior = prior
    return prior


def frequency_weights(model: ReferralModel, vertex: int, point: np.ndarray | None = None) -> np.ndarray:
    """(P,) F at a skin vertex: the published frequency of each pattern's muscle as a source of
    pain in the body area of the spot (frequency.py); 1.0 everywhere without a prior."""
    prior = area_prior(model)
    if prior is None:
        return np.ones(len(model.patterns))
    seg = None if model.segment_labels is None else int(model.segment_labels[vertex])
    return prior.at(model.geo.vertices[vertex] if point is None else point, seg)


def frequency_pair(model: ReferralModel, vertices, points) -> list[np.ndarray]:
    """`frequency_weights` at several spots (a click and its mirror) in one pass."""
    prior = area_prior(model)
    if prior is None:
        return [np.ones(len(model.patterns)) for _ in vertices]
    seg = None if model.segment_labels is None else model.segment_labels[np.asarray(vertices)].astype(int)
    a = prior.area_weights(np.asarray(points, dtype=np.float64), seg)
    return [prior._combine(row) for row in a]


COARSE_MM = 14.0      # spacing of the vertices read for the "near" distances and the score
# The score's strength S: a zone's membership averaged over the skin around the spot with a
# Gaussian weight of this sigma (over the coarse NEAR_DISC_MM neighbourhood the near tier reads
# anyway; the fingertip's own mean counts as one sample at the spot). A zone is drawn on one
# body from many patients' reports, and where its border lies on this patient is uncertain by
# centimetres, not by the millimetres between two neighbouring clicks: the score should change
# little over a fingertip's move. Measured on 1000 random spots (bench --ranking-only, seed 18),
# top-5 stability for moves of 12-18 mm: fingertip strength 0.817; sigma 20 mm 0.854, 25 mm
# 0.863, 30 mm 0.873, 35 mm 0.869, a flat 40 mm disc 0.857; centre-click pain areas 682/265
# -> 680/263 at 30 mm. Which zones are listed (covers, edge, near) is still decided at the
# fingertip and by distance.
SMOOTH_SIGMA_MM = 30.0


def warm(model: ReferralModel) -> None:
    """Build what every click reads, once: the muscle fields side by side, the coarse
    neighbourhood index, the published-frequency prior and the side swap. Without it the
    first click of a process pays for them (about 0.25 s); the window calls this in its
    loading thread, right after the patterns are read.

    Parameters
    ----------
    model : ReferralModel
        The loaded model (its caches are kept on it).
    """
    _muscle_fields(model)
    _coarse(model)
    area_prior(model)
    pattern_swap(model)


def _muscle_columns(model: ReferralModel) -> np.ndarray:
    """Indices of the muscle patterns (the candidate list reads only these), built once."""
    mi = getattr(model, "_muscle_cols", None)
    if mi is None or len(mi) != int(model.muscle_mask().sum()):
        mi = np.flatnonzero(model.muscle_mask())
        try:
            model._muscle_cols = mi
        except AttributeError:
            pass
    return mi


def _muscle_fields(model: ReferralModel) -> np.ndarray:
    """(V, 2M) float16: the essential then the spillover fields of the muscle patterns, side by
    side, built once per model (a click reads one row block instead of two full-width ones)."""
    c = getattr(model, "_muscle_fields", None)
    key = (id(model.ess), id(model.spill), model.ess.shape)
    if c is None or c[0] != key:
        mi = _muscle_columns(model)
        both = np.ascontiguousarray(np.hstack([model.ess[:, mi], model.spill[:, mi]]), dtype=np.float16)
        if not (both.view(np.uint16) <= 0x7C00).all():     # a negative or NaN value: no bit test
            raise ViewerError("a muscle field holds a negative or undefined value.", path="fields cache",
                              fix="delete the fields cache folder; it is rebuilt on the next start.")
        c = (key, both)
        try:
            model._muscle_fields = c
        except AttributeError:
            pass
    return c[1]


def _coarse(model: ReferralModel):
    """(vertex ids, KD-tree) of a ~COARSE_MM subsample of the skin, built once: the near tier
    reads ~40 of them instead of ~150 skin vertices, keeping a click well under 1 ms."""
    c = getattr(model, "_coarse_index", None)
    if c is None:
        from scipy.spatial import cKDTree

        v = model.geo.vertices
        keys = np.floor(v / COARSE_MM).astype(np.int64)
        _, first = np.unique(keys, axis=0, return_index=True)
        ids = np.sort(first)
        c = (ids, cKDTree(v[ids]))
        model._coarse_index = c
    return c


def _near_vertices(model: ReferralModel, vertex: int, point: np.ndarray, radius: float) -> np.ndarray:
    """Coarse skin vertices within radius of a point, on the sheet of skin of `vertex` and its
    body segment or one meeting it at a joint (the rules of `disc`)."""
    ids, tree = _coarse(model)
    return _filtered(model, vertex, ids[np.asarray(tree.query_ball_point(point, radius), dtype=np.int64)])


def _kept(model: ReferralModel, vertex: int, idx: np.ndarray) -> np.ndarray:
    """Mask of the vertices idx that `_filtered` keeps."""
    geo = model.geo
    keep = np.ones(len(idx), dtype=bool)
    if geo.normals is not None and len(idx):
        keep = geo.normals[idx] @ geo.normals[vertex] > 0.0
    seg = getattr(model, "segment_labels", None)
    if seg is not None and len(idx):
        keep &= ADJACENT[seg[vertex], seg[idx]]
    return keep


def _filtered(model: ReferralModel, vertex: int, idx: np.ndarray) -> np.ndarray:
    geo = model.geo
    if geo.normals is not None and len(idx):
        idx = idx[geo.normals[idx] @ geo.normals[vertex] > 0.0]
    seg = getattr(model, "segment_labels", None)
    if seg is not None and len(idx):
        idx = idx[ADJACENT[seg[vertex], seg[idx]]]
    return idx


def _rows(model: ReferralModel, vertex: int, point: np.ndarray | None, radius_mm: float | None,
          far: bool = True):
    """The skin vertices a click at `point` reads: (vertices, their distance to the point, the
    fingertip's Gaussian weights (sigma SPOT_MM / 2), the number of fingertip vertices, which
    come first; the coarse NEAR_DISC_MM neighbourhood follows)."""
    geo = model.geo
    if not hasattr(geo, "tree"):          # a stand-in skin without geometry: the vertex alone
        return np.array([vertex]), np.zeros(1), np.ones(1), 1
    reach = max(TIP_REACH_MM, radius_mm or 0.0)
    raw = np.asarray(geo.tree.query_ball_point(point, reach), dtype=np.int64)
    n_raw = len(raw)
    if far:     # the fingertip's vertices and the coarse neighbourhood's, filtered in one go
        ids, tree = _coarse(model)
        raw = np.concatenate([raw, ids[np.asarray(tree.query_ball_point(point, NEAR_DISC_MM), dtype=np.int64)]])
    keep = _kept(model, vertex, raw)
    tipv, nearv = raw[:n_raw][keep[:n_raw]], raw[n_raw:][keep[n_raw:]]
    if not len(tipv):
        tipv = np.array([vertex])
    verts = np.concatenate([tipv, nearv]) if far else tipv
    diff = geo.vertices[verts] - point
    d = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    n_tip = len(tipv)
    wts = np.exp(-0.5 * (d[:n_tip] / TIP_SIGMA_MM) ** 2)
    return verts, d, wts / wts.sum(), n_tip


def _read(model: ReferralModel, parts, radius_mm: float | None):
    """For each read of `_rows` (a click and its mirror are read together, in one pass over
    the fields): per-pattern (essential, spillover) strength over the fingertip (the Gaussian-
    weighted mean; with radius_mm the strongest value) and, per zone, the distance (mm) from
    the point to its edge, (over the fingertip, over the whole neighbourhood): the straight
    line to a vertex plus the field's own fall-off beyond it (inf: no zone that near).

    Only the muscle columns are read (the candidate list holds muscles), essential and
    spillover side by side in one (V, 2M) float16 copy; float16 -> float32 is exact, and the
    results are scattered back to all P patterns."""
    mi = _muscle_columns(model)
    P, M = len(model.patterns), len(mi)
    verts = np.concatenate([r[0] for r in parts])
    d = np.concatenate([r[1] for r in parts])
    G = _muscle_fields(model)[verts]                       # (n, 2M) float16
    dt = np.float32 if radius_mm else np.float64          # the dtypes the ranking always had
    starts = np.cumsum([0] + [len(r[0]) for r in parts])
    # float16 arithmetic and conversion are slow, but for values >= 0 (checked when the copy is
    # made) the bit patterns order like the values, so the columns are picked on the integers:
    # only those the neighbourhood reaches at all (elsewhere every value is 0: strength 0, no
    # distance) are converted, by table (exact)
    bits = G.view(np.uint16)
    cols = np.flatnonzero(bits.max(axis=0) > 0)
    sub = _F16[bits[:, cols]]
    which, col = np.divmod(cols, M)
    pc = mi[col]
    out = []
    for (v, dv, wts, n_tip), o in zip(parts, starts):
        tip = sub[o:o + n_tip]
        strength = np.zeros((2, P), dt)                   # essential, spillover
        smooth = np.zeros((2, P))
        if len(cols):
            strength[which, pc] = tip.max(axis=0) if radius_mm else wts @ tip
            # S: the fingertip's value (weight 1, at the spot) and the coarse neighbourhood's,
            # each weighted by a Gaussian of its distance (SMOOTH_SIGMA_MM)
            k = np.exp(-0.5 * (dv[n_tip:] / SMOOTH_SIGMA_MM) ** 2)
            smooth[which, pc] = (strength[which, pc] + k @ sub[o + n_tip:o + len(v)]) / (1.0 + k.sum())
        out.append((strength, np.full((2, P), np.inf), smooth))
    # the distances: only values above _FAINT say anything of one
    if len(cols):
        live = sub > _FAINT
        tot = np.full(sub.shape, np.inf)
        tot[live] = np.maximum(distance_beyond(sub[live], IN_ZONE), 0.0)
        tot += d[:, None]
        for (v, _d, _w, _n), o, (_s, dist, _sm) in zip(parts, starts, out):
            dist[which, pc] = tot[o:o + len(v)].min(axis=0, initial=np.inf)
    # ((2, P) fingertip strengths of the essential and spillover zones, (2, P) distances to
    # their edges, (2, P) strengths S around the spot)
    return out


def _neighbourhood(model: ReferralModel, vertex: int, point: np.ndarray, radius_mm: float | None,
                   far: bool = True):
    """((2, P) essential and spillover strengths, (2, P) distances to their edges, (2, P)
    strengths S around the spot) of one click (`_rows` and `_read`)."""
    return _read(model, [_rows(model, vertex, point, radius_mm, far)], radius_mm)[0]


def spot_profile(model: ReferralModel, vertex: int, radius_mm: float | None = None,
                 point: np.ndarray | None = None):
    """(e, s, dist_e, dist_s, F, S) per pattern at a spot: the fingertip memberships, the
    distances to the zones' edges, the published frequency and the (2, P) strengths S around
    the spot (SMOOTH_SIGMA_MM), each averaged with the values at the spot's mirror image
    (x -> -x) for the mirrored patterns: the body is drawn symmetric, so a spot and its mirror
    answer alike (the skin mesh is not exactly symmetric; without this the two sides' orders
    differ on near-ties)."""
    geo = model.geo
    if not hasattr(geo, "tree"):
        st, dist, sm = _neighbourhood(model, vertex, None, radius_mm)
        return st[0], st[1], dist[0], dist[1], frequency_weights(model, vertex), sm
    # the clicked point itself when given (a fingertip is not a mesh vertex), else the vertex;
    # its exact mirror image snaps to the mirror vertex, so a point and its mirror pair alike
    p = geo.vertices[vertex] if point is None else np.asarray(point, dtype=np.float64)
    pm = p * np.array([-1.0, 1.0, 1.0])
    mv = int(geo.tree.query(pm)[1])
    sw = pattern_swap(model)
    # the mirror spot read the same way (its far part feeds the near tier on the mirror side),
    # both in one pass over the fields; its patterns swapped to this side
    (sa, x, ma), (sb, y, mb) = _read(model, [_rows(model, vertex, p, radius_mm),
                                             _rows(model, mv, pm, radius_mm)], radius_mm)
    st = 0.5 * (sa + sb[:, sw])
    sm = 0.5 * (ma + mb[:, sw])
    y = y[:, sw]
    both = np.isfinite(x) & np.isfinite(y)
    dists = np.where(both, 0.5 * (x + y), np.fmin(x, y))
    fa, fb = frequency_pair(model, (vertex, mv), (p, pm))
    freq = 0.5 * (fa + fb[sw])
    e, s = st
    return e, s, dists[0], dists[1], freq, sm


def clinical_score(zone: str, strength: float, frequency: float) -> float:
    """The documented score (README "The click"): zone weight W (essential 1, spillover 0.5)
    x the zone's strength S around the spot (its membership, 0 outside .. 1 on its centre
    line, averaged over the skin with a Gaussian of SMOOTH_SIGMA_MM) x the published
    frequency F of the muscle in this body area."""
    return ZONE_WEIGHT[zone] * min(1.0, strength) * frequency


def rank_memberships(model: ReferralModel, e: np.ndarray, s: np.ndarray, pain_side: str,
                     freq: np.ndarray | None = None, strength: np.ndarray | None = None) -> list[Candidate]:
    """Muscles whose zones cover the spot (memberships e, s), by clinical score (with the
    (2, P) strengths S around the spot when given, else the memberships themselves)."""
    idx = np.flatnonzero(((e >= IN_ZONE) | (s >= IN_ZONE)) & model.muscle_mask())
    freq = np.ones(len(e)) if freq is None else freq
    sizes = _zone_sizes(model)
    S = np.vstack([e, s]) if strength is None else strength
    out, size = [], {}
    # the per-pattern numbers as Python floats, once (numpy scalars are slow one by one)
    for k, ek, fk, se, ss, Se, Ss in zip(idx.tolist(), e[idx].tolist(), freq[idx].tolist(),
                                         *((sizes[0][idx].tolist(), sizes[1][idx].tolist()) if sizes is not None
                                           else ([0.0] * len(idx),) * 2),
                                         S[0][idx].tolist(), S[1][idx].tolist()):
        p = model.patterns[k]
        zone = "essential" if ek >= IN_ZONE else "spillover"
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side, zone,
                             round(clinical_score(zone, Se if zone == "essential" else max(Ss, Se), fk), 3),
                             p.has_mesh, k,
                             frequency=round(fk, 3)))
        size[k] = float(se if zone == "essential" else ss)
    # Equal scores (a region's interior, a stroke's centre line, the same area weight): the
    # smaller zone first (a pattern confined to this part of the body points at it more
    # specifically), then essential, then the pain's own side; sizes are per muscle, so the
    # order is the same on both sides of the body.
    out.sort(key=lambda c: (-round(c.score / SCORE_STEP), size[c.pattern], c.zone != "essential",
                            c.side != pain_side, c.name))
    return out


def _zone_sizes(model):
    return model.zone_sizes()


def beside_candidates(model: ReferralModel, dist_e: np.ndarray, dist_s: np.ndarray, pain_side: str,
                      covered: set[int], freq: np.ndarray | None = None, edge_mm: float = EDGE_MM,
                      near_mm: float | None = NEAR_MM, strength: np.ndarray | None = None) -> list[Candidate]:
    """Muscles whose zones do not cover the spot but whose edge lies within edge_mm ("edge") or
    near_mm ("near") of it, each tier by clinical score (the (2, P) strengths S around the
    spot; without them the score is 0), marked with the distance."""
    reach = max(edge_mm, near_mm or 0.0)
    freq = np.ones(len(dist_e)) if freq is None else freq
    out = []
    best = np.fmin(dist_e, dist_s)
    ks = np.flatnonzero((best <= reach) & model.muscle_mask())
    # the per-pattern numbers as Python floats, once (numpy scalars are slow one by one)
    for k, de, ds, fk in zip(ks.tolist(), dist_e[ks].tolist(), dist_s[ks].tolist(), freq[ks].tolist()):
        if k in covered:
            continue
        p = model.patterns[k]
        # the essential zone if it is as near as the spillover one (or within the edge)
        zone = "essential" if de <= max(ds, edge_mm) and math.isfinite(de) else "spillover"
        dk = float(de if zone == "essential" else ds)
        if dk > reach:
            zone, dk = "spillover", float(ds)
        tier = "edge" if dk <= edge_mm else "near"
        Sk = 0.0 if strength is None else float(strength[0, k] if zone == "essential"
                                                 else max(strength[1, k], strength[0, k]))
        out.append(Candidate(p.muscle.id, p.muscle.name, p.side, zone,
                             round(clinical_score(zone, Sk, fk), 3),
                             p.has_mesh, k, at_edge=True, edge_mm=round(max(dk, 0.0), 1), tier=tier,
                             frequency=round(fk, 3)))
    out.sort(key=lambda c: (c.tier != "edge", -round(c.score / SCORE_STEP), c.side != pain_side, c.edge_mm, c.name))
    return out


def edge_candidates(model: ReferralModel, e: np.ndarray, s: np.ndarray, pain_side: str, covered: set[int],
                    edge_mm: float = EDGE_MM) -> list[Candidate]:
    """Patterns not covering the spot whose zone's edge lies within edge_mm of it (along the
    skin), from the memberships e, s at the spot alone (the fields' fall-off; no neighbourhood)."""
    lo = value_beyond(edge_mm, IN_ZONE)
    ks = [k for k in np.flatnonzero(((e >= lo) | (s >= lo)) & model.muscle_mask()) if int(k) not in covered]
    de = np.full(len(e), np.inf)
    ds = np.full(len(e), np.inf)
    if ks:
        ks = np.asarray(ks)
        de[ks] = np.where(e[ks] >= lo, np.maximum(distance_beyond(e[ks], IN_ZONE), 0.0), np.inf)
        ds[ks] = np.where(s[ks] >= lo, np.maximum(distance_beyond(s[ks], IN_ZONE), 0.0), np.inf)
    return beside_candidates(model, de, ds, pain_side, covered, None, edge_mm, near_mm=None,
                             strength=np.vstack([e, s]))


def _spot_memberships(model: ReferralModel, vertex: int, radius_mm: float | None):
    """(vertices, essential, spillover) at a spot: one vertex, or the disc around it (the
    other sources' ranking reads these)."""
    verts = disc(model, vertex, radius_mm) if radius_mm else np.array([vertex])
    if len(verts) == 1:
        return verts, model.ess[vertex].astype(np.float32), model.spill[vertex].astype(np.float32)
    return verts, model.ess[verts].max(axis=0).astype(np.float32), model.spill[verts].max(axis=0).astype(np.float32)


def rank_spot(model: ReferralModel, vertex: int, radius_mm: float | None = None,
              edge_mm: float | None = EDGE_MM, near_mm: float | None = NEAR_MM,
              point: np.ndarray | None = None) -> list[Candidate]:
    """The muscle candidates of a click: the zones covering the fingertip spot, then (edge_mm)
    those whose edge passes within edge_mm, then (near_mm) those within near_mm; each tier by
    clinical score."""
    e, s, de, ds, freq, S = spot_profile(model, vertex, radius_mm, point)
    pain_side = side_of_point(model, vertex)
    out = rank_memberships(model, e, s, pain_side, freq, S)
    if edge_mm:
        beside = beside_candidates(model, de, ds, pain_side, {c.pattern for c in out}, freq, edge_mm,
                                   near_mm if near_mm else None, strength=S)
        # a zone whose edge passes within a fingertip-and-a-body of the spot ranks with the
        # covering ones by the same score (S is continuous across the drawn edge), so a click
        # moved across an edge does not reorder the list; the near ones follow
        sizes = _zone_sizes(model)
        first = out + [c for c in beside if c.tier == "edge"]
        first.sort(key=lambda c: (-round(c.score / SCORE_STEP), c.at_edge,
                                  sizes[0 if c.zone == "essential" else 1][c.pattern] if sizes is not None else 0,
                                  c.zone != "essential", c.side != pain_side, c.name))
        out = first + ([c for c in beside if c.tier == "near"] if near_mm else [])
    return out


def lookup_vertex(model: ReferralModel, vertex: int, radius_mm: float | None = None,
                  edge_mm: float | None = EDGE_MM, near_mm: float | None = NEAR_MM) -> list[Candidate]:
    """Candidate muscles for a spot: covering zones, then those at the edge, then those near
    (the muscles of `lookup_spot`, which ranks them by `rank_spot`: the one path a click takes)."""
    return rank_spot(model, vertex, radius_mm, edge_mm, near_mm)


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
    kc = np.flatnonzero(((e >= IN_ZONE) | (s >= IN_ZONE)) & others)
    for k, ek, sk in zip(kc.tolist(), e[kc].tolist(), s[kc].tolist()):     # Python floats, once
        essential = ek >= IN_ZONE
        freq = _frequency_at(model, k, verts)
        strength = float(max(ek, 0.5 * sk)) if essential else float(0.5 * max(sk, ek))
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
    for k, essential, v, d in zip(np.asarray(ks, dtype=np.int64).tolist(), ess.tolist(), vals.tolist(),
                                  distance_beyond(vals, IN_ZONE).tolist()):
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
                edge_mm: float | None = EDGE_MM, point: np.ndarray | None = None):
    """Everything a click answers: (muscle candidates, other sources, dermatome levels, red flags)."""
    verts, e, s = _spot_memberships(model, vertex, radius_mm)
    pain_side = side_of_point(model, vertex)
    cands = rank_spot(model, vertex, radius_mm, edge_mm, point=point)
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
    cands, others, levels, flags = lookup_spot(model, v, radius_mm, point=point)
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
    prior = area_prior(model)
    if prior is not None and cands:
        pick = verts[:: max(1, len(verts) // 200)]           # at most ~200 painted points
        seg = None if model.segment_labels is None else model.segment_labels[pick]
        freq = prior.over(model.geo.vertices[pick], seg)
        for c in cands:
            c.frequency = round(float(freq[c.pattern]), 3)
            c.score = round(c.score * c.frequency, 4)
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
                          fix="give fewer points (a painted area needs a few hundred) or a smaller radius (radius_mm).")


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
