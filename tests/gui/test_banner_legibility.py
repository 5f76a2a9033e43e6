"""The allergy state must be legible in every state: a style rule once painted it white on white."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from viewer.config import Settings
from viewer.domain import (
    Allergy,
    Concept,
    HumanName,
    PartialDate,
    Patient,
    Provenance,
    SourceKind,
    SourceRecord,
)
from viewer.record.combined import AllergyState, combine
from viewer.record.status import SourceState, SourceStatus
from viewer.ui.banner import PatientBanner
from viewer.ui.theme import apply_theme

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _record(state: AllergyState):
    prov = Provenance(SourceKind.GP, "AllergyIntolerance", "a1", NOW)
    patient = Patient("9990000018", HumanName("Smith", ("Ann",)), "female", PartialDate.parse("1950-01-01"),
                      Provenance(SourceKind.PDS, "Patient", "p", NOW))
    allergies = {
        AllergyState.KNOWN: (Allergy(Concept("Penicillin"), prov, clinical_status="active"),),
        AllergyState.NO_KNOWN: (Allergy(Concept("No known allergy"), prov, no_known_allergies=True),),
    }.get(state, ())
    gp_state = SourceState.FAILED if state is AllergyState.UNAVAILABLE else SourceState.LOADED
    statuses = {SourceKind.PDS: SourceStatus(SourceKind.PDS, SourceState.LOADED, NOW),
                SourceKind.GP: SourceStatus(SourceKind.GP, gp_state, NOW)}
    gp = (None if gp_state is SourceState.FAILED
          else SourceRecord(SourceKind.GP, NOW, None, allergies=allergies))
    return combine(patient, statuses, gp, None)


def _contrast(image) -> float:
    """Largest luminance difference between any two pixels of the image (0..1)."""
    lum = [QColor(image.pixel(x, y)).lightnessF()
           for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)]
    return max(lum) - min(lum)


@pytest.mark.parametrize("state", list(AllergyState))
def test_allergy_state_is_legible(qtbot, state):
    apply_theme(QApplication.instance(), Settings())
    try:
        banner = PatientBanner()
        qtbot.addWidget(banner)
        banner.resize(1200, 80)
        banner.show()
        record = _record(state)
        assert record.allergy_state is state
        banner.set_record(record)
        qtbot.wait(10)
        assert banner.allergy.text() == state.value
        assert _contrast(banner.allergy.grab().toImage()) > 0.5, f"{state.value} is not legible"
    finally:
        QApplication.instance().setStyleSheet("")
