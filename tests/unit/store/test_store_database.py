"""Opening the encrypted store: settings in force, nothing in clear on disk, bad keys and files caught."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
import sqlcipher3

from tests.support.memory_keyring import MemoryKeyring
from tests.unit.store.conftest import raw_connection
from viewer.store import paths
from viewer.store.audit_log import AuditAction, AuditLog
from viewer.store.database import Store, open_database
from viewer.store.errors import (
    KeyMissing,
    StoreCorrupt,
    StoreError,
    StoreMissing,
    StoreUnreadable,
    WrongKey,
)
from viewer.store.keys import SERVICE, key_entry, load_store_key
from viewer.store.migrations import latest_version

PATIENT = "9990000018"
REASON = "Patient ZEBEDEE-QUILLFEATHER collapsed on the ward"


def test_store_opens_with_the_expected_settings(store: Store) -> None:
    with store.reading() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        assert db.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"audit_entry", "audit_head", "audit_outbox"} <= names
    assert store.store_id == "ward"
    assert "ward.db" in repr(store)


def test_the_file_holds_nothing_in_clear(store: Store, store_path: Path, backend: MemoryKeyring) -> None:
    AuditLog(store).append(
        AuditAction.EMERGENCY_ACCESS, user_id="555555555555", patient=PATIENT,
        detail={"section": "medications"}, emergency_reason=REASON,
    )
    store.close()
    files = [p for p in store_path.parent.iterdir() if p.name.startswith(store_path.name)]
    assert store_path in files
    key_hex = backend.get_password(SERVICE, key_entry("ward"))
    for path in files:
        data = path.read_bytes()
        for needle in (PATIENT, "ZEBEDEE", "QUILLFEATHER", "medications", "emergency-access", "audit_entry"):
            assert needle.encode() not in data, (path.name, needle)
            assert needle.encode("utf-16-le") not in data
        assert key_hex.encode() not in data and bytes.fromhex(key_hex) not in data
    assert not store_path.read_bytes().startswith(b"SQLite format 3")
    with pytest.raises(sqlite3.DatabaseError):  # plain SQLite cannot read it
        sqlite3.connect(store_path).execute("SELECT count(*) FROM sqlite_master").fetchone()


def test_reopening_uses_the_same_key(store_path: Path, backend: MemoryKeyring) -> None:
    with Store.open(store_path, backend=backend) as first:
        AuditLog(first).append(AuditAction.SIGN_IN, user_id="1")
    with Store.open(store_path, backend=backend) as second:
        assert AuditLog(second).count() == 1
    assert len(backend._store) == 1


def test_a_wrong_key_is_a_typed_error(store_path: Path, backend: MemoryKeyring, caplog) -> None:
    Store.open(store_path, backend=backend).close()
    other = MemoryKeyring()  # the keyring was reset: a new key is made for the old file
    with caplog.at_level(logging.DEBUG), pytest.raises(WrongKey) as caught:
        Store.open(store_path, backend=other)
    assert isinstance(caught.value, StoreUnreadable)
    assert "key" in caught.value.user_message
    new_key = other.get_password(SERVICE, key_entry("ward"))
    assert new_key not in str(caught.value) and new_key not in caplog.text


def test_a_garbage_file_is_refused(store_path: Path, backend: MemoryKeyring) -> None:
    store_path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(StoreUnreadable):
        Store.open(store_path, backend=backend)


def test_a_plain_sqlite_file_is_refused(store_path: Path, backend: MemoryKeyring) -> None:
    plain = sqlite3.connect(store_path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    with pytest.raises(StoreCorrupt):
        Store.open(store_path, backend=backend)


def test_a_damaged_page_is_caught_at_open(store_path: Path, backend: MemoryKeyring) -> None:
    with Store.open(store_path, backend=backend) as store:
        audit = AuditLog(store)
        for i in range(300):
            audit.append(AuditAction.SEARCH, user_id=str(i), detail={"by": "nhs-number", "results": i})
        with store.reading() as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(store_path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    offset = 3 * page + 100  # inside the fourth page: page 1 (and the key check) is intact
    data[offset: offset + 16] = bytes(16)
    store_path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt):
        Store.open(store_path, backend=backend)


def test_opening_for_reading_only_creates_nothing(store_path: Path, backend: MemoryKeyring) -> None:
    with pytest.raises(StoreMissing):
        Store.open(store_path, create=False, backend=backend)
    assert not store_path.exists() and backend._store == {}
    with pytest.raises(StoreMissing):
        open_database(store_path, load_store_key("x", backend=backend), create=False)


def test_an_existing_store_without_its_key_is_not_given_a_new_one(store_path: Path, backend) -> None:
    Store.open(store_path, backend=backend).close()
    with pytest.raises(KeyMissing) as caught:
        Store.open(store_path, create=False, backend=MemoryKeyring())
    assert isinstance(caught.value, StoreError)


def test_a_transaction_is_all_or_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("UPDATE audit_head SET seq = 5")
        raise RuntimeError("boom")
    with store.reading() as db:
        assert db.execute("SELECT seq FROM audit_head").fetchone()[0] == 0


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sqlcipher3.IntegrityError), store.transaction() as db:
        db.execute("INSERT INTO audit_outbox (seq) VALUES (42)")


def test_the_raw_helper_reads_with_the_key(store: Store, store_path: Path, backend: MemoryKeyring) -> None:
    store.close()
    connection = raw_connection(store_path, backend)
    assert connection.execute("SELECT seq FROM audit_head").fetchone() == (0,)
    connection.close()


def test_default_path_is_the_local_data_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(paths.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert paths.default_store_path() == tmp_path / "wardview" / "wardview.db"
    monkeypatch.setattr(paths.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert paths.default_store_path("sandbox.db") == tmp_path / "Local" / "Wardview" / "sandbox.db"
