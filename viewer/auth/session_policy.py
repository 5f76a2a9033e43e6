"""When an unattended session locks and when a session must end: timing rules only, no Qt, no clock.

Ward PCs are shared and left unattended, so patient data is hidden after a spell without input (with
a warning first, so a clinician reading a record is not locked out mid-sentence), and a session ends
outright after an absolute limit however busy it was (CLINICAL.md: 15 minutes, 12 hours). The rules
take every instant as an argument so they can be tested with a fake clock; the caller owns the clock.
Times are aware UTC datetimes (wall time, not monotonic: time a suspended PC sleeps must count).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.config import Settings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The production clock."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Active:
    """Recent input: nothing to do."""


@dataclass(frozen=True, slots=True)
class LockWarning:
    """The lock is near; `seconds_left` counts down to it (never below 1).

    Named so as not to shadow the built-in `Warning` in modules that import it.
    """

    seconds_left: int


@dataclass(frozen=True, slots=True)
class Locked:
    """Idle for the whole lock period: hide patient data until the clinician re-authenticates."""


@dataclass(frozen=True, slots=True)
class Expired:
    """The absolute session limit is reached: end the session whatever the input."""


SessionState = Active | LockWarning | Locked | Expired


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Idle lock after `idle_lock`, warned `warn_before` ahead; the session ends after `max_session`.

    A warning period as long as the idle period would warn on every keystroke, so it is capped at half
    of `idle_lock`.
    """

    idle_lock: timedelta = timedelta(minutes=15)
    warn_before: timedelta = timedelta(minutes=1)
    max_session: timedelta = timedelta(hours=12)

    def __post_init__(self) -> None:
        if self.idle_lock <= timedelta(0):
            raise ValueError("the idle lock period must be positive")
        if self.max_session <= timedelta(0):
            raise ValueError("the session limit must be positive")
        if self.warn_before < timedelta(0):
            raise ValueError("the lock warning period cannot be negative")

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            idle_lock=timedelta(minutes=settings.idle_lock_minutes),
            max_session=timedelta(hours=settings.session_max_hours),
        )

    @property
    def warning_period(self) -> timedelta:
        return min(self.warn_before, self.idle_lock / 2)

    def locks_at(self, last_input: datetime) -> datetime:
        return last_input + self.idle_lock

    def ends_at(self, signed_in_at: datetime) -> datetime:
        return signed_in_at + self.max_session

    def state(self, last_input: datetime, signed_in_at: datetime, now: datetime) -> SessionState:
        """The session's state at `now`. The absolute limit wins over everything else."""
        if now >= self.ends_at(signed_in_at):
            return Expired()
        left = self.locks_at(last_input) - now
        if left <= timedelta(0):
            return Locked()
        if left <= self.warning_period:
            return LockWarning(max(1, math.ceil(left.total_seconds())))
        return Active()

    def limit_text(self) -> str:
        """The limit as a clinician reads it: "12-hour", or "90-minute" when not whole hours."""
        minutes = math.ceil(self.max_session.total_seconds() / 60)
        if minutes % 60 == 0:
            return f"{minutes // 60}-hour"
        return f"{minutes}-minute"

    def expiry_message(self) -> str:
        return f"Your session has reached its {self.limit_text()} limit: sign in again"


__all__ = [
    "Active",
    "Clock",
    "Expired",
    "LockWarning",
    "Locked",
    "SessionPolicy",
    "SessionState",
    "utc_now",
]
