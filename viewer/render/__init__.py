"""Rendering shared by the window and the off-screen export (pyvista, no Qt)."""
