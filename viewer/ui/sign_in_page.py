"""The first screen: sign in with NHS Care Identity (system browser), or as a sandbox demo clinician.

Signals:
    sign_in_requested(object): a demo username (sandbox) or None (system browser).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget


class SignInPage(QWidget):
    sign_in_requested = Signal(object)

    def __init__(self, demo_users: Sequence[tuple[str, str]] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("signInPage")
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Wardview", objectName="signInTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        blurb = QLabel("GP and hospital record, one view. Sign in to continue.", objectName="signInBlurb")
        blurb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(blurb)
        self.users = QComboBox(objectName="demoUsers")
        self.users.setAccessibleName("Demo clinician")
        for username, label in demo_users:
            self.users.addItem(label, username)
        self.users.setVisible(bool(demo_users))
        layout.addWidget(self.users)
        text = "Sign in as this demo clinician" if demo_users else "Sign in with NHS Care Identity"
        self.button = QPushButton(text, objectName="signInButton")
        self.button.setAccessibleName("Sign in")
        self.button.setDefault(True)
        self.button.clicked.connect(self._request)
        layout.addWidget(self.button)
        self.message = QLabel("", objectName="signInMessage", wordWrap=True)
        self.message.setAccessibleName("Sign-in message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.message)

    def _request(self) -> None:
        self.set_busy(True, "Waiting for sign-in in your browser…")
        username = self.users.currentData() if self.users.isVisible() else None
        self.sign_in_requested.emit(username)

    def set_busy(self, busy: bool, message: str = "") -> None:
        self.button.setEnabled(not busy)
        self.users.setEnabled(not busy)
        self.message.setText(message)
