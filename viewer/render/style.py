"""Colours, themes and views.

Zone colours are chosen to be told apart by everyone and to stand out on a
white and on a dark slide (checked numerically in tests/test_export.py):

- essential ``#c51b7d`` (crimson) and spillover ``#d97706`` (amber) each have a
  WCAG contrast of at least 3:1 (the WCAG 2.1 minimum for graphical objects)
  against white and against the dark theme's background;
- they differ in lightness (1.7:1 luminance ratio, so greyscale prints keep
  them apart) and in hue along an axis that survives colour-vision deficiency:
  CAM02-UCS distance 40 for normal vision, 36 under simulated deuteranopia,
  49 protanopia, 17 tritanopia (colorspacious, Machado et al. 2009);
- both stand out from the light skin (4.2:1 and 2.4:1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.constants import OTHER_SIDE
from viewer.referral.geometry import falloff


def hex_rgb(color: str) -> tuple[int, int, int]:
    """A "#rrggbb" colour as (r, g, b), 0..255 each."""
    c = color.lstrip("#")
    return tuple(int(c[i:i + 2], 16) for i in (0, 2, 4))


SKIN = np.array([236, 222, 206], dtype=np.float32)       # light neutral skin
ESSENTIAL_HEX = "#c51b7d"
SPILLOVER_HEX = "#d97706"
ESSENTIAL = np.array(hex_rgb(ESSENTIAL_HEX), dtype=np.float32)
SPILLOVER = np.array(hex_rgb(SPILLOVER_HEX), dtype=np.float32)
# Joints, nerve roots, nerves and organs: a second pair, apart from the muscles' crimson/amber
# and from the drawing's blue: dark teal and leaf green, each >= 3:1 against white and the
# dark theme, 1.9:1 apart in luminance (tests/test_export.py checks it), so a slide never
# leaves in doubt whether a muscle or another source is shown.
OTHER_ESSENTIAL_HEX = "#00796b"
OTHER_SPILLOVER_HEX = "#52a447"
PALETTES = {"muscle": (ESSENTIAL_HEX, SPILLOVER_HEX), "other": (OTHER_ESSENTIAL_HEX, OTHER_SPILLOVER_HEX)}
DRAWING = np.array([0, 114, 178], dtype=np.float32)      # Okabe-Ito blue: the patient's drawing
MUSCLE = "#5e3c99"              # dark purple: never confused with the zone colours
MUSCLE_CONTEXT = "#c9a9a0"
TRIGGER_POINT = "#111111"
MARK = "#0072b2"
BACKGROUND = "white"


@dataclass(frozen=True)
class Theme:
    """Colours of an exported image's background and text. ``halo`` outlines
    text and marks so they stay legible on any slide when the background is
    transparent."""
    name: str
    background: str
    text: str
    muted: str
    halo: str


THEMES = {
    "light": Theme("light", background="#ffffff", text="#1a1a1a", muted="#3d3d3d", halo="#ffffff"),
    "dark": Theme("dark", background="#1b1d22", text="#f4f4f4", muted="#d0d0d0", halo="#000000"),
}


def theme(name: str | Theme) -> Theme:
    """The slide theme of a name ('light', 'dark'), or a Theme as given.

    Raises
    ------
    ValueError
        An unknown theme name.
    """
    if isinstance(name, Theme):
        return name
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"theme {name!r} is not one of {', '.join(THEMES)}") from None


def relative_luminance(color) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour ('#rrggbb' or 0..255 triple)."""
    rgb = np.asarray(hex_rgb(color) if isinstance(color, str) else color, dtype=float) / 255.0
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(a, b) -> float:
    """WCAG 2.1 contrast ratio, 1 (none) .. 21 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)))
    return (lb + 0.05) / (la + 0.05)


# view name -> (direction the camera looks along, view-up)
VIEWS = {
    "anterior": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),    # camera in front (-Y) looking +Y
    "posterior": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "right": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),        # camera at the subject's right (-X)
    "left": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "superior": ((0.0, 0.0, -1.0), (0.0, -1.0, 0.0)),   # from above, face toward the top
    "inferior": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0)),    # from below: the soles, toes toward the top
    # The inner side of the pattern's own limb, from the midline, with the other half of the
    # body cut away (it would hide an inner thigh, an inner ankle or an arch). Written for a
    # right-side pattern; view_vectors mirrors it for the left.
    "medial": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
}


def view_vectors(name: str, side: str = "right") -> tuple[np.ndarray, np.ndarray]:
    """(camera direction, up) of a standard view for a pattern on `side`."""
    d, up = (np.asarray(x, dtype=float) for x in VIEWS[name])
    if name == "medial" and side == "left":
        d = -d
    return d, up


# The soles are only worth a view from below for a pattern on the foot, and the cut body
# of the medial view only for one below the knee (inner ankle, arch): higher up, the front
# or back view shows an inner thigh well enough, without the cut pelvis in the picture.
BELOW_MAX_Z_MM, MEDIAL_MAX_Z_MM = 150.0, 500.0


def best_view_candidates(side: str, centre_z_mm: float) -> list[str]:
    """The views that may be the best view of a pattern on `side` centred at this height: not
    from above, not the other side's lateral view (it looks at the other limbs), the soles
    for a foot pattern and the medial view below the knee only."""
    other = OTHER_SIDE.get(side)
    out = []
    for name in VIEWS:
        if name in ("superior", other):
            continue
        if name == "inferior" and centre_z_mm >= BELOW_MAX_Z_MM:
            continue
        if name == "medial" and centre_z_mm >= MEDIAL_MAX_Z_MM:
            continue
        out.append(name)
    return out


def kept_half(name: str, side: str = "right") -> float | None:
    """For the medial view, the sign of x of the half of the body that stays (-1 right, +1 left)."""
    if name != "medial":
        return None
    return 1.0 if side == "left" else -1.0


def palette(kind: str = "muscle") -> tuple[str, str]:
    """(essential, spillover) colours of a source kind: muscles, or every other kind."""
    return PALETTES["muscle" if kind == "muscle" else "other"]


def zone_colors(ess: np.ndarray, spill: np.ndarray, drawing: np.ndarray | None = None,
                kind: str = "muscle") -> np.ndarray:
    """Per-vertex RGB (uint8): flat zone colours with soft edges around the
    membership threshold (0.5), so the drawn extent is what the user sees; the
    colours of the source kind (`palette`)."""
    ess_c, spill_c = (np.array(hex_rgb(c), dtype=np.float32) for c in palette(kind))
    e = 1.0 - falloff(np.asarray(ess, dtype=np.float32), 0.35, 0.2)[:, None]
    s = 1.0 - falloff(np.asarray(spill, dtype=np.float32), 0.35, 0.2)[:, None]
    rgb = SKIN + s * (spill_c - SKIN)
    rgb = rgb + e * (ess_c - rgb)
    if drawing is not None:
        d = np.asarray(drawing, dtype=np.float32)[:, None] * 0.75
        rgb = rgb + d * (DRAWING - rgb)
    return rgb.astype(np.uint8)
