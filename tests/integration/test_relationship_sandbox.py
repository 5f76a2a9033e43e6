"""The legitimate-relationship rule end to end: the real Workspace, its real check, the sandbox hospital."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.sandbox_wiring import make_workspace, patient_number
from viewer.domain.provenance import SourceKind
from viewer.record.status import SourceState
from viewer.sandbox.faults import Fault
from viewer.services.relationship import CheckFailed, NeedsEmergencyAccess
from viewer.sources.relationship import Relationship


def run_signed_in(sandbox, action, username="dr.morgan"):
    """`action(workspace, session)` on a fresh bare Workspace (relationship check in force)."""

    async def go():
        workspace, http = make_workspace(sandbox, emergency_reason=None)
        try:
            session = await workspace.sign_in(username)
            if session.selected_role is None:
                workspace.select_role(session, workspace.role_choices(session)[0][0])
            return workspace, await action(workspace, session)
        finally:
            await http.aclose()

    return asyncio.run(go())


def test_inpatient_has_a_current_encounter_and_opens_directly(sandbox):
    nhs = patient_number(sandbox, "warfarin-inpatient")

    async def act(workspace, session):
        found = await workspace.check_relationship(nhs, session)
        record = await workspace.open_record(nhs, session, lambda _r: None)
        return found, record

    workspace, (found, record) = run_signed_in(sandbox, act)
    assert isinstance(found, Relationship) and found.kind == "encounter"
    assert found.since is not None
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
    [event] = workspace.access_log
    assert (event.nhs_number, event.kind) == (nhs, "relationship")
    assert found.resource_id in event.reason


def test_outpatient_needs_emergency_access_then_opens_flagged(sandbox):
    nhs = patient_number(sandbox, "ordinary-adult")

    async def act(workspace, session):
        assert await workspace.check_relationship(nhs, session) is None
        with pytest.raises(NeedsEmergencyAccess) as refused:
            await workspace.open_record(nhs, session, lambda _r: None)
        assert workspace.access_log == []  # nothing was opened
        record = await workspace.open_record(nhs, session, lambda _r: None,
                                             emergency_reason="Emergency care: collapsed in clinic")
        return refused.value, record

    workspace, (refused, record) = run_signed_in(sandbox, act)
    org = sandbox.info["consumer_ods"]
    assert refused.user_message == f"no active encounter or episode of care at {org}"
    assert not refused.check_failed
    assert record.patient is not None
    [event] = workspace.access_log
    assert (event.nhs_number, event.kind, event.reason) == (nhs, "emergency",
                                                            "Emergency care: collapsed in clinic")


def test_hospital_outage_offers_the_emergency_route(sandbox):
    nhs = patient_number(sandbox, "warfarin-inpatient")
    sandbox.faults.set("hospital", Fault(kind="status", status=503))
    try:
        async def act(workspace, session):
            found = await workspace.check_relationship(nhs, session)
            with pytest.raises(NeedsEmergencyAccess) as refused:
                await workspace.open_record(nhs, session, lambda _r: None)
            return found, refused.value

        _, (found, refused) = run_signed_in(sandbox, act)
    finally:
        sandbox.faults.clear("hospital")
    assert isinstance(found, CheckFailed)
    assert refused.check_failed
    assert refused.user_message.startswith("the check could not be made: ")


def test_patient_unknown_to_the_hospital_has_no_relationship(sandbox):
    hospital_less = [p["nhs_number"] for p in sandbox.info["patients"]
                     if sandbox.world.patient(p["nhs_number"]).hospital is None]
    if not hospital_less:
        pytest.skip("every sandbox patient has a hospital record")

    async def act(workspace, session):
        return await workspace.check_relationship(hospital_less[0], session)

    _, found = run_signed_in(sandbox, act)
    assert found is None
