"""The patient banner (NHS CUI, ISB 1505): who the patient is, first and unmistakably.

Order: name, born, gender, NHS number; labels without colons; `Not Known` for unknown values; allergy
state label; a different style for a deceased patient; a collapsible second zone (address, phone, GP).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from viewer.domain.dates import LONDON, age_in_years
from viewer.domain.nhs_number import format_nhs_number
from viewer.domain.patient import Patient
from viewer.record.combined import AllergyState, CombinedRecord

NOT_KNOWN = "Not Known"


def born_text(patient: Patient, today: date) -> str:
    """`14-Jul-1945 (81y)`; a partial birth date is shown as given, without an age we cannot know."""
    if patient.birth_date is None:
        return NOT_KNOWN
    born = patient.birth_date.as_date()
    if born is None:
        return patient.birth_date.display()
    if patient.deceased:
        return patient.birth_date.display()
    years = age_in_years(born, today)
    age = f"{years}y" if years >= 2 else f"{(today.year - born.year) * 12 + today.month - born.month}m"
    return f"{patient.birth_date.display()} ({age})"


def died_text(patient: Patient) -> str:
    if patient.deceased_date is None:
        return NOT_KNOWN
    died = patient.deceased_date.as_date()
    born = patient.birth_date.as_date() if patient.birth_date else None
    if died is None or born is None:
        return patient.deceased_date.display()
    return f"{patient.deceased_date.display()} (aged {age_in_years(born, died)}y)"


def gender_text(patient: Patient) -> str:
    return (patient.gender or NOT_KNOWN).capitalize() if patient.gender else NOT_KNOWN


def practice_text(patient: Patient, record: CombinedRecord) -> str:
    """PDS gives the registered practice's ODS code only; the GP record names it when the codes agree."""
    name = patient.gp_practice_name
    ods = patient.gp_practice_ods
    if not name and ods and record.gp is not None and record.gp.org_ods == ods:
        name = record.gp.org_name
    return " - ".join(x for x in (ods, name) if x)


