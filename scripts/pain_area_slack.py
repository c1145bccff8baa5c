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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from viewer.anatomy import load_pack  # noqa: E402
from viewer.referral import pain_areas as reference  # noqa: E402  (the areas, spots, name matching and ranks)
from viewer.referral.lookup import lookup_point  # noqa: E402
from viewer.referral.model import load_model  # noqa: E402

DATA = REPO / "tests" / "data" / "pain_areas.yaml"   # the reference's data file (not the test module)
BANDS_MM = (15, 20, 30, 50, 75, 100)


def cases(model):
    """Per area and side: the muscles covering the spot, in lookup order; every other muscle's
    straight-line distance from the spot to its nearest zone; the listed muscles (ids, primary?)."""
    ids_of = reference.app_ids(model)
    for area, _side, pt in reference.area_spots(reference.load_areas(DATA)[1]):
        res = lookup_point(model, pt)
        covering = list(dict.fromkeys(c.muscle_id for c in res.candidates if not c.at_edge))
        listed = []
        for name, is_primary in reference.listed_muscles(area):
            ids = ids_of(name)
            if ids:
                listed.append((ids, is_primary))
        others = {m: reference.zone_distance(model, res.vertex, [m])
                  for m in {p.muscle.id for p in model.patterns} - set(covering)}
        yield covering, others, listed


def main() -> None:
    model = load_model(load_pack())
    data = list(cases(model))
    for band in BANDS_MM:
        listed_n = in_top = primary = primary_in_top = 0
        for covering, others, listed in data:
            order = covering + [m for m, d in sorted(others.items(), key=lambda x: (x[1], x[0])) if d <= band]
            for ids, is_primary in listed:
                rank = reference.rank_of(order, ids)
                listed_n += 1
                in_top += rank is not None and rank < reference.TOP
                if is_primary:
                    primary += 1
                    primary_in_top += rank is not None and rank < reference.TOP_PRIMARY
        print(f"zones within {band:3d} mm listed: top {reference.TOP} {in_top}/{listed_n} ({in_top / listed_n:.0%}), "
              f"primary top {reference.TOP_PRIMARY} {primary_in_top}/{primary} ({primary_in_top / primary:.0%})")


if __name__ == "__main__":
    main()
