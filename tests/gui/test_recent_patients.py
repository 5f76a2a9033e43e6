"""The find bar's recent patients through the real window, the sandbox and an encrypted store: the
clinician's own opens from the audit log, newest first with the names kept on this PC; a choice opens the
patient like a typed number; a lock hides the list and a switch of clinician empties it."""

from __future__ import annotations

import pytest

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, open_and_wait, sign_in
from viewer.domain.nhs_number import format_nhs_number

STORE = "recent-window.db"


@pytest.fixture(autouse=True)
def private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "data"))


def settle(qtbot, window):
    """Wait for a fresh recent-patients reply to reach the GUI thread (a condition, never a time)."""
    future = window.refresh_recent()
    if future is not None:
        qtbot.waitUntil(future.done, timeout=10000)
    qtbot.waitUntil(lambda: window.runner._pending.empty(), timeout=10000)


def test_recent_lists_own_opens_newest_first_and_reopens(qtbot, window_factory, sandbox):
    first = patient_number(sandbox, "ordinary-adult")
    second = patient_number(sandbox, "child")
    win = window_factory(audit_store=STORE)
    sign_in(qtbot, win)
    settle(qtbot, win)
    assert win.recent.isVisible() and win.recent.numbers() == []
    assert [a.text() for a in win.recent.menu().actions()] == ["No patients opened yet"]

    open_and_wait(qtbot, win, first)
    open_and_wait(qtbot, win, second)
    win.close_tab(win.tabs.indexOf(win.view_for(first)))
    open_and_wait(qtbot, win, first)  # opened again: it comes first, listed once
    qtbot.waitUntil(lambda: win.recent.numbers() == [first, second], timeout=10000)
    line = win.recent.menu().actions()[0].text()
    assert line.startswith("SHARMA, Priya") and line.endswith(format_nhs_number(first))  # the kept name

    while win.tabs.count():
        win.close_tab(0)
    win.recent.menu().actions()[1].trigger()  # as a click on the second line does
    assert win.view_for(second) is not None and win.tabs.count() == 1
    qtbot.waitUntil(lambda: loaded(win.view_for(second)), timeout=30000)
    qtbot.waitUntil(lambda: win.recent.numbers() == [second, first], timeout=10000)


def test_the_limit_setting_is_honoured(qtbot, window_factory, sandbox):
    win = window_factory(audit_store=STORE, recent_limit=1)
    sign_in(qtbot, win)
    for scenario in ("ordinary-adult", "child"):
        open_and_wait(qtbot, win, patient_number(sandbox, scenario))
    qtbot.waitUntil(lambda: win.recent.numbers() == [patient_number(sandbox, "child")], timeout=10000)


def test_locked_hides_and_a_switch_of_clinician_empties(qtbot, window_factory, sandbox):
    nhs = patient_number(sandbox, "ordinary-adult")
    win = window_factory(audit_store=STORE)
    sign_in(qtbot, win)
    open_and_wait(qtbot, win, nhs)
    qtbot.waitUntil(lambda: win.recent.numbers() == [nhs], timeout=10000)

    future = win.refresh_recent()
    win.lock_now()  # the reply arrives behind the lock: it is not shown there
    assert future is not None
    qtbot.waitUntil(future.done, timeout=10000)
    qtbot.waitUntil(lambda: win.runner._pending.empty(), timeout=10000)
    assert not win.recent.isVisible()
    assert win.refresh_recent() is None  # nothing is asked for while locked

    win.unlock_as("nurse.adebayo")  # another clinician at the lock screen: a full switch
    qtbot.waitUntil(lambda: win.session is not None and not win.locked and win.stack.currentIndex() == 1,
                    timeout=20000)
    assert "ADEBAYO" in win.user_label.text()
    settle(qtbot, win)
    assert win.recent.numbers() == []

    win.sign_out()
    sign_in(qtbot, win)  # the first clinician again: their own list comes back from the audit log
    qtbot.waitUntil(lambda: win.recent.numbers() == [nhs], timeout=10000)
