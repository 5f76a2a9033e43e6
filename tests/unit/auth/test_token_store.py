"""The refresh token store: only the OS keyring, one entry per clinician, refused plainly without one."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from tests.support.memory_keyring import MemoryKeyring
from viewer.auth.token_store import RefreshTokenStore, token_entry
from viewer.store.errors import KeyringUnavailable

SECRET = "REFRESH-SECRET-abc123"


class BrokenKeyring(KeyringBackend):
    """A keyring that is there but fails every call, as a locked Secret Service collection does."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError(f"dbus said no to {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"cannot store {password}")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("locked")


def test_put_take_delete_round_trip_under_the_wardview_service() -> None:
    backend = MemoryKeyring()
    tokens = RefreshTokenStore(backend)
    assert tokens.take("555000000001") is None
    tokens.put("555000000001", SECRET)
    assert backend.get_password("wardview", "refresh-token:555000000001") == SECRET
    assert tokens.take("555000000001") == SECRET
    assert tokens.take("555000000001") == SECRET  # reading leaves it for a retry
    tokens.put("555000000001", "ROTATED")
    assert tokens.take("555000000001") == "ROTATED"
    tokens.delete("555000000001")
    assert tokens.take("555000000001") is None
    tokens.delete("555000000001")  # already gone: not an error
    assert token_entry("x") == "refresh-token:x"


def test_each_clinician_has_their_own_entry() -> None:
    tokens = RefreshTokenStore(MemoryKeyring())
    tokens.put("one", "A")
    tokens.put("two", "B")
    tokens.delete("one")
    assert (tokens.take("one"), tokens.take("two")) == (None, "B")


def test_the_default_backend_is_the_active_keyring() -> None:
    active = keyring.get_keyring()
    assert isinstance(active, MemoryKeyring)  # tests/conftest.py: never the developer's keyring
    tokens = RefreshTokenStore()
    tokens.put("default-user", SECRET)
    try:
        assert active.get_password("wardview", "refresh-token:default-user") == SECRET
    finally:
        tokens.delete("default-user")


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_usable_keyring_is_refused_and_nothing_goes_to_disk(backend, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    tokens = RefreshTokenStore(backend)
    for call in (lambda: tokens.put("u", SECRET), lambda: tokens.take("u"), lambda: tokens.delete("u")):
        with pytest.raises(KeyringUnavailable) as caught:
            call()
        assert SECRET not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_configured_fail_backend_is_refused() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyringUnavailable):
            RefreshTokenStore().put("u", SECRET)
    finally:
        keyring.set_keyring(previous)


def test_a_failing_keyring_is_unavailable_and_the_token_is_never_shown(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = RefreshTokenStore(BrokenKeyring())
    for call in (lambda: tokens.put("u", SECRET), lambda: tokens.take("u"), lambda: tokens.delete("u")):
        with pytest.raises(KeyringUnavailable) as caught:
            call()
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert SECRET not in caplog.text
    assert "RuntimeError" in caplog.text
    assert SECRET not in repr(tokens)
