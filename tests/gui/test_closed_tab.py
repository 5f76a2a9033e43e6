"""A tab closed while its record is still arriving: the late updates find its view deleted and are
dropped, never an exception in the GUI loop (pytest-qt fails a test on any)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent

from tests.support.sandbox_wiring import patient_number
from tests.support.window import sign_in


def test_late_updates_for_a_closed_and_deleted_tab_are_dropped(qtbot, window_factory, sandbox):
    window = window_factory(emergency_reason=None)
    sign_in(qtbot, window)
    opening = window.workspace.open_record
    done: list[object] = []

    async def watched(*args, **kwargs):
        try:
            return await opening(*args, **kwargs)
        finally:
            done.append(True)

    window.workspace.open_record = watched
    view = window.open_patient(patient_number(sandbox, "warfarin-inpatient"))
    assert view is not None
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.close_tab(0)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the view is gone now
    qtbot.waitUntil(lambda: bool(done), timeout=30000)  # the fetch completed, reporting to no view
    qtbot.wait(50)  # its last callbacks reach the GUI loop
    assert window.tabs.count() == 0
    assert "Record loaded" not in messages
