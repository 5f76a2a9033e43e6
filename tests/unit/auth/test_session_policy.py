"""Idle lock, lock warning and absolute session limit, driven by explicit instants (a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from viewer.auth.session_policy import (
    Active,
    Expired,
    Locked,
    LockWarning,
    SessionPolicy,
    utc_now,
)
from viewer.config import Settings

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
POLICY = SessionPolicy(idle_lock=timedelta(minutes=15), max_session=timedelta(hours=12))


def at(**delta) -> datetime:
    return T0 + timedelta(**delta)


def test_recent_input_is_active():
    assert POLICY.state(T0, T0, T0) == Active()
    assert POLICY.state(T0, T0, at(minutes=13, seconds=59)) == Active()


def test_warning_a_minute_before_the_lock_counts_down():
    assert POLICY.state(T0, T0, at(minutes=14)) == LockWarning(60)
    assert POLICY.state(T0, T0, at(minutes=14, seconds=30)) == LockWarning(30)
    assert POLICY.state(T0, T0, at(minutes=14, seconds=59, milliseconds=500)) == LockWarning(1)


def test_partial_seconds_round_up_so_the_countdown_never_shows_zero_before_the_lock():
    assert POLICY.state(T0, T0, at(minutes=14, milliseconds=1)) == LockWarning(60)


def test_locked_after_the_idle_period():
    assert POLICY.state(T0, T0, at(minutes=15)) == Locked()
    assert POLICY.state(T0, T0, at(hours=3)) == Locked()


def test_input_moves_the_lock():
    last_input = at(minutes=10)
    assert POLICY.state(last_input, T0, at(minutes=15)) == Active()
    assert POLICY.state(last_input, T0, at(minutes=24, seconds=10)) == LockWarning(50)
    assert POLICY.state(last_input, T0, at(minutes=25)) == Locked()


def test_absolute_limit_wins_over_recent_input_and_over_the_lock():
    assert POLICY.state(at(hours=12), T0, at(hours=12)) == Expired()
    assert POLICY.state(at(hours=11, minutes=59), T0, at(hours=12, seconds=1)) == Expired()
    assert POLICY.state(T0, T0, at(hours=13)) == Expired()
    assert POLICY.state(at(hours=11, minutes=59), T0, at(hours=11, minutes=59, seconds=59)) == Active()


def test_clock_before_last_input_is_active_not_an_error():
    assert POLICY.state(at(minutes=5), T0, at(minutes=1)) == Active()


def test_warning_capped_at_half_the_idle_period():
    short = SessionPolicy(idle_lock=timedelta(minutes=1), warn_before=timedelta(minutes=1))
    assert short.warning_period == timedelta(seconds=30)
    assert short.state(T0, T0, at(seconds=29)) == Active()
    assert short.state(T0, T0, at(seconds=31)) == LockWarning(29)


def test_no_warning_when_warn_before_is_zero():
    policy = SessionPolicy(warn_before=timedelta(0))
    assert policy.state(T0, T0, at(minutes=14, seconds=59)) == Active()
    assert policy.state(T0, T0, at(minutes=15)) == Locked()


@pytest.mark.parametrize(
    "kwargs",
    [{"idle_lock": timedelta(0)}, {"max_session": timedelta(seconds=-1)}, {"warn_before": timedelta(-1)}],
)
def test_nonsense_periods_are_refused(kwargs):
    with pytest.raises(ValueError):
        SessionPolicy(**kwargs)


def test_from_settings_uses_the_configured_periods():
    policy = SessionPolicy.from_settings(Settings(idle_lock_minutes=5, session_max_hours=8))
    assert policy.idle_lock == timedelta(minutes=5)
    assert policy.max_session == timedelta(hours=8)
    assert policy.warn_before == timedelta(minutes=1)
    defaults = SessionPolicy.from_settings(Settings())
    assert (defaults.idle_lock, defaults.max_session) == (timedelta(minutes=15), timedelta(hours=12))


def test_expiry_message_names_the_limit():
    assert POLICY.expiry_message() == "Your session has reached its 12-hour limit: sign in again"
    assert SessionPolicy(max_session=timedelta(minutes=90)).limit_text() == "90-minute"


def test_locks_at_and_ends_at():
    assert POLICY.locks_at(T0) == at(minutes=15)
    assert POLICY.ends_at(T0) == at(hours=12)


def test_production_clock_is_aware_utc():
    now = utc_now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
