"""The audit as the app wires it: every sign-in, access (relationship or emergency), refusal and sign-out
lands in the hash-chained local log and, through the sender, at the AuditEvent endpoint."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.sandbox_wiring import patient_number, sandbox_settings
from viewer.app import demo_lists, sandbox_browser
from viewer.services.compose import build_workspace, http_client_for, open_local_store
from viewer.services.relationship import NeedsEmergencyAccess
from viewer.services.workspace import NoSuitableRole
from viewer.store.paths import default_store_path


def test_accesses_are_audited_locally_and_sent(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    sandbox.audit.clear()
    settings = sandbox_settings(sandbox)
    outpatient = patient_number(sandbox, "ordinary-adult")
    inpatient = patient_number(sandbox, "warfarin-inpatient")

    async def scenario():
        http = http_client_for(settings)
        holder = {}
        def token():
            session = holder["ws"].current_session
            return session.tokens.access_token if session else holder.get("last_token")

        local = open_local_store(settings, http, path=default_store_path("audit-wiring.db"), token=token)
        sender = local.sender
        assert local.problem is None and sender is not None
        users, patients = demo_lists(sandbox.info)
        ws = build_workspace(settings, http, sandbox_browser(sandbox.info["ca_cert"]), sandbox=True,
                             demo_users=users, demo_patients=patients, local=local)
        holder["ws"] = ws
        try:
            session = await ws.sign_in("dr.morgan")
            with pytest.raises(NeedsEmergencyAccess):
                await ws.open_record(outpatient, session, lambda _r: None)
            await ws.open_record(outpatient, session, lambda _r: None,
                                 emergency_reason="Emergency care: test")
            await ws.open_record(inpatient, session, lambda _r: None)
            ws.record_event("lock", session)
            ws.record_event("unlock", session)
            holder["last_token"] = session.tokens.access_token
            result = await sender.flush()
            admin = await ws.sign_in("admin.price")
            with pytest.raises(NoSuitableRole):
                await ws.open_record(inpatient, admin, lambda _r: None)
            await ws.sign_out(admin)
            await ws.sign_out(session)
            return local.audit, result
        finally:
            await http.aclose()

    audit, result = asyncio.run(scenario())
    log = audit._log  # the facade's local log
    entries = log.last(50)
    actions = [e.action.value for e in entries]
    assert actions == ["sign-in", "emergency-access", "record-open", "lock", "unlock", "sign-in",
                       "access-refused", "sign-out", "sign-out"]
    emergency = entries[1]
    assert emergency.patient == outpatient and emergency.emergency_reason == "Emergency care: test"
    assert entries[2].patient == inpatient
    report = log.verify()
    assert report.intact and report.entries == len(entries)
    # the first five were sent while dr.morgan was signed in; each arrived once, in order
    assert result.sent == 5 and result.pending == 0
    assert len(sandbox.audit.events()) == 5
