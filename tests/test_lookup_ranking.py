"""Ranking rules of the reverse lookup on small synthetic fields (no pack needed)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from viewer.referral.lookup import lookup_area, rank_memberships


def fake_model(specs):
    """specs: list of (name, side) -> a model with those patterns."""
    patterns = [SimpleNamespace(muscle=SimpleNamespace(id=f"FMA{i}", name=n), side=s, has_mesh=True)
                for i, (n, s) in enumerate(specs)]
    return SimpleNamespace(patterns=patterns)


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
    out = lookup_area(m, np.arange(n))
    assert [c.name for c in out] == ["Covers all", "Covers half", "Spill all"]
    assert out[0].coverage_essential == 1.0 and out[1].coverage_essential == 0.5
    assert out[2].zone == "spillover" and out[2].coverage_spillover == 1.0
