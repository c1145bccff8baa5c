"""What the user sees besides the pain: layers, skin opacity, modes, brush and camera preset.

One evented model (psygnal's EventedModel over pydantic: napari's ViewerModel pattern, 3D
Slicer's parameter node): every assignment is validated and emits
``settings.events.<field>``; ``update()`` inside ``events.paused`` changes several fields
with one event each at most. The window's widgets and the 3D scene only listen to it, so
everything here is tested without a display and saved in sessions.
"""

from __future__ import annotations

from typing import Literal

from psygnal import EventedModel
from pydantic import ConfigDict, Field

from viewer.constants import DEFAULT_RADIUS_MM, VIEWS

CAMERAS = VIEWS


class ViewSettings(EventedModel):
    """The window's view of the body (everything but the pain, the selection and the notes)."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    skin_opacity: float = Field(0.55, ge=0.0, le=1.0)   # painted zones stay visible whatever it is
    muscles: bool = True                                # context muscles under the skin
    bones: bool = False                                 # the skeleton (off: patients come for their pain)
    trigger_points: bool = True                         # markers and labels of the shown pattern
    other_side: bool = False                            # the same source's pattern on the other side too
    patient_mode: bool = False                          # plain language, large type, clean body
    paint_mode: bool = False                            # the left button paints the pain drawing
    eraser: bool = False                                # ... or erases it
    brush_mm: float = Field(DEFAULT_RADIUS_MM, ge=5.0, le=80.0)      # radius of the pain-drawing brush
    camera: Literal[CAMERAS] = "anterior"  # type: ignore[valid-type]   # the last standard view chosen

    def to_json(self) -> dict:
        """The settings as a plain dict (the session's ``view``)."""
        return self.model_dump()

    def apply(self, values: dict) -> None:
        """Set several fields at once (a session being opened): validated together first, so a bad
        value changes nothing, then applied with at most one event per field."""
        checked = ViewSettings(**{**self.model_dump(), **values})
        changed = {k: v for k, v in checked.model_dump().items() if getattr(self, k) != v}
        with self.events.paused(lambda a, b: b):      # one event per field, carrying the last value
            for k, v in changed.items():
                setattr(self, k, v)
