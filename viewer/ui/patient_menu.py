"""A find-bar drop-down of patients to open: the clinician's recent patients, and the sandbox's demo ones.

A button with a menu rather than a combo box: the bar must fit 1024 px at a larger font beside the NHS
number entry, and a menu shows each line whole (name and NHS number) however narrow the bar is. It only
lists and tells; the window fills it and opens a chosen patient through the same path as a typed number.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from viewer.domain.nhs_number import format_nhs_number


def patient_line(nhs_number: str, name: str) -> str:
    """`SURNAME, Given (Title)   NHS 999 123 4567`: the name first (what the clinician remembers), and the
    number always, because two patients can share a name and a name may not be kept on this PC."""
    return f"{name or 'Name not kept'}   NHS {format_nhs_number(nhs_number)}"


class PatientMenuButton(QToolButton):
    """Signals: `patient_chosen(str)` with the NHS number of the line picked.

    `empty_text` is the one (disabled) line shown when there is nobody to list, so the button still says
    what it is for rather than going grey without a reason."""

    patient_chosen = Signal(str)

    def __init__(self, text: str, *, object_name: str, accessible_name: str, tooltip: str,
                 empty_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setText(text)
        self.setAccessibleName(accessible_name)
        self.setToolTip(tooltip)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._empty_text = empty_text
        self.setMenu(QMenu(self, objectName=f"{object_name}Menu"))
        self.menu().setAccessibleName(accessible_name)
        self.menu().triggered.connect(self._chosen)
        self.show_patients([])

    def show_patients(self, patients: Sequence[tuple[str, str]]) -> None:
        """`patients` are (NHS number, name or label) pairs, in the order to list them."""
        menu = self.menu()
        menu.clear()
        for number, name in patients:
            action = menu.addAction(patient_line(number, name))
            action.setData(number)
        if not patients:
            menu.addAction(self._empty_text).setEnabled(False)

    def numbers(self) -> list[str]:
        """The NHS numbers listed, in order (what a test or a screen reader walks)."""
        return [a.data() for a in self.menu().actions() if a.data()]

    def _chosen(self, action: QAction) -> None:
        number = action.data()
        if number:
            self.patient_chosen.emit(number)
