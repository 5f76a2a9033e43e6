"""Start-up with a store that cannot be read: set aside (never deleted), a new store, a notice in words."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.store.audit_log import AuditAction, AuditLog
from viewer.store.database import Store
from viewer.store.errors import KeyringUnavailable, StoreTooNew
from viewer.store.keys import SERVICE, key_entry
from viewer.store.recovery import open_or_recover, set_aside

MOMENT = datetime(2026, 11, 23, 10, 42, 5, tzinfo=UTC)
ASIDE = "ward.db.unreadable-20261123T104205Z"


def clock() -> datetime:
    return MOMENT


def make_store(path: Path, backend: MemoryKeyring) -> None:
    with Store.open(path, backend=backend) as store:
        AuditLog(store).append(AuditAction.SIGN_IN, user_id="555555555555")


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_readable_store_opens_without_a_notice(store_path: Path, backend: MemoryKeyring) -> None:
    Store.open(store_path, backend=backend).close()
    store, notice = open_or_recover(store_path, backend=backend, clock=clock)
    with store:
        assert notice is None
    assert files_in(store_path.parent) >= {"ward.db"}
    assert not any("unreadable" in name for name in files_in(store_path.parent))


def test_a_store_made_with_another_key_is_set_aside(store_path: Path, backend: MemoryKeyring,
                                                    caplog) -> None:
    make_store(store_path, backend)
    reset = MemoryKeyring()  # the keyring was reset: the old key is gone
    with caplog.at_level(logging.DEBUG):
        store, notice = open_or_recover(store_path, backend=reset, clock=clock)
    with store:
        assert AuditLog(store).count() == 0  # a new, empty store
        AuditLog(store).append(AuditAction.SIGN_IN, user_id="1")
    assert notice is not None and "key" in notice and ASIDE in notice
    # kept whole: the old key (had IT saved it) still reads it
    backend_of_old = MemoryKeyring()
    old_key = backend.get_password(SERVICE, key_entry("ward"))
    assert old_key is not None
    backend_of_old.set_password(SERVICE, key_entry("unreadable"), old_key)
    kept = store_path.parent / "unreadable.db"
    (store_path.parent / ASIDE).rename(kept)
    with Store.open(kept, backend=backend_of_old, create=False) as old:
        assert AuditLog(old).count() == 1
    key = reset.get_password(SERVICE, key_entry("ward"))
    assert key is not None and key not in caplog.text and key not in notice


def test_side_files_move_with_the_store_under_the_same_new_name(store_path: Path) -> None:
    for suffix, data in (("", b"db"), ("-wal", b"wal"), ("-shm", b"shm")):
        Path(f"{store_path}{suffix}").write_bytes(data)
    moved = set_aside(store_path, MOMENT)
    assert moved == store_path.parent / ASIDE
    assert files_in(store_path.parent) == {ASIDE, f"{ASIDE}-wal", f"{ASIDE}-shm"}
    assert Path(f"{moved}-wal").read_bytes() == b"wal"


def test_a_file_damaged_in_the_middle_is_quarantined(store_path: Path, backend: MemoryKeyring) -> None:
    store = Store.open(store_path, backend=backend)
    log = AuditLog(store)
    for n in range(300):  # several pages
        log.append(AuditAction.SIGN_IN, user_id=str(n))
    store.close()
    data = bytearray(store_path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 512] = b"\x00" * 512
    store_path.write_bytes(bytes(data))
    store, notice = open_or_recover(store_path, backend=backend, clock=clock)
    with store:
        assert AuditLog(store).count() == 0
    assert notice is not None and "damaged" in notice and ASIDE in notice
    assert (store_path.parent / ASIDE).read_bytes() == bytes(data)


def test_a_plain_sqlite_file_is_quarantined(store_path: Path, backend: MemoryKeyring) -> None:
    import sqlite3

    plain = sqlite3.connect(store_path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    store, notice = open_or_recover(store_path, backend=backend, clock=clock)
    store.close()
    assert notice is not None and (store_path.parent / ASIDE).exists()


def test_a_damaged_key_entry_gets_a_new_key(store_path: Path, backend: MemoryKeyring) -> None:
    make_store(store_path, backend)
    backend.set_password(SERVICE, key_entry("ward"), "not hex at all")
    store, notice = open_or_recover(store_path, backend=backend, clock=clock)
    store.close()
    assert notice is not None and "damaged" in notice
    assert (store_path.parent / ASIDE).exists()
    assert len(bytes.fromhex(backend.get_password(SERVICE, key_entry("ward")) or "")) == 32
    with Store.open(store_path, backend=backend) as again:  # the new key reads the new store
        assert AuditLog(again).count() == 0


def test_setting_aside_twice_in_a_second_never_overwrites(store_path: Path) -> None:
    store_path.write_bytes(b"first")
    first = set_aside(store_path, MOMENT)
    store_path.write_bytes(b"second")
    second = set_aside(store_path, MOMENT)
    assert first is not None and second is not None and first != second
    assert first.read_bytes() == b"first" and second.read_bytes() == b"second"
    assert set_aside(store_path, MOMENT) is None  # nothing left to move


def test_no_keyring_is_not_recovered(store_path: Path) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    with pytest.raises(KeyringUnavailable):
        open_or_recover(store_path, backend=FailKeyring(), clock=clock)
    assert not store_path.exists()


def test_a_store_from_a_newer_build_is_left_in_place(store_path: Path, backend: MemoryKeyring) -> None:
    store = Store.open(store_path, backend=backend)
    with store.reading() as db:
        db.execute("PRAGMA user_version = 99")
    store.close()
    with pytest.raises(StoreTooNew):
        open_or_recover(store_path, backend=backend, clock=clock)
    assert files_in(store_path.parent) <= {"ward.db", "ward.db-wal", "ward.db-shm"}
