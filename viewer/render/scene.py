"""BodyScene: the skin, muscles, referral overlay and markers on any pyvista
Plotter (an off-screen one for export, the Qt interactor in the window).

Sections: meshes, content (pattern, drawing, trigger points, marks), layers,
level of detail, camera. Other layers (e.g. bones) and label placement go in
their own sections. Every setter takes ``render=``; the window batches one
render per user action (a software-OpenGL frame costs tens of milliseconds).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyvista as pv
import scipy.sparse as sp
from vtkmodules.vtkCommonCore import vtkIdList, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkPlane, vtkStaticCellLocator
from vtkmodules.vtkFiltersCore import vtkQuadricClustering
from vtkmodules.vtkRenderingAnnotation import vtkLeaderActor2D
from vtkmodules.vtkRenderingCore import vtkCoordinate, vtkTextActor

from viewer import atomic
from viewer.anatomy.meshutil import to_polydata
from viewer.constants import OTHER_SIDE
from viewer.referral.fields import combined
from viewer.referral.levels import level_vertebrae
from viewer.referral.segments import SEGMENT_INDEX
from viewer.render import style

LABEL_OWN_SKIN_MM = 12.0       # skin this near a trigger point does not hide its label
PATTERN_MIN_ALPHA = 0.9        # a zone or the drawing stays this opaque whatever the skin opacity
LOD_DIVISIONS = (72, 36, 150)  # quadric-clustering grid of the interaction meshes (about 1/6 of the triangles)


# Smooth shading from the meshes' own point normals ("Normals", made active by _own_normals).
# pyvista's smooth_shading=True puts a normals filter in front of the mapper, and that filter
# runs again whenever the mesh changes: every recolour of the skin (a click, a hovered
# candidate, a paint stroke) recomputed the 50k-vertex skin's normals, ~0.1 s a frame.
SMOOTH = {"smooth_shading": False, "interpolation": "phong"}


_SPHERES = {}


def _sphere(radius: float, resolution: int | None = None) -> pv.PolyData:
    """A marker sphere, made once (pv.Sphere takes ~10 ms, paid on every click otherwise)."""
    key = (radius, resolution)
    if key not in _SPHERES:
        kw = {} if resolution is None else {"theta_resolution": resolution, "phi_resolution": resolution}
        _SPHERES[key] = pv.Sphere(radius=radius, **kw)
    return _SPHERES[key]


def _bounds(points, pad: float) -> list[float]:
    lo, hi = points.min(axis=0) - pad, points.max(axis=0) + pad
    return [lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]]


def _own_normals(mesh):
    """Make the mesh's "Normals" point array its active normals (VTK shades with them)."""
    if mesh is not None and "Normals" in mesh.point_data:
        mesh.GetPointData().SetActiveNormals("Normals")
    return mesh


BONE_COLOR = "#f2ead3"   # ivory: reads as bone next to the muscles' dusty pink

# Shading of the skin. The BodyParts3D skin comes from voxel data: its surface carries
# ridges one slice apart (~6 mm, median angle 5 deg between neighbouring normals, 40 deg
# at the 99th percentile) that the light turned into a grain of streaks (legs, back), and
# a hard specular highlight (power 100) made them sparkle. The rendering normals are made
# consistent (oriented outward; 20 stored normals pointed inward) and smoothed over the
# surface (SKIN_NORMAL_SMOOTHING rounds of 1-ring averaging, about 2 cm): the form of the
# body (shoulders, calves, buttocks) stays, the slice ridges go. The geometry is untouched,
# so picking, zones and points are where they were.
SKIN_NORMAL_SMOOTHING = 10
SKIN_LIGHTING = dict(ambient=0.18, diffuse=0.82, specular=0.12, specular_power=18.0)
_NORMALS_CACHE: dict = {}


def display_normals(vertices: np.ndarray, faces: np.ndarray, iterations: int = SKIN_NORMAL_SMOOTHING) -> np.ndarray:
    """Outward, consistently oriented point normals of a closed-ish triangle mesh,
    smoothed by ``iterations`` rounds of averaging with the 1-ring (float32, unit)."""
    hit = _NORMALS_CACHE.get(_normals_key(vertices, faces, iterations))
    if hit is not None and hit[0] is vertices:
        return hit[1]
    poly = to_polydata(vertices, faces)
    poly = poly.compute_normals(cell_normals=False, point_normals=True, split_vertices=False,
                                consistent_normals=True, auto_orient_normals=True, non_manifold_traversal=False)
    n = np.asarray(poly.point_data["Normals"], dtype=np.float64)
    f = np.asarray(faces)
    e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    adj = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(len(vertices),) * 2).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64)
    for _ in range(iterations):
        n = n + adj @ n
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    return _remember_normals(vertices, faces, iterations, n.astype(np.float32))


