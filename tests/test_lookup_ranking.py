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


def line_model(memberships):
    """Skin vertices every 2 mm along x, all one segment facing +z; memberships: name -> (ess, spill)
    functions of x (mm)."""
    from scipy.spatial import cKDTree

    from viewer.referral.model import IN_ZONE

    x = np.arange(0.0, 100.0, 2.0)
    verts = np.column_stack([x, np.zeros_like(x), np.zeros_like(x)])
    m = fake_model([(n, "right") for n in memberships])
    m.ess = np.column_stack([f(x) for f, _ in memberships.values()]).astype(np.float16)
    m.spill = np.column_stack([g(x) for _, g in memberships.values()]).astype(np.float16)
    m.in_zone = (m.ess >= IN_ZONE, m.spill >= IN_ZONE)
    m.geo = SimpleNamespace(vertices=verts, tree=cKDTree(verts), normals=np.tile([0.0, 0.0, 1.0], (len(x), 1)))
    m.segment_labels = np.zeros(len(x), np.int8)
    m.region_of = lambda v: SimpleNamespace(side="right")
    return m


def test_zones_whose_edge_passes_beside_the_spot_follow_marked_at_the_edge():
    from viewer.referral.lookup import EDGE_MM, lookup_vertex

    zero = lambda x: np.zeros_like(x)  # noqa: E731
    m = line_model({
        "Covers": (lambda x: np.ones_like(x), zero),
        "Spill covers": (zero, lambda x: np.ones_like(x)),
        "Edge 10 mm": (lambda x: (x >= 10).astype(float), zero),
        "Edge 4 mm": (lambda x: (x >= 4).astype(float), zero),
        "Spill edge 6 mm": (zero, lambda x: (x >= 6).astype(float)),
        "Too far": (lambda x: (x >= EDGE_MM + 6).astype(float), zero),
    })
    out = lookup_vertex(m, 0)
    assert [(c.name, c.at_edge) for c in out] == [
        ("Covers", False), ("Spill covers", False),
        ("Edge 4 mm", True), ("Edge 10 mm", True), ("Spill edge 6 mm", True)]
    assert [c.edge_mm for c in out] == [None, None, 4.0, 10.0, 6.0]
    assert out[2].label == "essential (at the edge, 4 mm)" and "edge_mm" in out[2].to_json()
    assert "edge_mm" not in out[0].to_json() and out[0].to_json()["at_edge"] is False
    # the strict answer is still available
    assert [c.name for c in lookup_vertex(m, 0, edge_mm=None)] == ["Covers", "Spill covers"]


def test_edge_search_stays_on_the_sheet_and_segment():
    from viewer.referral.lookup import lookup_vertex

    m = line_model({"Beside": (lambda x: (x >= 10).astype(float), lambda x: np.zeros_like(x))})
    m.geo.normals[5:] = [0.0, 0.0, -1.0]          # the zone lies on a facing sheet (the other thigh)
    assert lookup_vertex(m, 0) == []
    m.geo.normals[5:] = [0.0, 0.0, 1.0]
    m.segment_labels[5:] = 4                      # ... or on a limb not meeting this segment
    assert lookup_vertex(m, 0) == []
