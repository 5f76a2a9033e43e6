"""NHS number entry with live check-digit validation, so a mistyped number never reaches a server."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from viewer.domain.nhs_number import format_nhs_number, is_valid, normalise


class NhsNumberEdit(QLineEdit):
    """Signals:
    validity_changed(bool): whether the text is a valid NHS number.
    """

    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("nhsNumberEdit")
        self.setPlaceholderText("e.g. 999 000 0018")  # the label beside it says what
        self.setAccessibleName("NHS number")
        self.setMaxLength(14)
        self._valid = False
        self.textEdited.connect(self._on_edited)

    def _on_edited(self, text: str) -> None:
        digits = normalise(text)
        if len(digits) == 10 and digits.isdigit():
            formatted = format_nhs_number(digits)
            if formatted != text:
                self.setText(formatted)
        valid = is_valid(digits)
        self.setProperty("invalid", bool(digits) and len(digits) >= 10 and not valid)
        self.style().unpolish(self)
        self.style().polish(self)
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)
        wrong = not valid and len(digits) >= 10
        self.setToolTip("Check digit does not match: not a valid NHS number" if wrong else "")

    def is_valid(self) -> bool:
        return self._valid

    def nhs_number(self) -> str:
        return normalise(self.text())