def _normals_key(vertices, faces, iterations: int) -> tuple:
    return id(vertices), len(vertices), len(faces), iterations


def _remember_normals(vertices, faces, iterations: int, normals: np.ndarray) -> np.ndarray:
    """Keep the normals of this mesh in memory (one pack per process: the last only)."""
    _NORMALS_CACHE.clear()
    _NORMALS_CACHE[_normals_key(vertices, faces, iterations)] = (vertices, normals)
    return normals


NORMALS_VERSION = 1     # bump when display_normals computes other normals (names the disk cache)


def skin_display_normals(pack) -> np.ndarray:
    """:func:`display_normals` of the pack's skin, kept on disk beside the referral cache.

    Computing them takes about 0.13 s of every start (before the first frame); the file
    (0.6 MB) is read in a millisecond. A missing, damaged or foreign file is recomputed;
    a read-only folder only costs the time.

    Parameters
    ----------
    pack : viewer.anatomy.Pack
        The loaded pack (its skin, folder and key).

    Returns
    -------
    numpy.ndarray
        (N, 3) float32 unit normals, one per skin vertex.
    """
    vertices, faces = pack.skin_vertices, pack.skin_faces
    path = Path(pack.dir).parent / "cache" / (
        f"skin-normals-{pack.key[:12]}-{SKIN_NORMAL_SMOOTHING}-v{NORMALS_VERSION}.npy")
    try:
        n = np.load(path, allow_pickle=False)
        if n.shape == (len(vertices), 3) and n.dtype == np.float32 and np.isfinite(n).all():
            return _remember_normals(vertices, faces, SKIN_NORMAL_SMOOTHING, n)
    except (OSError, ValueError, EOFError):
        pass
    n = display_normals(vertices, faces)
    buf = io.BytesIO()
    np.save(buf, n)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, buf.getvalue())
    except OSError:          # read-only or full: computed again next start
        pass
    return n


