"""The emergency-access route through the real window: asked, opened flagged, or cancelled."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from tests.gui.test_thin_path import loaded, sign_in
from tests.support.sandbox_wiring import make_workspace, patient_number
from viewer.config import Settings
from viewer.ui.main_window import MainWindow
from viewer.ui.runner import AsyncRunner
from viewer.ui.theme import apply_theme


@pytest.fixture
def window(qtbot, sandbox):
    runner = AsyncRunner()

    async def build():
        return make_workspace(sandbox, emergency_reason=None)

    workspace, http = runner.run_blocking(build())
    apply_theme(QApplication.instance(), Settings())
    win = MainWindow(workspace, runner)
    qtbot.addWidget(win)
    win.show()
    yield win
    runner.stop(http.aclose)


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
