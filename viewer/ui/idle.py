"""Watches for a clinician's input and turns the session policy into signals the window acts on.

Only input from a person counts (keys, mouse, wheel, touch, pen, input method): timers, repaints and
records arriving must never keep an unattended session open. Events are counted only when spontaneous,
that is delivered by the window system, so events the application sends itself are not mistaken for
someone at the keyboard.

Signals:
    warning(int): the lock is near; seconds left (emitted on every evaluation during the warning).
    warning_cancelled(): input arrived during the warning; the lock is off again.
    lock_requested(): idle for the whole lock period (emitted once, until `resume`).
    expired(): the absolute session limit is reached (emitted once; the watcher then stops).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal, Slot

from viewer.auth.session_policy import Clock, Expired, Locked, LockWarning, SessionPolicy, utc_now

log = logging.getLogger(__name__)

_T = QEvent.Type
ACTIVITY_EVENTS = frozenset({
    _T.KeyPress, _T.KeyRelease, _T.ShortcutOverride, _T.InputMethod,
    _T.MouseButtonPress, _T.MouseButtonRelease, _T.MouseButtonDblClick, _T.MouseMove,
    _T.Wheel, _T.TouchBegin, _T.TouchUpdate, _T.TouchEnd,
    _T.TabletPress, _T.TabletMove, _T.TabletRelease, _T.NativeGesture,
})


class IdleWatcher(QObject):
    warning = Signal(int)
    warning_cancelled = Signal()
    lock_requested = Signal()
    expired = Signal()

    def __init__(
        self,
        policy: SessionPolicy,
        clock: Clock = utc_now,
        *,
        interval_ms: int = 1000,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.policy = policy
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.evaluate)
        self._running = False
        self._locked = False
        self._warning = False
        self._signed_in_at: datetime | None = None
        self._last_input: datetime | None = None
        self._pauses = 0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def warning_shown(self) -> bool:
        return self._warning

    def start(self, signed_in_at: datetime | None = None) -> None:
        """A session begins: the absolute limit counts from `signed_in_at` (now when None)."""
        now = self._clock()
        self._signed_in_at = signed_in_at or now
        self._last_input = now
        self._locked = self._warning = False
        if not self._running:
            app = QCoreApplication.instance()
            if app is not None and not self._pauses:
                app.installEventFilter(self)
            self._running = True
        self._timer.start()

    def stop(self) -> None:
        """The session is over: stop watching (the filter costs a call per event, so it is removed)."""
        self._timer.stop()
        if self._running:
            app = QCoreApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
        self._running = False
        self._locked = self._warning = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Around GUI-thread work that runs no event loop (building a patient tab, showing a record): no
        input can be delivered then, yet every event that work sends itself (a few thousand for a tab)
        would pass through the filter's Python call; the filter is off for its length instead."""
        app = QCoreApplication.instance()
        self._pauses += 1
        if self._pauses == 1 and self._running and app is not None:
            app.removeEventFilter(self)
        try:
            yield
        finally:
            self._pauses -= 1
            if self._pauses == 0 and self._running and app is not None:
                app.installEventFilter(self)

    def mark_locked(self) -> None:
        """Locked (idle or by hand): input no longer counts until `resume`; the limit still runs."""
        self._locked = True
        self._warning = False

    def resume(self) -> None:
        """Unlocked by the same clinician: idle time starts again, the session limit does not."""
        self._locked = self._warning = False
        self._last_input = self._clock()

    def note_input(self) -> None:
        if not self._running or self._locked:
            return
        self._last_input = self._clock()
        if self._warning:
            self._warning = False
            self.warning_cancelled.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY_EVENTS and event.spontaneous():
            self.note_input()
        return False

    @Slot()
    def evaluate(self) -> None:
        """Apply the policy at the clock's now; the timer calls this every second, tests call it directly."""
        if not self._running or self._signed_in_at is None or self._last_input is None:
            return
        state = self.policy.state(self._last_input, self._signed_in_at, self._clock())
        if isinstance(state, Expired):
            log.info("session limit reached")
            self.stop()
            self.expired.emit()
        elif self._locked:
            return
        elif isinstance(state, Locked):
            log.info("idle lock")
            self.mark_locked()
            self.lock_requested.emit()
        elif isinstance(state, LockWarning):
            self._warning = True
            self.warning.emit(state.seconds_left)
        elif self._warning:
            self._warning = False
            self.warning_cancelled.emit()
