"""The session lock on the real window against the sandbox: warning, lock, unlock, switch and the limit.

Time is a fake clock the tests move; the idle watcher is evaluated by hand, so nothing waits 15 minutes
and nothing passes or fails on timing. Screenshots go to WARDVIEW_SHOTS_DIR when set (else tmp_path).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTabBar,
    QWidget,
)

from tests.support.sandbox_wiring import patient_number
from tests.support.window import TERMINAL, FakeClock, sign_in
from viewer.auth.session_policy import SessionPolicy
from viewer.ui.main_window import LOCKED_TITLE


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def events():
    return []


@pytest.fixture
def window(window_factory, clock, events):
    return window_factory(session_policy=SessionPolicy(), clock=clock, on_session_event=events.append)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("WARDVIEW_SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_inpatient(qtbot, win, sandbox):
    nhs = patient_number(sandbox, "warfarin-inpatient")
    view = win.open_patient(nhs)
    assert view is not None
    qtbot.waitUntil(lambda: view.record is not None
                    and all(s.state in TERMINAL for s in view.record.statuses.values()), timeout=30000)
    assert view.record.patient is not None
    return nhs, view


def visible_texts(win: QMainWindow) -> list[str]:
    """Every text a person could read on the window now (and its title, which is also the taskbar's)."""
    texts = [win.windowTitle()]
    for widget in win.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            texts.append(widget.text())
        elif isinstance(widget, QComboBox):
            texts.append(widget.currentText())
        elif isinstance(widget, QTabBar):
            texts.extend(widget.tabText(i) for i in range(widget.count()))
    return texts


def assert_nothing_of(patient_name: str, win) -> None:
    shown = "\n".join(visible_texts(win)).lower()
    assert patient_name.lower() not in shown


def test_input_still_counts_after_a_tab_was_built_and_its_record_shown(qtbot, window, sandbox, clock, events):
    """Building the tab and showing the record pause the watcher's filter: it must be back afterwards."""
    sign_in(qtbot, window)
    _nhs, view = open_inpatient(qtbot, window, sandbox)
    clock.advance(minutes=14, seconds=30)
    window.idle.evaluate()
    assert window.lock_warning.isVisible()
    qtbot.keyClick(view.sections, Qt.Key.Key_Control)
    assert not window.lock_warning.isVisible()
    clock.advance(seconds=45)
    window.idle.evaluate()
    assert not window.locked
    assert events == []


def test_idle_warns_then_locks_and_hides_every_trace_of_the_patient(qtbot, window, sandbox, clock, events,
                                                                    shots):
    sign_in(qtbot, window)
    nhs, view = open_inpatient(qtbot, window, sandbox)
    family = view.record.patient.name.family
    assert family.lower() in "\n".join(visible_texts(window)).lower()  # the check below can see names

    clock.advance(minutes=14)
    window.idle.evaluate()
    assert window.lock_warning.isVisible()
    assert window.lock_warning.text() == (
        "Locking in 60 s - move the mouse or press a key to stay signed in")
    clock.advance(seconds=20)
    window.idle.evaluate()
    assert window.lock_warning.text().startswith("Locking in 40 s")
    assert not window.locked
    assert window.grab().save(str(shots / "lock_warning.png"))

    clock.advance(seconds=40)
    window.idle.evaluate()
    assert window.locked
    assert window.windowTitle() == LOCKED_TITLE
    assert window.windowHandle().title() == LOCKED_TITLE
    assert window.stack.currentWidget() is window.lock_screen
    assert not window.tabs.isVisible()
    assert not window.lock_warning.isVisible()
    assert window.tabs.count() == 1 and window.view_for(nhs) is view  # kept behind the lock
    assert window.lock_screen.locked_by.text() == "Locked by Dr Alice MORGAN"
    assert window.lock_screen.users.currentData() == "dr.morgan"
    assert_nothing_of(family, window)
    assert window.grab().save(str(shots / "lock_screen.png"))
    assert events == ["lock"]


def test_input_during_the_warning_cancels_it(qtbot, window, clock, events):
    sign_in(qtbot, window)
    clock.advance(minutes=14, seconds=30)
    window.idle.evaluate()
    assert window.lock_warning.isVisible()
    qtbot.mouseMove(window.nhs_edit, window.nhs_edit.rect().center())
    assert not window.lock_warning.isVisible()
    clock.advance(seconds=45)  # past the old lock time, well inside the new one
    window.idle.evaluate()
    assert not window.locked
    assert not window.lock_warning.isVisible()
    assert events == []


def test_ctrl_l_locks_and_a_title_set_while_locked_waits_for_the_unlock(qtbot, window, events):
    assert not window.lock_action.isEnabled()  # nothing to lock before sign-in
    sign_in(qtbot, window)
    window.activateWindow()
    qtbot.keyClick(window.nhs_edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    assert events == ["lock"]
    window.setWindowTitle("Wardview - SOMEONE, Patient")
    assert window.windowTitle() == LOCKED_TITLE
    window.unlock_as("dr.morgan")
    qtbot.waitUntil(lambda: not window.locked, timeout=20000)
    assert window.windowTitle() == "Wardview - SOMEONE, Patient"


def test_lock_closes_dialogs_and_hides_other_windows_until_the_same_clinician_is_back(qtbot, window):
    sign_in(qtbot, window)
    dialog = QDialog(window)
    dialog.setWindowTitle("Shows a patient")
    dialog.show()
    detached = QWidget()
    qtbot.addWidget(detached)
    detached.show()
    window.lock_now()
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not detached.isVisible()
    window.unlock_as("dr.morgan")
    qtbot.waitUntil(lambda: not window.locked, timeout=20000)
    assert detached.isVisible()
    assert not dialog.isVisible()


def test_unlock_as_the_same_clinician_keeps_the_tabs_and_their_records(qtbot, window, sandbox, events):
    sign_in(qtbot, window)
    nhs, view = open_inpatient(qtbot, window, sandbox)
    record = view.record
    tab_text = window.tabs.tabText(0)
    first_session = window.session
    window.lock_now()
    assert window.open_patient(nhs) is None  # nothing opens behind the lock
    window.unlock_as("dr.morgan")
    qtbot.waitUntil(lambda: not window.locked, timeout=20000)
    assert window.session is not first_session  # re-authenticated: fresh tokens
    assert window.session.user_id == first_session.user_id
    assert window.stack.currentIndex() == 1
    assert window.tabs.isVisible()
    assert window.tabs.count() == 1 and window.view_for(nhs) is view
    assert view.record is record and window.tabs.tabText(0) == tab_text
    assert window.windowTitle() == "Wardview - SANDBOX (synthetic patients only)"
    assert window.lock_action.isEnabled()
    assert events == ["lock", "unlock"]


def test_unlock_as_another_clinician_is_a_full_switch(qtbot, window, sandbox, events):
    sign_in(qtbot, window)
    _nhs, view = open_inpatient(qtbot, window, sandbox)
    family = view.record.patient.name.family
    first = window.session
    window.lock_now()
    window.unlock_as("pharm.ng")
    qtbot.waitUntil(lambda: window.session is not None and window.session.user_id != first.user_id,
                    timeout=20000)
    assert not window.locked
    assert window.tabs.count() == 0
    assert window.stack.currentIndex() == 1
    assert "NG, Chloe" in window.user_label.text()
    assert_nothing_of(family, window)
    assert events == ["lock", "switch"]
    # the new clinician's session has its own lock and its own limit
    window.lock_now()
    assert window.lock_screen.locked_by.text() == "Locked by Ms Chloe NG"
    assert window.lock_screen.users.currentData() == "pharm.ng"


def test_switch_to_a_clinician_without_a_clinical_role_leaves_nothing_open(qtbot, window, sandbox, events):
    sign_in(qtbot, window)
    open_inpatient(qtbot, window, sandbox)
    window.lock_now()
    window.unlock_as("admin.price")
    qtbot.waitUntil(lambda: "role" in window.sign_in_page.message.text(), timeout=20000)
    assert window.session is None
    assert window.tabs.count() == 0
    assert window.stack.currentIndex() == 0
    assert not window.locked
    assert events == ["lock", "switch"]


def test_session_limit_ends_the_session(qtbot, window, sandbox, clock, events):
    sign_in(qtbot, window)
    open_inpatient(qtbot, window, sandbox)
    for step in range(11 * 6):  # a busy day: input every 10 minutes, never idle long enough to lock
        clock.advance(minutes=10)
        qtbot.mouseMove(window.nhs_edit, QPoint(5 + step % 2, 5))  # Qt drops a move to the same spot
        window.idle.evaluate()
    assert window.session is not None and not window.locked
    clock.advance(minutes=60)
    window.idle.evaluate()
    assert window.session is None
    assert window.tabs.count() == 0
    assert window.stack.currentIndex() == 0
    assert window.sign_in_page.message.text() == "Your session has reached its 12-hour limit: sign in again"
    assert events == ["expired"]


def test_session_limit_reached_behind_the_lock(qtbot, window, sandbox, clock, events):
    sign_in(qtbot, window)
    open_inpatient(qtbot, window, sandbox)
    clock.advance(minutes=15)
    window.idle.evaluate()
    assert window.locked
    clock.advance(hours=12)
    window.idle.evaluate()
    assert not window.locked
    assert window.session is None and window.tabs.count() == 0
    assert window.windowTitle() == "Wardview - SANDBOX (synthetic patients only)"
    assert window.stack.currentIndex() == 0
    assert events == ["lock", "expired"]


def test_sign_out_from_the_lock_screen(qtbot, window, sandbox):
    sign_in(qtbot, window)
    open_inpatient(qtbot, window, sandbox)
    window.lock_now()
    qtbot.mouseClick(window.lock_screen.sign_out_button, Qt.MouseButton.LeftButton)
    assert window.session is None and not window.locked
    assert window.tabs.count() == 0 and window.stack.currentIndex() == 0


def test_a_failing_observer_does_not_stop_the_lock(qtbot, window):
    def broken(_event: str) -> None:
        raise RuntimeError("observer down")

    window.on_session_event = broken
    sign_in(qtbot, window)
    window.lock_now()
    assert window.locked and window.windowTitle() == LOCKED_TITLE
