"""BodyScene: the skin, muscles, referral overlay and markers on any pyvista
Plotter (an off-screen one for export, the Qt interactor in the window)."""

from __future__ import annotations

import numpy as np
import pyvista as pv

from viewer.anatomy.meshutil import to_polydata
from viewer.referral.fields import combined
from viewer.render import style


BONE_COLOR = "#f2ead3"   # ivory: reads as bone next to the muscles' dusty pink


class BodyScene:
    def __init__(self, plotter: pv.Plotter, model, *, skin_opacity: float = 0.55,
                 show_muscles: bool = True, show_bones: bool = False):
        self.plotter = plotter
        self.model = model
        self.pack = model.pack
        self.pattern = None
        self.drawing = np.zeros(self.pack.skin_vertices.shape[0], dtype=np.float32)
        self._ess = np.zeros_like(self.drawing)
        self._spill = np.zeros_like(self.drawing)
        self._show_tps = True
        self._show_other_side = False
        self.label_font_size = 14          # trigger-point labels (the window enlarges them in patient mode)
        plotter.set_background(style.BACKGROUND)

        self.skin = self.pack.skin.copy()     # own copy: its colours change per pattern
        self.skin.point_data["rgb"] = style.zone_colors(self._ess, self._spill)
        self.skin_actor = plotter.add_mesh(self.skin, scalars="rgb", rgb=True, smooth_shading=True,
                                           opacity=skin_opacity, name="skin", pickable=True,
                                           specular=0.1, reset_camera=False)
        # Cull the skin's back faces: through a translucent skin the far side's
        # pattern would otherwise show, as if the pain were on this side too.
        self.skin_actor.GetProperty().BackfaceCullingOn()
        self.muscles = self._merged_muscles()
        self.muscle_actor = plotter.add_mesh(self.muscles, color=style.MUSCLE_CONTEXT, smooth_shading=True,
                                             name="muscles", pickable=True, opacity=1.0,
                                             reset_camera=False)
        self.muscle_actor.SetVisibility(show_muscles)
        # Bones (BodyParts3D 4.0): one merged, pickable actor, off by default
        # (patients come for their pain; students turn the layer on).
        # The actor is made on first show, so the first frame does not pay for it.
        self.bones = None
        self.bone_actor = None
        self._has_bones = bool(self.pack.bones)
        if show_bones:
            self.set_bones_visible(True, render=False)
        self.highlight_actor = None
        # No depth peeling: with Mesa's software OpenGL (OSMesa, Xvfb) it drops
        # the translucent skin entirely; plain alpha blending looks right.
        self.set_view("anterior")

    # -- meshes ---------------------------------------------------------------
    def _merged_muscles(self) -> pv.PolyData:
        """All muscle parts in one light mesh (one actor renders far faster than
        121); cell data 'part' keeps which part each triangle belongs to, for picking."""
        v, f, n, part = self.pack.display_muscles()
        mesh = to_polydata(v, f)
        mesh.point_data["Normals"] = n
        mesh.cell_data["part"] = part
        return mesh

    def _merged_bones(self) -> pv.PolyData | None:
        data = self.pack.display_bones()
        if data is None:
            return None
        v, f, n, bone = data
        mesh = to_polydata(v, f)
        mesh.point_data["Normals"] = n
        mesh.cell_data["bone"] = bone
        return mesh

    @property
    def has_bones(self) -> bool:
        return self._has_bones

    def set_bones_visible(self, visible: bool, *, render: bool = True) -> None:
        """Show or hide the skeleton (no-op for a pack without bones)."""
        if visible and self.bone_actor is None and self._has_bones:
            self.bones = self._merged_bones()
            if self.bones is not None:
                self.bone_actor = self.plotter.add_mesh(
                    self.bones, color=BONE_COLOR, smooth_shading=True, name="bones", pickable=True,
                    opacity=1.0, specular=0.2, reset_camera=False)
        if self.bone_actor is not None:
            self.bone_actor.SetVisibility(bool(visible))
            if render:
                self.plotter.render()

    def bones_visible(self) -> bool:
        return bool(self.bone_actor is not None and self.bone_actor.GetVisibility())

    def bone_at_cell(self, cell_id: int):
        """The pack Bone of a picked cell of the bones actor."""
        return self.pack.bones[int(self.bones.cell_data["bone"][cell_id])]

    def bone_at_point(self, point, *, max_mm: float = 3.0):
        """The bone whose (display) surface is nearest to a picked 3D point, or
        None if no bone surface lies within max_mm (or the layer is hidden)."""
        if not self.bones_visible():
            return None
        cell = self.bones.find_closest_cell(np.asarray(point, dtype=float))
        if cell < 0:
            return None
        c = self.bones.get_cell(cell).points.mean(axis=0)
        if np.linalg.norm(c - np.asarray(point)) > max_mm + 15.0:
            return None
        return self.bone_at_cell(cell)

    def part_at_cell(self, cell_id: int):
        return self.pack.parts[int(self.muscles.cell_data["part"][cell_id])]

    def _parts_mesh(self, part_ids) -> pv.PolyData | None:
        meshes = [self.pack.part_polydata(self.pack.part(pid)) for pid in part_ids]
        return pv.merge(meshes) if meshes else None

    # -- content --------------------------------------------------------------
    def show_pattern(self, pattern, *, render: bool = True) -> None:
        """Colour the skin with a pattern's zones and highlight its muscle and trigger points."""
        self.pattern = pattern
        if pattern is None:
            self._ess = np.zeros_like(self.drawing)
            self._spill = np.zeros_like(self.drawing)
        else:
            self._ess, self._spill = self.model.zone_weights(pattern)
            if self._show_other_side:
                other = self._other(pattern)
                if other is not None:
                    e, s = self.model.zone_weights(other)
                    self._ess, self._spill = np.maximum(self._ess, e), np.maximum(self._spill, s)
        self._recolor()
        self.plotter.remove_actor("highlight", render=False)
        self.highlight_actor = None
        if pattern is not None and pattern.part_ids:
            self.highlight_actor = self.plotter.add_mesh(
                self._parts_mesh(pattern.part_ids), color=style.MUSCLE, smooth_shading=True,
                name="highlight", pickable=False, render=False)
        self._update_trigger_points(render=False)
        if render:
            self.plotter.render()

    def _other(self, pattern):
        side = "left" if pattern.side == "right" else "right"
        try:
            return self.model.pattern(pattern.muscle.id, side)
        except KeyError:
            return None

    def set_drawing(self, mask: np.ndarray, *, render: bool = True) -> None:
        self.drawing = np.asarray(mask, dtype=np.float32)
        self._recolor()
        if render:
            self.plotter.render()

    def _recolor(self) -> None:
        rgb = self.skin.point_data["rgb"]
        rgb[:] = style.zone_colors(self._ess, self._spill, self.drawing if self.drawing.any() else None)
        self.skin.point_data["rgb"] = rgb   # re-assign: marks the array modified for VTK
        self.skin.Modified()

    @property
    def skin_rgb(self) -> np.ndarray:
        return np.asarray(self.skin.point_data["rgb"])

    @property
    def skin_value(self) -> np.ndarray:
        """Display value per vertex: 1 essential core, 0.5 spillover, 0 none."""
        return combined(self._ess, self._spill)

    def _update_trigger_points(self, render: bool = True) -> None:
        for name in ("tp_points", "tp_labels"):
            self.plotter.remove_actor(name, render=False)
        p = self.pattern
        if p is None or not self._show_tps or not p.trigger_points:
            return
        pts = np.array([xyz for _, xyz in p.trigger_points])
        normals = self.pack.skin_normals[self.model.geo.snap(pts)[0]]
        lifted = pts + 4.0 * normals        # sit just above the skin
        self.plotter.add_mesh(pv.PolyData(lifted).glyph(geom=pv.Sphere(radius=7.0), scale=False, orient=False),
                              color=style.TRIGGER_POINT, name="tp_points", pickable=False, render=False)
        self.plotter.add_point_labels(lifted + 14.0 * normals, [label for label, _ in p.trigger_points],
                                      name="tp_labels", font_size=self.label_font_size, point_size=0, shape_opacity=0.7,
                                      shape_color="white", text_color="black", always_visible=False,
                                      render=False, pickable=False)

    def set_marks(self, points) -> None:
        """Markers for the spots the user clicked."""
        self.plotter.remove_actor("marks", render=False)
        if points is not None and len(points):
            pts = np.atleast_2d(points)
            self.plotter.add_mesh(pv.PolyData(pts).glyph(geom=pv.Sphere(radius=9.0), scale=False, orient=False),
                                  color=style.MARK, name="marks", pickable=False, render=False)
        self.plotter.render()

    # -- layers ---------------------------------------------------------------
    def set_skin_opacity(self, value: float) -> None:
        self.skin_actor.GetProperty().SetOpacity(float(value))
        self.plotter.render()

    def set_muscles_visible(self, visible: bool) -> None:
        self.muscle_actor.SetVisibility(bool(visible))
        self.plotter.render()

    def set_trigger_points_visible(self, visible: bool) -> None:
        self._show_tps = bool(visible)
        self._update_trigger_points()
        self.plotter.render()

    def set_other_side_visible(self, visible: bool) -> None:
        self._show_other_side = bool(visible)
        self.show_pattern(self.pattern)

    # -- camera ---------------------------------------------------------------
    def set_view(self, name: str, *, focus: str = "body", render: bool = True) -> None:
        """Standard view; focus 'body' frames the whole body, 'pattern' the current pattern."""
        direction, up = (np.asarray(x, dtype=float) for x in style.VIEWS[name])
        bounds = self._focus_bounds() if focus == "pattern" else self.skin.bounds
        b = np.asarray(bounds, dtype=float).reshape(3, 2)
        centre = b.mean(axis=1)
        cam = self.plotter.camera
        cam.focal_point = centre
        cam.position = centre - direction * 3000.0
        cam.up = up
        self.plotter.renderer.ResetCamera(*np.asarray(bounds, dtype=float))
        # Clip against everything shown, not just the framed bounds: otherwise
        # skin nearer the camera than the pattern is cut away.
        self.plotter.renderer.ResetCameraClippingRange()
        self.current_view = name
        if render:
            self.plotter.render()

    def _focus_bounds(self):
        pts = [self.pack.skin_vertices[self.skin_value > 0.2]]
        if self.pattern is not None:
            pts += [np.array([xyz for _, xyz in self.pattern.trigger_points]).reshape(-1, 3)]
        pts = np.vstack([p for p in pts if len(p)]) if any(len(p) for p in pts) else self.pack.skin_vertices
        lo, hi = pts.min(axis=0) - 60.0, pts.max(axis=0) + 60.0
        return [lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]]

    def best_view(self) -> str:
        """The standard view that faces most of the current pattern."""
        if self.pattern is None:
            return "anterior"
        w = self.skin_value
        sel = w > 0.2
        if not sel.any():
            return "anterior"
        n = (self.pack.skin_normals[sel] * w[sel, None]).sum(axis=0)
        scores = {name: -float(np.dot(n, d)) for name, (d, _) in style.VIEWS.items() if name != "superior"}
        return max(scores, key=scores.get)
