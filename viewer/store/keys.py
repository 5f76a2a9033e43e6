"""The store's 256-bit key, created on first use and kept only in the OS keyring.

Why the keyring and nothing else: the store is unreadable to whoever takes the disk only while its key is
somewhere the disk alone does not give away. So there is no fallback: with no usable keyring the viewer
keeps nothing, and says so (`KeyringUnavailable`). The key is held in `StoreKey`, whose repr and str
never show it, and no message here ever includes it.
"""

from __future__ import annotations

import logging
import secrets

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail

from viewer.store.errors import KeyMissing, KeyringUnavailable

log = logging.getLogger(__name__)

SERVICE = "wardview"
KEY_BYTES = 32
_UNUSABLE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null")


class StoreKey:
    """A raw key that will not print itself."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes):
        if len(raw) != KEY_BYTES:
            raise ValueError("a store key is 32 bytes")
        self._raw = bytes(raw)

    @property
    def raw(self) -> bytes:
        return self._raw

    def sqlcipher_pragma_value(self) -> str:
        """The raw-key form SQLCipher expects in `PRAGMA key`, so no passphrase derivation runs."""
        return f"\"x'{self._raw.hex()}'\""

    def __repr__(self) -> str:
        return "StoreKey(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreKey) and secrets.compare_digest(self._raw, other._raw)

    def __reduce__(self) -> object:
        raise TypeError("a store key cannot be pickled")


def key_entry(store_id: str) -> str:
    """The keyring user name under the `wardview` service; `cache info` shows it (never the key)."""
    return f"store-key:{store_id}"


def usable_backend(backend: KeyringBackend | None) -> KeyringBackend:
    chosen = backend if backend is not None else keyring.get_keyring()
    if _is_unusable(chosen):
        raise KeyringUnavailable()
    return chosen


def _is_unusable(backend: KeyringBackend) -> bool:
    if isinstance(backend, fail.Keyring) or type(backend).__module__ in _UNUSABLE_BACKENDS:
        return True
    if isinstance(backend, chainer.ChainerBackend):
        return not any(not _is_unusable(b) for b in backend.backends)
    return False


def keyring_name(backend: KeyringBackend | None = None) -> str:
    """Which keyring holds the key, e.g. `SecretService Keyring`; for `cache info` and support calls."""
    chosen = backend if backend is not None else keyring.get_keyring()
    name = getattr(chosen, "name", None) or type(chosen).__name__
    return str(name)


def load_store_key(
    store_id: str, *, create: bool = True, backend: KeyringBackend | None = None
) -> StoreKey:
    """The key of store `store_id`: read from the keyring, or made and saved there when absent.

    With `create=False` an absent key is `KeyMissing` (for tools such as `audit verify` that must never
    start a new store). A keyring that is missing or fails is `KeyringUnavailable`.
    """
    chosen = usable_backend(backend)
    entry = key_entry(store_id)
    try:
        stored = chosen.get_password(SERVICE, entry)
    except Exception as exc:  # every backend raises its own types: dbus, winreg, keychain
        log.error("The keyring could not be read (%s)", type(exc).__name__)
        raise KeyringUnavailable() from None
    if stored is not None:
        return _parse(stored)
    if not create:
        raise KeyMissing()
    return _create(chosen, entry)


def new_store_key(store_id: str, *, backend: KeyringBackend | None = None) -> StoreKey:
    """A fresh key for store `store_id`, replacing whatever the keyring held (only for a new, empty store:
    recovery calls it after the file the old entry belonged to was set aside)."""
    return _create(usable_backend(backend), key_entry(store_id))


def _create(chosen: KeyringBackend, entry: str) -> StoreKey:
    key = StoreKey(secrets.token_bytes(KEY_BYTES))
    try:
        chosen.set_password(SERVICE, entry, key.raw.hex())
        saved = chosen.get_password(SERVICE, entry)
    except Exception as exc:
        log.error("The keyring could not save the store key (%s)", type(exc).__name__)
        raise KeyringUnavailable() from None
    if saved is None or _parse(saved) != key:
        log.error("The keyring did not keep the store key")
        raise KeyringUnavailable()
    log.info("Created a new store key in the keyring (%s)", keyring_name(chosen))
    return key


def _parse(stored: str) -> StoreKey:
    try:
        raw = bytes.fromhex(stored.strip())
        return StoreKey(raw)
    except ValueError:
        log.error("The store key in the keyring is not a 256-bit hex key")
        raise KeyMissing(
            "The key of Wardview's secure store in this PC's key store is damaged."
        ) from None
