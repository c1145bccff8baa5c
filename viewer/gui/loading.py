"""Loading the pack and the referral patterns for the window, without Qt.

No PySide6 here: the app starts this in a thread before it imports the GUI modules
(viewer.gui.app.early_load), so reading the pack overlaps the ~2 s of imports.
"""

from __future__ import annotations

import threading


class EarlyLoad:
    """load_pack_and_model(meshes) running in a thread since the process started."""

    def __init__(self, meshes=None):
        self.meshes = meshes
        self.result = None
        self.error = None
        self._thread = threading.Thread(target=self._run, name="early-load", daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self.result = load_pack_and_model(self.meshes)
        except BaseException as exc:     # handed to the window, which says why
            self.error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()


class NoPack(Exception):
    """No mesh pack is built: the window offers to build one (a type, not a message to match)."""


def load_pack_and_model(meshes=None, progress=None):
    """(pack, model, warning): the model falls back to an empty one if the maps cannot be used,
    so the body still shows and the window can say why there are no patterns. NoPack when
    there is no pack at all."""
    # lazy: imported in the loading thread (numpy, scipy, the model ~0.7 s): the window appears first
    from viewer import config
    from viewer.anatomy import load_pack
    from viewer.anatomy.pack import current_pack
    from viewer.referral import model as referral_model

    say = progress or (lambda m: None)
    if current_pack(config.meshes_dir(meshes)) is None:
        raise NoPack(str(config.meshes_dir(meshes)))
    say("Loading the anatomy pack")
    pack = load_pack(meshes)
    say("Loading referral patterns (the first time this takes up to a minute)")
    try:
        model = referral_model.load_model(pack, progress=say)
    except Exception as exc:        # maps/landmarks incomplete: keep the body usable
        return pack, empty_model(pack), f"Referral patterns could not be loaded: {exc}"
    warning = None
    if model.problems:
        warning = f"{len(model.problems)} problem(s) in the referral maps; first: {model.problems[0]}"
    return pack, model, warning


def empty_model(pack):
    """A model with no patterns (one 'Skin' region), for when the maps cannot be loaded."""
    # lazy: the empty model is a fallback: its imports are paid only when the maps fail
    import numpy as np

    from viewer.referral.geometry import SkinGeometry
    from viewer.referral.loader import MapSet
    from viewer.referral.model import ReferralModel
    from viewer.referral.regions import Region

    n = len(pack.skin_vertices)
    geo = SkinGeometry(pack.skin_vertices, pack.skin_faces, pack.skin_normals)
    return ReferralModel(pack, MapSet(), geo, [Region(0, "skin", "midline", "Skin")],
                         np.zeros(n, np.int16), [], np.zeros((n, 0), np.float16),
                         np.zeros((n, 0), np.float16))
