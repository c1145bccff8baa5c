"""Off-screen pictures of the pack's skeleton (and muscles) inside the
semi-transparent skin, to check the registration by eye.

    xvfb-run -a .venv/bin/python scripts/render_anatomy.py --out out/ [--meshes DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyvista as pv

from viewer.anatomy.meshutil import to_polydata
from viewer.anatomy.pack import load_pack

VIEWS = {  # name -> (camera direction, up, focus z-range mm or None, zoom)
    "anterior": ((0, 1, 0), (0, 0, 1), None, 1.0),
    "lateral": ((1, 0, 0), (0, 0, 1), None, 1.0),
    "posterior": ((0, -1, 0), (0, 0, 1), None, 1.0),
    "feet": ((0.3, 1, -0.5), (0, 0, 1), (-20, 140), 1.0),
    "feet_lateral": ((1, 0, 0), (0, 0, 1), (-20, 140), 1.0),
    "hand_right": ((1, 0.2, 0), (0, 0, 1), (620, 880), 1.0),
    "hand_right_front": ((0, 1, 0), (0, 0, 1), (620, 880), 1.0),
    "hand_right_back": ((0, -1, 0), (0, 0, 1), (620, 880), 1.0),
    "hand_left": ((-1, 0.2, 0), (0, 0, 1), (620, 880), 1.0),
    "hand_left_front": ((0, 1, 0), (0, 0, 1), (620, 880), 1.0),
    "hand_left_back": ((0, -1, 0), (0, 0, 1), (620, 880), 1.0),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out")
    ap.add_argument("--meshes")
    ap.add_argument("--muscles", action="store_true", help="draw the muscles too")
    args = ap.parse_args()
    pack = load_pack(args.meshes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    v, f, n, _ = pack.display_bones()
    bones = to_polydata(v, f)
    # close-ups draw the stored (full) bone meshes: the display copy is cut to ~10% of its
    # triangles and would hide whether a finger or toe bone keeps its shape
    arrays = [pack.bone_arrays(b) for b in pack.bones]
    offs = np.cumsum([0] + [len(a[0]) for a in arrays[:-1]])
    full = to_polydata(np.vstack([a[0] for a in arrays]), np.vstack([a[1] + o for a, o in zip(arrays, offs)]))
    mv, mf, mn, _ = pack.display_muscles()
    muscles = to_polydata(mv, mf)
    for name, (d, up, zr, zoom) in VIEWS.items():
        p = pv.Plotter(off_screen=True, window_size=[900, 1200] if zr is None else [1200, 900])
        p.set_background("white")
        a = p.add_mesh(pack.skin, color="#e8cfb8", opacity=0.3, smooth_shading=True)
        a.GetProperty().BackfaceCullingOn()
        p.add_mesh(bones if zr is None else full, color="#f2ead3", smooth_shading=True, specular=0.2)
        if args.muscles:
            p.add_mesh(muscles, color="#b0575a", smooth_shading=True, opacity=0.9)
        if zr is None:
            pts = pack.skin_vertices
            side = None
        else:
            sel = (pack.skin_vertices[:, 2] > zr[0]) & (pack.skin_vertices[:, 2] < zr[1])
            if name.startswith("hand_right"):
                sel &= pack.skin_vertices[:, 0] < -190
            if name.startswith("hand_left"):
                sel &= pack.skin_vertices[:, 0] > 190
            pts = pack.skin_vertices[sel]
            side = name
        c = pts.mean(axis=0)
        r = np.linalg.norm(pts.max(axis=0) - pts.min(axis=0))
        d = np.asarray(d, float) / np.linalg.norm(d)
        p.camera.focal_point = c
        p.camera.position = c - d * r * 2.2
        p.camera.up = up
        p.camera.view_angle = 30 / zoom
        p.add_text(f"{name} ({'bones + muscles' if args.muscles else 'bones'} in skin)", font_size=10)
        path = out / f"skeleton_{name}{'_muscles' if args.muscles else ''}.png"
        p.screenshot(str(path))
        p.close()
        print(path, side or "")


if __name__ == "__main__":
    main()
