"""Expected failures: one paragraph naming the file and the fix, never a traceback."""


class ViewerError(Exception):
    """A user-facing error. The message is a complete paragraph."""

    def __init__(self, what: str, *, path=None, fix: str | None = None):
        parts = [what if path is None else f"{path}: {what}"]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))
        self.what = what
        self.path = path
        self.fix = fix

    def renamed(self, names: dict[str, str]) -> "ViewerError":
        """The same error naming another argument (the CLI turns API argument names such as
        ``point`` into its flags, ``--point``); other errors are returned unchanged."""
        if self.path in names:
            return ViewerError(self.what, path=names[self.path], fix=self.fix)
        return self


class ExistingOutput(ViewerError):
    """An output file (or ``paths``, several) exists and replacing was not allowed; nothing was
    written. The API's fix names its ``force`` argument; the CLI gives its own flag instead."""

    def __init__(self, what: str, paths, *, path=None, fix: str = "pass force=True to replace it, or give "
                                                                 "another file name."):
        super().__init__(what, path=path, fix=fix)
        self.paths = list(paths)
