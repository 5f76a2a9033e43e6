"""The store key: made once, kept only in the keyring, never shown, and refused without a real keyring."""

from __future__ import annotations

import logging
import pickle

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from tests.support.memory_keyring import MemoryKeyring
from viewer.store.errors import KeyMissing, KeyringUnavailable
from viewer.store.keys import SERVICE, StoreKey, key_entry, keyring_name, load_store_key

PLAIN_MESSAGE = (
    "The secure key store of this PC is not available, so Wardview cannot keep records or its "
    "audit log. Contact IT."
)


class RaisingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, *, on: str = "get"):
        super().__init__()
        self.on = on
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        if self.on == "get":
            raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.on == "set":
            raise keyring.errors.PasswordSetError("locked collection")
        if self.on != "forget":
            self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def test_key_is_created_once_and_reused() -> None:
    backend = MemoryKeyring()
    first = load_store_key("ward", backend=backend)
    second = load_store_key("ward", backend=backend)
    assert first == second
    stored = backend.get_password(SERVICE, key_entry("ward"))
    assert stored == first.raw.hex() and len(stored) == 64
    assert len(first.raw) == 32
    assert list(backend._store) == [(SERVICE, "store-key:ward")]


def test_each_store_has_its_own_key() -> None:
    backend = MemoryKeyring()
    assert load_store_key("one", backend=backend) != load_store_key("two", backend=backend)


def test_the_default_backend_is_the_configured_keyring() -> None:
    entry = key_entry("default-backend-test")
    key = load_store_key("default-backend-test")
    assert keyring.get_password(SERVICE, entry) == key.raw.hex()
    keyring.delete_password(SERVICE, entry)


def test_absent_key_is_not_created_when_asked_not_to() -> None:
    backend = MemoryKeyring()
    with pytest.raises(KeyMissing):
        load_store_key("ward", create=False, backend=backend)
    assert backend._store == {}


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), chainer.ChainerBackend.__new__(chainer.ChainerBackend)],
    ids=["fail", "null", "empty-chainer"],
)
def test_no_usable_keyring_is_refused_plainly(backend: KeyringBackend, monkeypatch) -> None:
    if isinstance(backend, chainer.ChainerBackend):
        monkeypatch.setattr(chainer.ChainerBackend, "backends", property(lambda self: []))
    with pytest.raises(KeyringUnavailable) as caught:
        load_store_key("ward", backend=backend)
    assert caught.value.user_message == PLAIN_MESSAGE
    assert str(caught.value) == PLAIN_MESSAGE


def test_the_configured_fail_backend_is_refused(monkeypatch) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyringUnavailable):
            load_store_key("ward")
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("on", ["get", "set", "forget"])
def test_a_failing_keyring_is_unavailable_not_a_crash(on: str, caplog) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(KeyringUnavailable) as caught:
        load_store_key("ward", backend=RaisingKeyring(on=on))
    assert caught.value.user_message == PLAIN_MESSAGE
    # the backend's own exception (which may quote its arguments) is not chained into the log
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_a_damaged_entry_is_reported_not_replaced() -> None:
    backend = MemoryKeyring()
    backend.set_password(SERVICE, key_entry("ward"), "not-hex")
    with pytest.raises(KeyMissing):
        load_store_key("ward", backend=backend)
    assert backend.get_password(SERVICE, key_entry("ward")) == "not-hex"


def test_the_key_never_shows_itself(caplog) -> None:
    backend = MemoryKeyring()
    with caplog.at_level(logging.DEBUG):
        key = load_store_key("ward", backend=backend)
        load_store_key("ward", backend=backend)
    hex_key = key.raw.hex()
    assert hex_key not in repr(key) and hex_key not in str(key) and hex_key not in f"{key}"
    assert hex_key not in caplog.text and hex_key.upper() not in caplog.text
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert key.sqlcipher_pragma_value() == f"\"x'{hex_key}'\""


def test_key_length_is_checked() -> None:
    with pytest.raises(ValueError):
        StoreKey(b"short")


def test_keyring_name_names_the_backend() -> None:
    assert keyring_name(fail.Keyring()) == fail.Keyring.name
    assert keyring_name(MemoryKeyring())
