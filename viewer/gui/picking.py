"""Mouse -> skin: fast ray picking, and telling a click from a drag.

A VTK cell picker restricted to the skin (and, for Ctrl+click, the muscles;
for the status bar, the bones when that layer is shown),
with static cell locators so a pick on the 100k-triangle skin takes well under
a millisecond. Overlays and markers are never in the pick list.
"""

from __future__ import annotations

from vtkmodules.vtkCommonDataModel import vtkStaticCellLocator
from vtkmodules.vtkRenderingCore import vtkCellPicker
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal

CLICK_SLOP_PX = 4      # press and release closer than this is a click, not a drag


class Picker:
    def __init__(self, plotter, scene):
        self.plotter = plotter
        self.scene = scene
        self._pickers = {}
        self._actors = {}
        self.add("skin", scene.skin_actor, scene.skin)
        self.add("muscles", scene.muscle_actor, scene.muscles)

    def add(self, name: str, actor, mesh) -> None:
        """A picker restricted to one actor (the bones layer is added when first shown)."""
        loc = vtkStaticCellLocator()
        loc.SetDataSet(mesh)
        # the meshes' triangles never move; a recolour marks the skin modified and VTK would
        # rebuild the locator at the next pick (9 ms after every paint sample, click or hover)
        loc.UseExistingSearchStructureOn()
        loc.BuildLocator()
        p = vtkCellPicker()
        p.SetTolerance(0.0005)
        p.PickFromListOn()
        p.AddPickList(actor)
        p.AddLocator(loc)
        self._pickers[name] = p
        self._actors[name] = actor

    def has(self, name: str) -> bool:
        return name in self._pickers

    def display_xy(self, pos: QPointF) -> tuple[float, float]:
        """Qt widget position (logical px, y down) -> VTK display (device px, y up), as pyvistaqt does."""
        w = self.plotter
        scale = w.devicePixelRatioF()
        return round(pos.x() * scale), round((w.height() - pos.y() - 1) * scale)

    def pick(self, pos: QPointF, what: str = "skin"):
        """(cell id, world point) of the nearest visible hit, or None."""
        x, y = self.display_xy(pos)
        p = self._pickers[what]
        # VTK's pickers skip hidden actors, and while the camera moves the coarse meshes are
        # shown instead of the full ones: pick the full mesh anyway (a second wheel notch must
        # zoom toward the point under the cursor too, not toward the focal plane)
        actor = self._actors[what]
        hidden = not actor.GetVisibility()
        if hidden:
            actor.VisibilityOn()
        try:
            ok = p.Pick(x, y, 0, self.plotter.renderer) and p.GetCellId() >= 0
        finally:
            if hidden:
                actor.VisibilityOff()
        return (p.GetCellId(), tuple(p.GetPickPosition())) if ok else None


class MouseRouter(QObject):
    """Event filter on the interactor: clicks, paint strokes and hover, without breaking rotation.

    A left press/release within CLICK_SLOP_PX emits `clicked`; a drag is left to
    VTK (rotation). Wheel events are taken from VTK and emitted as `wheeled`. In paint mode the left button paints instead and its events
    are consumed so the camera stays still. Key presses are kept from VTK (its
    built-in keys, e.g. 'q' or 'e', would close or change the scene);
    the window's shortcuts still work.
    """

    clicked = Signal(QPointF, object)      # position, Qt.KeyboardModifiers
    hovered = Signal(QPointF)
    left = Signal()
    paint = Signal(QPointF, bool)          # position, stroke start?
    paintEnded = Signal()
    wheeled = Signal(QPointF, float)       # position, notches (+ toward the screen)

    def __init__(self, widget):
        super().__init__(widget)
        self.painting = False
        self._press = None
        self._stroke = False
        widget.setMouseTracking(True)
        widget.installEventFilter(self)

    def eventFilter(self, obj, ev):
        t = ev.type()
        if t in (QEvent.KeyPress, QEvent.KeyRelease):
            return True
        if t == QEvent.Wheel:        # the window zooms toward the cursor, coalescing queued events
            notches = ev.angleDelta().y() / 120.0
            if notches:
                self.wheeled.emit(ev.position(), notches)
            return True
        if t == QEvent.MouseButtonPress and ev.button() == Qt.LeftButton:
            self._press = ev.position()
            if self.painting:
                self._stroke = True
                self.paint.emit(ev.position(), True)
                return True
        elif t == QEvent.MouseMove:
            self.hovered.emit(ev.position())
            if self._stroke:
                self.paint.emit(ev.position(), False)
                return True
        elif t == QEvent.MouseButtonRelease and ev.button() == Qt.LeftButton:
            press, self._press = self._press, None
            if self._stroke:
                self.paint.emit(ev.position(), False)      # the stroke ends where the button is let go
                self._stroke = False
                self.paintEnded.emit()
                return True
            if press is not None:
                d = ev.position() - press
                if abs(d.x()) <= CLICK_SLOP_PX and abs(d.y()) <= CLICK_SLOP_PX:
                    # the click draws its own frame: VTK's end-of-rotation frame would be a second one
                    if hasattr(obj, "suppress_vtk_render"):
                        obj.suppress_vtk_render()
                    self.clicked.emit(ev.position(), ev.modifiers())
        elif t == QEvent.Leave:
            self.left.emit()
        return False
