"""The store's schema, as an ordered list of migrations applied by `PRAGMA user_version`.

Each migration runs in its own transaction together with the bump of `user_version`, so a crash leaves
the store at the old version or the new one, never between. A store newer than this code is refused
rather than opened (`StoreTooNew`): an older viewer writing to it could lose what it does not know.
Version 2 holds the record cache and the session journal; a released migration is never edited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from viewer.store.errors import StoreTooNew

log = logging.getLogger(__name__)

Connection = Any  # a sqlcipher3 connection (the module has no type stubs)


@dataclass(frozen=True, slots=True)
class Migration:
    """Schema version `version`: DDL statements, then an optional data step run in the same transaction."""

    version: int
    name: str
    statements: tuple[str, ...]
    apply: Callable[[Connection], None] | None = field(default=None, compare=False)


_AUDIT_TABLES = (
    """
    CREATE TABLE audit_entry (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        user_id TEXT,
        role_id TEXT,
        org_ods TEXT,
        patient TEXT,
        detail TEXT NOT NULL,
        emergency_reason TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )
    """,
    # The head holds the last seq and hash, so deleting the tail of the chain is as visible as an edit.
    """
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    )
    """,
    "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')",
    # Entries waiting for the trust's audit endpoint; a row leaves only when the endpoint accepted it.
    """
    CREATE TABLE audit_outbox (
        seq INTEGER PRIMARY KEY REFERENCES audit_entry (seq),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL DEFAULT 0,
        last_status INTEGER,
        parked INTEGER NOT NULL DEFAULT 0
    )
    """,
    # Append-only by the database's own rules too: the chain detects tampering, these make mistakes fail.
    """
    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END
    """,
    """
    CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END
    """,
)

_RECORD_CACHE_TABLES = (
    # One row per patient the cache holds anything for; `last_opened` drives retention.
    """
    CREATE TABLE cached_patient (
        nhs_number TEXT PRIMARY KEY,
        last_opened TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    # One row per patient and source (gp, hospital, and the PDS trace as 'pds'): the whole mapped record
    # in one payload, so one row written in one transaction is one record wholly old or wholly new. The
    # FHIR logical ids (GP Connect STR05) travel inside the payload, in each item's provenance.
    """
    CREATE TABLE cached_source (
        nhs_number TEXT NOT NULL REFERENCES cached_patient (nhs_number) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('gp', 'hospital', 'pds')),
        retrieved_at TEXT NOT NULL,
        etag TEXT,
        format INTEGER NOT NULL,
        shape TEXT NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY (nhs_number, source)
    )
    """,
    "CREATE INDEX cached_patient_last_opened ON cached_patient (last_opened)",
    # Which patients each clinician has open, in the order opened, so a start after a crash can offer
    # them back to the same clinician. No reference to cached_patient: a patient is open before (and
    # whether or not) anything of theirs is cached.
    """
    CREATE TABLE session_journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        nhs_number TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        UNIQUE (user_id, nhs_number)
    )
    """,
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "audit log", _AUDIT_TABLES),
    Migration(2, "record cache and session journal", _RECORD_CACHE_TABLES),
)


def schema_version(connection: Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return migrations[-1].version if migrations else 0


def migrate(connection: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the schema up to the last migration; returns the version now in force. Idempotent.

    `connection` must be in autocommit mode (isolation_level None): each step opens its own transaction.
    """
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise ValueError("migrations must have strictly increasing versions from 1")
    current = schema_version(connection)
    if current > latest_version(migrations):
        raise StoreTooNew()
    for migration in migrations:
        if migration.version <= current:
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.statements:
                connection.execute(statement)
            if migration.apply is not None:
                migration.apply(connection)
            connection.execute(f"PRAGMA user_version = {int(migration.version)}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        log.info("Store schema migrated to version %d (%s)", migration.version, migration.name)
        current = migration.version
    return current
