"""The hash-chained audit log: appends link up, and every kind of tampering is found by verify()."""

from __future__ import annotations

import hashlib
import itertools
import logging
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import sqlcipher3

from tests.support.memory_keyring import MemoryKeyring
from tests.unit.store.conftest import raw_connection
from viewer.store.audit_log import (
    GENESIS_HASH,
    AuditAction,
    AuditLog,
    AuditOutcome,
    canonical_bytes,
    clean_detail,
)
from viewer.store.audit_queue import AuditQueue
from viewer.store.database import Store

PATIENT = "9990000018"


def _fill(store: Store, count: int = 5) -> AuditLog:
    audit = AuditLog(store)
    for i in range(count):
        audit.append(
            AuditAction.RECORD_OPEN if i % 2 else AuditAction.SECTION_VIEW,
            user_id="555555555555", role_id="R8000", org_ods="RX1", patient=PATIENT,
            detail={"section": "allergies", "index": i},
        )
    return audit


def _tamper(store: Store, path: Path, backend: MemoryKeyring, *statements: str) -> AuditLog:
    """Close the store, change the file as someone holding the key could, and open it again."""
    store.close()
    db = raw_connection(path, backend)
    db.execute("DROP TRIGGER audit_entry_no_update")
    db.execute("DROP TRIGGER audit_entry_no_delete")
    for statement in statements:
        db.execute(statement)
    db.close()
    return AuditLog(Store.open(path, backend=backend))


def test_entries_chain_and_verify(store: Store) -> None:
    audit = _fill(store, 5)
    entries = audit.last(10)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    first = entries[0]
    expected = hashlib.sha256(canonical_bytes(
        seq=1, at=first.at, action="section-view", outcome="success", user_id="555555555555",
        role_id="R8000", org_ods="RX1", patient=PATIENT, detail={"index": 0, "section": "allergies"},
        emergency_reason=None, prev_hash=GENESIS_HASH,
    )).hexdigest()
    assert first.hash == expected
    report = audit.verify()
    assert report.intact and report.entries == 5 and report.head_hash == entries[-1].hash
    assert audit.head() == (5, entries[-1].hash)
    assert audit.count() == 5 and audit.entry(3) == entries[2] and audit.entry(9) is None


def test_canonical_form_is_sorted_orjson() -> None:
    data = canonical_bytes(
        seq=1, at="t", action="lock", outcome="success", user_id=None, role_id=None, org_ods=None,
        patient=None, detail={"b": 1, "a": 2}, emergency_reason=None, prev_hash=GENESIS_HASH,
    )
    parsed = orjson.loads(data)
    assert list(parsed) == sorted(parsed) and list(parsed["detail"]) == ["a", "b"]
    assert "hash" not in parsed and parsed["prev_hash"] == GENESIS_HASH


def test_an_empty_log_is_intact(store: Store) -> None:
    report = AuditLog(store).verify()
    assert report.intact and report.entries == 0 and report.head_hash == GENESIS_HASH


def test_entry_fields_round_trip(store: Store) -> None:
    when = datetime(2026, 11, 22, 10, 42, tzinfo=UTC)
    entry = AuditLog(store).append(
        AuditAction.EMERGENCY_ACCESS, outcome=AuditOutcome.SUCCESS, user_id="1", role_id="R", org_ods="RX1",
        patient="999 000 0018", emergency_reason="  Unconscious,\n no relationship on record ", at=when,
        detail={"reasons": ["unconscious", "other"], "sections": 3, "cached": False, "score": None},
    )
    stored = AuditLog(store).entry(1)
    assert stored == entry
    assert stored.patient == PATIENT and stored.at_datetime == when
    assert stored.emergency_reason == "Unconscious, no relationship on record"
    assert stored.detail == {
        "reasons": ["unconscious", "other"], "sections": 3, "cached": False, "score": None,
    }
    assert PATIENT not in repr(stored) and "Unconscious" not in repr(stored)


@pytest.mark.parametrize(
    "detail",
    [
        {"note": "Patient says he has chest pain"[:10] + "\nmore"},
        {"note": "x" * 121},
        {"nested": {"a": 1}},
        {"Bad Key": 1},
        {"many": list(range(51))},
        ["not", "a", "mapping"],
    ],
)
def test_detail_is_short_scalars_only(detail, caplog) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(ValueError) as caught:
        clean_detail(detail)  # type: ignore[arg-type]
    assert "chest" not in str(caught.value) and "xxxx" not in str(caught.value)


def test_an_invalid_patient_number_is_refused_without_repeating_it(store: Store) -> None:
    with pytest.raises(ValueError) as caught:
        AuditLog(store).append(AuditAction.RECORD_OPEN, patient="9990000019")
    assert "9990000019" not in str(caught.value)
    assert AuditLog(store).count() == 0


def test_enqueue_is_atomic_with_the_append(store: Store) -> None:
    audit = AuditLog(store)
    audit.append(AuditAction.SIGN_IN, user_id="1", enqueue=True)
    audit.append(AuditAction.LOCK, user_id="1")
    assert AuditQueue(store).pending() == 1


