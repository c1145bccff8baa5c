"""The window's Qt interactor: pyvistaqt's QtInteractor drawing each frame once.

pyvistaqt's FBO widget renders the scene again in every paintGL, including the paint that
a finished render schedules to put its frame on the screen (its "invariant 3": pyvista
changes the scene without asking for a repaint). The window always asks for a render after
a change, so that second render only doubles the cost of every frame: on software OpenGL
a click drew four full frames (our render, its repaint, VTK's render at the button release,
its repaint) before the pattern stayed on the screen. Here a paint that follows a finished
render only copies that render's image to the widget (as VTK's C++ QVTKOpenGLNativeWidget
does); any other paint (expose, resize) renders as before. If pyvistaqt's internals are not
the ones this was written for, the base class's behaviour is kept.
"""

from __future__ import annotations

from pyvistaqt import QtInteractor
from PySide6.QtCore import QRect, QTimer


class Interactor(QtInteractor):
    _fresh = False          # the render window holds a finished frame not yet shown
    frames_blitted = 0      # paints that showed a finished frame without rendering again

    def _cb_frame(self, obj, evt):
        if not getattr(self, "_in_paint", True):
            self._fresh = True
        super()._cb_frame(obj, evt)

    def resizeGL(self, w, h):
        self._fresh = False            # the frame has the old size: render in the paint
        super().resizeGL(w, h)

    def paintGL(self):
        rw = getattr(self, "_RenderWindow", None)
        if not (self._fresh and rw is not None and rw.GetReadyForRendering() and hasattr(self, "_blit")):
            self._fresh = False
            return super().paintGL()
        self._fresh = False
        self.frames_blitted += 1
        st = rw.GetState()
        st.Reset()                      # Qt touched GL since the last VTK call
        st.Push()
        self.makeCurrent()
        dpr = self.devicePixelRatioF()
        self._blit(self.defaultFramebufferObject(),
                   QRect(0, 0, max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))))
        st.Pop()

    def suppress_vtk_render(self) -> None:
        """Keep VTK's interactor from rendering until the current event is handled (a click's
        release: VTK's interactor style ends its rotation state with a full frame)."""
        iren = self.iren.interactor
        iren.EnableRenderOff()
        QTimer.singleShot(0, iren.EnableRenderOn)
