"""Fields, regions and lookups on the real pack and the shipped maps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from viewer.cli import main
from viewer.referral import fields as F
from viewer.referral.loader import load_landmarks
from viewer.referral.lookup import lookup_area, lookup_point, lookup_vertex
from viewer.referral.schema import Stroke, Zone


def landmark(name, side="right"):
    p = np.asarray(load_landmarks()[name].point, dtype=float)
    return p * np.array([-1, 1, 1]) if side == "left" else p


# -- regions -------------------------------------------------------------------

def test_every_vertex_in_exactly_one_region(model):
    labels = model.region_labels
    assert labels.shape == (model.geo.n,)
    assert labels.min() >= 0 and labels.max() < len(model.regions)
    used = np.bincount(labels, minlength=len(model.regions))
    empty = [model.regions[i].display for i in np.flatnonzero(used == 0)]
    assert not empty, f"regions with no vertex: {empty}"
    per_side = {s: sum(r.side == s for r in model.regions) for s in ("right", "left", "midline")}
    assert per_side["right"] >= 30 and per_side["left"] >= 30 and per_side["midline"] >= 5


def test_regions_are_on_the_expected_side(model):
    x = model.geo.vertices[:, 0]
    for r in model.regions:
        sel = model.region_labels == r.index
        med = np.median(x[sel])
        if r.side == "right":
            assert med < 0, r.display
        elif r.side == "left":
            assert med > 0, r.display
        else:
            assert abs(med) < 40, r.display


@pytest.mark.parametrize("lm,region", [
    ("greater_trochanter", "greater_trochanter"), ("temple", "temporal"), ("popliteal", "popliteal"),
    ("patella", "anterior_knee"), ("heel", "heel"), ("groin", "groin"), ("buttock_center", "gluteal_center"),
])
def test_landmarks_fall_in_their_region(model, lm, region):
    for side in ("right", "left"):
        res = lookup_point(model, landmark(lm, side))
        assert res.region["name"] == region and res.region["side"] == side


# -- fields ------------------------------------------------------------------------

def test_fields_are_geodesic_no_bleed_between_the_legs(model):
    """A wide zone on the right inner thigh reaches nothing on the left thigh,
    although the left thigh is closer in space than the zone's width."""
    geo = model.geo
    zone = Zone(description="inner thigh", strokes=[Stroke(points=["medial_thigh_mid"], width=100)])
    f = F.zone_field(zone, geo, load_landmarks(), model.region_labels, F.region_lookup(model.regions))
    centre = geo.vertices[geo.snap(landmark("medial_thigh_mid"))[0][0]]
    left_thigh = (geo.vertices[:, 0] > 0) & (np.abs(geo.vertices[:, 2] - centre[2]) < 150)
    # left-thigh skin that a Euclidean (straight-line) zone of this size would reach
    near_in_space = left_thigh & (np.linalg.norm(geo.vertices - centre, axis=1) < 50 + F.FALLOFF_MM)
    assert near_in_space.sum() > 10, "test setup: some left-thigh skin must be close in space"
    assert f[left_thigh].max() == 0.0
    assert f[geo.snap(centre)[0][0]] == 1.0


def test_fields_cached_and_deterministic(model, pack, tmp_path):
    from viewer.referral.model import load_model

    cold = load_model(pack, cache_dir=tmp_path)
    warm = load_model(pack, cache_dir=tmp_path)
    assert "fields_s" in cold.timings and "fields_s" not in warm.timings
    assert np.array_equal(cold.ess, warm.ess) and np.array_equal(cold.spill, warm.spill)
    assert np.array_equal(cold.ess, model.ess)


