"""The encrypted cache through the real window and the sandbox: a record painted from the copy on this PC
at once, a failing source leaving its copy on screen with its age, and after a crash the same clinician
(only) offered the patients they had open."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in
from viewer.domain.nhs_number import format_nhs_number
from viewer.domain.provenance import SourceKind
from viewer.record.status import SourceState
from viewer.sandbox.faults import Fault

STORE = "cache-window.db"


@pytest.fixture(autouse=True)
def private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "data"))


@pytest.fixture
def gp_down(sandbox):
    sandbox.faults.set("gpconnect", Fault("status", status=503))
    yield
    sandbox.faults.clear("gpconnect")


def open_and_wait(qtbot, window, nhs):
    view = window.open_patient(nhs)
    qtbot.waitUntil(lambda: view.record is not None and loaded(view), timeout=30000)
    return view


def test_the_copy_paints_first_and_stays_when_the_gp_fails(qtbot, window_factory, sandbox, request):
    nhs = patient_number(sandbox, "warfarin-inpatient")
    first = window_factory(emergency_reason=None, audit_store=STORE)
    sign_in(qtbot, first)
    open_and_wait(qtbot, first, nhs)
    first.close_tab(0)

    request.getfixturevalue("gp_down")
    view = first.open_patient(nhs)
    seen = []
    original = view.set_record

    def watch(record):
        seen.append(record)
        original(record)

    view.set_record = watch
    qtbot.waitUntil(lambda: view.record is not None and loaded(view), timeout=30000)
    gp = view.record.statuses[SourceKind.GP]
    assert gp.state is SourceState.FAILED and gp.shows_copy
    assert view.record.gp is not None and view.record.gp.medications  # the copy is on screen
    label = view.strip.labels[SourceKind.GP]
    assert label.text().startswith("GP: showing copy from ") and label.property("state") == "copy"
    assert view.record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED


def test_after_a_crash_the_same_clinician_is_offered_their_patients(qtbot, window_factory, sandbox):
    nhs = patient_number(sandbox, "warfarin-inpatient")
    crashed = window_factory(emergency_reason=None, audit_store=STORE)
    sign_in(qtbot, crashed)
    open_and_wait(qtbot, crashed, nhs)
    # the process dies here: no sign-out, the journal still says the patient is open

    another = window_factory(emergency_reason=None, audit_store=STORE)
    another.sign_in_as("nurse.adebayo")
    qtbot.waitUntil(lambda: another.session is not None, timeout=20000)
    qtbot.wait(300)
    assert another.reopen_dialog is None  # never another clinician's patients

    restarted = window_factory(emergency_reason=None, audit_store=STORE)
    sign_in(qtbot, restarted)
    qtbot.waitUntil(lambda: restarted.reopen_dialog is not None, timeout=10000)
    dialog = restarted.reopen_dialog
    assert dialog.numbers == [nhs]
    line = dialog.list.item(0).text()
    assert format_nhs_number(nhs) in line and not line.startswith("Name not kept")  # the kept name
    dialog.done(QDialog.DialogCode.Accepted)
    qtbot.waitUntil(lambda: restarted.view_for(nhs) is not None, timeout=10000)
    view = restarted.view_for(nhs)
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)

    restarted.sign_out()  # a clean end: nothing is offered next time
    again = window_factory(emergency_reason=None, audit_store=STORE)
    sign_in(qtbot, again)
    qtbot.wait(300)
    assert again.reopen_dialog is None
