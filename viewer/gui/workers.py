"""Run slow work (the pack build) off the GUI thread; the start uses viewer.gui.loading.

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
