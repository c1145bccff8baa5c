"""The 3D view glue: the Qt interactor, the BodyScene, picking, and ViewerState -> scene.

Frames are expensive on software OpenGL (tens of ms), so every change asks for
one coalesced render; camera motion (drag, wheel, flights) draws the coarse
level-of-detail meshes and the full meshes once it stops.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, QTimer, Signal

from viewer.gui.picking import MouseRouter, Picker

FLY_MS = 250            # camera flight; the last frame (full meshes) lands within 0.6 s
WHEEL_STEP = 1.15       # zoom factor per wheel notch
SETTLE_MS = 180         # full-detail frame this long after the camera stops


class View3D(QObject):
    """Owns the plotter's scene for the window; emits what the status bar shows."""

    hoverText = Signal(str)            # region under the mouse (or "Not over the skin")
    muscleClicked = Signal(object)     # Part under a Ctrl+click
    cameraMoved = Signal()

    def __init__(self, plotter, state, parent=None):
        super().__init__(parent)
        self.plotter = plotter
        self.state = state
        self.scene = None
        self.picker = None
        self.router = None
        self.fly_ms = FLY_MS
        self.timings = {}
        self._fly = None
        self._render_pending = False
        self._closing = False
        self._hover_pos = None
        self._wheel = [0.0, None]          # accumulated notches, last position
        self.patterns_ready = False
        self._held_click = None            # a click made before the patterns were loaded
        self._hover_timer = QTimer(self, singleShot=True, interval=30, timeout=self._do_hover)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS, timeout=self._full_detail)

    # -- set-up -------------------------------------------------------------------
    def attach(self, model, *, skin_opacity: float) -> None:
        """Make the scene on `model`'s body (a stand-in without patterns while they load):
        clicks wait for :meth:`set_model`."""
        # lazy: scene pulls pyvista (~1.9 s), which app.preload imports before PySide6 (import order)
        from viewer.render.scene import BodyScene

        self.scene = BodyScene(self.plotter, model, skin_opacity=skin_opacity)
        # Depth peeling in Qt's framebuffer object drops the translucent skin (Mesa).
        self.plotter.disable_depth_peeling()
        # Plain alpha blending, not VTK's order-independent transparency (its default without depth
        # peeling): the culled skin is one translucent layer, so the image is the same (mean
        # difference 0.02/255) and a frame is 10-25% cheaper (extra OIT buffers and a composite pass)
        self.plotter.renderer.SetUseOIT(False)
        self.picker = Picker(self.plotter, self.scene)
        self.router = MouseRouter(self.plotter)
        self.router.clicked.connect(self._clicked)
        self.router.hovered.connect(self._hover)
        self.router.left.connect(self._mouse_left)
        self.router.paint.connect(self._paint)
        self.router.paintEnded.connect(self.state.end_stroke)
        self.router.wheeled.connect(self._wheeled)
        style = self.plotter.iren.interactor.GetInteractorStyle()
        # coarse meshes from the first camera motion, not at the button press: a click must
        # never leave the full meshes (its frame is drawn in full detail)
        style.AddObserver("InteractionEvent", self._camera_moving)
        style.AddObserver("EndInteractionEvent", self._camera_stopped)
        ev = self.state.events
        ev.marks.connect(self._marks_changed)
        ev.drawing.connect(self._drawing_changed)
        ev.shown.connect(self._shown_changed)
        QTimer.singleShot(1500, self._warm_up)

    def set_model(self, model) -> None:
        """The patterns are loaded: the scene paints from `model` (same body); a click made
        while they loaded is looked up now."""
        self.scene.model = model
        self.patterns_ready = True
        held, self._held_click = self._held_click, None
        if held is not None:
            self._clicked(*held)

    def _warm_up(self) -> None:
        """Once the first frame is up: what the first click or drag would otherwise pay for
        (coarse meshes, the zone sizes that rank ties)."""
        if self._closing or self.scene is None:
            return
        self.scene._lod_meshes()
        self.scene.skin_locator()
        sizes = getattr(self.state.model, "zone_sizes", None)
        if callable(sizes):
            sizes()
        self.picker.pick(QPointF(self.plotter.width() / 2, self.plotter.height() / 2))   # its first pick is slow

    # -- rendering ----------------------------------------------------------------
    def request_render(self) -> None:
        """One render once the pending events are handled (coalesces many changes into one frame)."""
        if not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(0, self._deferred_render)

    def _deferred_render(self) -> None:
        if not self._render_pending:         # drawn meanwhile (render_now): no second frame
            return
        self._render_pending = False
        if not self._closing and self.scene is not None:
            self.plotter.render()

    def render_now(self, *, coarse: bool = False) -> None:
        """Draw at once; full detail unless `coarse` (frames while the camera moves)."""
        self._render_pending = False
        if not coarse and self.scene is not None and self.scene.interacting:
            self.scene.set_interacting(False)
        self.plotter.render()

    def _camera_moving(self, *_vtk_args) -> None:
        self._interacting(True)

    def _camera_stopped(self, *_vtk_args) -> None:
        self._interacting(False)

    def _mouse_left(self) -> None:
        self._hover_pos = None
        self.hoverText.emit("")

    def _interacting(self, on: bool) -> None:
        if on:
            self._settle.stop()
            self.scene.set_interacting(True)
            self._moved = True
        elif getattr(self, "_moved", False):
            self._moved = False
            self._settle.start()
            self._camera_changed()

    def _full_detail(self) -> None:
        if self.scene is not None and self.scene.interacting and not (self._fly and self._fly.isActive()):
            self.scene.set_interacting(False)
            self.request_render()

    def _camera_changed(self) -> None:
        # the camera stopped: trigger-point labels only for the points it now sees
        if self.scene is not None and self.scene.update_label_visibility():
            self.request_render()
        self.cameraMoved.emit()
        if self._hover_pos is not None:          # the region under a still mouse changes with the camera
            self._hover_timer.start()

    # -- state -> scene -------------------------------------------------------------
    def _marks_changed(self) -> None:
        pts = np.array([m.point for m in self.state.marks]) if self.state.marks else None
        self.scene.set_marks(pts, render=False)
        self.request_render()

    def _drawing_changed(self) -> None:
        self.scene.set_drawing(self.state.drawing, render=False)
        self.request_render()

    def _shown_changed(self, pattern) -> None:
        t = time.perf_counter()
        self.scene.show_pattern(pattern, render=False)
        self.timings["recolor_ms"] = (time.perf_counter() - t) * 1000
        self.request_render()

    # -- mouse ------------------------------------------------------------------------
    def _hover(self, pos: QPointF) -> None:
        self._hover_pos = pos
        if not self._hover_timer.isActive():      # coalesce mouse moves: one pick per 30 ms
            self._hover_timer.start()

    def _do_hover(self) -> None:
        if self.picker is None or self._hover_pos is None or not self.patterns_ready:
            return
        hit = self.picker.pick(self._hover_pos)
        if hit is None:
            self.hoverText.emit("Not over the skin")
            return
        v = self.state.snap(hit[1])
        text = f"Over: <b>{self.state.model.region_of(v).display}</b>"
        bone = self.picker.pick(self._hover_pos, "bones") if self.scene.bones_visible() else None
        if bone is not None:         # the bone under the skin along the same ray
            text += f" · bone: <b>{self.scene.bone_at_cell(bone[0]).name}</b>"
        self.hoverText.emit(text)

    def set_bones_visible(self, on: bool) -> None:
        """The Bones layer (off by default); its picker is made with its actor."""
        self.scene.set_bones_visible(on, render=False)
        if self.scene.bone_actor is not None and not self.picker.has("bones"):
            self.picker.add("bones", self.scene.bone_actor, self.scene.bones)
        self.request_render()

    def _clicked(self, pos: QPointF, modifiers) -> None:
        if not self.patterns_ready:          # the body shows, the patterns are still loading
            self._held_click = (QPointF(pos), modifiers)
            return
        t = time.perf_counter()
        if modifiers & Qt.ControlModifier or self.scene.skin_opacity == 0:
            self._pick_muscle(pos)
            return
        hit = self.picker.pick(pos)
        if hit is None:
            return
        self.state.mark(hit[1], add=bool(modifiers & Qt.ShiftModifier))
        self.timings["pick_to_candidates_ms"] = (time.perf_counter() - t) * 1000
        # draw now, in full detail (VTK's button press started an "interaction"), before the
        # panels are laid out: the marker and the pattern appear first; repaint() puts the frame
        # (and the list, already updated) on the screen now, not after the queued events
        self.render_now()
        self.plotter.repaint()

    def _pick_muscle(self, pos: QPointF) -> None:
        if not self.scene.muscles_visible:
            return
        hit = self.picker.pick(pos, "muscles")
        if hit is not None:
            self.muscleClicked.emit(self.scene.part_at_cell(hit[0]))

    def set_painting(self, on: bool) -> None:
        self.router.painting = on
        self.plotter.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)

    def _paint(self, pos: QPointF, start: bool) -> None:
        """Paint the brush under the mouse and along the way from the last mouse sample: a fast
        drag sends sparse events (5-8 cm apart on the skin), so the screen segment between two
        samples is picked every third of a brush radius (each pick lands on the skin seen there)."""
        if not self.patterns_ready:          # nothing to paint on until the patterns are loaded
            return
        if start:
            self.state.begin_stroke()
            self._last_paint = None
        hit = self.picker.pick(pos)
        vertices = []
        last = getattr(self, "_last_paint", None)
        if hit is not None and last is not None:
            (p0, w0), w1 = last, np.array(hit[1])
            step = max(1.0, self.state.brush_mm / 3.0)
            n = int(np.ceil(np.linalg.norm(w1 - w0) / step))
            for k in range(1, n):
                q = self.picker.pick(p0 + (pos - p0) * (k / n))
                if q is not None:
                    vertices.append(self.state.snap(q[1]))
        if hit is not None:
            vertices.append(self.state.snap(hit[1]))
            self._last_paint = (QPointF(pos), np.array(hit[1]))
        if vertices:
            self.state.paint_many(vertices)

    def _wheeled(self, pos: QPointF, notches: float) -> None:
        """Wheel events are summed until the next frame: a fast wheel zooms once, then stops."""
        self._wheel[0] += notches
        self._wheel[1] = pos
        if self._wheel[0] and not self._render_pending:
            QTimer.singleShot(0, self._apply_wheel)
            self._render_pending = True

    def _apply_wheel(self) -> None:
        self._render_pending = False
        notches, pos = self._wheel
        self._wheel = [0.0, None]
        if not notches or self.scene is None:
            return
        hit = self.picker.pick(pos) or self.picker.pick(pos, "muscles")
        if hit is not None:
            point = np.array(hit[1])
        else:       # off the body: zoom toward the cursor's point on the focal plane
            ren = self.plotter.renderer
            x, y = self.picker.display_xy(pos)
            ren.SetWorldPoint(*self.plotter.camera.focal_point, 1.0)
            ren.WorldToDisplay()
            z = ren.GetDisplayPoint()[2]
            ren.SetDisplayPoint(x, y, z)
            ren.DisplayToWorld()
            w = ren.GetWorldPoint()
            point = np.array(w[:3]) / (w[3] or 1.0)
        self.scene.set_interacting(True)
        self.scene.zoom_at(point, WHEEL_STEP ** notches, render=False)
        self.render_now(coarse=True)
        self._settle.start()
        self._camera_changed()

    # -- camera -----------------------------------------------------------------------
    def set_view(self, name: str) -> None:
        self.animate(lambda: self.scene.set_view(name, render=False))

    def fly_to_pattern(self) -> None:
        if self.scene is None or self.scene.pattern is None:
            return
        self.animate(lambda: self.scene.set_view(self.scene.best_view(), focus="pattern", render=False))

    def animate(self, set_target) -> None:
        """Fly the camera: orbit direction slerped, focal point and distance interpolated;
        coarse meshes during the flight, the full ones for its last frame."""
        cam = self.plotter.camera
        start = (np.array(cam.position), np.array(cam.focal_point), np.array(cam.up))
        set_target()
        end = (np.array(cam.position), np.array(cam.focal_point), np.array(cam.up))
        if self._fly:
            self._fly.stop()
        if self.fly_ms <= 0:
            self.render_now()
            self._camera_changed()
            return
        t0 = time.perf_counter()
        self.scene.set_interacting(True)
        last = [0.0]            # duration of the previous frame (s)

        def step():
            now = time.perf_counter()
            # the end comes one frame early rather than one frame late: a slow software frame
            # would otherwise add its whole duration to the flight
            s = min(1.0, (now - t0 + last[0]) * 1000 / self.fly_ms)
            k = s * s * (3 - 2 * s)
            (p0, f0, u0), (p1, f1, u1) = start, end
            d0, d1 = p0 - f0, p1 - f1
            n0, n1 = np.linalg.norm(d0), np.linalg.norm(d1)
            focal = f0 + k * (f1 - f0)
            cam.focal_point = focal
            cam.position = focal + _slerp(d0 / n0, d1 / n1, k) * (n0 + k * (n1 - n0))
            up = u0 + k * (u1 - u0)
            cam.up = up / (np.linalg.norm(up) or 1.0)
            cam.OrthogonalizeViewUp()
            self.plotter.renderer.ResetCameraClippingRange()
            if s >= 1.0:
                self._fly.stop()
                self._camera_changed()
            self.render_now(coarse=s < 1.0)
            last[0] = time.perf_counter() - now

        cam.position, cam.focal_point, cam.up = start
        self._fly = QTimer(self, interval=16, timeout=step)
        self._fly.start()

    def close(self) -> None:
        self._closing = True
        for t in (self._hover_timer, self._settle, self._fly):
            if t is not None:
                t.stop()


def _slerp(a, b, t):
    dot = float(np.clip(np.dot(a, b), -1.0, 1.0))
    if dot > 0.9995:
        v = a + t * (b - a)
        return v / np.linalg.norm(v)
    if dot < -0.9995:            # opposite: orbit around any perpendicular axis
        perp = np.cross(a, [0.0, 0.0, 1.0])
        if np.linalg.norm(perp) < 1e-6:
            perp = np.cross(a, [1.0, 0.0, 0.0])
        perp /= np.linalg.norm(perp)
        ang = np.pi * t
        return a * np.cos(ang) + perp * np.sin(ang)
    om = np.arccos(dot)
    return (np.sin((1 - t) * om) * a + np.sin(t * om) * b) / np.sin(om)
