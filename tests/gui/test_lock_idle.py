"""The idle watcher on a fake clock: what counts as input, the warning, the lock and the session limit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from tests.support.window import FakeClock
from viewer.auth.session_policy import SessionPolicy
from viewer.ui.idle import IdleWatcher


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def watcher(qtbot, clock):
    w = IdleWatcher(SessionPolicy(), clock, interval_ms=60_000)  # the tests evaluate by hand
    w.start()
    yield w
    w.stop()


@pytest.fixture
def field(qtbot):
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    qtbot.waitExposed(edit)
    return edit


def test_quiet_until_the_warning_then_counts_down_then_locks_once(qtbot, watcher, clock):
    clock.advance(minutes=13, seconds=59)
    with qtbot.assertNotEmitted(watcher.warning), qtbot.assertNotEmitted(watcher.lock_requested):
        watcher.evaluate()
    clock.advance(seconds=1)
    with qtbot.waitSignal(watcher.warning, timeout=1000) as blocker:
        watcher.evaluate()
    assert blocker.args == [60]
    clock.advance(seconds=45)
    with qtbot.waitSignal(watcher.warning, timeout=1000) as blocker:
        watcher.evaluate()
    assert blocker.args == [15]
    clock.advance(seconds=15)
    with qtbot.waitSignal(watcher.lock_requested, timeout=1000):
        watcher.evaluate()
    assert watcher.locked
    clock.advance(minutes=5)
    with qtbot.assertNotEmitted(watcher.lock_requested), qtbot.assertNotEmitted(watcher.warning):
        watcher.evaluate()


def test_key_press_during_the_warning_cancels_it(qtbot, watcher, clock, field):
    clock.advance(minutes=14, seconds=30)
    watcher.evaluate()
    assert watcher.warning_shown
    with qtbot.waitSignal(watcher.warning_cancelled, timeout=1000):
        qtbot.keyClick(field, Qt.Key.Key_A)
    assert not watcher.warning_shown
    clock.advance(minutes=13, seconds=59)  # the fifteen minutes start again from the key press
    with qtbot.assertNotEmitted(watcher.warning), qtbot.assertNotEmitted(watcher.lock_requested):
        watcher.evaluate()
    clock.advance(minutes=1, seconds=1)
    with qtbot.waitSignal(watcher.lock_requested, timeout=1000):
        watcher.evaluate()


def test_mouse_movement_and_clicks_count_as_input(qtbot, watcher, clock, field):
    for act in (lambda: qtbot.mouseMove(field, field.rect().center()),
                lambda: qtbot.mouseClick(field, Qt.MouseButton.LeftButton)):
        clock.advance(minutes=14, seconds=30)
        watcher.evaluate()
        assert watcher.warning_shown
        act()
        assert not watcher.warning_shown


def test_timers_repaints_and_events_the_app_sends_itself_do_not_count(qtbot, watcher, clock, field):
    fired = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)
    field.repaint()
    field.setText("arriving record")
    key = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_B, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(field, key)
    QApplication.sendEvent(field, QMouseEvent(
        QEvent.Type.MouseMove, QPointF(2, 2), QPointF(2, 2), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    clock.advance(minutes=15)
    with qtbot.waitSignal(watcher.lock_requested, timeout=1000):
        watcher.evaluate()


def test_input_while_locked_does_not_unlock(qtbot, watcher, clock, field):
    clock.advance(minutes=15)
    watcher.evaluate()
    assert watcher.locked
    qtbot.keyClick(field, Qt.Key.Key_A)
    assert watcher.locked
    with qtbot.assertNotEmitted(watcher.warning_cancelled):
        watcher.evaluate()


def test_session_limit_ends_the_session_even_while_locked_and_stops_the_watcher(qtbot, watcher, clock):
    clock.advance(minutes=15)
    watcher.evaluate()
    assert watcher.locked
    clock.advance(hours=12)
    with qtbot.waitSignal(watcher.expired, timeout=1000):
        watcher.evaluate()
    assert not watcher.running
    with qtbot.assertNotEmitted(watcher.expired):
        watcher.evaluate()


def test_session_limit_ends_a_busy_session(qtbot, watcher, clock, field):
    for _ in range(12 * 6):
        clock.advance(minutes=10)
        qtbot.keyClick(field, Qt.Key.Key_A)
        if watcher.running:
            watcher.evaluate()
    assert not watcher.running


def test_resume_restarts_the_idle_period_but_not_the_session_limit(qtbot, watcher, clock):
    clock.advance(hours=11, minutes=50)
    watcher.evaluate()
    assert watcher.locked
    watcher.resume()
    assert not watcher.locked
    clock.advance(minutes=5)
    with qtbot.assertNotEmitted(watcher.lock_requested):
        watcher.evaluate()
    clock.advance(minutes=5)
    with qtbot.waitSignal(watcher.expired, timeout=1000):
        watcher.evaluate()


def test_stopped_watcher_ignores_input_and_time(qtbot, watcher, clock, field):
    watcher.stop()
    clock.advance(hours=20)
    qtbot.keyClick(field, Qt.Key.Key_A)
    with qtbot.assertNotEmitted(watcher.lock_requested), qtbot.assertNotEmitted(watcher.expired):
        watcher.evaluate()


def test_its_own_timer_drives_the_evaluation(qtbot, clock):
    w = IdleWatcher(SessionPolicy(), clock, interval_ms=10)
    w.start()
    try:
        clock.advance(minutes=15)
        with qtbot.waitSignal(w.lock_requested, timeout=5000):
            pass
    finally:
        w.stop()


def test_input_counts_again_once_a_pause_ends_even_after_nested_pauses(qtbot, watcher, clock, field):
    with watcher.paused():
        with watcher.paused():
            field.setText("a tab being built")
        field.setText("still building")
    clock.advance(minutes=14, seconds=30)
    watcher.evaluate()
    assert watcher.warning_shown
    with qtbot.waitSignal(watcher.warning_cancelled, timeout=1000):
        qtbot.keyClick(field, Qt.Key.Key_A)


def test_a_pause_neither_counts_input_nor_outlives_a_watcher_stopped_meanwhile(qtbot, clock, field):
    watcher = IdleWatcher(SessionPolicy(), clock, interval_ms=60_000)
    watcher.start()
    clock.advance(minutes=14, seconds=30)
    watcher.evaluate()
    with watcher.paused():
        qtbot.keyClick(field, Qt.Key.Key_A)  # delivered at once by QTest, unlike a person's key press
        assert watcher.warning_shown
        watcher.stop()
    assert not watcher.running
    qtbot.keyClick(field, Qt.Key.Key_A)
    watcher.start()  # a new session after the pause: the filter is back
    clock.advance(minutes=14, seconds=30)
    watcher.evaluate()
    with qtbot.waitSignal(watcher.warning_cancelled, timeout=1000):
        qtbot.keyClick(field, Qt.Key.Key_A)
    watcher.stop()


def test_a_watcher_started_during_a_pause_watches_from_its_end(qtbot, clock, field):
    watcher = IdleWatcher(SessionPolicy(), clock, interval_ms=60_000)
    with watcher.paused():
        watcher.start()
        clock.advance(minutes=14, seconds=30)
        watcher.evaluate()
        qtbot.keyClick(field, Qt.Key.Key_A)
        assert watcher.warning_shown
    with qtbot.waitSignal(watcher.warning_cancelled, timeout=1000):
        qtbot.keyClick(field, Qt.Key.Key_A)
    watcher.stop()
