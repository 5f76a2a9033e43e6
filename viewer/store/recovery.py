"""Opening the store at start-up whatever state the last run or the PC left it in.

A store that cannot be read (the keyring was reset so the key is gone or different, the file is damaged,
the key entry itself is damaged) is never deleted: it is moved aside, with its write-ahead log and index,
to `<name>.unreadable-<UTC time>`, and a new, empty store starts, so the viewer keeps working and IT can
still look at the old file. The set-aside files keep SQLite's `-wal`/`-shm` suffixes after the new name,
so the three still open together. What is not recovered here: no usable keyring (`KeyringUnavailable`,
the caller runs without a store), and a store from a newer Wardview (`StoreTooNew`: setting it aside
would hide that build's data from it).

Trying the wrong key loses nothing of the old store: closing that connection checkpoints the old
write-ahead log into the old file, copying its encrypted pages as they are (the old key still reads them;
tests/unit/store/test_store_recovery.py shows it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from keyring.backend import KeyringBackend

from viewer.store.database import Store
from viewer.store.errors import KeyMissing, StoreCorrupt, StoreUnreadable, WrongKey
from viewer.store.keys import new_store_key
from viewer.store.migrations import MIGRATIONS, Migration
from viewer.store.row_values import utc_now

log = logging.getLogger(__name__)

SIDE_FILES = ("-wal", "-shm")


def open_or_recover(
    path: Path,
    *,
    store_id: str | None = None,
    backend: KeyringBackend | None = None,
    clock: Callable[[], datetime] = utc_now,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> tuple[Store, str | None]:
    """The store at `path`, and None; or, when the old one could not be read, a new store and a notice
    for the window saying what happened and where the old file is. Raises KeyringUnavailable,
    StoreTooNew, and any StoreError of the new store itself."""
    store_id = store_id or path.stem
    try:
        return Store.open(path, store_id=store_id, backend=backend, migrations=migrations), None
    except KeyMissing:
        # Only a damaged entry gets here (an absent key is made anew, then fails as WrongKey).
        reason = "its key in this PC's key store is damaged"
        replace_key = True
    except WrongKey:
        reason = "it cannot be read with this PC's key (the key store may have been reset)"
        replace_key = False
    except StoreCorrupt:
        reason = "it is damaged"
        replace_key = False
    aside = set_aside(path, clock())
    log.error("The store could not be opened and was set aside (%s)", reason)
    if replace_key:
        new_store_key(store_id, backend=backend)
    store = Store.open(path, store_id=store_id, backend=backend, migrations=migrations)
    where = f" It was kept as {aside.name}." if aside is not None else ""
    return store, (
        f"Wardview's secure store could not be used: {reason}. A new, empty store was started: records "
        f"cached before and the earlier local audit log are not available.{where}"
    )


def set_aside(path: Path, moment: datetime) -> Path | None:
    """Move the store and its side files to `<name>.unreadable-<UTC time>` (never over another file);
    the new path of the main file, or None when there was no file to move."""
    if not path.exists():
        return None
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    number = 1
    while any(Path(f"{target}{suffix}").exists() for suffix in ("", *SIDE_FILES)):
        number += 1
        target = path.with_name(f"{path.name}.unreadable-{stamp}-{number}")
    try:  # the side files first: a new store must never find an old write-ahead log beside it
        for suffix in SIDE_FILES:
            side = Path(f"{path}{suffix}")
            if side.exists():
                side.rename(f"{target}{suffix}")
        path.rename(target)
    except OSError as exc:
        log.error("The unreadable store could not be set aside (%s)", type(exc).__name__)
        raise StoreUnreadable(
            "Wardview's secure store cannot be read, and could not be moved aside to start a new one. "
            "Contact IT."
        ) from None
    return target

