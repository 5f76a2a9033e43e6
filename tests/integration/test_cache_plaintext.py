"""Issue 5: the store file holds no clear text of a cached record, and the key reaches no file and no log.

The record is the sandbox's large-record patient (150 GP medicines, 10,000+ hospital results) mapped from
both sources, as an open caches it; the db, -wal and -shm files are read raw after the store is closed
and, separately, while it is still open (the state a kill or a power cut leaves on disk).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.large_record import LargeRecord, large_record
from tests.support.memory_keyring import MemoryKeyring
from viewer.domain.provenance import SourceKind
from viewer.store.database import Store
from viewer.store.keys import SERVICE, key_entry
from viewer.store.record_cache import RecordCache
from viewer.store.session_journal import SessionJournal


@pytest.fixture(scope="module")
def record() -> LargeRecord:
    return large_record()


@pytest.fixture
def cached(tmp_path: Path, record: LargeRecord, caplog) -> Iterator[tuple[Store, MemoryKeyring]]:
    backend = MemoryKeyring()
    caplog.set_level(logging.DEBUG)
    store = Store.open(tmp_path / "wardview.db", backend=backend)
    cache = RecordCache(store)
    assert record.gp.patient is not None
    cache.save_demographics(record.nhs_number, record.gp.patient, record.gp.retrieved_at)
    cache.save_source(record.nhs_number, record.gp, etag='W/"3"')
    cache.save_source(record.nhs_number, record.hospital)
    SessionJournal(store).opened("555555555555", record.nhs_number)
    yield store, backend
    store.close()


def store_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("wardview.db"))


def assert_no_clear_text(folder: Path, record: LargeRecord, key_hex: str) -> None:
    secrets = record.secrets()
    assert len(secrets) > 30  # the number, names, drug names and codes
    for path in store_files(folder):
        data = path.read_bytes()
        found = sorted(s for s in secrets if s.encode() in data or s.encode("utf-16-le") in data)
        assert found == [], path.name  # never print the needles themselves beyond this list
        assert key_hex.encode() not in data and bytes.fromhex(key_hex) not in data
        assert key_hex.upper().encode() not in data


def test_the_closed_store_holds_no_clear_text(tmp_path: Path, record: LargeRecord,
                                              cached: tuple[Store, MemoryKeyring], caplog) -> None:
    store, backend = cached
    store.close()
    key_hex = backend.get_password(SERVICE, key_entry("wardview"))
    assert key_hex is not None
    assert [p.name for p in store_files(tmp_path)] == ["wardview.db"]
    assert tmp_path.joinpath("wardview.db").stat().st_size > 1_000_000  # the record is really in there
    assert_no_clear_text(tmp_path, record, key_hex)
    for path in tmp_path.rglob("*"):  # nothing else in the folder holds the key either
        if path.is_file():
            assert key_hex.encode() not in path.read_bytes()
    assert key_hex not in caplog.text and key_hex.upper() not in caplog.text
    assert record.nhs_number not in caplog.text


def test_the_open_store_and_its_write_ahead_log_hold_no_clear_text(
    tmp_path: Path, record: LargeRecord, cached: tuple[Store, MemoryKeyring]
) -> None:
    _store, backend = cached
    assert {p.name for p in store_files(tmp_path)} == {"wardview.db", "wardview.db-wal", "wardview.db-shm"}
    key_hex = backend.get_password(SERVICE, key_entry("wardview"))
    assert key_hex is not None
    assert_no_clear_text(tmp_path, record, key_hex)


def test_the_large_record_loads_back_equal(record: LargeRecord, cached: tuple[Store, MemoryKeyring]) -> None:
    store, _ = cached
    loaded = RecordCache(store).load(record.nhs_number)
    assert loaded is not None
    assert loaded.sources[SourceKind.GP].record == record.gp
    assert loaded.sources[SourceKind.HOSPITAL].record == record.hospital
    assert loaded.demographics == record.gp.patient
