"""How far the referral zones would have to reach for the pain-area reference to pass.

The reference test (tests/test_pain_areas.py) looks the pain up at one point per
published pain area. This measures what happens if every zone whose edge lies
within R mm (straight line) of that point were listed too, after the zones
that cover it, nearest first: the share of listed muscles in the top 10 and of
primary ones in the top 5, for several R. It answers "is the gap a matter of a
few millimetres at the edges, or of zones much smaller than the areas?".

    .venv/bin/python scripts/pain_area_slack.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import test_pain_areas as reference  # noqa: E402  (the test's own areas and name matching)

from viewer.anatomy import load_pack  # noqa: E402
from viewer.referral.loader import load_landmarks  # noqa: E402
from viewer.referral.lookup import IN_ZONE, lookup_point  # noqa: E402
from viewer.referral.model import load_model  # noqa: E402
from viewer.referral.points import MIRROR  # noqa: E402

BANDS_MM = (15, 20, 30, 50, 75, 100)


def cases(model):
    """Per area and side: the muscles covering the point, in lookup order, and each
    muscle's straight-line distance from the point to its nearest zone."""
    landmarks = load_landmarks()
    verts = model.geo.vertices.astype(np.float32)
    inside = (model.ess >= IN_ZONE) | (model.spill >= IN_ZONE)
    muscle_of = np.array([p.muscle.id for p in model.patterns])
    for area in reference.load_areas()[1]:
        ref = area["point"]
        base = np.asarray(landmarks[ref["at"]].point, float) + np.asarray(ref.get("offset", (0, 0, 0)), float)
        for side in area.get("sides", ["right", "left"]):
            res = lookup_point(model, base * MIRROR if side == "left" else base)
            covering = list(dict.fromkeys(c.muscle_id for c in res.candidates if not c.at_edge))
            d = np.linalg.norm(verts - verts[res.vertex], axis=1)
            per_pattern = np.where(inside, d[:, None], np.inf).min(axis=0)
            nearest: dict[str, float] = {}
            for k in np.argsort(per_pattern):
                if np.isfinite(per_pattern[k]):
                    nearest.setdefault(muscle_of[k], float(per_pattern[k]))
            yield area, covering, nearest


def main() -> None:
    model = load_model(load_pack())
    names = {p.muscle.id: [p.muscle.name, *p.muscle.aliases] for p in model.patterns}
    data = list(cases(model))
    for band in BANDS_MM:
        listed = in_top = primary = primary_in_top = 0
        for area, covering, nearest in data:
            order = covering + [m for m, d in sorted(nearest.items(), key=lambda x: x[1])
                                if d <= band and m not in covering]
            for name, is_primary in [(n, True) for n in area["primary"]] + [(n, False) for n in area["muscles"]]:
                ids = [m for m, ns in names.items() if any(reference.matches(name, n) for n in ns)]
                if not ids:
                    continue
                rank = min((order.index(m) for m in ids if m in order), default=None)
                listed += 1
                in_top += rank is not None and rank < reference.TOP
                if is_primary:
                    primary += 1
                    primary_in_top += rank is not None and rank < reference.TOP_PRIMARY
        print(f"zones within {band:3d} mm listed: top {reference.TOP} {in_top}/{listed} ({in_top / listed:.0%}), "
              f"primary top {reference.TOP_PRIMARY} {primary_in_top}/{primary} ({primary_in_top / primary:.0%})")


if __name__ == "__main__":
    main()