def test_the_database_refuses_edits_and_deletes(store: Store) -> None:
    _fill(store, 2)
    for statement in ("UPDATE audit_entry SET patient = NULL", "DELETE FROM audit_entry WHERE seq = 2"):
        with pytest.raises(sqlcipher3.IntegrityError), store.transaction() as db:
            db.execute(statement)
    assert AuditLog(store).verify().intact


def _hash_row(db, seq: int, prev_hash: str) -> str:
    row = db.execute(
        "SELECT at, action, outcome, user_id, role_id, org_ods, patient, detail, emergency_reason "
        "FROM audit_entry WHERE seq = ?", (seq,),
    ).fetchone()
    at, action, outcome, user_id, role_id, org_ods, patient, detail, reason = row
    return hashlib.sha256(canonical_bytes(
        seq=seq, at=at, action=action, outcome=outcome, user_id=user_id, role_id=role_id, org_ods=org_ods,
        patient=patient, detail=orjson.loads(detail), emergency_reason=reason, prev_hash=prev_hash,
    )).hexdigest()


TAMPERING = {
    "edit a field": (["UPDATE audit_entry SET patient = '9990000026' WHERE seq = 3"], 3),
    "edit the detail": (["UPDATE audit_entry SET detail = '{\"index\":99,\"section\":\"allergies\"}' "
                         "WHERE seq = 2"], 2),
    "edit the time": (["UPDATE audit_entry SET at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 5"], 5),
    "edit a hash": (["UPDATE audit_entry SET hash = '" + "1" * 64 + "' WHERE seq = 4"], 4),
    "unreadable detail": (["UPDATE audit_entry SET detail = 'not json' WHERE seq = 1"], 1),
    "delete from the middle": (["DELETE FROM audit_entry WHERE seq = 2"], 2),
    "delete the first": (["DELETE FROM audit_entry WHERE seq = 1"], 1),
    "delete the last": (["DELETE FROM audit_entry WHERE seq = 5"], 5),
    "delete the last two": (["DELETE FROM audit_entry WHERE seq >= 4"], 4),
    "delete everything": (["DELETE FROM audit_entry"], 1),
    "delete the head": (["DELETE FROM audit_head"], 6),
    "reorder": ([
        "UPDATE audit_entry SET seq = 100 WHERE seq = 2",
        "UPDATE audit_entry SET seq = 2 WHERE seq = 3",
        "UPDATE audit_entry SET seq = 3 WHERE seq = 100",
    ], 2),
    "insert at the end": ([
        "INSERT INTO audit_entry SELECT 6, at, action, outcome, user_id, role_id, org_ods, patient, detail, "
        "emergency_reason, hash, hash FROM audit_entry WHERE seq = 5",
    ], 6),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_every_kind_of_tampering_is_detected(kind: str, store: Store, store_path: Path, backend) -> None:
    _fill(store, 5)
    statements, broken_seq = TAMPERING[kind]
    audit = _tamper(store, store_path, backend, *statements)
    try:
        report = audit.verify()
    finally:
        audit.store.close()
    assert not report.intact
    assert report.broken_seq == broken_seq, report.problem
    assert report.problem and str(broken_seq) in report.problem


def test_an_inserted_entry_with_a_correct_hash_is_still_detected(store: Store, store_path, backend) -> None:
    """A forger who recomputes the hash of an added entry but cannot know to move the head."""
    _fill(store, 3)
    store.close()
    db = raw_connection(store_path, backend)
    db.execute(
        "INSERT INTO audit_entry SELECT 4, at, action, outcome, user_id, role_id, org_ods, '9990000026', "
        "detail, emergency_reason, hash, 'x' FROM audit_entry WHERE seq = 3"
    )
    head = db.execute("SELECT hash FROM audit_entry WHERE seq = 3").fetchone()[0]
    db.execute("DROP TRIGGER audit_entry_no_update")
    db.execute("UPDATE audit_entry SET hash = ? WHERE seq = 4", (_hash_row(db, 4, head),))
    db.close()
    with Store.open(store_path, backend=backend) as reopened:
        report = AuditLog(reopened).verify()
    assert not report.intact and report.broken_seq == 4 and report.entries == 4


def test_a_store_whose_head_was_deleted_refuses_to_append(store: Store, store_path, backend) -> None:
    _fill(store, 1)
    audit = _tamper(store, store_path, backend, "DELETE FROM audit_head")
    with pytest.raises(RuntimeError):
        audit.append(AuditAction.LOCK)
    audit.store.close()


def test_verify_logs_only_the_seq(store: Store, store_path, backend, caplog) -> None:
    _fill(store, 3)
    audit = _tamper(store, store_path, backend, "UPDATE audit_entry SET user_id = 'x' WHERE seq = 2")
    with caplog.at_level(logging.DEBUG):
        assert not audit.verify().intact
    audit.store.close()
    assert PATIENT not in caplog.text and "entry 2" in caplog.text
