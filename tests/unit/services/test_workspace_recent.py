"""Workspace.recent_patients: the signed-in clinician's own opens from the audit log, newest first, with
the names kept in the record cache; nothing (not an error) without a store or a kept name."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.services.audit import Audit
from viewer.services.workspace import Workspace
from viewer.store.audit_log import AuditAction, AuditLog
from viewer.store.database import Store

ME, OTHER = "555000000001", "555000000002"
A, B, C = "9990000018", "9990000026", "9990000034"


class KeptNames:
    """A record cache that keeps demographics for some patients and fails to read one."""

    def __init__(self, names: dict[str, str], broken: str | None = None):
        self.names, self.broken = names, broken

    def kept_patient(self, nhs_number: str) -> Any:
        if nhs_number == self.broken:
            raise OSError("unreadable")
        name = self.names.get(nhs_number)
        if name is None:
            return None
        return SimpleNamespace(name=SimpleNamespace(banner=lambda: name))


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "recent.db", backend=MemoryKeyring())
    yield opened
    opened.close()


def workspace(audit: Audit | None, cache: Any = None) -> Workspace:
    return Workspace(oidc=None, browser_for=lambda _u: (lambda _url: None),  # type: ignore[arg-type]
                     open_record=SimpleNamespace(cache=cache), org_ods="RWV99", audit=audit)  # type: ignore[arg-type]


def session(user_id: str) -> Any:
    return SimpleNamespace(user_id=user_id)


def test_own_opens_newest_first_with_kept_names(store) -> None:
    log = AuditLog(store)
    for patient, user in ((A, ME), (B, ME), (C, OTHER), (A, ME)):
        log.append(AuditAction.RECORD_OPEN, user_id=user, patient=patient)
    log.append(AuditAction.EMERGENCY_ACCESS, user_id=ME, patient=C, emergency_reason="Emergency care")
    cache = KeptNames({A: "SHARMA, Priya (Mrs)"}, broken=C)
    recent = asyncio.run(workspace(Audit(log), cache).recent_patients(session(ME), 10))
    assert recent == [(C, ""), (A, "SHARMA, Priya (Mrs)"), (B, "")]
    assert asyncio.run(workspace(Audit(log), cache).recent_patients(session(ME), 2)) == recent[:2]
    assert asyncio.run(workspace(Audit(log), cache).recent_patients(session(OTHER), 10)) == [(C, "")]


def test_nothing_without_a_store_or_a_limit(store) -> None:
    assert asyncio.run(workspace(None).recent_patients(session(ME), 10)) == []
    assert asyncio.run(workspace(Audit(None)).recent_patients(session(ME), 10)) == []
    log = AuditLog(store)
    log.append(AuditAction.RECORD_OPEN, user_id=ME, patient=A)
    assert asyncio.run(workspace(Audit(log)).recent_patients(session(ME), 0)) == []
    assert asyncio.run(workspace(Audit(log), cache=None).recent_patients(session(ME), 5)) == [(A, "")]