class PatientBanner(QFrame):
    """Fixed at the top of a patient tab. `set_record` repaints it from a CombinedRecord."""

    def __init__(self, parent: QWidget | None = None, *, today: date | None = None):
        super().__init__(parent)
        self.setObjectName("patientBanner")
        self.setAccessibleName("Patient banner")
        self._today = today
        self._nhs = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 8)
        outer.setSpacing(4)

        # Name, then the identity fields, then the allergy state. On a narrow screen or with a large
        # system font the fields move under the name (`_reflow`) rather than pushing the window wider
        # than the screen: nothing of the identity is ever cut off.
        self.top = QGridLayout()
        self.top.setHorizontalSpacing(16)
        self.name = QLabel(NOT_KNOWN, objectName="bannerName")
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QWidget(objectName="bannerDetails")
        row = QHBoxLayout(self.details)
        row.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for label in ("Born", "Died", "Gender", "NHS number"):
            caption = QLabel(label, objectName="bannerCaption")
            value = QLabel(NOT_KNOWN, objectName="bannerValue")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(label)
            self.fields[label] = value
            self.captions[label] = caption
            row.addWidget(caption)
            row.addWidget(value)
            row.addSpacing(12)
        self.copy_button = QToolButton(text="Copy", objectName="copyNhs")
        self.copy_button.setAccessibleName("Copy NHS number")
        self.copy_button.setToolTip("Copy the NHS number (digits only)")
        self.copy_button.clicked.connect(self.copy_nhs_number)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.state = QWidget(objectName="bannerState")
        state_row = QHBoxLayout(self.state)
        state_row.setContentsMargins(0, 0, 0, 0)
        self.allergy = QLabel(AllergyState.UNAVAILABLE.value, objectName="allergyState")
        self.allergy.setAccessibleName("Allergy state")
        state_row.addWidget(self.allergy)
        self.more = QToolButton(text="More", objectName="bannerMore", checkable=True)
        self.more.setAccessibleName("Show address, phone and GP practice")
        self.more.toggled.connect(self._toggle_second_zone)
        state_row.addWidget(self.more)
        self.top.addWidget(self.name, 0, 0)
        self.top.addWidget(self.details, 0, 1)
        self.top.setColumnStretch(2, 1)
        self.top.addWidget(self.state, 0, 3)
        self.two_rows = False
        outer.addLayout(self.top)
        # The banner takes the width it is given (its one-row width is no minimum), then reflows.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.alert = QLabel("", objectName="bannerAlert")
        self.alert.setWordWrap(True)
        self.alert.setAccessibleName("Patient identity alerts")
        self.alert.hide()
        outer.addWidget(self.alert)

        self.second = QWidget(objectName="bannerSecondZone")
        grid = QGridLayout(self.second)
        grid.setContentsMargins(0, 0, 0, 0)
        self.second_fields: dict[str, QLabel] = {}
        for col, label in enumerate(("Address", "Phone", "Registered GP practice")):
            grid.addWidget(QLabel(label, objectName="bannerCaption"), 0, col)
            value = QLabel(NOT_KNOWN, objectName="bannerValue", wordWrap=True)
            value.setAccessibleName(label)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(value, 1, col)
            self.second_fields[label] = value
        self.second.hide()
        outer.addWidget(self.second)
        self._set_deceased(False)

    def _one_row_width(self) -> int:
        margins = self.layout().contentsMargins()
        spacing = self.top.horizontalSpacing()
        parts = (self.name, self.details, self.state)
        return sum(w.sizeHint().width() for w in parts) + 3 * spacing + margins.left() + margins.right()

    def _reflow(self) -> None:
        two_rows = self.width() < self._one_row_width()
        if two_rows == self.two_rows:
            return
        self.two_rows = two_rows
        self.top.removeWidget(self.details)
        self.top.removeWidget(self.state)
        if two_rows:
            self.top.addWidget(self.state, 0, 3)
            self.top.addWidget(self.details, 1, 0, 1, 4)
        else:
            self.top.addWidget(self.details, 0, 1)
            self.top.addWidget(self.state, 0, 3)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reflow()

    def _toggle_second_zone(self, shown: bool) -> None:
        self.second.setVisible(shown)
        self.more.setText("Less" if shown else "More")

    def _set_deceased(self, deceased: bool) -> None:
        self.setProperty("deceased", deceased)
        self.fields["Died"].setVisible(deceased)
        self.captions["Died"].setVisible(deceased)
        self.style().unpolish(self)
        self.style().polish(self)

    def copy_nhs_number(self) -> None:
        if self._nhs:
            QGuiApplication.clipboard().setText(self._nhs)

    def set_record(self, record: CombinedRecord) -> None:
        today = self._today or datetime.now(UTC).astimezone(LONDON).date()
        patient = record.patient
        if patient is not None:
            self._nhs = patient.nhs_number
            self.name.setText(patient.name.banner())
            self.fields["Born"].setText(born_text(patient, today))
            self.fields["Gender"].setText(gender_text(patient))
            self.fields["NHS number"].setText(format_nhs_number(patient.nhs_number))
            self.fields["Died"].setText(died_text(patient) if patient.deceased else "")
            self._set_deceased(patient.deceased)
            address = ", ".join((*patient.address, patient.postcode or "")).strip(", ")
            practice = practice_text(patient, record)
            if patient.restricted:
                address = practice = phone = "Withheld (restricted record)"
            else:
                phone = patient.phone or NOT_KNOWN
            self.second_fields["Address"].setText(address or NOT_KNOWN)
            self.second_fields["Phone"].setText(phone)
            self.second_fields["Registered GP practice"].setText(practice or NOT_KNOWN)
        self._reflow()
        state = record.allergy_state
        self.allergy.setText(state.value)
        self.allergy.setProperty("state", state.name.lower())
        self.allergy.style().unpolish(self.allergy)
        self.allergy.style().polish(self.allergy)
        alerts = ([m.text() for m in record.mismatches] + list(record.allergy_gaps) + list(record.notices)
                  + list(record.partial_negations))
        if patient is not None and patient.restricted:
            alerts.append("Restricted record: contact details and GP are withheld by PDS.")
        self.alert.setText("\n".join(f"⚠ {a}" for a in alerts))
        self.alert.setVisible(bool(alerts))
