"""AuditEvents built per entry (valid FHIR R4), sent in order, kept queued through every failure."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fhir.resources.R4B.auditevent import AuditEvent

from tests.support.memory_keyring import MemoryKeyring
from viewer.services.audit_sender import (
    ACT_REASON,
    DCM,
    NHS_NUMBER,
    RESTFUL_INTERACTION,
    WARDVIEW_ENTRY,
    AuditSender,
    Device,
    build_audit_event,
)
from viewer.store.audit_log import AuditAction, AuditLog, AuditOutcome
from viewer.store.audit_queue import AuditQueue
from viewer.store.database import Store

NHS = "9990000018"
TOKEN = "access-token-for-the-sink"
URL = "https://audit.invalid/fhir"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "sender.db", backend=MemoryKeyring())
    yield opened
    opened.close()


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Sink:
    """A scripted audit endpoint: answers from `script` (status or exception) then 201."""

    def __init__(self, script: list[int | Exception] | None = None):
        self.script = list(script or [])
        self.received: list[dict] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            if step >= 300:
                return httpx.Response(step, json={"resourceType": "OperationOutcome", "issue": []})
        self.received.append(json.loads(request.content))
        return httpx.Response(201, json={"resourceType": "AuditEvent", "id": str(len(self.received))})

    def seqs(self) -> list[int]:
        return [int(_entry_id(event).split(":")[1]) for event in self.received]


def _entry_id(event: dict) -> str:
    return next(e["what"]["identifier"]["value"] for e in event["entity"]
                if e["what"]["identifier"]["system"] == WARDVIEW_ENTRY)


def _sender(store: Store, sink: Sink, clock: Clock, token: Callable[[], str | None] = lambda: TOKEN):
    http = httpx.AsyncClient(transport=httpx.MockTransport(sink))
    return AuditSender(AuditLog(store), http, URL + "/", token, device=Device("WARD-PC-7", "RWV99"),
                       clock=clock), http


def _record(store: Store, count: int) -> None:
    audit = AuditLog(store)
    for i in range(count):
        audit.append(AuditAction.SECTION_VIEW, user_id="555000000001", role_id="555000000101",
                     org_ods="RWV99", patient=NHS, detail={"section": "allergies", "n": i}, enqueue=True)


def _flush(sender: AuditSender, http: httpx.AsyncClient):
    async def go():
        async with http:
            return await sender.flush()
    return asyncio.run(go())


@pytest.mark.parametrize("action", list(AuditAction))
def test_every_action_makes_a_valid_r4_audit_event(action: AuditAction, store: Store) -> None:
    entry = AuditLog(store).append(
        action, user_id="555000000001", role_id="555000000101", org_ods="RWV99",
        patient=NHS if action not in (AuditAction.SIGN_IN, AuditAction.SIGN_OUT) else None,
        detail={"section": "allergies"},
        emergency_reason="Collapsed, no relationship" if action is AuditAction.EMERGENCY_ACCESS else None,
        outcome=AuditOutcome.REFUSED if action is AuditAction.ACCESS_REFUSED else AuditOutcome.SUCCESS,
    )
    event = build_audit_event(entry, device=Device("WARD-PC-7", "RWV99"), store_id="ward")
    parsed = AuditEvent.model_validate(event)
    assert parsed.recorded is not None and parsed.agent[0].requestor is True
    agent = event["agent"][0]
    assert agent["who"]["identifier"]["value"] == "555000000001"
    assert agent["role"][0]["coding"][0]["code"] == "555000000101"
    assert event["source"]["site"] == "RWV99"
    assert event["source"]["observer"]["identifier"]["value"] == "WARD-PC-7"
    assert _entry_id(event) == f"ward:{entry.seq}:{entry.hash}"
    assert {"system": "urn:wardview:audit-action", "code": action.value} in event["subtype"]


def test_codes_follow_the_standard_code_systems(store: Store) -> None:
    audit = AuditLog(store)
    device = Device("pc")

    def codes(action, **kwargs):
        event = build_audit_event(audit.append(action, **kwargs), device=device)
        subtypes = [(s["system"], s["code"]) for s in event["subtype"]]
        return event["type"]["system"], event["type"]["code"], subtypes

    assert codes(AuditAction.SIGN_IN)[:2] == (DCM, "110114")
    assert (DCM, "110122") in codes(AuditAction.SIGN_IN)[2]
    assert (DCM, "110123") in codes(AuditAction.SIGN_OUT)[2]
    assert (RESTFUL_INTERACTION, "search-type") in codes(AuditAction.SEARCH)[2]
    assert (RESTFUL_INTERACTION, "read") in codes(AuditAction.RECORD_OPEN, patient=NHS)[2]
    assert codes(AuditAction.EXPORT, patient=NHS)[:2] == (DCM, "110106")
    refused = build_audit_event(audit.append(AuditAction.ACCESS_REFUSED, outcome=AuditOutcome.REFUSED),
                                device=device)
    assert refused["outcome"] == "4"


def test_emergency_access_carries_etreat_and_the_reason(store: Store) -> None:
    entry = AuditLog(store).append(AuditAction.EMERGENCY_ACCESS, user_id="u", patient=NHS,
                                   emergency_reason="Emergency care: unconscious")
    event = build_audit_event(entry, device=Device("pc"))
    purpose = event["agent"][0]["purposeOfUse"][0]
    assert purpose["coding"][0] == {"system": ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment"}
    assert purpose["text"] == "Emergency care: unconscious"
    patient = event["entity"][0]
    assert patient["what"]["identifier"] == {"system": NHS_NUMBER, "value": NHS}
    assert patient["role"]["code"] == "1"
    AuditEvent.model_validate(event)


def test_flush_sends_everything_in_order_with_the_bearer_token(store: Store) -> None:
    _record(store, 3)
    sink = Sink()
    sender, http = _sender(store, sink, Clock())
    result = _flush(sender, http)
    assert (result.sent, result.failed, result.pending) == (3, 0, 0)
    assert sink.seqs() == [1, 2, 3]
    assert all(h["authorization"] == f"Bearer {TOKEN}" for h in sink.headers)
    assert all(h["content-type"] == "application/fhir+json" for h in sink.headers)
    assert sender.pending() == 0


def test_an_unavailable_endpoint_keeps_everything_queued_and_backs_off(store: Store) -> None:
    _record(store, 3)
    clock = Clock()
    sink = Sink([503])
    sender, http = _sender(store, sink, clock)
    result = _flush(sender, http)
    assert (result.sent, result.failed, result.pending) == (0, 1, 3)
    assert len(sink.headers) == 1  # one try, and the later entries waited behind it
    sender, http = _sender(store, sink, clock)
    assert _flush(sender, http).sent == 0  # still backing off
    clock.now += 3600
    sender, http = _sender(store, sink, clock)
    assert _flush(sender, http).sent == 3
    assert sink.seqs() == [1, 2, 3]


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), 401, 429, 500])
def test_passing_failures_stop_the_round(failure, store: Store) -> None:
    _record(store, 2)
    sink = Sink([failure])
    sender, http = _sender(store, sink, Clock())
    result = _flush(sender, http)
    assert result.sent == 0 and result.pending == 2
    [first] = AuditQueue(store).due(now=10**12, limit=1)
    assert first.entry.seq == 1 and first.attempts == 1 and not first.parked


def test_a_refused_event_is_parked_not_dropped(store: Store, caplog) -> None:
    _record(store, 3)
    clock = Clock()
    sink = Sink([400])
    sender, http = _sender(store, sink, clock)
    with caplog.at_level(logging.DEBUG):
        result = _flush(sender, http)
    assert (result.sent, result.pending) == (2, 1)
    assert sink.seqs() == [2, 3]
    queue = AuditQueue(store)
    assert queue.parked() == 1
    clock.now += 7200
    sender, http = _sender(store, sink, clock)
    assert _flush(sender, http).sent == 1 and sink.seqs() == [2, 3, 1]
    assert NHS not in caplog.text and TOKEN not in caplog.text


def test_without_a_token_nothing_is_sent(store: Store) -> None:
    _record(store, 2)
    sink = Sink()
    sender, http = _sender(store, sink, Clock(), token=lambda: None)
    result = _flush(sender, http)
    assert result.waiting_for_token and result.pending == 2 and sink.headers == []


def test_more_than_a_batch_is_sent_in_one_flush(store: Store) -> None:
    _record(store, 7)
    sink = Sink()
    http = httpx.AsyncClient(transport=httpx.MockTransport(sink))
    sender = AuditSender(AuditLog(store), http, URL, lambda: TOKEN, clock=Clock(), batch=3)
    assert _flush(sender, http).sent == 7 and sink.seqs() == list(range(1, 8))


def test_a_sender_needs_an_endpoint(store: Store) -> None:
    with pytest.raises(ValueError):
        AuditSender(AuditLog(store), httpx.AsyncClient(), "", lambda: TOKEN)


def test_run_sends_when_woken(store: Store) -> None:
    sink = Sink()
    arrived = asyncio.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        response = sink(request)
        arrived.set()
        return response

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            sender = AuditSender(AuditLog(store), http, URL, lambda: TOKEN, clock=Clock())
            task = asyncio.create_task(sender.run(idle_seconds=3600))
            while sender._wake is None:  # run() has started, flushed an empty queue and is waiting
                await asyncio.sleep(0)
            _record(store, 1)
            sender.wake()
            await asyncio.wait_for(arrived.wait(), timeout=30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert sink.seqs() == [1] and AuditQueue(store).pending() == 0
