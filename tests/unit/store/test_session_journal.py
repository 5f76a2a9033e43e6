"""The session journal: per clinician, in the order opened, cleared by a clean end, kept by a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.store.database import Store
from viewer.store.session_journal import SessionJournal

A, B, C = "9990000018", "9990000026", "9990000034"
ALICE, BOB = "555555555555", "666666666666"


def test_left_open_lists_a_clinicians_patients_in_the_order_opened(store: Store) -> None:
    journal = SessionJournal(store)
    journal.opened(ALICE, B)
    journal.opened(ALICE, A)
    journal.opened(ALICE, "999 000 0034")
    journal.opened(ALICE, B)  # opened again: keeps its first place
    assert journal.left_open(ALICE) == [B, A, C]
    journal.closed(ALICE, A)
    assert journal.left_open(ALICE) == [B, C]
    journal.opened(ALICE, A)  # closed then opened again: last
    assert journal.left_open(ALICE) == [B, C, A]


def test_only_the_same_clinician_is_offered_their_patients(store: Store) -> None:
    journal = SessionJournal(store)
    journal.opened(ALICE, A)
    journal.opened(BOB, B)
    journal.opened(BOB, A)
    assert journal.left_open(ALICE) == [A]
    assert journal.left_open(BOB) == [B, A]
    journal.closed(BOB, A)
    assert journal.left_open(ALICE) == [A]
    journal.ended_cleanly(ALICE)
    assert journal.left_open(ALICE) == []
    assert journal.left_open(BOB) == [B]
    assert journal.left_open("someone-else") == []


def test_what_was_open_survives_a_run_that_never_ended(store_path: Path, backend: MemoryKeyring) -> None:
    store = Store.open(store_path, backend=backend)
    SessionJournal(store).opened(ALICE, A)
    SessionJournal(store).opened(ALICE, B)
    store.close()  # no ended_cleanly: the app was killed
    with Store.open(store_path, backend=backend) as reopened:
        assert SessionJournal(reopened).left_open(ALICE) == [A, B]


def test_bad_input_is_refused_without_repeating_it(store: Store) -> None:
    journal = SessionJournal(store)
    with pytest.raises(ValueError, match="user id"):
        journal.opened(" ", A)
    with pytest.raises(ValueError, match="not a valid NHS number") as caught:
        journal.opened(ALICE, "9990000019")
    assert "9990000019" not in str(caught.value)
    assert journal.left_open(ALICE) == []
