"""Each local audit entry, sent to the trust's audit endpoint as a FHIR R4 AuditEvent, never lost.

The queue is in the store (`AuditQueue`), so what could not be sent (network down, endpoint failing, no
clinician signed in to lend a token) is still there after a restart. Entries go in the order recorded;
a failure that may pass (5xx, 401/403 with an expiring token, 408, 429, the network) stops the round and
backs off; an outright refusal of one event (another 4xx) parks that event, still queued, so it does not
hold up the others. POSTs are never repeated by the HTTP layer (`safe=False`): the queue does the retrying.
Only a readable JSON success (or an empty one) counts as sent: a proxy's HTML page or a garbled 200 may
not come from the audit service at all. Sending again costs a duplicate, which the entry's identifier lets
the receiver drop; counting it as sent could lose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from viewer import __version__
from viewer.sources.errors import SourceError
from viewer.sources.http import backoff_delay, send
from viewer.store.audit_log import AuditAction, AuditEntry, AuditLog, AuditOutcome
from viewer.store.audit_queue import AuditQueue, QueuedEntry

log = logging.getLogger(__name__)

TokenSource = Callable[[], str | None]
Clock = Callable[[], float]

DCM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
SECURITY_ROLE_TYPE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
SDS_USER = "https://fhir.nhs.uk/Id/sds-user-id"
SDS_ROLE_PROFILE = "https://fhir.nhs.uk/Id/sds-role-profile-id"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
# Wardview's own names for its actions and log entries; the lead may register a canonical URL.
WARDVIEW_ACTION = "urn:wardview:audit-action"
WARDVIEW_ENTRY = "urn:wardview:audit-entry"
WARDVIEW_DEVICE = "urn:wardview:device"

MAX_BACKOFF = 600.0  # seconds between tries of the oldest entry once the endpoint has been down a while
PARKED_BACKOFF = 3600.0
_RETRYABLE_4XX = frozenset({401, 403, 408, 425, 429})

_LOGIN = {"system": DCM, "code": "110114", "display": "User Authentication"}
_EXPORT = {"system": DCM, "code": "110106", "display": "Export"}
_REST = {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
_READ = {"system": RESTFUL_INTERACTION, "code": "read", "display": "read"}
_SEARCH = {"system": RESTFUL_INTERACTION, "code": "search-type", "display": "search type"}

# action -> (type, standard subtype or None, FHIR action code C/R/U/D/E)
_CODES: dict[AuditAction, tuple[dict[str, str], dict[str, str] | None, str]] = {
    AuditAction.SIGN_IN: (_LOGIN, {"system": DCM, "code": "110122", "display": "Login"}, "E"),
    AuditAction.SIGN_IN_FAILED: (_LOGIN, {"system": DCM, "code": "110122", "display": "Login"}, "E"),
    AuditAction.SIGN_OUT: (_LOGIN, {"system": DCM, "code": "110123", "display": "Logout"}, "E"),
    AuditAction.LOCK: (_LOGIN, None, "E"),
    AuditAction.UNLOCK: (_LOGIN, None, "E"),
    AuditAction.SEARCH: (_REST, _SEARCH, "E"),
    AuditAction.RECORD_OPEN: (_REST, _READ, "R"),
    AuditAction.SECTION_VIEW: (_REST, _READ, "R"),
    AuditAction.PRINT: (_EXPORT, None, "R"),
    AuditAction.EXPORT: (_EXPORT, None, "R"),
    AuditAction.EMERGENCY_ACCESS: (_REST, _READ, "R"),
    AuditAction.ACCESS_REFUSED: (_REST, _READ, "R"),
}
_OUTCOMES = {AuditOutcome.SUCCESS: "0", AuditOutcome.REFUSED: "4", AuditOutcome.FAILED: "8"}


@dataclass(frozen=True, slots=True)
class Device:
    """This installation, as the AuditEvent's source."""

    name: str
    site: str | None = None  # the trust's ODS code

    @classmethod
    def this_pc(cls, site: str | None = None) -> Device:
        return cls(name=socket.gethostname() or "unknown", site=site or None)


def build_audit_event(entry: AuditEntry, *, device: Device, store_id: str = "wardview") -> dict[str, Any]:
    """The FHIR R4 AuditEvent for one local entry (JSON-ready)."""
    event_type, subtype, action = _CODES[entry.action]
    subtypes = [subtype] if subtype else []
    subtypes.append({"system": WARDVIEW_ACTION, "code": entry.action.value})
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": SECURITY_ROLE_TYPE, "code": "humanuser", "display": "human user"}]},
        "requestor": True,
    }
    if entry.user_id:
        agent["who"] = {"identifier": {"system": SDS_USER, "value": entry.user_id}}
    if entry.role_id:
        agent["role"] = [{"coding": [{"system": SDS_ROLE_PROFILE, "code": entry.role_id}]}]
    if entry.org_ods:
        agent["location"] = {"identifier": {"system": ODS_CODE, "value": entry.org_ods}}
    if entry.emergency_reason or entry.action is AuditAction.EMERGENCY_ACCESS:
        agent["purposeOfUse"] = [{
            "coding": [{"system": ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment"}],
            **({"text": entry.emergency_reason} if entry.emergency_reason else {}),
        }]
    source: dict[str, Any] = {
        "observer": {
            "identifier": {"system": WARDVIEW_DEVICE, "value": device.name},
            "display": f"Wardview {__version__}",
        },
        "type": [{"system": SOURCE_TYPE, "code": "1", "display": "User Device"}],
    }
    if device.site:
        source["site"] = device.site
    # The local entry itself, so the receiver can match an event to `wardview audit show`, and drop a
    # duplicate when a lost response made the viewer send it twice.
    entities: list[dict[str, Any]] = [{
        "what": {"identifier": {"system": WARDVIEW_ENTRY, "value": f"{store_id}:{entry.seq}:{entry.hash}"}},
        "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        "detail": [
            {"type": key, "valueString": value if isinstance(value, str) else orjson.dumps(value).decode()}
            for key, value in entry.detail.items()
        ],
    }]
    if not entities[0]["detail"]:
        del entities[0]["detail"]
    if entry.patient:
        entities.insert(0, {
            "what": {"identifier": {"system": NHS_NUMBER, "value": entry.patient}},
            "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
            "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
        })
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": event_type,
        "subtype": subtypes,
        "action": action,
        "recorded": entry.at,
        "outcome": _OUTCOMES[entry.outcome],
        "agent": [agent],
        "source": source,
        "entity": entities,
    }
    if entry.emergency_reason or entry.action is AuditAction.EMERGENCY_ACCESS:
        event["purposeOfEvent"] = [{"coding": [{"system": ACT_REASON, "code": "ETREAT"}]}]
    return event


