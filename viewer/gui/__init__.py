"""The desktop window (PySide6 + pyvistaqt): a thin layer over anatomy, referral and render."""
