"""After a crash or a kill: offer the clinician the patients they had open, from the copies on this PC.

Offered only to the clinician who had them open, only after they have signed in, and nothing opens until
they say so: each patient then goes through the usual open (role, care relationship, audit) and paints
from the cache at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget

from viewer.ui.patient_menu import patient_line


class ReopenPatientsDialog(QDialog):
    """`patients` are (NHS number, name kept on this PC or '') pairs, in the order they were opened."""

    def __init__(self, patients: Sequence[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Reopen your patients?")
        self.setObjectName("reopenDialog")
        self.numbers = [number for number, _ in patients]
        layout = QVBoxLayout(self)
        count = len(patients)
        intro = QLabel(
            "Wardview stopped without signing you out. You had "
            + ("this patient" if count == 1 else f"these {count} patients")
            + " open. Reopen "
            + ("it" if count == 1 else "them")
            + "? Each record shows the copy kept on this PC at once, then refreshes.",
            objectName="reopenIntro",
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget(objectName="reopenList")
        self.list.setAccessibleName("Patients open when Wardview stopped")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for number, name in patients:
            self.list.addItem(patient_line(number, name))
        self.list.setFixedHeight(min(8, count) * self.list.sizeHintForRow(0) + 8)
        # every line whole: the NHS number at the end of a line is what tells two namesakes apart
        self.list.setMinimumWidth(self.list.sizeHintForColumn(0) + 2 * self.list.frameWidth() + 8)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox()
        self.reopen_button = buttons.addButton("Reopen", QDialogButtonBox.ButtonRole.AcceptRole)
        self.reopen_button.setObjectName("reopenButton")
        self.not_now_button = buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        self.reopen_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
