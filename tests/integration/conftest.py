"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest

from tests.support.memory_keyring import MemoryKeyring


@pytest.fixture
def fresh_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring for this test only (the store key of a test never meets another's)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