def _readable(body: bytes) -> bool:
    if not body.strip():
        return True
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False


@dataclass(frozen=True, slots=True)
class FlushResult:
    sent: int
    failed: int
    pending: int
    waiting_for_token: bool = False


class AuditSender:
    """Sends queued entries. `flush()` once; `run()` as a background task on the worker loop, which
    `wake()` (safe from any thread) nudges when a new entry is recorded."""

    def __init__(
        self,
        log: AuditLog,
        http: httpx.AsyncClient,
        audit_url: str,
        token: TokenSource,
        *,
        device: Device | None = None,
        clock: Clock = time.time,
        timeout: float | None = None,
        batch: int = 50,
    ):
        if not audit_url:
            raise ValueError("an audit sender needs the audit endpoint's URL")
        self._log = log
        self._queue = AuditQueue(log.store)
        self._http = http
        self._url = audit_url.rstrip("/") + "/AuditEvent"
        self._token = token
        self._device = device or Device.this_pc()
        self._clock = clock
        self._timeout = timeout
        self._batch = batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._flushing = asyncio.Lock()

    def pending(self) -> int:
        return self._queue.pending()

    async def flush(self) -> FlushResult:
        """Send what is due, oldest first, until the queue is empty or the endpoint stops accepting."""
        async with self._flushing:
            sent = failed = 0
            while True:
                due = self._queue.due(self._clock(), limit=self._batch)
                if not due:
                    break
                token = self._token()
                if not token:
                    return FlushResult(sent, failed, self._queue.pending(), waiting_for_token=True)
                stop = False
                for item in due:
                    outcome = await self._send_one(item, token)
                    if outcome == "sent":
                        sent += 1
                        continue
                    failed += 1
                    if outcome == "stop":
                        stop = True
                        break
                if stop:
                    break
            return FlushResult(sent, failed, self._queue.pending())

    async def _send_one(self, item: QueuedEntry, token: str) -> str:
        seq = item.entry.seq
        event = build_audit_event(item.entry, device=self._device, store_id=self._log.store.store_id)
        try:
            response = await send(
                self._http, "POST", self._url, safe=False, attempts=1, timeout=self._timeout,
                service="The audit service", content=orjson.dumps(event), json_only=True,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/fhir+json",
                    "Accept": "application/fhir+json",
                },
            )
        except SourceError as exc:
            log.warning("Audit entry %d not sent: %s", seq, type(exc).__name__)
            self._retry_later(item, None)
            return "stop"
        status = response.status_code
        if 200 <= status < 300 and _readable(response.content):
            self._queue.mark_sent(seq)
            return "sent"
        if 200 <= status < 300:
            log.warning("Audit entry %d: the audit service's reply could not be read; kept queued", seq)
            self._retry_later(item, status)
            return "stop"
        if status >= 500 or status in _RETRYABLE_4XX:
            log.warning("Audit entry %d not accepted yet (HTTP %d)", seq, status)
            self._retry_later(item, status)
            return "stop"
        log.error("Audit entry %d refused by the audit service (HTTP %d); kept queued", seq, status)
        self._queue.mark_failed(seq, retry_at=self._clock() + PARKED_BACKOFF, status=status, park=True)
        return "parked"

    def _retry_later(self, item: QueuedEntry, status: int | None) -> None:
        delay = min(MAX_BACKOFF, backoff_delay(min(item.attempts, 16), base=2.0))
        self._queue.mark_failed(item.entry.seq, retry_at=self._clock() + delay, status=status)

    def wake(self) -> None:
        """Ask `run()` to flush now; callable from any thread (the GUI records, the worker sends)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def run(self, *, idle_seconds: float = 60.0, min_wait: float = 0.5) -> None:
        """Flush whenever woken or due, until cancelled. Never raises for a failed round."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            while True:
                wait = idle_seconds
                try:
                    result = await self.flush()
                    next_due = self._queue.next_due()
                    if next_due is not None and not result.waiting_for_token:
                        wait = min(idle_seconds, max(min_wait, next_due - self._clock()))
                except Exception as exc:  # a round failing must not end the sending for the session
                    log.error("Audit sending round failed (%s)", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                self._wake.clear()
        finally:
            self._loop = self._wake = None
