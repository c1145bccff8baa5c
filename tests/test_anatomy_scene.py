"""The scene's bones layer: off by default, toggled, pickable by name."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def scene(model):
    import pyvista as pv

    from viewer.render.scene import BodyScene

    if not model.pack.bones:
        pytest.skip("pack without bones")
    plotter = pv.Plotter(off_screen=True, window_size=[400, 600])
    yield BodyScene(plotter, model)
    plotter.close()


def test_bones_layer_toggles_and_names_the_bone_under_a_point(scene):
    assert scene.has_bones and not scene.bones_visible()
    assert scene.bone_actor is None                     # made on first show: first frame stays light
    scene.set_bones_visible(True, render=False)
    assert scene.bones_visible()
    femur = next(i for i, b in enumerate(scene.pack.bones) if b.name == "Right femur")
    cells = np.flatnonzero(scene.bones.cell_data["bone"] == femur)
    point = scene.bones.get_cell(int(cells[len(cells) // 2])).points.mean(axis=0)
    assert scene.bone_at_point(point).name == "Right femur"
    scene.set_bones_visible(False, render=False)
    assert scene.bone_at_point(point) is None          # hidden layer: nothing to pick
    scene.set_bones_visible(True, render=False)
    assert scene.bone_at_cell(int(cells[0])).fma == scene.pack.bones[femur].fma
    assert scene.bone_actor.GetPickable()


def test_export_draws_bones_only_when_asked(model, tmp_path):
    from PIL import Image

    from viewer.render.export import render_pattern

    pattern = model.patterns[0]
    a = render_pattern(model, pattern, tmp_path / "a.png", size=(300, 400), view="anterior",
                       skin_opacity=0.3, title=False, legend=False, attribution=False)
    b = render_pattern(model, pattern, tmp_path / "b.png", size=(300, 400), view="anterior",
                       skin_opacity=0.3, title=False, legend=False, attribution=False, bones=True)
    ia, ib = (np.asarray(Image.open(p).convert("RGB"), dtype=int) for p in (a, b))
    assert np.abs(ia - ib).sum(axis=2).astype(bool).mean() > 0.02
