"""The window's search: the referral layer's typo-tolerant index (one resolver for all callers)."""

from viewer.referral.search import Hit, MuscleIndex, SourceIndex, resolve

__all__ = ["Hit", "MuscleIndex", "SourceIndex", "resolve"]
