"""One clinician's session end to end, through the real window, the sandbox servers and the real audit in
the encrypted store: sign in, open a patient in our care, read two sections, lock with Ctrl+L, unlock,
open a patient not in our care through the emergency dialog, search, print, export, sign out. Then the
audit log, read back from the store, holds exactly that story, and `wardview audit verify` passes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.support.sandbox_wiring import patient_number
from tests.support.window import export_to, loaded, print_to_pdf, sign_in
from viewer.cli import main
from viewer.store.audit_log import AuditLog
from viewer.store.database import Store
from viewer.store.paths import default_store_path

STORE = "end-to-end.db"
REASON_DETAIL = "Called to the ward by the nurse in charge"


@pytest.fixture
def window(window_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "data"))
    return window_factory(emergency_reason=None, audit_store=STORE)


def test_a_session_is_audited_exactly(qtbot, window, sandbox, tmp_path, capsys):
    inpatient = patient_number(sandbox, "warfarin-inpatient")
    outpatient = patient_number(sandbox, "ordinary-adult")
    namesakes = sorted([patient_number(sandbox, "namesake-a"), patient_number(sandbox, "namesake-b")])

    sign_in(qtbot, window)
    user_id = window.session.user_id
    role_id = window.session.selected_role.person_roleid

    # a patient in our care: no question asked
    first = window.open_patient(inpatient)
    qtbot.waitUntil(lambda: loaded(first), timeout=30000)
    assert window.emergency_dialog is None
    first.sections.setCurrentIndex(2)  # Medications (after Summary and Allergies)
    first.sections.setCurrentIndex(3)  # Problems

    # Ctrl+L, then the same clinician signs in again at the lock screen
    qtbot.keyClick(window.nhs_edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    window.unlock_as("dr.morgan")
    qtbot.waitUntil(lambda: not window.locked, timeout=20000)

    # a patient not in our care: the emergency dialog, with a reason
    second = window.open_patient(outpatient)
    qtbot.waitUntil(lambda: window.emergency_dialog is not None, timeout=20000)
    dialog = window.emergency_dialog
    dialog.buttons_by_choice["Emergency care"].setChecked(True)
    qtbot.keyClicks(dialog.free_text, REASON_DETAIL)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: loaded(second), timeout=30000)

    # Ctrl+F: search by details (the offscreen platform does not hand activation back after a dialog)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.nhs_edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    search = window.record_actions.search_dialog
    search.family.setText("Smith")
    search.birth_date.setText("17-05-1968")
    search.search_button.click()
    qtbot.waitUntil(lambda: search.model.rowCount() == 2, timeout=20000)
    search.reject()

    # print (to a PDF file) and export the record on screen (the emergency one)
    pages = print_to_pdf(qtbot, window, tmp_path / "printed.pdf")
    assert pages >= 1
    assert export_to(qtbot, window, tmp_path / "exported.json") == tmp_path / "exported.json"

    window.sign_out_button.click()
    assert window.session is None and window.tabs.count() == 0
    qtbot.waitUntil(lambda: window.workspace.current_session is None, timeout=20000)  # sign-out runs async

    with Store.open(default_store_path(STORE)) as store:
        entries = AuditLog(store).last(100)
    story = [(e.action.value, e.outcome.value, e.patient) for e in entries]
    assert story == [
        ("sign-in", "success", None),
        ("record-open", "success", inpatient),
        ("section-view", "success", inpatient),
        ("section-view", "success", inpatient),
        ("lock", "success", None),
        ("sign-in", "success", None),
        ("unlock", "success", None),
        ("emergency-access", "success", outpatient),
        ("search", "success", None),
        ("print", "success", outpatient),
        ("export", "success", outpatient),
        ("sign-out", "success", None),
    ]
    assert all((e.user_id, e.role_id) == (user_id, role_id) for e in entries)
    assert [e.detail.get("section") for e in entries[2:4]] == ["Medications", "Problems"]
    assert entries[1].detail == {"basis": "encounter"}
    emergency = entries[7]
    assert emergency.detail == {"basis": "emergency"}
    assert emergency.emergency_reason == f"Emergency care: {REASON_DETAIL}"
    assert all(e.emergency_reason is None for e in entries if e is not emergency)
    search_detail = dict(entries[8].detail)
    assert sorted(search_detail.pop("results")) == namesakes  # equal scores: PDS's order
    assert search_detail == {"criteria": "family+birthdate", "matches": 2}
    assert entries[9].detail == {"format": "pdf", "pages": pages}
    assert entries[10].detail == {"format": "json", "schema_version": 1}

    capsys.readouterr()
    assert main(["audit", "verify", "--store", str(default_store_path(STORE))]) == 0
    assert capsys.readouterr().out.startswith("Audit log intact: 12 entries")
