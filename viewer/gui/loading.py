"""Loading the pack and the referral patterns for the window, without Qt.

No PySide6 here: the app starts this in a thread before it imports the GUI modules
(viewer.gui.app.run), so reading the pack overlaps the imports; the patterns are read
once the body is on screen.
"""

from __future__ import annotations

import threading


class EarlyLoad:
    """The pack, then the referral patterns, read in a thread since the process started.

    Two stages, so the window can draw the body before the patterns are ready: ``pack`` is
    set (or ``error``) first; ``result`` (pack, model, warning) once the patterns are loaded.
    The patterns wait for :meth:`start_model`: Python threads share one interpreter lock, so reading 400 patterns while the window is still importing and
    drawing its first frame would delay that frame by about as long as the reading takes.
    """

    def __init__(self, meshes=None, *, cache_dir=None):
        self.meshes, self.cache_dir = meshes, cache_dir
        self.pack = None
        self.result = None
        self.error = None
        self.progress = ""                       # the last progress message, for the window
        self._go = threading.Event()
        self._thread = threading.Thread(target=self._run, name="early-load", daemon=True)
        self._thread.start()

    def _say(self, message: str) -> None:
        self.progress = message

    def _run(self):
        try:
            self.pack = load_pack_checked(self.meshes, progress=self._say)
        except BaseException as exc:     # handed to the window, which says why
            self.error = exc
            return
        self._go.wait()
        try:
            self.result = load_model_safely(self.pack, progress=self._say, cache_dir=self.cache_dir)
        except BaseException as exc:
            self.error = exc

    def start_model(self) -> None:
        """Let the thread go on to the referral patterns (the body is on screen)."""
        self._go.set()

    def done(self) -> bool:
        """Whether both stages are over (``result`` or ``error`` is set)."""
        return not self._thread.is_alive()


class NoPack(Exception):
    """No mesh pack is built: the window offers to build one (a type, not a message to match)."""


def load_pack_checked(meshes=None, progress=None):
    """The built pack; NoPack when there is none (the window then offers to build one)."""
    # lazy: imported in the loading thread (numpy, scipy, the model ~0.7 s): the window appears first
    from viewer import config
    from viewer.anatomy import load_pack
    from viewer.anatomy.pack import current_pack

    say = progress or (lambda m: None)
    if current_pack(config.meshes_dir(meshes)) is None:
        raise NoPack(str(config.meshes_dir(meshes)))
    say("Loading the anatomy pack")
    return load_pack(meshes)


def load_model_safely(pack, progress=None, cache_dir=None):
    """(pack, model, warning): the model falls back to an empty one if the maps cannot be used,
    so the body still shows and the window can say why there are no patterns. ``cache_dir``:
    the field cache's folder (default: beside the pack)."""
    from viewer.referral import model as referral_model

    say = progress or (lambda m: None)
    say("Loading referral patterns (the first time this takes up to a minute)")
    try:
        model = referral_model.load_model(pack, progress=say, cache_dir=cache_dir)
    except Exception as exc:        # maps/landmarks incomplete: keep the body usable
        return pack, empty_model(pack), f"Referral patterns could not be loaded: {exc}"
    from viewer.referral.lookup import warm

    warm(model)                     # here, in the thread: not by the user's first click
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
