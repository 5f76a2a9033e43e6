"""Schema migrations: in order, once each, each with its version bump in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.store.database import Store
from viewer.store.errors import StoreTooNew
from viewer.store.migrations import MIGRATIONS, Migration, latest_version, migrate, schema_version


def _memory() -> sqlite3.Connection:
    return sqlite3.connect(":memory:", isolation_level=None)


def _schema(connection) -> list[tuple[str, str]]:
    return connection.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()


def test_migrations_are_idempotent() -> None:
    db = _memory()
    assert migrate(db) == latest_version() == MIGRATIONS[-1].version
    before = _schema(db)
    assert migrate(db) == latest_version()
    assert _schema(db) == before
    assert db.execute("SELECT seq, hash FROM audit_head").fetchall() == [(0, "0" * 64)]


def test_reopening_a_store_does_not_migrate_again(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    with Store.open(tmp_path / "s.db", backend=backend) as store, store.reading() as db:
        first = _schema(db)
    with Store.open(tmp_path / "s.db", backend=backend) as store, store.reading() as db:
        assert _schema(db) == first
        assert schema_version(db) == latest_version()


def test_later_migrations_apply_in_order_on_an_older_store(tmp_path: Path) -> None:
    """How a later issue adds its tables: an older store gets only the steps it lacks."""
    backend = MemoryKeyring()
    Store.open(tmp_path / "s.db", backend=backend).close()
    seen: list[int] = []
    now = latest_version()
    extra = (
        *MIGRATIONS,
        Migration(now + 1, "records", ("CREATE TABLE record (id INTEGER PRIMARY KEY, body BLOB)",),
                  apply=lambda db: seen.append(now + 1)),
        Migration(now + 2, "record index", ("CREATE INDEX record_body ON record (body)",),
                  apply=lambda db: seen.append(now + 2)),
    )
    with Store.open(tmp_path / "s.db", backend=backend, migrations=extra) as store, store.reading() as db:
        assert schema_version(db) == now + 2
        assert ("index", "record_body") in _schema(db)
    assert seen == [now + 1, now + 2]


def test_a_version_1_store_gets_the_record_cache(tmp_path: Path) -> None:
    """A store made by the audit-only build keeps its audit tables and gains the cache's (version 2)."""
    backend = MemoryKeyring()
    Store.open(tmp_path / "s.db", backend=backend, migrations=MIGRATIONS[:1]).close()
    with Store.open(tmp_path / "s.db", backend=backend) as store, store.reading() as db:
        assert schema_version(db) == 2
        assert {("table", "audit_entry"), ("table", "cached_patient"), ("table", "cached_source"),
                ("table", "session_journal")} <= set(_schema(db))


def test_a_failing_migration_leaves_the_previous_version() -> None:
    db = _memory()
    migrate(db)

    def explode(connection) -> None:
        raise RuntimeError("disk full")

    now = latest_version()
    broken = (*MIGRATIONS, Migration(now + 1, "broken", ("CREATE TABLE half (x)",), apply=explode))
    with pytest.raises(RuntimeError):
        migrate(db, broken)
    assert schema_version(db) == now
    assert ("table", "half") not in _schema(db)
    assert not db.in_transaction


def test_a_newer_store_is_refused() -> None:
    db = _memory()
    db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreTooNew):
        migrate(db)


def test_versions_must_increase() -> None:
    with pytest.raises(ValueError):
        migrate(_memory(), (Migration(2, "b", ()), Migration(1, "a", ())))
    with pytest.raises(ValueError):
        migrate(_memory(), (Migration(0, "zero", ()),))
