"""The audit log's recent-patients query: the clinician's own opens, newest first, each patient once."""

from __future__ import annotations

from viewer.domain.nhs_number import check_digit
from viewer.store.audit_log import AuditAction, AuditLog, AuditOutcome
from viewer.store.database import Store

ME = "555555555555"
OTHER = "666666666666"


def numbers(count: int) -> list[str]:
    """Synthetic NHS numbers (999 range) with valid Modulus-11 check digits."""
    found: list[str] = []
    stem = 999000000
    while len(found) < count:
        digit = check_digit(str(stem))
        if digit is not None:
            found.append(f"{stem}{digit}")
        stem += 1
    return found


def opened(log: AuditLog, patient: str, user: str = ME, action: AuditAction = AuditAction.RECORD_OPEN,
           outcome: AuditOutcome = AuditOutcome.SUCCESS) -> None:
    log.append(action, user_id=user, patient=patient, outcome=outcome)


def test_newest_first_and_each_patient_once(store: Store) -> None:
    log = AuditLog(store)
    a, b, c = numbers(3)
    for patient in (a, b, c, a):  # a again: it moves to the front, once
        opened(log, patient)
    assert log.recent_patients(ME, 10) == [a, c, b]


def test_emergency_opens_count_and_other_actions_do_not(store: Store) -> None:
    log = AuditLog(store)
    a, b, c, d = numbers(4)
    opened(log, a, action=AuditAction.EMERGENCY_ACCESS)
    opened(log, b, action=AuditAction.SECTION_VIEW)
    opened(log, c, action=AuditAction.ACCESS_REFUSED, outcome=AuditOutcome.REFUSED)
    opened(log, d, action=AuditAction.PRINT)
    log.append(AuditAction.SIGN_IN, user_id=ME)
    assert log.recent_patients(ME, 10) == [a]


def test_only_this_clinicians_opens(store: Store) -> None:
    log = AuditLog(store)
    mine, theirs = numbers(2)
    opened(log, mine)
    opened(log, theirs, user=OTHER)
    assert log.recent_patients(ME, 10) == [mine]
    assert log.recent_patients(OTHER, 10) == [theirs]
    assert log.recent_patients("777777777777", 10) == []


def test_limit_keeps_the_newest(store: Store) -> None:
    log = AuditLog(store)
    patients = numbers(12)
    for patient in patients:
        opened(log, patient)
    assert log.recent_patients(ME, 10) == list(reversed(patients))[:10]
    assert log.recent_patients(ME, 1) == [patients[-1]]
    assert log.recent_patients(ME, 0) == []
    assert log.recent_patients("", 10) == []
