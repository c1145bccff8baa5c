"""Expected failures: one paragraph naming the file and the fix, never a traceback."""


class ViewerError(Exception):
    """A user-facing error. The message is a complete paragraph."""

    def __init__(self, what: str, *, path=None, fix: str | None = None):
        parts = [what if path is None else f"{path}: {what}"]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))
        self.path = path
        self.fix = fix
