"""Finding a patient by details through the real window and the sandbox PDS: results, nobody, too many,
PDS down, restricted patients, and opening a match through the same path as a typed number."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.support.sandbox_wiring import patient_number
from tests.support.window import sign_in
from viewer.sandbox.faults import Fault
from viewer.ui.search_dialog import NONE_FOUND, SearchResultsModel


@pytest.fixture
def window(window_factory):
    return window_factory(emergency_reason=None)  # the care-relationship check in force


def fill(dialog: Any, family: str = "", born: str = "", **others: str) -> None:
    dialog.family.setText(family)
    dialog.birth_date.setText(born)
    dialog.given.setText(others.get("given", ""))
    dialog.postcode.setText(others.get("postcode", ""))


def search(qtbot: Any, dialog: Any) -> str:
    """Press Search and wait for the answer; returns the dialog's message."""
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.search_button.isEnabled(), timeout=20000)
    return dialog.message.text()


def open_dialog(qtbot: Any, window: Any) -> Any:
    sign_in(qtbot, window)
    window.record_actions.find_action.trigger()  # Ctrl+F
    dialog = window.record_actions.search_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_find_button_and_shortcut(qtbot, window):
    sign_in(qtbot, window)
    assert window.record_actions.find_action.shortcut().toString() == "Ctrl+F"
    window.find_button.click()
    assert window.record_actions.search_dialog is not None


def test_namesakes_are_listed_and_a_match_opens_through_the_usual_path(qtbot, window, sandbox):
    dialog = open_dialog(qtbot, window)
    fill(dialog, "Smith", "17-05-1968")
    assert search(qtbot, dialog) == "2 patients found. Choose one and open the record."
    model = dialog.model
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    expected = {patient_number(sandbox, "namesake-a"), patient_number(sandbox, "namesake-b")}
    assert {row[3].replace(" ", "") for row in rows} == expected
    for name, born, gender, nhs, postcode, practice in rows:
        assert name.startswith("SMITH, John") and born == "17-May-1968" and gender == "Male"
        assert len(nhs.split(" ")) == 3 and [len(p) for p in nhs.split(" ")] == [3, 3, 4]
        assert postcode.startswith("WL") and practice.startswith("Y9000")
    chosen = model.index(1, 0).data(SearchResultsModel.NhsNumberRole)
    dialog.table.selectRow(1)
    dialog.open_button.click()
    assert window.record_actions.search_dialog is None  # closed on open
    # not in hospital: the care-relationship check asks for a reason, exactly as for a typed number
    qtbot.waitUntil(lambda: window.emergency_dialog is not None, timeout=20000)
    assert window.tabs.currentWidget().nhs_number == chosen
    window.emergency_dialog.reject()
    assert window.tabs.count() == 0


def test_missing_details_are_named_and_nothing_is_sent(qtbot, window):
    dialog = open_dialog(qtbot, window)
    fill(dialog, "Smith")
    dialog.search_button.click()
    assert dialog.message.text() == "Enter at least the family name and the date of birth."
    assert dialog.message.property("problem") is True
    fill(dialog, "Smith", "17/13/1968")
    dialog.search_button.click()
    assert "for example 14-07-1945" in dialog.message.text()
    assert dialog.search_button.isEnabled() and dialog.model.rowCount() == 0
    assert dialog.family.text() == "Smith"  # what was typed is kept


def test_nobody_found(qtbot, window):
    dialog = open_dialog(qtbot, window)
    fill(dialog, "Nobody", "01-01-1900")
    assert search(qtbot, dialog) == NONE_FOUND
    assert dialog.model.rowCount() == 0


def test_restricted_patient_shows_no_address_or_practice(qtbot, window, sandbox):
    dialog = open_dialog(qtbot, window)
    restricted = next(p for p in sandbox.world.patients if p.restricted)
    fill(dialog, restricted.pds.name.family, restricted.pds.birth_date.strftime("%d-%m-%Y"))
    assert "Restricted records show no address or practice" in search(qtbot, dialog)
    model = dialog.model
    assert [model.index(0, c).data() for c in (4, 5)] == ["Restricted", "Restricted"]


def test_too_many_matches_asks_for_more_detail(qtbot, window, monkeypatch):
    dialog = open_dialog(qtbot, window)
    pds = window.workspace._patient_search
    real_search = pds.search

    async def one_at_most(query, ctx):  # PDS answers TOO_MANY_MATCHES beyond _max-results
        return await real_search(replace(query, max_results=1), ctx)

    monkeypatch.setattr(pds, "search", one_at_most)
    fill(dialog, "Smith", "17-05-1968")
    assert search(qtbot, dialog) == "Too many patients match: add more detail"
    assert dialog.model.rowCount() == 0


def test_pds_down_is_said_in_the_dialog(qtbot, window, sandbox):
    dialog = open_dialog(qtbot, window)
    fill(dialog, "Smith", "17-05-1968")
    sandbox.faults.set("pds", Fault("status", status=500))
    try:
        message = search(qtbot, dialog)
    finally:
        sandbox.faults.clear("pds")
    assert message == "The Spine (PDS) is not answering at the moment; try again shortly"
    assert search(qtbot, dialog).startswith("2 patients found")  # and it works again once PDS is back


def test_lock_closes_the_dialog_and_a_late_answer_is_not_shown(qtbot, window):
    dialog = open_dialog(qtbot, window)
    fill(dialog, "Smith", "17-05-1968")
    dialog.search_button.click()
    window.lock_now()
    assert window.record_actions.search_dialog is None
    assert not window.record_actions.find_action.isEnabled()
    window.record_actions.find_patient()
    assert window.record_actions.search_dialog is None


def test_results_model(qtmodeltester, window, qtbot):
    dialog = open_dialog(qtbot, window)
    fill(dialog, "Smith", "17-05-1968")
    search(qtbot, dialog)
    qtmodeltester.check(dialog.model)
    assert dialog.model.headerData(3, Qt.Orientation.Horizontal) == "NHS number"
