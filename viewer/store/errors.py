"""The store's typed failures, each with a sentence for the clinician or the IT desk.

Messages never carry the key, a path under a user's profile is fine, patient data never: these errors
reach the status strip and the log.
"""

from __future__ import annotations


class StoreError(Exception):
    """The encrypted store cannot be used. `user_message` is what the window or the CLI prints."""

    default_message = "Wardview's secure store could not be used."

    def __init__(self, user_message: str | None = None):
        self.user_message = user_message or self.default_message
        super().__init__(self.user_message)


class KeyringUnavailable(StoreError):
    """No usable OS keyring: Wardview keeps nothing rather than keep a key on disk."""

    default_message = (
        "The secure key store of this PC is not available, so Wardview cannot keep records or its "
        "audit log. Contact IT."
    )


class KeyMissing(StoreError):
    """The store exists but its key is not in the keyring (the keyring was reset or this is another PC)."""

    default_message = "The key of Wardview's secure store is not in this PC's key store."


class StoreUnreadable(StoreError):
    """The file exists but cannot be opened as this store: issue 5 sets such a file aside."""


class WrongKey(StoreUnreadable):
    """The first page does not decrypt with the key from the keyring.

    SQLCipher cannot tell a wrong key from a damaged first page (both fail the page HMAC); either way
    this key will never read this file.
    """

    default_message = "Wardview's secure store cannot be read with this PC's key (wrong key or damaged file)."


class StoreCorrupt(StoreUnreadable):
    """The file decrypts but fails its integrity checks, or is not an encrypted Wardview store at all."""

    default_message = "Wardview's secure store is damaged."


class StoreTooNew(StoreUnreadable):
    """The schema is newer than this version of Wardview knows: opening it could lose data."""

    default_message = "Wardview's secure store was written by a newer version of Wardview."


class StoreMissing(StoreError):
    """Asked to open an existing store (never create one) and there is none at that path."""

    default_message = "There is no Wardview store at that path."


class StoreFull(StoreError):
    """A write failed because the disk (or the store's page limit) is full: nothing of it was kept.

    The caller keeps what is on screen; only the copy on disk is missing, so the message says that.
    """

    default_message = (
        "The disk of this PC is full, so Wardview could not save a copy of this record. What is on screen "
        "is complete and current; contact IT to free space."
    )
