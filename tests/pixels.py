"""Pixel classifiers shared by the export and handout tests."""

import numpy as np


def essential(rgb):
    """Pixels of the essential colour (crimson) under any shading: red and blue well above green."""
    rgb = np.asarray(rgb, dtype=int)
    return (rgb[..., 0] - rgb[..., 1] > 60) & (rgb[..., 2] - rgb[..., 1] > 20)


def spillover(rgb):
    """Pixels of the spillover colour (amber): red and green well above blue."""
    rgb = np.asarray(rgb, dtype=int)
    return (rgb[..., 0] - rgb[..., 2] > 100) & (rgb[..., 1] - rgb[..., 2] > 40)
