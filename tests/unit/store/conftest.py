"""Fixtures for the store tests: a private in-memory keyring per test, and a store in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlcipher3

from tests.support.memory_keyring import MemoryKeyring
from viewer.store.database import Store
from viewer.store.keys import load_store_key


@pytest.fixture
def backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "ward.db"


@pytest.fixture
def store(store_path: Path, backend: MemoryKeyring) -> Iterator[Store]:
    opened = Store.open(store_path, backend=backend)
    yield opened
    opened.close()


def raw_connection(path: Path, backend: MemoryKeyring, store_id: str = "ward") -> sqlcipher3.Connection:
    """What a tamperer with the key could do: open the file outside Wardview, triggers and all."""
    key = load_store_key(store_id, create=False, backend=backend)
    connection = sqlcipher3.connect(str(path), isolation_level=None)
    connection.execute(f"PRAGMA key = {key.sqlcipher_pragma_value()}")
    return connection
