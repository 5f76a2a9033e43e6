"""The clinician's refresh token, kept only in the OS keyring.

A refresh token lasts a whole shift and can mint access tokens without a smartcard, so it must not sit in
the memory of a long-running window (a crash dump, a debugger) or on disk. The keyring is the one place
that does not give it away with the disk; there is no fallback: with no usable keyring nothing is kept
and the caller is told (`KeyringUnavailable`), exactly as for the store key (viewer.store.keys, whose
test for an unusable keyring is reused here). The token never appears in a log line, an exception
message or a repr.
"""

from __future__ import annotations

import logging

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from viewer.store.errors import KeyringUnavailable
from viewer.store.keys import SERVICE, keyring_name, usable_backend

log = logging.getLogger(__name__)


def token_entry(user_id: str) -> str:
    """The keyring user name under the `wardview` service (an SDS user id is not a secret)."""
    return f"refresh-token:{user_id}"


class RefreshTokenStore:
    """`backend` is for tests; by default the keyring is looked up on every call, so a keyring that
    comes or goes while the app runs is seen as it is now."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    def put(self, user_id: str, token: str) -> None:
        """Keep `token` for `user_id`, replacing the one before (refresh tokens rotate)."""
        chosen = usable_backend(self._backend)
        try:
            chosen.set_password(SERVICE, token_entry(user_id), token)
        except Exception as exc:  # every backend raises its own types: dbus, winreg, keychain
            log.error("The keyring could not save the refresh token (%s)", type(exc).__name__)
            raise KeyringUnavailable() from None

    def take(self, user_id: str) -> str | None:
        """The kept token, or None when there is none. Reading leaves it in place: a refresh that fails
        on the network must not lose it; `delete` removes it."""
        chosen = usable_backend(self._backend)
        try:
            return chosen.get_password(SERVICE, token_entry(user_id))
        except Exception as exc:
            log.error("The keyring could not be read (%s)", type(exc).__name__)
            raise KeyringUnavailable() from None

    def delete(self, user_id: str) -> None:
        """Forget the token; forgetting one that is not there is not an error."""
        chosen = usable_backend(self._backend)
        try:
            chosen.delete_password(SERVICE, token_entry(user_id))
        except PasswordDeleteError:
            return
        except Exception as exc:
            log.error("The keyring could not delete the refresh token (%s)", type(exc).__name__)
            raise KeyringUnavailable() from None

    def __repr__(self) -> str:
        chosen = self._backend
        return f"RefreshTokenStore({keyring_name(chosen) if chosen is not None else 'default keyring'})"
