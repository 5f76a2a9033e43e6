"""The window refreshes the access token before it expires; the timer's slot is driven by hand with a fake
`now`, so nothing waits 30 seconds and nothing passes or fails on timing."""

from __future__ import annotations

from datetime import timedelta

import keyring
import pytest

from tests.support.window import sign_in
from viewer.auth.token_store import token_entry
from viewer.ui.main_window import REFRESH_CHECK_MS, REFRESH_FAILED


@pytest.fixture
def window(window_factory):
    return window_factory()


def test_timer_runs_only_while_signed_in_and_unlocked(qtbot, window):
    assert not window.refresh_timer.isActive()
    sign_in(qtbot, window)
    assert window.refresh_timer.isActive() and window.refresh_timer.interval() == REFRESH_CHECK_MS
    window.lock_now()
    assert not window.refresh_timer.isActive()
    window.sign_out()
    assert not window.refresh_timer.isActive()


def test_near_expiry_the_slot_refreshes_and_rotates_the_kept_token(qtbot, window):
    sign_in(qtbot, window)
    session = window.session
    entry = token_entry(session.user_id)
    first_access = session.tokens.access_token
    first_kept = keyring.get_keyring().get_password("wardview", entry)
    expires = session.tokens.expires_at

    window.refresh_if_due(now=expires - timedelta(minutes=5))  # not yet due: nothing happens
    assert not window._refreshing
    assert session.tokens.access_token == first_access

    window.refresh_if_due(now=expires - timedelta(seconds=90))
    qtbot.waitUntil(lambda: session.tokens.access_token != first_access and not window._refreshing,
                    timeout=20000)
    assert session.tokens.refresh_token is None
    kept = keyring.get_keyring().get_password("wardview", entry)
    assert kept and kept != first_kept
    assert window.statusBar().currentMessage() != REFRESH_FAILED
    window.sign_out()


def test_a_failed_refresh_is_said_in_the_status_bar_without_signing_out(qtbot, window):
    sign_in(qtbot, window)
    session = window.session
    keyring.get_keyring().delete_password("wardview", token_entry(session.user_id))  # nothing to refresh with
    window.refresh_if_due(now=session.tokens.expires_at)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == REFRESH_FAILED, timeout=20000)
    assert window.session is session  # still signed in: the clinician decides when
    assert window.stack.currentIndex() == 1
    window.sign_out()
