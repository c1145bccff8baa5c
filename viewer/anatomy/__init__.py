"""Anatomy layer: build and load the mesh pack (no Qt)."""

from viewer.anatomy.pack import Pack, Part, load_pack

__all__ = ["Pack", "Part", "load_pack"]
