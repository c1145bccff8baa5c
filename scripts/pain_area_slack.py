"""How far the referral zones would have to reach for the pain-area reference to pass.

The reference test (tests/test_pain_areas.py) looks the pain up at one point per
published pain area. This measures what happens if every zone whose edge lies
within R mm (straight line) of that point were listed too, after the zones
that cover it, nearest first: the share of listed muscles in the top 10 and of
primary ones in the top 5, for several R. It answers "is the gap a matter of a
few millimetres at the edges, or of zones much smaller than the areas?".

It then prints the ceilings: the best figures any order of today's answers could
reach, with the zones as drawn. For the centre click, the listed muscles put
first within each tier (covering and edge zones, then the near ones, as the
lookup lists them); for the painted area (each area's extent through the area
lookup), every listed muscle whose zones reach into the painted area at all.

    .venv/bin/python scripts/pain_area_slack.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from viewer.anatomy import load_pack  # noqa: E402
from viewer.referral import pain_areas as reference  # noqa: E402  (the areas, spots, name matching and ranks)
from viewer.referral.lookup import area_result, lookup_point  # noqa: E402
from viewer.referral.model import load_model  # noqa: E402

DATA = REPO / "tests" / "data" / "pain_areas.yaml"   # the reference's data file (not the test module)
BANDS_MM = (15, 20, 30, 50, 75, 100)


def app_listed(area, ids_of) -> list[tuple[list[str], bool]]:
    """(app muscle ids, primary?) of each muscle the area's guide lists that the app has."""
    return [(ids, is_primary) for name, is_primary in reference.listed_muscles(area) if (ids := ids_of(name))]


def tally(counts: dict, rank, is_primary: bool) -> None:
    """Count one listed muscle at `rank` (None: not in the answer) into `counts`."""
    counts["listed"] += 1
    counts["top"] += rank is not None and rank < reference.TOP
    counts["top5"] += rank is not None and rank < reference.TOP_PRIMARY
    counts["primary"] += is_primary
    counts["primary_top5"] += is_primary and rank is not None and rank < reference.TOP_PRIMARY


def _counts() -> dict:
    return dict.fromkeys(("listed", "top", "top5", "primary", "primary_top5"), 0)


def cases(model):
    """Per area and side: the muscles covering the spot, in lookup order; every other muscle's
    straight-line distance from the spot to its nearest zone; the listed muscles (ids, primary?)."""
    ids_of = reference.app_ids(model)
    for area, _side, pt in reference.area_spots(reference.load_areas(DATA)[1]):
        res = lookup_point(model, pt)
        covering = list(dict.fromkeys(c.muscle_id for c in res.candidates if not c.at_edge))
        listed = app_listed(area, ids_of)
        others = {m: reference.zone_distance(model, res.vertex, [m])
                  for m in {p.muscle.id for p in model.patterns} - set(covering)}
        yield covering, others, listed


def ceilings(model) -> tuple[dict, dict]:
    """The best figures any order could reach with the zones as drawn: (centre click, painted),
    each {"listed", "top", "top5", "primary", "primary_top5"} counts (see the module's text)."""
    ids_of = reference.app_ids(model)
    centre, painted = _counts(), _counts()
    for area, side, pt in reference.area_spots(reference.load_areas(DATA)[1]):
        listed = app_listed(area, ids_of)
        tiers = {}                       # muscle id -> 0 covering or edge, 1 near (its best tier)
        for c in lookup_point(model, pt).candidates:
            tiers[c.muscle_id] = min(tiers.get(c.muscle_id, 1), int(c.tier == "near"))
        first = sum(t == 0 for t in tiers.values())
        tier_of = [min((tiers[i] for i in ids if i in tiers), default=None) for ids, _ in listed]
        # the listed muscles first within their tier, primaries before the others
        order = sorted(range(len(listed)), key=lambda j: (2 if tier_of[j] is None else tier_of[j], not listed[j][1]))
        ranks, seen = {}, [0, 0]
        for j in order:
            t = tier_of[j]
            if t is not None:
                ranks[j] = seen[t] + (first if t else 0)
                seen[t] += 1
        touched = {c.muscle_id for c in area_result(model, reference.paint_area(model, area, side)).candidates}
        reach = [j for j in range(len(listed)) if any(i in touched for i in listed[j][0])]
        best = {j: r for r, j in enumerate(sorted(reach, key=lambda j: not listed[j][1]))}
        for out, rank in ((centre, ranks), (painted, best)):
            for j, (_ids, is_primary) in enumerate(listed):
                tally(out, rank.get(j), is_primary)
    return centre, painted


def main() -> None:
    model = load_model(load_pack())
    data = list(cases(model))
    for band in BANDS_MM:
        c = _counts()
        for covering, others, listed in data:
            order = covering + [m for m, d in sorted(others.items(), key=lambda x: (x[1], x[0])) if d <= band]
            for ids, is_primary in listed:
                tally(c, reference.rank_of(order, ids), is_primary)
        print(f"zones within {band:3d} mm listed: top {reference.TOP} {c['top']}/{c['listed']} "
              f"({c['top'] / c['listed']:.0%}), primary top {reference.TOP_PRIMARY} {c['primary_top5']}/"
              f"{c['primary']} ({c['primary_top5'] / c['primary']:.0%})")
    for what, c in zip(("centre click, tiers kept", "painted extent"), ceilings(model)):
        print(f"ceiling, {what}: top {reference.TOP} {c['top']}/{c['listed']} ({c['top'] / c['listed']:.1%}), "
              f"top {reference.TOP_PRIMARY} {c['top5']}/{c['listed']} ({c['top5'] / c['listed']:.1%}), "
              f"primary top {reference.TOP_PRIMARY} {c['primary_top5']}/{c['primary']}")


if __name__ == "__main__":
    main()
