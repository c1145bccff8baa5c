"""What the user is doing, with change events; no Qt (see model.py)."""

from viewer.state.model import StateEvents, ViewerState

__all__ = ["StateEvents", "ViewerState"]
