"""The public Python API (viewer.api): results, rendering, and errors that name the argument."""

from __future__ import annotations

import numpy as np
import pytest

from viewer import api as rv
from viewer.errors import ViewerError

HIP = (-165, -75, 801)


def test_lookup_answers_the_outer_hip_and_matches_the_cli(model, capsys):
    """Over the greater trochanter Travell & Simons draw the essential zones of gluteus
    minimus, quadratus lumborum, tensor fasciae latae and vastus lateralis (the maps cite
    them): all four are the top four, essential, on the right; `top` cuts the same list;
    the CLI's JSON gives the same answer."""
    import json

    from viewer.cli import main

    res = rv.lookup(model, HIP, top=10)
    assert res.region["name"] == "greater_trochanter" and res.region["side"] == "right" and res.snap_mm < 5
    top4 = res.candidates[:4]
    assert {c.name for c in top4} == {"Gluteus minimus", "Quadratus lumborum", "Tensor fasciae latae",
                                      "Vastus lateralis"}, [c.name for c in res.candidates]
    assert all(c.zone == "essential" and c.side == "right" and not c.at_edge for c in top4)
    assert [c.score for c in top4] == sorted((c.score for c in top4), reverse=True)
    three = rv.lookup(model, HIP, top=3)
    assert [(c.muscle_id, c.side) for c in three.candidates] == [(c.muscle_id, c.side) for c in top4[:3]]
    assert main(["lookup", "--point", *map(str, HIP), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert [(c["muscle_id"], c["side"]) for c in cli["candidates"][:4]] == [(c.muscle_id, c.side) for c in top4]


def test_lookup_area_and_lists(model):
    area = rv.lookup_area(model, [HIP, (-160, -70, 760)], top=5)
    cands = area.candidates
    assert 0 < len(cands) <= 5 and all(0 <= c.score <= 1 for c in cands)
    assert len(area.other_sources) <= 5 and area.snap_mm < 10
    muscles = rv.muscles(model)
    pats = rv.patterns(model)
    assert len(pats) == len(model.patterns)
    assert len(muscles) == sum(m.kind == "muscle" for m in model.maps.maps)
    assert {"id", "name", "aliases", "body_region", "has_mesh"} <= set(muscles[0])
    assert rv.find(model, "TFL").muscle.name == "Tensor fasciae latae"


@pytest.mark.parametrize("call, arg", [
    (lambda m: rv.lookup(m, (float("nan"), 0, 800)), "point"),
    (lambda m: rv.lookup(m, (1, 2)), "point"),
    (lambda m: rv.lookup(m, "abc"), "point"),
    (lambda m: rv.lookup(m, (0, -600, 1000)), "point"),      # far in front of the body
    (lambda m: rv.lookup(m, HIP, radius_mm=float("inf")), "radius_mm"),
    (lambda m: rv.lookup(m, HIP, radius_mm=-2), "radius_mm"),
    (lambda m: rv.lookup(m, HIP, top=-3), "top"),
    (lambda m: rv.lookup_area(m, []), "points"),
    (lambda m: rv.lookup_area(m, [[1, 2, 3], [1, 2]]), "points[1]"),
    (lambda m: rv.find(m, "no such muscle"), "muscle"),
    (lambda m: rv.find(m, "TFL", side="middle"), "side"),
    (lambda m: rv.render(m, "TFL", size=(10, 10)), "size"),
    (lambda m: rv.render(m, "TFL", view="below"), "view"),
    (lambda m: rv.render(m, "TFL", out="x.jpg"), "out"),
])
def test_errors_name_the_argument_not_a_flag(model, call, arg):
    with pytest.raises(ViewerError) as exc:
        call(model)
    msg = str(exc.value)
    assert msg.startswith(arg) and "--" not in msg.split(".")[0], msg


@pytest.mark.parametrize("call, arg", [
    (lambda m, d: rv.export(m, "TFL", d / "x.png", size="10x10"), "size"),
    (lambda m, d: rv.export(m, "TFL", d / "x.png", size="big"), "size"),
    (lambda m, d: rv.export(m, "TFL", d / "x.png", view="below"), "view"),
    (lambda m, d: rv.export(m, "TFL", d / "x.jpg"), "out"),
    (lambda m, d: rv.export(m, "TFL", d / "old.png", force=False), "out"),
    (lambda m, d: rv.export(m, "qqqzzz", d / "x.png"), "source"),
    (lambda m, d: rv.export(m, "x" * 500, d / "x.png"), "source"),
    (lambda m, d: rv.export_all(m, d / "old.png"), "out_dir"),
    (lambda m, d: rv.export_all(m, d / "g", views=["best", "below"]), "views"),
    (lambda m, d: rv.export_all(m, d / "g", sides=["middle"]), "sides"),
    (lambda m, d: rv.export_all(m, d / "g", sources=["qqqzzz"]), "sources"),
    (lambda m, d: rv.handout(m, "TFL", d / "h.txt"), "out"),
    (lambda m, d: rv.handout(m, "TFL", d / "old.pdf", force=False), "out"),
    (lambda m, d: rv.handout(m, "TFL", d / "h.pdf", notes="x" * 5000), "notes"),
    (lambda m, d: rv.handout(m, "TFL", d / "h.pdf", page="A3"), "page"),
    (lambda m, d: rv.handout(m, "qqqzzz", d / "h.pdf"), "source"),
    (lambda m, d: rv.lookup_area(m, [HIP] * 2000, radius_mm=300), "points"),
])
def test_export_and_handout_errors_name_the_api_argument_and_no_flag(model, tmp_path, call, arg):
    """Below the CLI, errors (their fixes too) name the API's arguments; only the CLI says --flag."""
    (tmp_path / "old.png").write_bytes(b"old")
    (tmp_path / "old.pdf").write_bytes(b"old")
    with pytest.raises(ViewerError) as exc:
        call(model, tmp_path)
    assert exc.value.path == arg, str(exc.value)
    assert "--" not in str(exc.value), str(exc.value)
    assert (tmp_path / "old.png").read_bytes() == b"old"


@pytest.mark.slow
def test_render_to_array_and_file(model, tmp_path):
    img = rv.render(model, "gluteus minimus", view="right", size=(320, 240))
    assert img.shape[:2] == (240, 320) and img.dtype == np.uint8
    assert len(np.unique(img.reshape(-1, img.shape[2]), axis=0)) > 50   # a real picture, not blank
    out = rv.render(model, "gluteus minimus", size=(320, 240), out=tmp_path / "g.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_show_draws_into_a_given_plotter(model):
    import pyvista as pv

    plotter = pv.Plotter(off_screen=True, window_size=(200, 150))
    try:
        assert rv.show(model, "piriformis", plotter) is plotter
        assert len(plotter.renderer.actors) >= 2   # skin and trigger points at least
        img = plotter.screenshot(return_img=True)
        assert img.std() > 1
    finally:
        plotter.close()
