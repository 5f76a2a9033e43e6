"""The emergency-access route through the real window: asked, opened flagged, or cancelled."""

from __future__ import annotations

import pytest

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in


@pytest.fixture
def window(window_factory):
    return window_factory(emergency_reason=None)  # the care-relationship check in force


def test_outpatient_asks_then_opens_flagged(qtbot, window, sandbox):
    sign_in(qtbot, window)
    nhs = patient_number(sandbox, "ordinary-adult")
    view = window.open_patient(nhs)
    qtbot.waitUntil(lambda: window.emergency_dialog is not None, timeout=20000)
    dlg = window.emergency_dialog
    assert "Sandbox" in dlg.explanation.text() or "Hospital" in dlg.explanation.text(), dlg.explanation.text()
    dlg.buttons_by_choice["Emergency care"].setChecked(True)
    dlg.accept()
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    assert [(e.nhs_number, e.kind) for e in window.workspace.access_log] == [(nhs, "emergency")]


def test_cancel_closes_tab(qtbot, window, sandbox):
    sign_in(qtbot, window)
    window.open_patient(patient_number(sandbox, "ordinary-adult"))
    qtbot.waitUntil(lambda: window.emergency_dialog is not None, timeout=20000)
    window.emergency_dialog.reject()
    assert window.tabs.count() == 0
    assert window.workspace.access_log == []


def test_inpatient_no_dialog(qtbot, window, sandbox):
    sign_in(qtbot, window)
    view = window.open_patient(patient_number(sandbox, "warfarin-inpatient"))
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    assert window.emergency_dialog is None
    assert window.workspace.access_log[0].kind == "relationship"
