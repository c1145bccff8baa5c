"""Run slow work (pack build, model load) off the GUI thread.

Only plain Python/numpy work goes to a worker: VTK rendering stays on the GUI
thread (OpenGL contexts are not thread-safe).
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, QThread, Signal


class _Worker(QObject):
    done = Signal(object)
    failed = Signal(object)       # the exception
    progress = Signal(str)

    def __init__(self, fn, *args, **kwargs):
        super().__init__()
        self._call = (fn, args, kwargs)

    def run(self):
        fn, args, kwargs = self._call
        try:
            result = fn(*args, progress=self.progress.emit, **kwargs)
        except BaseException as exc:    # reported to the GUI, never lost in the thread
            exc.trace = traceback.format_exc()
            self.failed.emit(exc)
        else:
            self.done.emit(result)


class Task(QObject):
    """fn(*args, progress=callable, **kwargs) in a QThread; signals arrive on the GUI thread."""

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(str)

    def __init__(self, fn, *args, parent=None, **kwargs):
        super().__init__(parent)
        self.thread = QThread()
        self.worker = _Worker(fn, *args, **kwargs)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.done.connect(self.done)
        self.worker.failed.connect(self.failed)
        self.worker.progress.connect(self.progress)
        self.worker.done.connect(self.thread.quit)
        self.worker.failed.connect(self.thread.quit)

    def start(self) -> "Task":
        self.thread.start()
        return self

    def running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, ms: int = 60_000) -> bool:
        return self.thread.wait(ms)


class NoPack(Exception):
    """No mesh pack is built: the window offers to build one (a type, not a message to match)."""


def load_pack_and_model(meshes=None, progress=None):
    """(pack, model, warning): the model falls back to an empty one if the maps cannot be used,
    so the body still shows and the window can say why there are no patterns. NoPack when
    there is no pack at all."""
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
