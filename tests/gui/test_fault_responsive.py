"""The window stays responsive while a source hangs (issue 8, point 2): GP Connect never answers, the GUI
event loop keeps running (a QTimer keeps firing while the fetch is outstanding), the status strip says GP
is loading and then that it failed and why, and the hospital record is shown meanwhile."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QTimer

from tests.support.sandbox_wiring import patient_number, sandbox_settings
from tests.support.window import loaded, sign_in
from viewer.domain.provenance import SourceKind
from viewer.sandbox.faults import Fault

GP_TIMEOUT = 1.0
LOADING = "GP: loading…"


def test_window_keeps_working_while_gp_connect_hangs(qtbot, window_factory, sandbox, tmp_path):
    settings = dataclasses.replace(sandbox_settings(sandbox), gpconnect_timeout_seconds=GP_TIMEOUT)
    window = window_factory(settings=settings)
    sign_in(qtbot, window)
    nhs = patient_number(sandbox, "same-medicine")
    seen_by_timer: list[str] = []
    timer = QTimer(window)
    timer.setInterval(20)
    sandbox.faults.set("gpconnect", Fault("hang"))
    try:
        view = window.open_patient(nhs)
        gp = view.strip.labels[SourceKind.GP]
        timer.timeout.connect(lambda: seen_by_timer.append(gp.text()))
        timer.start()
        qtbot.waitUntil(lambda: loaded(view), timeout=30000)
        timer.stop()
    finally:
        sandbox.faults.clear("gpconnect")

    # The event loop ran timers while GP Connect was outstanding, and the strip said so at the time.
    assert LOADING in seen_by_timer
    assert gp.text() == "GP: failed - GP Connect did not answer in time"
    assert view.strip.labels[SourceKind.HOSPITAL].text().startswith("Hospital: loaded")
    assert view.strip.labels[SourceKind.PDS].text().startswith("PDS: loaded")
    meds = view.medications
    sources = {meds.index(r, c).data() for r in range(meds.rowCount()) for c in range(meds.columnCount())}
    assert any(str(s).startswith("Hospital - ") for s in sources)  # the hospital's medicines are shown
    qtbot.wait(50)  # let the layout take the new label widths before the picture
    shot = tmp_path / "gp_connect_hangs.png"
    assert window.grab().save(str(shot))
