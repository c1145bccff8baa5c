"""Entry point of the window: `referral-viewer` with no command."""

from __future__ import annotations

import os
import sys


def run(args=None) -> int:
    # pyvista must not open its own windows; the QtInteractor is the only on-screen view
    import pyvista as pv
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    pv.OFF_SCREEN = False
    os.environ.setdefault("QT_AUTO_SCREEN_SCALE_FACTOR", "1")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("referral-viewer")
    app.setOrganizationName("referral-viewer")
    app.setApplicationDisplayName("Referral viewer")
    app.setStyle("Fusion")
    app.setAttribute(Qt.AA_DontShowIconsInMenus, False)
    del QIcon

    from viewer.gui.main_window import MainWindow

    window = MainWindow(meshes=getattr(args, "meshes", None))
    window.show()
    code = app.exec()
    window.shutdown()
    window.deleteLater()
    app.processEvents()
    return int(code)
