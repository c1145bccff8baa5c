"""Pixel helpers shared by the tests: colour classifiers (export, handout) and where a 3D
point lands in the window's 3D view (GUI tests)."""

import numpy as np


def essential(rgb):
    """Pixels of the essential colour (crimson) under any shading: red and blue well above green."""
    rgb = np.asarray(rgb, dtype=int)
    return (rgb[..., 0] - rgb[..., 1] > 60) & (rgb[..., 2] - rgb[..., 1] > 20)


def spillover(rgb):
    """Pixels of the spillover colour (amber): red and green well above blue."""
    rgb = np.asarray(rgb, dtype=int)
    return (rgb[..., 0] - rgb[..., 2] > 100) & (rgb[..., 1] - rgb[..., 2] > 40)


def screen_pos(w, xyz):
    """Widget coordinates (QPointF) of a canonical point in the window's 3D view."""
    from PySide6.QtCore import QPointF

    ren = w.plotter.renderer
    ren.SetWorldPoint(*xyz, 1.0)
    ren.WorldToDisplay()
    dx, dy, _ = ren.GetDisplayPoint()
    dpr = w.plotter.devicePixelRatioF()
    return QPointF(dx / dpr, w.plotter.height() - 1 - dy / dpr)
