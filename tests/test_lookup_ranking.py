"""Ranking rules of the reverse lookup on small synthetic fields, then on the real pack."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from viewer.referral.lookup import lookup_area, rank_memberships
from viewer.referral.model import ReferralModel


def fake_model(specs, n_vertices=1):
    """specs: list of (name, side) -> a real ReferralModel over a tiny stand-in skin of
    n_vertices points (all on the right, x < 0), with those muscle patterns and empty zones."""
    patterns = [SimpleNamespace(muscle=SimpleNamespace(id=f"FMA{i}", name=n, kind="muscle"), side=s,
                                has_mesh=True, index=i)
                for i, (n, s) in enumerate(specs)]
    zeros = np.zeros((n_vertices, len(specs)), np.float16)
    geo = SimpleNamespace(vertices=np.full((n_vertices, 3), -100.0), n=n_vertices)
    region = SimpleNamespace(side="right", name="r", display="R")
    return ReferralModel(pack=None, maps=None, geo=geo, regions=[region],
                         region_labels=np.zeros(n_vertices, np.int16), patterns=patterns,
                         ess=zeros, spill=zeros.copy())


def test_essential_before_spillover_then_strength_then_side():
    m = fake_model([("A", "right"), ("B", "right"), ("C", "left"), ("C", "right"), ("D", "right")])
    e = np.array([0.0, 0.6, 0.9, 0.9, 0.3], dtype=np.float32)
    s = np.array([1.0, 0.0, 0.0, 0.0, 0.2], dtype=np.float32)
    out = rank_memberships(m, e, s, pain_side="right")
    assert [(c.name, c.side, c.zone) for c in out] == [
        ("C", "right", "essential"), ("C", "left", "essential"),   # tie broken by the pain's side
        ("B", "right", "essential"), ("A", "right", "spillover")]  # D: below the zone threshold
    assert out[-1].score == 0.5 and all(0 <= c.score <= 1 for c in out)


def test_spillover_never_outranks_essential_even_when_stronger():
    m = fake_model([("Weak essential", "right"), ("Strong spillover", "right")])
    out = rank_memberships(m, np.array([0.5, 0.0]), np.array([0.0, 1.0]), "right")
    assert [c.name for c in out] == ["Weak essential", "Strong spillover"]


def test_area_ranks_by_share_explained():
    m = fake_model([("Covers all", "right"), ("Covers half", "right"), ("Spill all", "right")])
    n = 10
    ess = np.zeros((n, 3), np.float16)
    spill = np.zeros((n, 3), np.float16)
    ess[:, 0] = 1.0
    ess[:5, 1] = 1.0
    spill[:, 2] = 1.0
    m.ess, m.spill = ess, spill
    m.geo = SimpleNamespace(vertices=np.full((n, 3), -100.0))
    m._sizes = None
    out = lookup_area(m, np.arange(n))
    assert [c.name for c in out] == ["Covers all", "Covers half", "Spill all"]
    assert out[0].coverage_essential == 1.0 and out[1].coverage_essential == 0.5
    assert out[2].zone == "spillover" and out[2].coverage_spillover == 1.0


def test_zones_whose_edge_passes_beside_the_spot_follow_marked_at_the_edge():
    from viewer.referral.fields import value_beyond
    from viewer.referral.lookup import EDGE_MM, lookup_vertex

    # memberships at the spot: covering, or the value a zone's fall-off has this many mm
    # beyond its edge (the fields fall off smoothly along the skin outside a zone)
    specs = {"Covers": (1.0, 0.0), "Spill covers": (0.0, 1.0), "Edge 10 mm": (value_beyond(10), 0.0),
             "Edge 4 mm": (value_beyond(4), 0.0), "Spill edge 6 mm": (0.0, value_beyond(6)),
             "Too far": (value_beyond(EDGE_MM + 3), 0.0)}
    m = fake_model([(n, "right") for n in specs])
    m.ess = np.array([[e for e, _ in specs.values()]], np.float16)
    m.spill = np.array([[s for _, s in specs.values()]], np.float16)
    out = lookup_vertex(m, 0)
    # covering and at-the-edge zones by one clinical score W x S x F (F = 1 here; on this
    # one-vertex stand-in S is the membership at the spot, the fields' fall-off beyond an edge:
    # 0.364 at 4 mm, 0.295 at 6 mm, 0.163 at 10 mm, 0.005 at 18 mm), then the near ones:
    # Covers 1, Spill covers 0.5 x 1, Edge 4 mm 0.364, Edge 10 mm 0.163, Spill edge 6 mm
    # 0.5 x 0.295 = 0.148; Too far (18 mm, near) 0.005
    assert [(c.name, c.at_edge, c.tier) for c in out] == [
        ("Covers", False, "covers"), ("Spill covers", False, "covers"),
        ("Edge 4 mm", True, "edge"), ("Edge 10 mm", True, "edge"), ("Spill edge 6 mm", True, "edge"),
        ("Too far", True, "near")]
    assert [c.score for c in out] == pytest.approx([1.0, 0.5, 0.364, 0.163, 0.148, 0.005], abs=2e-3)
    assert [c.edge_mm for c in out][:2] == [None, None]
    assert np.allclose([c.edge_mm for c in out][2:], [4.0, 10.0, 6.0, EDGE_MM + 3], atol=0.3)   # float16
    assert out[-1].label.startswith("essential (near, 18")
    assert [c.name for c in lookup_vertex(m, 0, near_mm=None)][-1] == "Spill edge 6 mm"
    assert out[2].label.startswith("essential (at the edge, 4") and "edge_mm" in out[2].to_json()
    assert "edge_mm" not in out[0].to_json() and out[0].to_json()["at_edge"] is False
    # the strict answer is still available
    assert [c.name for c in lookup_vertex(m, 0, edge_mm=None)] == ["Covers", "Spill covers"]


def test_edge_distance_inverts_the_fall_off():
    from viewer.referral.fields import FALLOFF_MM, distance_beyond, stroke_profile, value_beyond

    half = 20.0
    d = np.linspace(0.0, half + FALLOFF_MM, 400)
    f = stroke_profile(d, half)
    edge = d[np.argmin(np.abs(f - 0.5))]                       # where membership ends
    out = (f < 0.5) & (f > value_beyond(18.0))
    assert np.allclose(distance_beyond(f[out]), d[out] - edge, atol=0.5)


def test_equal_strength_ranks_the_smaller_more_specific_zone_first():
    """Two essential zones both at full strength at the spot (interiors of regions):
    the one confined to a small part of the body comes first, whatever the alphabet."""
    m = fake_model([("A wide zone", "right"), ("Z small zone", "right"), ("B spill", "right")])
    n = 100
    ess = np.zeros((n, 3), np.float16)
    spill = np.zeros((n, 3), np.float16)
    ess[:, 0] = 1.0          # covers the whole skin
    ess[:10, 1] = 1.0        # covers a tenth of it
    spill[:5, 2] = 1.0       # a small spillover zone never jumps an essential one
    m.ess, m.spill = ess, spill
    out = rank_memberships(m, ess[0].astype(np.float32), spill[0].astype(np.float32), "right")
    assert [c.name for c in out] == ["Z small zone", "A wide zone", "B spill"]


def test_published_frequency_lifts_a_listed_spillover_above_an_unlisted_essential():
    """The clinical score: zone weight x strength x F. A muscle the guide lists first for the
    area (F 1.0) covering the spot with its spillover zone ranks above one the guide does not
    list (F = FLOOR) covering it with its essential zone; the row still says which zone."""
    from viewer.referral.frequency import FLOOR

    m = fake_model([("Unlisted essential", "right"), ("Listed spillover", "right")])
    out = rank_memberships(m, np.array([0.9, 0.0]), np.array([0.0, 0.95]), "right",
                           freq=np.array([FLOOR, 1.0]))
    assert [(c.name, c.zone) for c in out] == [("Listed spillover", "spillover"),
                                                ("Unlisted essential", "essential")]
    assert out[0].frequency == 1.0 and out[1].score == round(0.9 * FLOOR, 3)


def test_guide_weights_follow_the_list_order_and_prevalence():
    from viewer.referral.frequency import LAST, guide_weights

    g = guide_weights({"muscles": ["a", ["b", "c"], "d"],
                       "prevalence": {"source": "x", "shares": {"d": 0.4, "a": 0.4}}})
    assert g["a"] == 1.0 and g["b"] == g["c"] and LAST < g["b"] < 1.0
    assert g["d"] == 1.0                       # a prevalence study can raise a muscle


def test_area_frequency_content_is_cited_and_names_real_maps():
    """Every area cites a source, has an extent, and names muscle map files that exist."""
    from pathlib import Path

    from viewer import config
    from viewer.referral.frequency import load_area_frequency, unknown_muscles

    data = load_area_frequency()
    stems = {p.stem for p in (Path(config.builtin_maps_dir()) / "muscles").glob("*.yaml")}
    assert not unknown_muscles(data, stems)
    assert len(data["areas"]) >= 50
    for a in data["areas"]:
        assert a["source"] in data["sources"] and a["extent"]["points"] and a["extent"]["radius"] > 0
    for s in data["sources"].values():
        assert "Chapter" in s or "doi:" in s


# -- the same rules on the real pack --------------------------------------------------------
def test_every_real_spot_lists_by_the_documented_score(model):
    """The README's order on 400 random skin spots: the zones covering the spot and those whose
    edge passes within EDGE_MM together, by score in SCORE_STEP steps; then the near ones
    (within NEAR_MM, distance shown), by score. A row's score never exceeds its zone weight
    x F (the strength S is at most 1), and the rows beside the spot carry their
    distance within their tier's reach."""
    from viewer.referral.lookup import EDGE_MM, NEAR_MM, SCORE_STEP, ZONE_WEIGHT, lookup_vertex

    checked = 0
    for v in np.random.default_rng(7).choice(len(model.geo.vertices), 400, replace=False):
        rows = lookup_vertex(model, int(v))
        what = (int(v), [(c.name, c.zone, c.tier, c.score) for c in rows])
        tiers = [c.tier == "near" for c in rows]
        assert tiers == sorted(tiers), what
        for a, b in zip(rows, rows[1:]):
            if (a.tier == "near") == (b.tier == "near"):
                assert round(a.score / SCORE_STEP) >= round(b.score / SCORE_STEP), what
        for c in rows:
            assert c.score <= ZONE_WEIGHT[c.zone] * c.frequency + 1e-3, what
            assert (c.edge_mm is None) == (c.tier == "covers"), what
            if c.tier != "covers":
                assert c.edge_mm <= (EDGE_MM if c.tier == "edge" else NEAR_MM) + 0.5, what
        checked += len(rows) > 1
    assert checked > 100
