"""Emergency ("break-glass") access: opening a record with no current care relationship here.

The clinician is never stopped from giving direct care; they are told plainly that the access will be
flagged and reviewed, and asked why. The wording and the reasons come from the relationship service, so
the audit reads the same words the clinician chose.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from viewer.services.relationship import EMERGENCY_CHOICES, OTHER_CHOICE, emergency_reason

CONSEQUENCE = "You can still open the record for direct care; this access will be flagged and reviewed."
MAX_DETAIL = 500  # enough to explain; the audit entry is not a clinical note


class EmergencyAccessDialog(QDialog):
    """Asks for the reason for emergency access. `reason_for_no_relationship` is the service's account
    (NeedsEmergencyAccess.user_message); `check_failed` when the check itself could not be made.

    Accepted only with a valid reason; `reason()` is then "<choice>: <free text>" (or the choice alone).
    """

    def __init__(
        self,
        reason_for_no_relationship: str,
        *,
        org_name: str = "this organisation",
        check_failed: bool = False,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Emergency access")
        self.setObjectName("emergencyAccessDialog")
        self.setAccessibleName("Emergency access")
        self.setModal(True)
        layout = QVBoxLayout(self)

        heading = QLabel("Emergency access to this record", objectName="emergencyHeading")
        font = heading.font()
        font.setBold(True)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.2)
        heading.setFont(font)
        heading.setAccessibleName("Emergency access to this record")
        layout.addWidget(heading)

        if check_failed:
            situation = (
                f"The check for a current episode of care for this patient at {org_name} "
                "could not be made."
            )
        else:
            situation = f"There is no record of a current episode of care for this patient at {org_name}."
        self.explanation = QLabel(f"{situation} {CONSEQUENCE}", objectName="emergencyExplanation")
        self.explanation.setWordWrap(True)
        self.explanation.setAccessibleName("Why emergency access is needed")
        layout.addWidget(self.explanation)

        self.detail = QLabel(f"Check result: {reason_for_no_relationship}", objectName="emergencyDetail")
        self.detail.setWordWrap(True)
        self.detail.setAccessibleName("Result of the care relationship check")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.detail)

        box = QGroupBox("Reason for access", objectName="emergencyReasons")
        box.setAccessibleName("Reason for access")
        box_layout = QVBoxLayout(box)
        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        self.buttons_by_choice: dict[str, QRadioButton] = {}
        for choice in EMERGENCY_CHOICES:
            button = QRadioButton(choice)
            button.setAccessibleName(choice)
            self.choices.addButton(button)
            self.buttons_by_choice[choice] = button
            box_layout.addWidget(button)
        layout.addWidget(box)

        text_label = QLabel("&Details (required for Other)")
        layout.addWidget(text_label)
        self.free_text = QPlainTextEdit(objectName="emergencyFreeText")
        self.free_text.setAccessibleName("Reason details")
        self.free_text.setAccessibleDescription("Free text; required when the reason is Other")
        self.free_text.setPlaceholderText("For example: called to the ward by the nurse in charge")
        self.free_text.setTabChangesFocus(True)
        self.free_text.setFixedHeight(self.free_text.fontMetrics().lineSpacing() * 4 + 12)
        text_label.setBuddy(self.free_text)
        layout.addWidget(self.free_text)

        self.hint = QLabel("", objectName="emergencyHint")
        self.hint.setAccessibleName("What is still needed")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)

        self.button_box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.button_box.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Open record (flagged)")
        self.ok_button.setAccessibleName("Open record with emergency access")
        self.cancel_button = self.button_box.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel, do not open the record")
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)
        layout.addWidget(self.button_box)

        self.choices.buttonToggled.connect(lambda *_: self._update())
        self.free_text.textChanged.connect(self._update)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 44)
        self._update()

    def choice(self) -> str | None:
        button = self.choices.checkedButton()
        return button.text() if button is not None else None

    def reason(self) -> str:
        """"<choice>: <free text>" (or the choice alone). Raises ValueError while the dialog is not valid."""
        return emergency_reason(self.choice() or "", self.free_text.toPlainText()[:MAX_DETAIL])

    def is_valid(self) -> bool:
        try:
            self.reason()
        except ValueError:
            return False
        return True

    def accept(self) -> None:
        if self.is_valid():  # Enter in a field must not get round the disabled button
            super().accept()

    def _update(self) -> None:
        choice = self.choice()
        if choice is None:
            hint = "Choose a reason."
        elif choice == OTHER_CHOICE and not self.free_text.toPlainText().strip():
            hint = "Explain the reason in the details box."
        else:
            hint = ""
        self.hint.setText(hint)
        self.ok_button.setEnabled(not hint)