def _pixels_from(coord, anchor) -> None:
    """Make a 2D actor's coordinate a pixel offset (0, 0 for now) from a world point, so the
    actor follows that point as the camera moves."""
    ref = vtkCoordinate()
    ref.SetCoordinateSystemToWorld()
    ref.SetValue(*(float(x) for x in anchor))
    coord.SetCoordinateSystemToDisplay()
    coord.SetReferenceCoordinate(ref)
    coord.SetValue(0.0, 0.0)


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
        self._skin_opacity = float(skin_opacity)
        self._highlights = {}                # pattern index -> merged muscle mesh (pv.merge is slow)
        self._lod = None                     # (skin, skin vertex map, muscles) interaction meshes
        self.half = None                     # medial view: sign of x of the half kept (set_half)
        self.interacting = False
        self.label_font_size = 15          # trigger-point labels, px
        self.show_tp_labels = True         # patient mode shows the points without their labels
        self._tp_labels, self._tp_anchor, self._skin_locator, self._tp_actor = [], None, None, None
        self._tp_leaders = []              # a line from a point to its label when the label was moved off it
        plotter.set_background(style.BACKGROUND)

        self.skin = self.pack.skin.copy()     # own copy: its colours change per pattern
        self.skin.point_data["Normals"] = skin_display_normals(self.pack)
        _own_normals(self.skin)               # shaded with these, never recomputed on a recolour
        self.skin.point_data["rgba"] = self._colors()
        # Opacity lives in the colours' alpha, so a painted zone can stay opaque when the
        # skin is faded (the slider must never hide the pattern); the actor itself is opaque.
        self.skin_actor = plotter.add_mesh(self.skin, scalars="rgba", rgba=True, **SMOOTH,
                                           name="skin", pickable=True, reset_camera=False, **SKIN_LIGHTING)
        # Cull the skin's back faces: through a translucent skin the far side's
        # pattern would otherwise show, as if the pain were on this side too.
        self.skin_actor.GetProperty().BackfaceCullingOn()
        self._use_rgba(self.skin_actor.GetMapper())
        # the mapper reads the skin itself, not pyvista's active-scalars copy of it: the skin
        # picker's cell locator (built on this mesh) is then used, 0.03 ms a pick instead of
        # ~35 ms (a brute-force pass over 100k triangles for every hover, click and paint sample)
        self.skin_actor.GetMapper().SetInputData(self.skin)
        self.muscles = self._merged_muscles()
        self.muscle_actor = plotter.add_mesh(self.muscles, color=style.MUSCLE_CONTEXT, **SMOOTH,
                                             name="muscles", pickable=True, opacity=1.0,
                                             reset_camera=False)
        self._muscles_visible = bool(show_muscles)
        self.muscle_actor.SetVisibility(show_muscles)
        # The muscles are closed with outward normals: culling their far sides halves the
        # software-OpenGL frame (bench: 266 -> 133 ms) and draws the same image.
        self.muscle_actor.GetProperty().BackfaceCullingOn()
        # Bones (BodyParts3D 4.0): one merged, pickable actor, off by default
        # (patients come for their pain; students turn the layer on).
        # The actor is made on first show, so the first frame does not pay for it.
        self.bones = None
        self.bone_actor = None
        self._has_bones = bool(self.pack.bones)
        if show_bones:
            self.set_bones_visible(True, render=False)
        self.highlight_actor = None
        self.marks_actor = None
        # No depth peeling: with Mesa's software OpenGL (OSMesa, Xvfb) it drops
        # the translucent skin entirely; plain alpha blending looks right.
        self.set_view("anterior", render=False)

    # -- meshes ---------------------------------------------------------------
    def _merged_muscles(self) -> pv.PolyData:
        """All muscle parts in one light mesh (one actor renders far faster than
        121); cell data 'part' keeps which part each triangle belongs to, for picking."""
        v, f, n, part = self.pack.display_muscles()
        mesh = to_polydata(v, f)
        mesh.point_data["Normals"] = n
        mesh.cell_data["part"] = part
        return _own_normals(mesh)

    def _merged_bones(self) -> pv.PolyData | None:
        data = self.pack.display_bones()
        if data is None:
            return None
        v, f, n, bone = data
        mesh = to_polydata(v, f)
        mesh.point_data["Normals"] = n
        mesh.cell_data["bone"] = bone
        return _own_normals(mesh)

    @property
    def has_bones(self) -> bool:
        """Whether the pack has a skeleton to show."""
        return self._has_bones

    def set_bones_visible(self, visible: bool, *, render: bool = True) -> None:
        """Show or hide the skeleton (no-op for a pack without bones)."""
        if visible and self.bone_actor is None and self._has_bones:
            self.bones = self._merged_bones()
            if self.bones is not None:
                self.bone_actor = self.plotter.add_mesh(
                    self.bones, color=BONE_COLOR, **SMOOTH, name="bones", pickable=True,
                    opacity=1.0, specular=0.2, reset_camera=False)
        if self.bone_actor is not None:
            self.bone_actor.SetVisibility(bool(visible))
            self._update_level_bones()
            if render:
                self.plotter.render()

    def _update_level_bones(self) -> None:
        """With the bones shown, the vertebrae of a root's or a joint's level in the other
        sources' colour: the paravertebral level a therapist treats."""
        self.plotter.remove_actor("level_bones", render=False)
        p = self.pattern
        if p is None or p.kind not in ("root", "joint") or not p.muscle.level or not self.bones_visible():
            return
        names = set(level_vertebrae(p.muscle.level))
        bones = [b for b in self.pack.bones if b.name in names]
        if not bones:
            return
        meshes = [to_polydata(*self.pack.bone_arrays(b)[:2]) for b in bones]
        self.plotter.add_mesh(pv.merge(meshes) if len(meshes) > 1 else meshes[0], color=style.OTHER_ESSENTIAL_HEX,
                              smooth_shading=True, name="level_bones", pickable=False, render=False,
                              reset_camera=False)

    def bones_visible(self) -> bool:
        """Whether the skeleton is drawn now."""
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
        """The pack part (a muscle mesh) of a picked cell of the muscles actor."""
        return self.pack.parts[int(self.muscles.cell_data["part"][cell_id])]

    def _parts_mesh(self, pattern) -> pv.PolyData | None:
        if pattern.index not in self._highlights:
            meshes = [self.pack.part_polydata(self.pack.part(pid)) for pid in pattern.part_ids]
            self._highlights[pattern.index] = _own_normals(pv.merge(meshes)) if meshes else None
        return self._highlights[pattern.index]

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
        mesh = self._parts_mesh(pattern) if pattern is not None and pattern.part_ids else None
        if mesh is None:
            self.plotter.remove_actor("highlight", render=False)
            self.highlight_actor = None
        elif self.highlight_actor is None:
            self.highlight_actor = self.plotter.add_mesh(mesh, color=style.MUSCLE, **SMOOTH, name="highlight",
                                                         pickable=False, render=False, reset_camera=False)
            self.highlight_actor.GetProperty().BackfaceCullingOn()
        else:        # swap the input of the existing actor: far cheaper than a new actor
            self.highlight_actor.GetMapper().SetInputData(mesh)
        if self.half is not None:     # the medial view follows the pattern's side
            self.set_half(style.kept_half("medial", pattern.side if pattern is not None else "right"))
        self._update_trigger_points(render=False)
        self._update_level_bones()
        if render:
            self.plotter.render()

    def _other(self, pattern):
        side = OTHER_SIDE.get(pattern.side, pattern.side)
        try:
            return self.model.pattern(pattern.muscle.id, side)
        except KeyError:
            return None

    def set_drawing(self, mask: np.ndarray, *, render: bool = True) -> None:
        """Paint the pain drawing on the skin.

        Parameters
        ----------
        mask : numpy.ndarray, shape (V,)
            Per skin vertex: painted (1) or not (0).
        render : bool
            Draw a frame now.
        """
        self.drawing = np.asarray(mask, dtype=np.float32)
        self._recolor()
        if render:
            self.plotter.render()

    def _colors(self) -> np.ndarray:
        kind = self.pattern.kind if self.pattern is not None else "muscle"
        rgb = style.zone_colors(self._ess, self._spill, self.drawing if self.drawing.any() else None, kind)
        painted = np.maximum(np.maximum(self._ess, self._spill), self.drawing)
        alpha = np.maximum(self._skin_opacity, PATTERN_MIN_ALPHA * np.clip(painted * 2.0, 0.0, 1.0))
        return np.column_stack([rgb, (alpha * 255).astype(np.uint8)])

    @staticmethod
    def _use_rgba(mapper) -> None:
        """Colour by the 'rgba' array by name: re-assigning it (or swapping the mesh for its
        coarse version) must never let another array (the normals) become the colours."""
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray("rgba")
        mapper.SetColorModeToDirectScalars()

    def _recolor(self) -> None:
        rgba = self.skin.point_data["rgba"]
        rgba[:] = self._colors()
        self.skin.point_data["rgba"] = rgba   # re-assign: marks the array modified for VTK
        self.skin.Modified()
        if self._lod is not None:
            self._lod[0].point_data["rgba"] = rgba[self._lod[1]]
            self._lod[0].Modified()

    @property
    def skin_rgb(self) -> np.ndarray:
        """The skin's colour per vertex, (V, 3) uint8 (zones, drawing and skin tone)."""
        return np.asarray(self.skin.point_data["rgba"])[:, :3]

    @property
    def skin_alpha(self) -> np.ndarray:
        """The skin's opacity per vertex, (V,) uint8 (painted zones stay visible)."""
        return np.asarray(self.skin.point_data["rgba"])[:, 3]

    @property
    def skin_value(self) -> np.ndarray:
        """Display value per vertex: 1 essential core, 0.5 spillover, 0 none."""
        return combined(self._ess, self._spill)

    def _update_trigger_points(self, render: bool = True) -> None:
        if self._tp_actor is not None:
            self._tp_actor.SetVisibility(False)
        for actor in self._tp_labels + self._tp_leaders:
            self.plotter.remove_actor(actor, render=False)
        self._tp_labels, self._tp_leaders, self._tp_anchor = [], [], None
        p = self.pattern
        if p is None or not self._show_tps or not p.trigger_points:
            return
        pts = np.array([xyz for _, xyz in p.trigger_points])
        normals = self.pack.skin_normals[self.model.geo.snap(pts)[0]]
        lifted = pts + 4.0 * normals        # sit just above the skin
        glyphs = pv.PolyData(lifted).glyph(geom=_sphere(7.0), scale=False, orient=False)
        if self._tp_actor is None:           # one actor, its points replaced (add_mesh costs ~10 ms)
            self._tp_actor = self.plotter.add_mesh(glyphs, color=style.TRIGGER_POINT, name="tp_points",
                                                   pickable=False, render=False, reset_camera=False)
        else:
            self._tp_actor.GetMapper().SetInputData(glyphs)
            self._tp_actor.SetVisibility(True)
        if not self.show_tp_labels:
            return
        # One 2D text actor per point, anchored at a world position just off the skin (it follows
        # the camera in every frame) and shown only while its point is visible from the camera
        # (update_label_visibility, when the camera stops). pyvista's add_point_labels (a
        # vtkLabelPlacementMapper behind vtkSelectVisiblePoints) drew some labels as empty boxes
        # and kept labels of points behind the body.
        self._tp_anchor = lifted
        for (label, _), point, anchor in zip(p.trigger_points, lifted, lifted + 14.0 * normals):
            self._tp_leaders.append(self._leader(point, anchor))
            self._tp_labels.append(self._text_label(label, anchor))
        self.update_label_visibility()

    def _text_label(self, text: str, anchor):
        actor = vtkTextActor()
        actor.SetInput(text)
        tp = actor.GetTextProperty()
        tp.SetFontSize(int(self.label_font_size))
        tp.SetFontFamilyToArial()
        tp.SetColor(0.07, 0.07, 0.07)
        tp.SetBackgroundColor(1.0, 1.0, 1.0)
        tp.SetBackgroundOpacity(0.85)
        tp.SetFrame(True)
        tp.SetFrameColor(0.45, 0.45, 0.45)
        tp.SetJustificationToCentered()
        tp.SetVerticalJustificationToBottom()
        tp.SetBold(True)
        # a pixel offset (display) from the world anchor: overlapping labels are stacked
        # (update_label_visibility) and stay stacked while the camera moves
        _pixels_from(actor.GetPositionCoordinate(), anchor)
        self.plotter.add_actor(actor, reset_camera=False, pickable=False, render=False)
        return actor

    def _leader(self, point, anchor):
        """A thin line from a trigger point to its label, shown only while the label is stacked
        away from the point (update_label_visibility); like the label, its far end is a pixel
        offset from a world anchor, so it follows the camera."""
        line = vtkLeaderActor2D()
        line.SetArrowPlacementToNone()
        line.GetPositionCoordinate().SetCoordinateSystemToWorld()
        line.GetPositionCoordinate().SetValue(*(float(x) for x in point))
        _pixels_from(line.GetPosition2Coordinate(), anchor)
        line.GetProperty().SetColor(0.3, 0.3, 0.3)
        line.GetProperty().SetLineWidth(1.5)
        line.SetVisibility(False)
        self.plotter.add_actor(line, reset_camera=False, pickable=False, render=False)
        return line

    @property
    def tp_leaders(self) -> list:
        """(visible, pixel offset of the label end) of each trigger point's leader line."""
        return [(bool(a.GetVisibility()), tuple(a.GetPosition2Coordinate().GetValue())[:2]) for a in self._tp_leaders]

    @property
    def tp_labels(self) -> list:
        """(text, visible, anchor) of each trigger-point label of the shown pattern."""
        return [(a.GetInput(), bool(a.GetVisibility()),
                 tuple(a.GetPositionCoordinate().GetReferenceCoordinate().GetValue())) for a in self._tp_labels]

    def trigger_point_visible(self, points) -> np.ndarray:
        """Which points (just above the skin) the camera sees: inside the view and with no skin
        between the camera and the point (the half cut away in the medial view does not hide)."""
        locator = self.skin_locator()
        cam, ren = self.plotter.camera, self.plotter.renderer
        pos, foc = np.array(cam.position), np.array(cam.focal_point)
        out = []
        for p in np.atleast_2d(points):
            ren.SetWorldPoint(*p, 1.0)
            ren.WorldToView()
            vx, vy, _ = ren.GetViewPoint()
            if abs(vx) > 1.0 or abs(vy) > 1.0:
                out.append(False)
                continue
            start = p + (pos - foc) / np.linalg.norm(pos - foc) * 5000.0 if cam.GetParallelProjection() else pos
            hits, cells = vtkPoints(), vtkIdList()
            locator.IntersectWithLine(start, p, 0.0, hits, cells)
            h = np.array([hits.GetPoint(i) for i in range(hits.GetNumberOfPoints())]).reshape(-1, 3)
            if self.half is not None:
                h = h[h[:, 0] * self.half >= 0]
            # a hit near the point is its own skin grazed at a silhouette
            out.append(not bool((np.linalg.norm(h - p, axis=1) > LABEL_OWN_SKIN_MM).any()))
        return np.array(out, dtype=bool)

    def skin_locator(self):
        """A cell locator on the skin (made once, ~35 ms): ray tests against the skin."""
        if self._skin_locator is None:
            self._skin_locator = vtkStaticCellLocator()
            self._skin_locator.SetDataSet(self.skin)
            self._skin_locator.UseExistingSearchStructureOn()    # a recolour does not move the skin
            self._skin_locator.BuildLocator()
        return self._skin_locator

    def update_label_visibility(self) -> bool:
        """Show the labels of the trigger points the camera sees; True when any changed."""
        if not self._tp_labels:
            return False
        vis = self.trigger_point_visible(self._tp_anchor)
        changed = False
        ren, placed = self.plotter.renderer, []
        for actor, line, v in zip(self._tp_labels, self._tp_leaders, vis):     # made and dropped together
            if bool(actor.GetVisibility()) != bool(v):
                actor.SetVisibility(bool(v))
                changed = True
            if not v:
                line.SetVisibility(False)
                continue
            # stack a label above any visible one it would overlap
            ren.SetWorldPoint(*actor.GetPositionCoordinate().GetReferenceCoordinate().GetValue(), 1.0)
            ren.WorldToDisplay()
            x, y, _ = ren.GetDisplayPoint()
            size = actor.GetTextProperty().GetFontSize()
            w, h = 0.62 * size * len(actor.GetInput()) + 8, 1.2 * size + 6
            top = ren.GetSize()[1]
            # above the point, else stacked higher, else below the point's marker; inside the view
            offsets = [k * h for k in range(4)] + [-(k * h + 2.2 * size) for k in range(4)]
            fits = [o for o in offsets if 0 <= y + o and y + o + h <= top] or [0.0]
            dy = next((o for o in fits if not any(abs(x - px) < (w + pw) / 2 and abs(y + o - py) < (h + ph) / 2
                                                  for px, py, pw, ph in placed)), fits[0])
            placed.append((x, y + dy, w, h))
            if actor.GetPositionCoordinate().GetValue()[1] != dy:
                actor.GetPositionCoordinate().SetValue(0.0, dy)
                changed = True
            # a label moved off its point is tied to it by a line (to its bottom, or top when below)
            line.GetPosition2Coordinate().SetValue(0.0, dy if dy >= 0 else dy + h)
            line.SetVisibility(dy != 0)
        return changed

    def set_marks(self, points, *, render: bool = True) -> None:
        """Markers for the spots the user clicked (one actor, its points replaced in place)."""
        pts = np.zeros((0, 3)) if points is None or not len(points) else np.atleast_2d(points)
        if not len(pts):
            self.plotter.remove_actor("marks", render=False)
            self.marks_actor = None
        else:
            glyphs = pv.PolyData(pts).glyph(geom=_sphere(9.0, 16), scale=False, orient=False)
            if self.marks_actor is None:
                self.marks_actor = self.plotter.add_mesh(glyphs, color=style.MARK, name="marks",
                                                         pickable=False, render=False, reset_camera=False)
            else:
                self.marks_actor.GetMapper().SetInputData(glyphs)
        if render:
            self.plotter.render()

    # -- layers ---------------------------------------------------------------
    def set_skin_opacity(self, value: float, *, render: bool = True) -> None:
        """Opacity of the plain skin; painted zones keep at least PATTERN_MIN_ALPHA."""
        self._skin_opacity = float(value)
        self._recolor()
        if render:
            self.plotter.render()

    @property
    def skin_opacity(self) -> float:
        """The skin's opacity outside the painted zones, 0..1."""
        return self._skin_opacity

    @property
    def muscles_visible(self) -> bool:
        """Whether the context muscles are shown (while the camera is still)."""
        return self._muscles_visible

    def set_muscles_visible(self, visible: bool, *, render: bool = True) -> None:
        """Show or hide the context muscles under the skin (and their coarse copy).

        Parameters
        ----------
        visible : bool
        render : bool
            Draw a frame now.
        """
        self._muscles_visible = bool(visible)
        self.muscle_actor.SetVisibility(self._muscles_visible and not self.interacting)
        if self._lod is not None:
            self._lod[3].SetVisibility(self._muscles_visible and self.interacting)
        if render:
            self.plotter.render()

    def set_trigger_points_visible(self, visible: bool, *, render: bool = True) -> None:
        """Show or hide the shown pattern's trigger-point markers and labels.

        Parameters
        ----------
        visible : bool
        render : bool
            Draw a frame now.
        """
        self._show_tps = bool(visible)
        self._update_trigger_points()
        if render:
            self.plotter.render()

    def set_other_side_visible(self, visible: bool, *, render: bool = True) -> None:
        """Also paint the same source's pattern on the other side of the body.

        Parameters
        ----------
        visible : bool
        render : bool
            Draw a frame now.
        """
        self._show_other_side = bool(visible)
        self.show_pattern(self.pattern, render=render)

    # -- level of detail --------------------------------------------------------
    def _lod_meshes(self):
        """Coarse skin and muscles (quadric clustering, ~0.2 s once) for frames drawn while the
        camera moves; each coarse skin vertex takes the colour of its nearest full-mesh vertex."""
        if self._lod is None:
            def coarse(mesh):
                f = vtkQuadricClustering()
                f.SetInputData(mesh)
                f.SetNumberOfDivisions(*LOD_DIVISIONS)
                f.Update()
                out = pv.wrap(f.GetOutput())
                # outward, consistent normals: back-face culling must only drop the far sides
                return _own_normals(out.compute_normals(cell_normals=False, split_vertices=False,
                                                        consistent_normals=True, auto_orient_normals=True,
                                                        non_manifold_traversal=False))

            skin = coarse(pv.PolyData(self.skin.points, self.skin.faces))
            vmap = self.model.geo.snap(np.asarray(skin.points))[0]
            skin.point_data["rgba"] = np.asarray(self.skin.point_data["rgba"])[vmap]
            # separate hidden actors, shown instead of the full ones while the camera moves:
            # toggling visibility is free, swapping a mapper's input re-uploads the whole mesh
            skin_actor = self.plotter.add_mesh(skin, scalars="rgba", rgba=True, **SMOOTH,
                                               name="skin_lod", pickable=False, reset_camera=False,
                                               render=False, **SKIN_LIGHTING)
            skin_actor.GetProperty().BackfaceCullingOn()
            self._use_rgba(skin_actor.GetMapper())
            skin_actor.GetMapper().SetInputData(skin)
            muscle_actor = self.plotter.add_mesh(coarse(pv.PolyData(self.muscles.points, self.muscles.faces)),
                                                 color=style.MUSCLE_CONTEXT, **SMOOTH,
                                                 name="muscles_lod", pickable=False, reset_camera=False,
                                                 render=False)
            muscle_actor.GetProperty().BackfaceCullingOn()
            skin_actor.SetVisibility(False)
            muscle_actor.SetVisibility(False)
            self._lod = (skin, vmap, skin_actor, muscle_actor)
            if self.half is not None:       # made while in the medial view: cut it too
                self.set_half(self.half)
        return self._lod

    def set_interacting(self, on: bool) -> None:
        """Show the coarse skin and muscles instead of the full ones while the camera moves."""
        on = bool(on)
        if on == self.interacting:
            return
        lod = self._lod_meshes()
        self.interacting = on
        self.skin_actor.SetVisibility(not on)
        lod[2].SetVisibility(on)
        self.muscle_actor.SetVisibility(self._muscles_visible and not on)
        lod[3].SetVisibility(self._muscles_visible and on)

    # -- camera ---------------------------------------------------------------
    def set_view(self, name: str, *, focus: str = "body", render: bool = True) -> None:
        """Standard view; focus 'body' frames the whole body, 'pattern' the current pattern."""
        side = self.pattern.side if self.pattern is not None else "right"
        direction, up = style.view_vectors(name, side)
        self.set_half(style.kept_half(name, side))
        bounds = self._focus_bounds() if focus == "pattern" else self._view_bounds(name, side)
        b = np.asarray(bounds, dtype=float).reshape(3, 2)
        centre = b.mean(axis=1)
        cam = self.plotter.camera
        cam.focal_point = centre
        cam.position = centre - direction * 3000.0
        cam.up = up
        self.plotter.renderer.ResetCamera(*np.asarray(bounds, dtype=float))
        if name == "inferior" and focus != "pattern":
            cam.Zoom(1.3)     # ResetCamera fits the feet's bounding sphere: closer, the soles fill the view
        # Clip against everything shown, not just the framed bounds: otherwise
        # skin nearer the camera than the pattern is cut away.
        self.plotter.renderer.ResetCameraClippingRange()
        self.current_view = name
        self.update_label_visibility()
        if render:
            self.plotter.render()

    def set_half(self, sign: float | None) -> None:
        """Cut away the half of the body with x of the other sign (None: show it all), so
        the medial view sees the inner side of a limb past the other one."""
        self.half = sign
        lod = self._lod or ()
        for actor in (self.skin_actor, self.muscle_actor, self.bone_actor, self.highlight_actor,
                      *[a for a in lod[2:] if a is not None]):
            if actor is None or not hasattr(actor, "GetMapper"):
                continue
            mapper = actor.GetMapper()
            mapper.RemoveAllClippingPlanes()
            if sign is not None:
                plane = vtkPlane()
                plane.SetOrigin(0.0, 0.0, 0.0)
                plane.SetNormal(float(sign), 0.0, 0.0)    # VTK keeps the side the normal points to
                mapper.AddClippingPlane(plane)

    def _view_bounds(self, name: str, side: str):
        """What a standard view frames: the feet from below (6), the pattern's limb from its
        inner side (7; the lower limb without a pattern on an arm), else the body (or its half)."""
        bounds = None
        if name == "inferior":
            bounds = self._segments_bounds(["foot_right", "foot_left"])
            if bounds is None:               # no segment labels: the lowest 13 cm of the body
                v = self.pack.skin_vertices
                bounds = _bounds(v[v[:, 2] < v[:, 2].min() + 130.0], 40.0)
        elif name == "medial":
            upper, lower = ("upper_arm", "forearm", "hand"), ("thigh", "leg", "foot")
            limb = lower
            seg = getattr(self.model, "segment_labels", None)
            if self.pattern is not None and seg is not None:
                w = self.skin_value
                weight = {k: float(w[np.isin(seg, [SEGMENT_INDEX[f"{s}_{side}"] for s in k])].sum())
                          for k in (upper, lower)}
                limb = upper if weight[upper] > weight[lower] else lower
            bounds = self._segments_bounds([f"{s}_{side}" for s in limb])
        return bounds if bounds is not None else self._half_bounds()

    def _segments_bounds(self, names, pad: float = 40.0):
        """Bounds of the skin of these body segments (in the kept half), or None."""
        seg = getattr(self.model, "segment_labels", None)
        if seg is None:
            return None
        sel = np.isin(seg, [SEGMENT_INDEX[n] for n in names])
        v = self.pack.skin_vertices
        if self.half is not None:
            sel &= v[:, 0] * self.half >= 0
        return _bounds(v[sel], pad) if sel.sum() >= 50 else None

    def _half_bounds(self):
        half = self.half
        if half is None:
            return self.skin.bounds
        v = self.pack.skin_vertices[self.pack.skin_vertices[:, 0] * half >= 0]
        lo, hi = v.min(axis=0), v.max(axis=0)
        return [lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]]

    def zoom_at(self, point, factor: float, *, render: bool = True) -> None:
        """Zoom by `factor` (> 1 closer) keeping the world `point` where it is on the screen:
        the camera frame is scaled about the point, so the point's projection does not move."""
        cam = self.plotter.camera
        p = np.asarray(point, dtype=float)
        pos, foc = np.array(cam.position), np.array(cam.focal_point)
        new_pos = p + (pos - p) / factor
        if np.linalg.norm(new_pos - p) < 50.0 and factor > 1:       # never fly through the skin
            return
        cam.position = new_pos
        cam.focal_point = p + (foc - p) / factor
        self.plotter.renderer.ResetCameraClippingRange()
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
        side = self.pattern.side
        z = float(np.average(self.pack.skin_vertices[sel, 2], weights=w[sel]))
        scores = {name: -float(np.dot(n, style.view_vectors(name, side)[0]))
                  for name in style.best_view_candidates(side, z)}
        return max(scores, key=scores.get)
