"""Pick the role to work in when a clinician holds several (CIS2 role selection)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget


class RolePickerDialog(QDialog):
    def __init__(self, roles: Sequence[tuple[str, str]], parent: QWidget | None = None):
        """`roles` are (role id, label) pairs; only roles that may view records are offered."""
        super().__init__(parent)
        self.setWindowTitle("Choose your role")
        self.setObjectName("rolePicker")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("You hold more than one role. Choose the one you are working in now."))
        self.list = QListWidget(objectName="roleList")
        self.list.setAccessibleName("Roles")
        self._ids = [role_id for role_id, _ in roles]
        self.list.addItems([label for _, label in roles])
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def selected_role_id(self) -> str | None:
        row = self.list.currentRow()
        return self._ids[row] if 0 <= row < len(self._ids) else None
