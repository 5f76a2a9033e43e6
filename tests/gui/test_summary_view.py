"""The Summary tab of the real window against the sandbox: what a clinician needs first, each line with
its source, a disagreement said on the line, one key from the entries behind it."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in


def test_summary_of_the_inpatient(qtbot, window_factory, sandbox, tmp_path: Path) -> None:
    window = window_factory(emergency_reason=None)  # the inpatient: a care relationship, no dialog
    sign_in(qtbot, window)
    nhs = patient_number(sandbox, "warfarin-inpatient")
    view = window.open_patient(nhs)
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    summary = view.summary
    assert view.sections.currentWidget() is summary
    assert view.sections.tabText(0) == "&1 Summary"
    assert view.sections.tabText(view.sections.count() - 1).startswith("&0 Record warnings")

    medicines = summary.medications.lines()
    assert any(line.startswith("Warfarin") for line in medicines)
    disputed = [line for line in medicines if line.startswith("⚠")]
    assert disputed and "[GP + Hospital]" in disputed[0] and "Dosage differs" in disputed[0]
    assert all(line.rstrip().endswith("]") or "⚠" in line for line in medicines)  # a source on every line
    assert summary.allergies.lines() == [view.record.allergy_state.value]
    assert any("Atrial fibrillation" in line for line in summary.problems.lines())
    encounters = summary.encounters.lines()
    assert 0 < len(encounters) <= 5 and "Inpatient" in encounters[0]  # newest first: the admission
    assert "disagree" in summary.warnings.text()

    panel = summary.medications.list
    row = next(i for i, line in enumerate(medicines) if line.startswith("⚠"))
    panel.setFocus()
    panel.setCurrentRow(row)
    qtbot.keyClick(panel, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.originals_dialog is not None, timeout=5000)
    assert view.originals_dialog.model.rowCount() == 2  # the GP's entry and the hospital's
    view.originals_dialog.close()

    shots = Path(os.environ.get("WARDVIEW_SHOTS_DIR") or tmp_path)
    assert window.grab().save(str(shots / "summary.png"))


def test_reconciliation_under_the_medications_of_the_inpatient(qtbot, window_factory, sandbox,
                                                               tmp_path: Path) -> None:
    window = window_factory(emergency_reason=None)
    sign_in(qtbot, window)
    view = window.open_patient(patient_number(sandbox, "warfarin-inpatient"))
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    view.sections.setCurrentIndex(2)
    assert view.sections.tabText(2) == "&3 Medications"
    assert view.reconciliation.isVisible()
    groups = view.reconciliation.groups()
    differs = next(names for title, names in groups.items() if title.startswith("In both lists, but"))
    assert any(name.startswith("Warfarin 3mg") for name in differs)
    assert "difference" in view.reconciliation.heading.text()
    shots = Path(os.environ.get("WARDVIEW_SHOTS_DIR") or tmp_path)
    assert window.grab().save(str(shots / "reconciliation.png"))
