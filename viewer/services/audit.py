"""`Audit`: what the window and the services call to account for every access, and which never fails them.

An audit that raises would either stop a clinician mid-task or tempt callers to swallow it, so `record()`
never raises: when the local append fails (store gone, disk full) the failure's type is logged, the entry
is held in memory in order and retried before the next one, and `healthy` turns False so the window can
say the audit log is not being written. Entries are also queued for the trust's audit endpoint when one
is configured (`AuditSender`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from viewer.auth.session import ClinicianSession
from viewer.domain.nhs_number import is_valid
from viewer.services.audit_sender import AuditSender
from viewer.services.relationship import AccessEvent
from viewer.store.audit_log import AuditAction, AuditEntry, AuditLog, AuditOutcome, clean_detail
from viewer.store.audit_queue import AuditQueue

log = logging.getLogger(__name__)

__all__ = ["Audit", "AuditAction", "AuditOutcome"]

MAX_UNSAVED = 10_000  # held in memory while the store fails; beyond this the oldest are at least logged


@dataclass(slots=True)
class _Unsaved:
    action: AuditAction
    at: datetime
    fields: dict[str, Any] = field(repr=False)


class Audit:
    """The audit facade. `audit_log` None means no store could be opened: nothing is kept on disk, every
    entry waits in memory, and `healthy` is False from the start."""

    def __init__(
        self,
        audit_log: AuditLog | None,
        *,
        org_ods: str | None = None,
        sender: AuditSender | None = None,
    ):
        self._log = audit_log
        self._org_ods = org_ods or None
        self._sender = sender  # None when no audit endpoint is configured
        self._unsaved: list[_Unsaved] = []
        self._failed = audit_log is None
        self._dropped = 0
        # the GUI thread (lock, sections) and the worker loop (record opens) both record
        self._lock = threading.RLock()

    @property
    def healthy(self) -> bool:
        """True while every entry so far is in the local log."""
        return not self._failed and not self._unsaved

    @property
    def audit_log(self) -> AuditLog | None:
        """The local log, for queries over what was recorded (recent patients); None without a store."""
        return self._log

    @property
    def unsaved(self) -> int:
        """Entries held in memory because the local log could not take them."""
        return len(self._unsaved)

    def pending_send(self) -> int:
        """Entries waiting for the audit endpoint (0 with none configured or no store)."""
        if self._log is None or self._sender is None:
            return 0
        try:
            return AuditQueue(self._log.store).pending()
        except Exception as exc:
            log.error("Could not count the audit queue (%s)", type(exc).__name__)
            return 0

    def record(
        self,
        action: AuditAction | str,
        *,
        session: ClinicianSession | None = None,
        user_id: str | None = None,
        role_id: str | None = None,
        org_ods: str | None = None,
        outcome: AuditOutcome | str = AuditOutcome.SUCCESS,
        patient: str | None = None,
        detail: Mapping[str, Any] | None = None,
        emergency_reason: str | None = None,
    ) -> AuditEntry | None:
        """Append one entry (identity from `session` unless given); the entry, or None if held in memory.

        Only an unknown action or outcome raises (ValueError): that is a bug for the tests to find.
        """
        fields = self._fields(
            session=session, user_id=user_id, role_id=role_id, org_ods=org_ods, outcome=outcome,
            patient=patient, detail=detail, emergency_reason=emergency_reason,
        )
        item = _Unsaved(AuditAction(action), datetime.now(UTC), fields)
        with self._lock:
            self._unsaved.append(item)
            if len(self._unsaved) > MAX_UNSAVED:
                self._unsaved.pop(0)
                self._dropped += 1
                log.critical("Audit entries lost from memory: %d so far", self._dropped)
            saved = self.retry()
        if saved and self._sender is not None:
            self._sender.wake()
        return saved[-1] if saved and not self._unsaved else None

    def record_access(self, event: AccessEvent) -> AuditEntry | None:
        """A Workspace `on_access` event: a record opened on a relationship, or as an emergency."""
        emergency = event.kind == "emergency"
        basis = getattr(event.relationship, "kind", None)
        return self.record(
            AuditAction.EMERGENCY_ACCESS if emergency else AuditAction.RECORD_OPEN,
            user_id=event.user_id, role_id=event.role_id, patient=event.nhs_number,
            detail={"basis": "emergency" if emergency else str(basis or "relationship")},
            emergency_reason=event.reason if emergency else None,
        )

    def retry(self) -> list[AuditEntry]:
        """Write the held entries in order, stopping at the first failure; returns those written."""
        written: list[AuditEntry] = []
        if self._log is None:
            return written
        with self._lock:
            return self._write_held(written)

    def _write_held(self, written: list[AuditEntry]) -> list[AuditEntry]:
        assert self._log is not None
        while self._unsaved:
            item = self._unsaved[0]
            try:
                entry = self._log.append(
                    item.action, at=item.at, enqueue=self._sender is not None, **item.fields
                )
            except Exception as exc:
                if not self._failed:
                    log.error("The audit log could not be written (%s); holding entries in memory",
                              type(exc).__name__)
                self._failed = True
                return written
            self._unsaved.pop(0)
            written.append(entry)
        if self._failed:
            log.warning("The audit log is being written again")
        self._failed = False
        return written

    def _fields(
        self,
        *,
        session: ClinicianSession | None,
        user_id: str | None,
        role_id: str | None,
        org_ods: str | None,
        outcome: AuditOutcome | str,
        patient: str | None,
        detail: Mapping[str, Any] | None,
        emergency_reason: str | None,
    ) -> dict[str, Any]:
        role = session.selected_role if session is not None else None
        invalid: list[str] = []
        if patient is not None and not is_valid(patient):
            invalid.append("patient")
            patient = None
        try:
            cleaned = clean_detail(detail)
        except ValueError:
            invalid.append("detail")
            cleaned = {}
        if invalid:
            log.warning("Audit entry recorded without its invalid %s", " and ".join(invalid))
            cleaned = {**cleaned, "invalid-fields": invalid}
        return {
            "outcome": AuditOutcome(outcome),
            "user_id": user_id or (session.user_id if session is not None else None),
            "role_id": role_id or (role.person_roleid if role is not None else None),
            "org_ods": org_ods or self._org_ods or (role.org_code if role is not None else None),
            "patient": patient,
            "detail": cleaned,
            "emergency_reason": emergency_reason,
        }