def test_left_is_the_mirror_of_right(model):
    p_r = model.pattern("FMA22315", "right")
    p_l = model.pattern("FMA22315", "left")
    fr, fl = model.field(p_r), model.field(p_l)
    assert np.median(model.geo.vertices[fr > 0.9, 0]) < 0 < np.median(model.geo.vertices[fl > 0.9, 0])
    # Equal wherever the body segments are mirror images too: each side's pattern is kept to
    # its own side's segments, which match the mirror on ~99% of the skin.
    from viewer.referral.segments import SEGMENT_INDEX, SEGMENTS

    swap = np.array([SEGMENT_INDEX[n.replace("_right", "_L").replace("_left", "_right").replace("_L", "_left")]
                     for n in SEGMENTS])
    seg = model.segment_labels
    same = swap[seg[model.geo.mirror_index]] == seg
    assert same.mean() > 0.98
    assert np.allclose(fl[same], fr[model.geo.mirror_index][same], atol=1e-3)


def test_every_pattern_has_an_essential_zone_on_the_skin(model):
    for p in model.patterns:
        assert (model.ess[:, p.index] >= 0.5).sum() > 20, p.title


def test_no_mesh_muscles_take_part(model):
    ql = model.pattern("FMA49010", "right")   # lateral pterygoid: no source has a mesh of it
    assert not ql.has_mesh and ql.muscle.no_mesh


# -- lookup --------------------------------------------------------------------------

def names_top(res, n=5):
    return [c.name.lower() for c in res.candidates[:n]]


def test_lookup_rank_order_and_side(model):
    res = lookup_point(model, landmark("greater_trochanter"))
    # issue 18: covering and at-the-edge zones ranked together by clinical score, then the near ones
    keys = [c.tier == "near" for c in res.candidates]
    assert keys == sorted(keys), "covering and at-the-edge zones first, then the near ones"
    ess = [c for c in res.candidates if c.zone == "essential" and not c.at_edge]
    assert ess and all(c.side == "right" for c in ess)


def test_radius_lookup_covers_at_least_the_point(model):
    v = model.geo.snap(landmark("buttock_center"))[0][0]
    single = {(c.muscle_id, c.side) for c in lookup_vertex(model, v)}
    wide = {(c.muscle_id, c.side) for c in lookup_vertex(model, v, radius_mm=40)}
    assert single <= wide


def test_area_lookup_prefers_the_pattern_drawn(model):
    p = model.pattern("FMA22317", "right")          # gluteus minimus
    area = np.flatnonzero(model.ess[:, p.index] >= 0.9)
    top = lookup_area(model, area)[0]
    assert (top.muscle_id, top.side) == ("FMA22317", "right") and top.coverage_essential == 1.0


def test_cli_lookup_json_contract(model, capsys):
    x, y, z = landmark("greater_trochanter")
    assert main(["lookup", "--point", str(x), str(y), str(z), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"region", "snap_mm", "candidates"}
    assert set(out["region"]) >= {"name", "side"}
    c = out["candidates"][0]
    assert set(c) >= {"muscle_id", "name", "side", "zone", "score", "has_mesh"}


def test_cli_lookup_far_point_is_an_error(model, capsys):
    assert main(["lookup", "--point", "0", "-900", "900", "--json"]) == 2
    assert "from the skin" in capsys.readouterr().err


def test_cli_lookup_area_file(model, tmp_path, capsys):
    pts = [landmark("buttock_center").tolist(), landmark("buttock_upper_outer").tolist()]
    f = tmp_path / "area.json"
    f.write_text(json.dumps(pts))
    assert main(["lookup", "--points", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["area_vertices"] > 10 and out["candidates"]


def test_deep_trigger_point_is_shown_over_where_it_is_palpated(model):
    """A deep point (landmark + an offset into the body) surfaces over its landmark's
    side of the body, not on whatever skin happens to be nearest: gluteus minimus'
    posterior trigger points lie deep in the buttock, so their marker is on the
    buttock (+Y is posterior), not on the outer hip."""
    gmin = next(m for m in model.maps.maps if m.name == "Gluteus minimus")
    for side in ("right", "left"):
        p = model.pattern(gmin.id, side)
        xyz = dict(p.trigger_points)["Posterior TrPs"]
        assert xyz[1] > 0, f"{side}: posterior trigger point shown at {xyz.round()} (front half of the body)"
