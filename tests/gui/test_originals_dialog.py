"""One keystroke from a merged line to the entries of each record behind it, disagreements included."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from PySide6.QtCore import Qt

from viewer.domain import (
    Concept,
    HumanName,
    Medication,
    PartialDate,
    Patient,
    Provenance,
    SourceKind,
    SourceRecord,
)
from viewer.domain.coding import SNOMED, Coding
from viewer.record.combined import combine
from viewer.record.status import SourceState, SourceStatus
from viewer.ui.patient_view import PatientView

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def _record():
    def med(source, rid, dosage):
        return Medication(Concept("Amlodipine 5mg tablets", (Coding(SNOMED, "319283006"),)),
                          Provenance(source, "MedicationStatement", rid, NOW, "Y90001", "Surgery"),
                          status="active", dosage=dosage)

    patient = Patient("9990000018", HumanName("Smith", ("Ann",)), "female", PartialDate.parse("1950-01-01"),
                      Provenance(SourceKind.PDS, "Patient", "p", NOW))
    gp = SourceRecord(SourceKind.GP, NOW, None, medications=(med(SourceKind.GP, "g1", "One tablet daily"),))
    hosp = SourceRecord(SourceKind.HOSPITAL, NOW, None,
                        medications=(med(SourceKind.HOSPITAL, "h1", "Two tablets daily"),))
    statuses = {k: SourceStatus(k, SourceState.LOADED, NOW) for k in SourceKind}
    return combine(patient, statuses, gp, hosp)


def test_enter_on_a_merged_line_shows_each_record_as_recorded(qtbot):
    view = PatientView("9990000018")
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.show()
    view.set_record(_record())
    view.sections.setCurrentIndex(2)  # Summary, Allergies, Medications
    table = view.medication_view
    assert view.medications.rowCount() == 1
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.originals_dialog is not None, timeout=2000)
    dialog = view.originals_dialog
    model = dialog.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    dose, source = headers.index("Dosage"), headers.index("Source")
    rows = {(model.index(r, source).data().split(" - ")[0], model.index(r, dose).data())
            for r in range(model.rowCount())}
    assert rows == {("GP", "One tablet daily"), ("Hospital", "Two tablets daily")}
    assert dialog.alerts.isVisible() and "Dosage differs" in dialog.alerts.text()
    if os.environ.get("WARDVIEW_SHOTS_DIR"):
        dialog.grab().save(os.path.join(os.environ["WARDVIEW_SHOTS_DIR"], "originals_dialog.png"))
    dialog.reject()
    qtbot.waitUntil(lambda: view.originals_dialog is None, timeout=2000)
