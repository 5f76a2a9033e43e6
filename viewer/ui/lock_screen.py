"""The lock page shown over a locked workspace, and the strip that warns a lock is coming.

The lock page shows who locked the session and nothing of any patient; unlocking re-authenticates
through the same sign-in flow as the sign-in page (in the sandbox, as a chosen demo clinician), so a
different clinician can take over the PC from here.

Signals (LockScreen):
    unlock_requested(object): a demo username (sandbox) or None (system browser).
    sign_out_requested(): end the locked session instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


def spoken_name(session: Any) -> str:
    """ "Dr Alice MORGAN": title, given name, family name in capitals (NHS CUI), as a person reads it."""
    name = getattr(session, "name", None)
    if name is None:
        return str(getattr(session, "display_name", "") or "")
    parts = [getattr(name, "title", None), getattr(name, "given", None), (name.family or "").upper()]
    return " ".join(p for p in parts if p)


class LockScreen(QWidget):
    unlock_requested = Signal(object)
    sign_out_requested = Signal()

    def __init__(self, demo_users: Sequence[tuple[str, str]] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lockScreen")
        # a plain QWidget ignores a style sheet's background without this
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Wardview is locked", objectName="lockTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        self.locked_by = QLabel("", objectName="lockedBy")
        self.locked_by.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.locked_by.setAccessibleName("Locked by")
        layout.addWidget(self.locked_by)
        blurb = QLabel(
            "Patient records are hidden. Sign in again to carry on; another clinician signing in here "
            "closes the records open now.",
            objectName="lockBlurb",
            wordWrap=True,
        )
        blurb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(blurb)
        self.users = QComboBox(objectName="lockDemoUsers")
        self.users.setAccessibleName("Demo clinician")
        for username, label in demo_users:
            self.users.addItem(label, username)
        self.users.setVisible(bool(demo_users))
        self._sandbox = bool(demo_users)
        layout.addWidget(self.users)
        buttons = QHBoxLayout()
        self.unlock_button = QPushButton("Unlock", objectName="unlockButton")
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._request)
        buttons.addWidget(self.unlock_button)
        self.sign_out_button = QPushButton("Sign out", objectName="lockSignOutButton")
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        buttons.addWidget(self.sign_out_button)
        layout.addLayout(buttons)
        self.message = QLabel("", objectName="lockMessage", wordWrap=True)
        self.message.setAccessibleName("Unlock message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.message)

    def show_locked_by(self, who: str, username: str | None = None) -> None:
        """Name the clinician who locked; preselect them in the sandbox chooser."""
        self.locked_by.setText(f"Locked by {who}" if who else "Locked")
        if username is not None:
            index = self.users.findData(username)
            if index >= 0:
                self.users.setCurrentIndex(index)
        self.set_busy(False)
        self.unlock_button.setFocus()

    def choose_user(self, username: str) -> bool:
        index = self.users.findData(username)
        if index >= 0:
            self.users.setCurrentIndex(index)
        return index >= 0

    def _request(self) -> None:
        self.set_busy(True, "Waiting for sign-in in your browser…")
        self.unlock_requested.emit(self.users.currentData() if self._sandbox else None)

    def set_busy(self, busy: bool, message: str = "") -> None:
        self.unlock_button.setEnabled(not busy)
        self.users.setEnabled(not busy)
        self.message.setText(message)


class LockWarningStrip(QLabel):
    """A non-modal strip: a dialog would steal focus and could itself be what keeps a screen open."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lockWarning")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAccessibleName("Lock warning")
        self.hide()

    def count_down(self, seconds_left: int) -> None:
        self.setText(f"Locking in {seconds_left} s - move the mouse or press a key to stay signed in")
        self.show()

    def cancel(self) -> None:
        self.hide()
        self.clear()
