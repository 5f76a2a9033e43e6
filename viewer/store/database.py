"""Open or create the SQLCipher 4 store, and hand out its one connection safely between threads.

Opening is where every failure must show: the key is checked by reading `sqlite_master` (SQLCipher only
decrypts lazily), and an existing file is integrity-checked, so a wrong key or a damaged file is a typed
error at start-up (`WrongKey`, `StoreCorrupt`) rather than a crash in the middle of a ward round. What to
do about it (set the file aside, start a new store) is the caller's decision.

One connection serves the GUI thread (the audit facade) and the worker loop (the audit sender): a lock
serialises them, and `transaction()` makes a group of writes atomic.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlcipher3
from keyring.backend import KeyringBackend

from viewer.store.errors import StoreCorrupt, StoreFull, StoreMissing, WrongKey
from viewer.store.keys import StoreKey, load_store_key
from viewer.store.migrations import MIGRATIONS, Migration, migrate

log = logging.getLogger(__name__)

PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"

Connection = Any  # sqlcipher3 has no type stubs


def open_database(
    path: Path, key: StoreKey, *, create: bool = True, migrations: Sequence[Migration] = MIGRATIONS
) -> Connection:
    """A migrated, autocommit connection to the encrypted store at `path`."""
    existed = path.exists() and path.stat().st_size > 0
    if not existed and not create:
        raise StoreMissing()
    if existed:
        with path.open("rb") as fh:
            if fh.read(len(PLAIN_SQLITE_HEADER)) == PLAIN_SQLITE_HEADER:
                raise StoreCorrupt("The file is a plain SQLite database, not an encrypted Wardview store.")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        _unlock(connection, key)
        if existed:
            _check_integrity(connection)
        configure(connection)
        migrate(connection, migrations)
    except BaseException:
        connection.close()
        raise
    return connection


def _unlock(connection: Connection, key: StoreKey) -> None:
    with contextlib.suppress(sqlcipher3.DatabaseError):
        # SQLCipher's own log goes to stderr, outside the redaction filter; our errors say enough.
        connection.execute("PRAGMA cipher_log_level = NONE")
        # Memory security (wipe and lock every allocation of SQLite's) stays OFF, SQLCipher's default since
        # 4.5: it made reading the large record back twice as slow (~40 ms more per open) and protects
        # little here, since the same record then lives decoded in Python objects that nothing wipes, and
        # the key itself passes through Python to reach this PRAGMA. Said explicitly so a build with
        # another default behaves the same.
        connection.execute("PRAGMA cipher_memory_security = OFF")
    connection.execute(f"PRAGMA key = {key.sqlcipher_pragma_value()}")
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        log.error("The store did not decrypt with the key from the keyring")
        raise WrongKey() from None


def _check_integrity(connection: Connection) -> None:
    try:
        failures = connection.execute("PRAGMA cipher_integrity_check").fetchall()
        quick = connection.execute("PRAGMA quick_check").fetchall()
    except sqlcipher3.DatabaseError:
        log.error("The store failed to read during its integrity check")
        raise StoreCorrupt() from None
    if failures or quick != [("ok",)]:
        log.error("The store failed its integrity check (%d page errors)", len(failures))
        raise StoreCorrupt()


def configure(connection: Connection) -> None:
    """The settings every store connection runs with (also what the store benchmark gives plain sqlite3)."""
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        log.warning("The store is not in WAL mode (%s)", mode)
    # FULL: an audit entry acknowledged to the caller must survive a power cut.
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA temp_store = MEMORY")
    connection.execute("PRAGMA foreign_keys = ON")
    # Every page is encrypted, so a freed page on disk is ciphertext either way. What secure_delete adds:
    # a purged record is zeroed before its page is encrypted again, so whoever later obtains the key (it
    # sits in the user's keyring, readable by anything running as that user) still cannot read what
    # retention already removed. The cost is writing zeros over freed content, small next to encryption.
    connection.execute("PRAGMA secure_delete = ON")


def _is_full(exc: sqlcipher3.OperationalError) -> bool:
    """SQLITE_FULL: a full disk, or the page limit (`PRAGMA max_page_count`) the tests use to simulate one."""
    return getattr(exc, "sqlite_errorname", None) == "SQLITE_FULL" or "disk is full" in str(exc)


class Store:
    """The open store: its path, its keyring entry's id, and the one connection behind a lock."""

    def __init__(self, connection: Connection, path: Path, store_id: str):
        self._connection = connection
        self._lock = threading.RLock()
        self.path = path
        self.store_id = store_id

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        store_id: str | None = None,
        create: bool = True,
        backend: KeyringBackend | None = None,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> Store:
        """Open (or with `create`, make) the store at `path` with its key from the keyring.

        The keyring entry is named after `store_id`, by default the file's stem (`wardview`), so a tool
        given only the path finds the same key. With `create=False` neither a file nor a key is made.
        """
        store_id = store_id or path.stem
        if not create and not (path.exists() and path.stat().st_size > 0):
            raise StoreMissing()
        key = load_store_key(store_id, create=create, backend=backend)
        connection = open_database(path, key, create=create, migrations=migrations)
        return cls(connection, path, store_id)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Writes inside are committed together or not at all (BEGIN IMMEDIATE: no late lock failure).

        A full disk is `StoreFull`, whichever statement (or the commit) ran into it; nothing was kept.
        """
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                try:
                    yield self._connection
                    self._connection.execute("COMMIT")
                except BaseException:
                    # SQLite may already have rolled back by itself (it does on SQLITE_FULL).
                    if self._connection.in_transaction:
                        self._connection.execute("ROLLBACK")
                    raise
            except sqlcipher3.OperationalError as exc:
                if _is_full(exc):
                    log.error("A store write failed: the disk is full")
                    raise StoreFull() from None
                raise

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """The connection for reads, held by this thread until the block ends."""
        with self._lock:
            yield self._connection

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, store_id={self.store_id!r})"
