"""Published frequency of each muscle as a source of pain in a body area (cited content).

`referral_maps/area_frequency.yaml` gives, for the body areas of Travell & Simons'
pain guides, the muscles the guide lists for the area, most frequent first, and,
where a prevalence study exists, the share of patients with active trigger points
in a muscle. Each area has an extent on the body (landmark points and a radius,
as the guide's chart shows it; mirrored for the left side).

The lookup turns this into a per-pattern weight at a spot, `F` (0..1):

    g(rank) = 1 - (1 - LAST) * rank / (n - 1)        listed muscles, 1.0 first .. LAST last
    g       = max(g, 0.5 + 0.5 * share / top share)   where a prevalence study gives a share
    a(x)    = 1 inside the area's extent, falling smoothly to 0 AREA_FADE_MM beyond it
    F(x, m) = FLOOR + (1 - FLOOR) * max over areas of a(x) * g(m)

so a muscle the guide for this part of the body does not name still counts (FLOOR),
and one it names first counts fully. The weight depends only on the muscle, not on
its side: which side refers where is the zones' business.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer import config, safeio
from viewer.errors import ViewerError
from viewer.referral.geometry import falloff
from viewer.referral.points import MIRROR, UnknownLandmark, resolve
from viewer.referral.schema import Anchored
from viewer.referral.segments import ADJACENT

FLOOR = 0.25          # weight of a muscle no guide lists for the area of the spot
LAST = 0.6            # weight of the last muscle of a guide's list (the first has 1.0)
AREA_FADE_MM = 30.0   # an area's weight falls from 1 at its extent's edge to 0 this far beyond


@dataclass
class AreaPrior:
    """Area instances (right, mirrored left, or midline) and their weights per pattern."""
    points: np.ndarray        # (Q, 3) extent points of every instance
    owner: np.ndarray         # (Q,) instance of each point
    radius: np.ndarray        # (A,) extent radius of each instance
    segments: np.ndarray      # (A, n_segments) bool: body segments each instance may weigh
    weight: np.ndarray        # (A, P) g of each pattern's muscle in each instance (0: not listed)
    names: list[str]          # (A,) "name (side)"

    def area_weights(self, points: np.ndarray, segs: np.ndarray | None) -> np.ndarray:
        """(N, A) membership a(x) of points (N, 3) in every area instance."""
        d = np.linalg.norm(points[:, None, :] - self.points[None, :, :], axis=2)     # (N, Q)
        starts = self._starts()
        if starts is not None:       # each instance's points lie together: one reduceat
            per = np.minimum.reduceat(d, starts, axis=1)
        else:
            per = np.full((len(points), len(self.radius)), np.inf)
            np.minimum.at(per.T, self.owner, d.T)
        a = falloff(per - self.radius[None, :], 0.0, AREA_FADE_MM)
        if segs is not None:
            a = a * self.segments[:, segs].T
        return a

    def _starts(self) -> np.ndarray | None:
        """First point of each instance when the points are grouped by instance in order
        (as build_prior makes them), else None; computed once."""
        st = self.__dict__.get("_start_cache", False)
        if st is False:
            n = len(self.radius)
            st = np.searchsorted(self.owner, np.arange(n))
            ok = (len(self.owner) > 0 and np.all(np.diff(self.owner) >= 0)
                  and np.array_equal(np.unique(self.owner), np.arange(n)))
            st = st if ok else None
            self.__dict__["_start_cache"] = st
        return st

    def at(self, point: np.ndarray, seg: int | None) -> np.ndarray:
        """(P,) F of every pattern at one spot."""
        a = self.area_weights(np.atleast_2d(point), None if seg is None else np.array([seg]))[0]
        return self._combine(a)

    def _combine(self, a: np.ndarray) -> np.ndarray:
        on = np.flatnonzero(a > 0)             # the few areas the spot lies in or beside
        if not len(on):
            return np.full(self.weight.shape[1], FLOOR)
        return FLOOR + (1.0 - FLOOR) * (a[on, None] * self.weight[on]).max(axis=0)

    def over(self, points: np.ndarray, segs: np.ndarray | None) -> np.ndarray:
        """(P,) F of every pattern for a painted area: its mean membership in each area."""
        return self._combine(self.area_weights(points, segs).mean(axis=0))


def load_area_frequency(path=None) -> dict:
    """The cited per-area frequency lists (``referral_maps/area_frequency.yaml``).

    Parameters
    ----------
    path : path, optional
        Another file of the same form (tests); default the built-in one.

    Returns
    -------
    dict
        The file's data: ``sources`` (citation by key) and ``areas`` (each with its extent,
        source and muscles most frequent first).

    Raises
    ------
    ViewerError
        The file is unreadable or lacks ``sources`` or ``areas`` (names the file).
    """
    path = path or config.builtin_maps_dir() / "area_frequency.yaml"
    data, _ = safeio.load_yaml(path, what="area frequency file")
    if not isinstance(data, dict) or not isinstance(data.get("areas"), list) or not isinstance(
            data.get("sources"), dict):
        raise ViewerError("the area frequency file needs `sources:` (a mapping) and `areas:` (a list).",
                          path=path, fix="restore it from the release (or `git checkout referral_maps/`).")
    for i, a in enumerate(data["areas"]):
        for key in ("name", "source", "extent", "muscles"):
            if key not in a:
                raise ViewerError(f"area {i} ({a.get('name', '?')}) has no `{key}`.", path=path,
                                  fix=f"give areas[{i}].{key} (see the file's header).")
        for src in [a["source"]] + ([a["prevalence"]["source"]] if a.get("prevalence") else []):
            if src not in data["sources"]:
                raise ViewerError(f"area {a['name']!r} cites unknown source {src!r}.", path=path,
                                  fix="add it under `sources:` or fix the key.")
    return data


def guide_weights(area: dict) -> dict[str, float]:
    """{map file stem: g} of one area (see the module docstring)."""
    ranks = [[e] if isinstance(e, str) else list(e) for e in area["muscles"]]
    n = len(ranks)
    g = {}
    for r, stems in enumerate(ranks):
        w = 1.0 if n == 1 else 1.0 - (1.0 - LAST) * r / (n - 1)
        for s in stems:
            g[s] = max(g.get(s, 0.0), w)
    prev = area.get("prevalence")
    if prev:
        top = max(prev["shares"].values())
        for s, share in prev["shares"].items():
            g[s] = max(g.get(s, 0.0), 0.5 + 0.5 * float(share) / top)
    return g


def build_prior(model, data: dict | None = None) -> AreaPrior:
    """The area prior for a model's patterns (muscles only; other kinds get weight 0)."""
    from viewer.referral.loader import load_landmarks

    data = data or load_area_frequency()
    lms = load_landmarks()
    stem_of = {mid: path.stem for mid, path in model.maps.files.items()}
    by_stem: dict[str, list[int]] = {}
    for p in model.patterns:
        if p.muscle.kind == "muscle":
            by_stem.setdefault(stem_of.get(p.muscle.id, ""), []).append(p.index)
    seg_labels = model.segment_labels
    n_seg = ADJACENT.shape[0]
    pts, owner, radius, segs, rows, names = [], [], [], [], [], []
    for area in data["areas"]:
        try:
            base = np.array([resolve(Anchored(at=e["at"], offset=tuple(e.get("offset", (0, 0, 0)))), lms)
                             for e in area["extent"]["points"]])
        except UnknownLandmark as exc:
            raise ViewerError(f"area {area['name']!r}: {exc}.", path="referral_maps/area_frequency.yaml",
                              fix="use a landmark of referral_maps/landmarks.yaml") from None
        g = guide_weights(area)
        row = np.zeros(len(model.patterns))
        for stem, w in g.items():
            for k in by_stem.get(stem, []):
                row[k] = w
        sides = ["midline"] if area.get("side") == "midline" else ["right", "left"]
        for side in sides:
            p = base * MIRROR if side == "left" else base
            a = len(radius)
            pts.append(p)
            owner += [a] * len(p)
            radius.append(float(area["extent"]["radius"]))
            on = np.zeros(n_seg, bool)
            if seg_labels is not None:
                for s in seg_labels[model.geo.snap(p)[0]]:
                    on |= ADJACENT[int(s)]
            else:
                on[:] = True
            segs.append(on)
            rows.append(row)
            names.append(f"{area['name']} ({side})")
    return AreaPrior(np.vstack(pts), np.asarray(owner), np.asarray(radius), np.asarray(segs),
                     np.asarray(rows), names)


def unknown_muscles(data: dict, stems: set[str]) -> list[tuple[str, str]]:
    """(area, stem) pairs naming a muscle map that does not exist (for the content test)."""
    out = []
    for a in data["areas"]:
        for e in a["muscles"]:
            for s in ([e] if isinstance(e, str) else e):
                if s not in stems:
                    out.append((a["name"], s))
        for s in (a.get("prevalence") or {}).get("shares", {}):
            if s not in stems:
                out.append((a["name"], s))
    return out
