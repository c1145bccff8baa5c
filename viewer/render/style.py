"""Colours and views. Zone colours differ in lightness as well as hue (OrRd
endpoints), so essential and spillover stay distinct for colour-blind viewers
and in greyscale prints."""

import numpy as np

from viewer.referral.geometry import falloff

SKIN = np.array([236, 222, 206], dtype=np.float32)       # light neutral skin
SPILLOVER = np.array([253, 204, 138], dtype=np.float32)  # light orange
ESSENTIAL = np.array([179, 0, 0], dtype=np.float32)      # dark red
DRAWING = np.array([0, 114, 178], dtype=np.float32)      # Okabe-Ito blue: the patient's drawing
MUSCLE = "#5e3c99"              # dark purple: never confused with the red/orange zones
MUSCLE_CONTEXT = "#c9a9a0"
TRIGGER_POINT = "#111111"
MARK = "#0072b2"
BACKGROUND = "white"

# view name -> (direction the camera looks along, view-up)
VIEWS = {
    "anterior": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),    # camera in front (-Y) looking +Y
    "posterior": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "right": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),        # camera at the subject's right (-X)
    "left": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "superior": ((0.0, 0.0, -1.0), (0.0, -1.0, 0.0)),   # from above, face toward the top
}


def zone_colors(ess: np.ndarray, spill: np.ndarray, drawing: np.ndarray | None = None) -> np.ndarray:
    """Per-vertex RGB (uint8): flat zone colours with soft edges around the
    membership threshold (0.5), so the drawn extent is what the user sees."""
    e = 1.0 - falloff(np.asarray(ess, dtype=np.float32), 0.35, 0.2)[:, None]
    s = 1.0 - falloff(np.asarray(spill, dtype=np.float32), 0.35, 0.2)[:, None]
    rgb = SKIN + s * (SPILLOVER - SKIN)
    rgb = rgb + e * (ESSENTIAL - rgb)
    if drawing is not None:
        d = np.asarray(drawing, dtype=np.float32)[:, None] * 0.75
        rgb = rgb + d * (DRAWING - rgb)
    return rgb.astype(np.uint8)
