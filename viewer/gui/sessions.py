"""Session dialogs of the window: New, Open, Save, Save as, autosave, recovery, save-on-close.

The data lives in ViewerState; this module only asks the user and talks to files.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from viewer.session import AutosaveSlot, Session, SessionError

FILTER = "Referral sessions (*.json);;All files (*)"


class SessionController(QObject):
    def __init__(self, win, state, autosave_dir=None):
        super().__init__(win)
        self.win, self.state = win, state
        self.slot = AutosaveSlot(autosave_dir)
        self.autosave_warning = None
        if self.slot.disabled:
            self._warn_autosave_off(self.slot.disabled)
        self._timer = QTimer(self, singleShot=True, interval=700, timeout=self.write_autosave)
        state.events.dirty.connect(self._changed)
        state.events.session_path.connect(lambda _: self.update_title())

    def _warn_autosave_off(self, why: str) -> None:
        """A lasting, visible note in the status bar: nothing is autosaved in this window."""
        text = f"Autosave is off: {why}. Save your work with File > Save."
        label = QLabel(f"⚠ Autosave is off: {why}. Use File > Save.")
        label.setObjectName("autosave_warning")
        label.setToolTip(f"{text} Set XDG_STATE_HOME to a writable folder to turn autosave back on.")
        label.setStyleSheet("QLabel { color: #8a4b00; background: #fff3cd; padding: 1px 6px; }")
        self.win.statusBar().addPermanentWidget(label)
        self.autosave_warning = label

    # -- bookkeeping --------------------------------------------------------------------
    def _changed(self, dirty: bool) -> None:
        self.update_title()
        if dirty:
            self._timer.start()
        else:
            self._timer.stop()
            self.slot.remove()     # saved (or new): nothing to recover

    def update_title(self) -> None:
        p = self.state.session_path
        name = p.name if p else "untitled session"
        self.win.setWindowTitle(f"{name}{' *' if self.state.dirty else ''} — Referral viewer")

    def write_autosave(self) -> None:
        if self.state.model is None:
            return
        try:
            self.slot.write(self.state.to_session(for_autosave=True))
        except OSError as exc:
            self.win.statusBar().showMessage(f"Autosave failed: {exc}", 8000)

    # -- user operations ----------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask to save unsaved changes; False when the user cancels."""
        if not self.win.confirm_close or not self.state.dirty or self.state.is_empty():
            return True
        answer = QMessageBox.question(
            self.win, "Save the session?", "The session has unsaved changes. Save them first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        return answer == QMessageBox.Discard or (answer == QMessageBox.Save and self.save())

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.state.new_session()
        self.win.statusBar().showMessage("New session", 3000)
        return True

    def open(self, path=None) -> bool:
        if path is None:
            if not self.maybe_save():
                return False
            path, _ = QFileDialog.getOpenFileName(self.win, "Open session", str(Path.home()), FILTER)
            if not path:
                return False
        try:
            warnings = self.state.apply_session(Session.load(path), path=Path(path))
        except SessionError as exc:
            self.win.error("The session could not be opened", str(exc))
            return False
        for w in warnings:
            self.win.statusBar().showMessage(w, 8000)
        return True

    def save(self, path=None) -> bool:
        path = path or self.state.session_path
        if path is None:
            return self.save_as()
        try:
            self.state.to_session().save(path)
        except OSError as exc:
            self.win.error("The session could not be saved", f"{path}: {exc}")
            return False
        self.state.set_clean(Path(path))
        self.win.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def save_as(self) -> bool:
        start = self.state.session_path or Path.home() / "session.json"
        path, _ = QFileDialog.getSaveFileName(self.win, "Save session", str(start), "Referral sessions (*.json)")
        if not path:
            return False
        return self.save(path if path.endswith(".json") else path + ".json")

    def offer_recovery(self) -> None:
        """Offer the autosaves of crashed windows; unreadable ones were kept aside: say where."""
        orphans = self.slot.orphans()
        for orphan in orphans:
            if orphan.session is None:
                self.win.error("An autosaved session could not be read",
                               f"{orphan.error}\n\nIt was kept as {orphan.moved_to}.")
        for orphan in (o for o in orphans if o.session is not None):
            s = orphan.session
            when = s.saved_at.replace("T", " ")[:16] if s.saved_at else "an earlier run"
            name = Path(s.session_path).name if s.session_path else "an untitled session"
            answer = QMessageBox.question(
                self.win, "Recover session?",
                f"A window closed without saving {name} (autosaved {when}).\n\nRecover it?",
                QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
            if answer != QMessageBox.Yes:
                orphan.discard()
                continue
            try:
                for w in self.state.apply_session(s, recovered=True):
                    self.win.statusBar().showMessage(w, 8000)
            except SessionError as exc:
                self.win.error("The autosaved session could not be recovered", str(exc))
                continue
            self.write_autosave()       # now this window's own autosave holds it
            orphan.adopted()
            return

    def close(self) -> None:
        self._timer.stop()
        self.slot.close()
