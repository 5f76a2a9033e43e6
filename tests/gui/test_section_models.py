"""Every section's table model passes qtmodeltester and shows its items' key fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from viewer.domain import (
    Concept,
    Document,
    Encounter,
    Immunisation,
    Observation,
    PartialDate,
    Provenance,
    Referral,
    SourceKind,
)
from viewer.record.merge import MergedItem
from viewer.ui.models import (
    DocumentTableModel,
    EncounterTableModel,
    ImmunisationTableModel,
    ObservationTableModel,
    ReferralTableModel,
)

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
P = Provenance(SourceKind.HOSPITAL, "X", "x1", NOW, "RWV99", "Trust")
WHEN = PartialDate.parse("2026-11-01T09:30:00Z")

CASES = [
    (EncounterTableModel, Encounter(P, kind="inpatient", status="in-progress", start=WHEN,
                                    reasons=(Concept("Chest pain"),)), "Inpatient"),
    (ObservationTableModel, Observation(Concept("Potassium"), P, effective=WHEN, value="5.9", number=5.9,
                                        unit="mmol/L", range_low=3.5, range_high=5.3), "5.9 mmol/L"),
    (ImmunisationTableModel, Immunisation(Concept("Influenza vaccine"), P, given=PartialDate.parse("2025-10"),
                                          dose="Dose 1 of 1"), "Influenza vaccine"),
    (ReferralTableModel, Referral(P, service="Cardiology", reasons=(Concept("Palpitations"),),
                                  authored=PartialDate.parse("2026-10-02")), "Cardiology"),
    (DocumentTableModel, Document("Discharge summary", P, created=WHEN, author="Dr Aziz"),
     "Discharge summary"),
]


@pytest.mark.parametrize(("model_type", "item", "shown"), CASES, ids=[c[0].__name__ for c in CASES])
def test_section_model(qtmodeltester, model_type, item, shown):
    model = model_type([MergedItem(item, (item,))])
    qtmodeltester.check(model, force_py=True)
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert shown in row
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[1] == "Source" and "Retrieved" in headers and "Alerts" in headers
    assert row[1] == "Hospital - RWV99 Trust"


def test_result_shows_comparator_and_range():
    o = Observation(Concept("eGFR"), P, value="90", comparator=">", unit="mL/min/1.73m2", range_low=60)
    model = ObservationTableModel([MergedItem(o, (o,))])
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert ">90 mL/min/1.73m2" in row and "60 -" in row
