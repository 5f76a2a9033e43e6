"""The audit sender against the sandbox's audit sink over HTTPS, with a real clinician's token: entries
recorded while the sink fails stay queued, survive the store being closed and reopened, and once the
sink recovers all arrive exactly once, in order, as valid R4 AuditEvents."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.auditevent import AuditEvent

from tests.support.memory_keyring import MemoryKeyring
from viewer.auth.oidc import OidcClient
from viewer.auth.session import ClinicianSession, sign_in_clinician
from viewer.services.audit import Audit, AuditAction
from viewer.services.audit_sender import WARDVIEW_ENTRY, AuditSender, Device
from viewer.store.audit_log import AuditLog
from viewer.store.database import Store

robot = pytest.importorskip("viewer.sandbox.robot", reason="the sandbox robot is not written yet")
faults = pytest.importorskip("viewer.sandbox.faults", reason="the sandbox faults are not written yet")

SCOPES = "openid profile nationalrbacaccess associatedorgs selectedrole"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _http(info: dict[str, Any]) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_cert"]), timeout=20)


def _sign_in(info: dict[str, Any]) -> ClinicianSession:
    user = next(u for u in info["users"] if u["roles"])
    role_id = user["roles"][0]["person_roleid"]

    def open_browser(url: str) -> None:
        robot.answer_sign_in(url, user["username"], role_id, info["ca_cert"])

    async def go() -> ClinicianSession:
        async with _http(info) as http:
            oidc = OidcClient(http, issuer=info["issuer"], client_id=info["client_id"], scopes=SCOPES)
            return await sign_in_clinician(oidc, open_browser, login_hint=user["username"], timeout=60)

    return asyncio.run(go())


def _flush(store: Store, info: dict[str, Any], token: str, clock: Clock):
    async def go():
        async with _http(info) as http:
            sender = AuditSender(AuditLog(store), http, info["audit"], lambda: token,
                                 device=Device("WARD-PC-7", info["consumer_ods"]), clock=clock)
            return await sender.flush()

    return asyncio.run(go())


def _ours(sandbox: Any, store_id: str) -> list[dict[str, Any]]:
    mine = []
    for event in sandbox.audit.events():
        for entity in event.get("entity", []):
            identifier = entity.get("what", {}).get("identifier", {})
            if identifier.get("system") == WARDVIEW_ENTRY and identifier["value"].startswith(f"{store_id}:"):
                mine.append(event)
    return mine


def test_queued_entries_survive_an_outage_and_a_restart_then_arrive_once_in_order(
    sandbox: Any, tmp_path: Path
) -> None:
    info = sandbox.info
    session = _sign_in(info)
    token = session.tokens.access_token
    patient = next(p["nhs_number"] for p in info["patients"])
    store_id = f"audit-it-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{store_id}.db"
    backend = MemoryKeyring()
    clock = Clock()

    class Waker:
        def wake(self) -> None:
            """The test flushes by hand."""

    store = Store.open(path, backend=backend)
    audit = Audit(AuditLog(store), org_ods=info["consumer_ods"], sender=Waker())  # type: ignore[arg-type]
    audit.record(AuditAction.SIGN_IN, session=session)
    audit.record(AuditAction.RECORD_OPEN, session=session, patient=patient, detail={"basis": "encounter"})
    audit.record(AuditAction.EMERGENCY_ACCESS, session=session, patient=patient,
                 emergency_reason="Emergency care: unconscious")
    sandbox.faults.set("audit", faults.Fault(kind="status", status=503))
    try:
        result = _flush(store, info, token, clock)
        assert (result.sent, result.pending) == (0, 3)
        assert _ours(sandbox, store_id) == []
    finally:
        sandbox.faults.clear("audit")
    store.close()

    clock.now += 3600  # past any backoff
    with Store.open(path, backend=backend) as reopened:
        assert AuditLog(reopened).verify().intact
        result = _flush(reopened, info, token, clock)
        assert (result.sent, result.pending) == (3, 0)
        again = _flush(reopened, info, token, clock)
        assert (again.sent, again.pending) == (0, 0)
        entries = AuditLog(reopened).last(10)

    arrived = _ours(sandbox, store_id)
    assert len(arrived) == 3
    ids = [next(e["what"]["identifier"]["value"] for e in ev["entity"]
                if e["what"]["identifier"]["system"] == WARDVIEW_ENTRY) for ev in arrived]
    assert ids == [f"{store_id}:{e.seq}:{e.hash}" for e in entries]
    for event in arrived:
        AuditEvent.model_validate(event)
        assert event["agent"][0]["who"]["identifier"]["value"] == session.user_id
    assert arrived[2]["agent"][0]["purposeOfUse"][0]["coding"][0]["code"] == "ETREAT"


def test_the_sink_refuses_a_missing_token_and_the_entry_stays(sandbox: Any, tmp_path: Path) -> None:
    info = sandbox.info
    store_id = f"audit-it-{uuid.uuid4().hex[:8]}"
    with Store.open(tmp_path / f"{store_id}.db", backend=MemoryKeyring()) as store:
        AuditLog(store).append(AuditAction.LOCK, user_id="u", enqueue=True)
        result = _flush(store, info, "not-a-valid-token", Clock())
        assert (result.sent, result.pending) == (0, 1)
    assert _ours(sandbox, store_id) == []
