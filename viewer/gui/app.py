"""Entry point of the window: `referral-viewer` with no command."""

from __future__ import annotations

import os
import sys


def _no_display() -> bool:
    """Qt aborts the process when it cannot reach a display: say so first."""
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def preload() -> None:
    """Import the heavy non-Qt modules before PySide6: once PySide6 is loaded its
    import hook reads the source of every module imported after it (about 1 s
    for pyvista, vtk and scipy here), so the order alone saves that at start."""
    import pyvista.plotting  # noqa: F401
    import scipy.spatial  # noqa: F401

    import viewer.referral.lookup  # noqa: F401
    import viewer.referral.model  # noqa: F401
    import viewer.render.scene  # noqa: F401


def run(args=None) -> int:
    if _no_display():
        print("error: no display to open the window on (DISPLAY is not set). Fix: run it in a "
              "desktop session, or under a virtual display with `xvfb-run -a referral-viewer`; "
              "the command-line tools (referral-viewer --help) need no display.", file=sys.stderr)
        return 2
    from viewer.gui.loading import EarlyLoad

    early = EarlyLoad(getattr(args, "meshes", None))    # reads the pack while the modules import
    preload()
    # pyvista must not open its own windows; the QtInteractor is the only on-screen view
    import pyvista as pv
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    pv.OFF_SCREEN = False
    os.environ.setdefault("QT_AUTO_SCREEN_SCALE_FACTOR", "1")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("referral-viewer")
    app.setOrganizationName("referral-viewer")
    app.setApplicationDisplayName("Referral viewer")
    app.setStyle("Fusion")
    app.setAttribute(Qt.AA_DontShowIconsInMenus, False)

    from viewer.gui.main_window import MainWindow

    window = MainWindow(meshes=getattr(args, "meshes", None), session=getattr(args, "session", None),
                        early=early)
    window.show()
    code = app.exec()
    window.shutdown()
    window.deleteLater()
    app.processEvents()
    return int(code)
