"""The Audit facade: fills in who from the session, never raises when the store fails, and catches up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.auth.oidc import TokenSet
from viewer.auth.roles import Role
from viewer.auth.session import ClinicianSession, PersonName
from viewer.services.audit import Audit, AuditAction, AuditOutcome
from viewer.services.relationship import AccessEvent
from viewer.sources.relationship import Relationship
from viewer.store.audit_log import AuditLog
from viewer.store.audit_queue import AuditQueue
from viewer.store.database import Store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NHS = "9990000018"
TOKEN = "eyJhbGciOiJub25lIn0.e30.secret-token-value"
DOCTOR = Role("555000000101", "RWV99", "Clinical Practitioner", "R8000")


def session() -> ClinicianSession:
    return ClinicianSession(
        user_id="555000000001", name=PersonName("Asha", "Patel"), roles=(DOCTOR,), selected_role=DOCTOR,
        tokens=TokenSet(TOKEN, NOW + timedelta(hours=1)), signed_in_at=NOW,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "facade.db", backend=MemoryKeyring())
    yield opened
    opened.close()


class FlakyLog:
    """A real AuditLog that fails while `broken` is set, as a full disk or a lost store would."""

    def __init__(self, inner: AuditLog):
        self.inner = inner
        self.store = inner.store
        self.broken = False

    def append(self, *args, **kwargs):
        if self.broken:
            raise OSError("database or disk is full")
        return self.inner.append(*args, **kwargs)


class Waker:
    def __init__(self):
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


def test_identity_comes_from_the_session(store: Store) -> None:
    audit = Audit(AuditLog(store), org_ods="RWV99")
    entry = audit.record(AuditAction.SECTION_VIEW, session=session(), patient=NHS,
                         detail={"section": "medications"})
    assert entry is not None and entry.seq == 1
    assert (entry.user_id, entry.role_id, entry.org_ods) == ("555000000001", "555000000101", "RWV99")
    assert entry.patient == NHS and entry.detail == {"section": "medications"}
    assert audit.healthy and audit.unsaved == 0


def test_explicit_ids_win_and_the_role_org_is_the_fallback(store: Store) -> None:
    audit = Audit(AuditLog(store))
    entry = audit.record(AuditAction.SIGN_IN_FAILED, outcome=AuditOutcome.REFUSED, user_id="x")
    assert entry is not None and entry.user_id == "x" and entry.org_ods is None
    entry = audit.record("lock", session=session())
    assert entry is not None and entry.action is AuditAction.LOCK and entry.org_ods == "RWV99"


def test_a_failing_store_never_raises_and_entries_catch_up_in_order(store: Store, caplog) -> None:
    flaky = FlakyLog(AuditLog(store))
    audit = Audit(flaky)  # type: ignore[arg-type]
    audit.record(AuditAction.SIGN_IN, session=session())
    flaky.broken = True
    with caplog.at_level(logging.DEBUG):
        assert audit.record(AuditAction.RECORD_OPEN, session=session(), patient=NHS) is None
        assert audit.record(AuditAction.SECTION_VIEW, session=session(), patient=NHS) is None
    assert not audit.healthy and audit.unsaved == 2
    assert "OSError" in caplog.text and NHS not in caplog.text
    flaky.broken = False
    entry = audit.record(AuditAction.SIGN_OUT, session=session())
    assert entry is not None and entry.seq == 4
    assert audit.healthy and audit.unsaved == 0
    entries = AuditLog(store).last(10)
    assert [e.action for e in entries] == [
        AuditAction.SIGN_IN, AuditAction.RECORD_OPEN, AuditAction.SECTION_VIEW, AuditAction.SIGN_OUT,
    ]
    assert entries[1].at_datetime <= entries[2].at_datetime <= entries[3].at_datetime
    assert AuditLog(store).verify().intact


def test_retry_writes_what_was_held(store: Store) -> None:
    flaky = FlakyLog(AuditLog(store))
    audit = Audit(flaky)  # type: ignore[arg-type]
    flaky.broken = True
    audit.record(AuditAction.LOCK, session=session())
    assert audit.retry() == [] and not audit.healthy
    flaky.broken = False
    assert [e.action for e in audit.retry()] == [AuditAction.LOCK]
    assert audit.healthy


def test_a_closed_store_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "gone.db", backend=MemoryKeyring())
    audit = Audit(AuditLog(store))
    store.close()
    assert audit.record(AuditAction.SEARCH, session=session(), detail={"by": "nhs-number"}) is None
    assert not audit.healthy and audit.unsaved == 1


def test_without_a_store_everything_waits_in_memory() -> None:
    audit = Audit(None)
    assert not audit.healthy
    assert audit.record(AuditAction.SIGN_IN, session=session()) is None
    assert audit.unsaved == 1 and audit.pending_send() == 0


def test_bad_fields_are_dropped_but_the_entry_is_kept(store: Store, caplog) -> None:
    audit = Audit(AuditLog(store))
    with caplog.at_level(logging.DEBUG):
        entry = audit.record(AuditAction.RECORD_OPEN, session=session(), patient="9990000019",
                             detail={"note": "Patient Zebedee line one\nline two"})
    assert entry is not None and entry.patient is None
    assert entry.detail == {"invalid-fields": ["patient", "detail"]}
    assert "9990000019" not in caplog.text and "Zebedee" not in caplog.text


def test_an_unknown_action_is_a_bug(store: Store) -> None:
    with pytest.raises(ValueError):
        Audit(AuditLog(store)).record("peek", session=session())


def test_entries_are_queued_only_with_an_endpoint(store: Store) -> None:
    plain = Audit(AuditLog(store))
    plain.record(AuditAction.LOCK, session=session())
    assert AuditQueue(store).pending() == 0
    waker = Waker()
    sending = Audit(AuditLog(store), sender=waker)  # type: ignore[arg-type]
    sending.record(AuditAction.UNLOCK, session=session())
    assert AuditQueue(store).pending() == 1 and sending.pending_send() == 1
    assert waker.woken == 1


def test_record_access_maps_workspace_events(store: Store) -> None:
    audit = Audit(AuditLog(store), org_ods="RWV99")
    relationship = Relationship("encounter", "enc-1", NOW)
    opened = audit.record_access(AccessEvent(NHS, "relationship", "Encounter enc-1", "u1", "r1", NOW,
                                             relationship))
    emergency = audit.record_access(AccessEvent(NHS, "emergency", "Emergency care: collapsed", "u1", "r1",
                                                NOW))
    assert opened is not None and opened.action is AuditAction.RECORD_OPEN
    assert opened.detail == {"basis": "encounter"} and opened.emergency_reason is None
    assert emergency is not None and emergency.action is AuditAction.EMERGENCY_ACCESS
    assert emergency.emergency_reason == "Emergency care: collapsed" and emergency.patient == NHS


def test_no_patient_data_or_tokens_in_logs(store: Store, caplog) -> None:
    flaky = FlakyLog(AuditLog(store))
    audit = Audit(flaky)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG):
        audit.record(AuditAction.EMERGENCY_ACCESS, session=session(), patient=NHS,
                     emergency_reason="Patient Zebedee unconscious")
        flaky.broken = True
        audit.record(AuditAction.SECTION_VIEW, session=session(), patient=NHS, detail={"section": "meds"})
        flaky.broken = False
        audit.record(AuditAction.SIGN_OUT, session=session())
    for secret in (NHS, "Zebedee", TOKEN, "secret-token-value", "Patel", "Asha"):
        assert secret not in caplog.text
