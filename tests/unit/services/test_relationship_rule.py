"""The legitimate-relationship rule in the Workspace: relationship -> open; none or no check -> the
emergency route, never a silent allow and never a dead end; every access recorded before the fetch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from viewer.auth.oidc import TokenSet
from viewer.auth.roles import Role
from viewer.auth.session import ClinicianSession, PersonName
from viewer.config import Settings
from viewer.services.open_record import InvalidNhsNumber
from viewer.services.relationship import (
    EMERGENCY_CHOICES,
    CheckFailed,
    NeedsEmergencyAccess,
    RelationshipCheck,
    build_relationship_check,
    emergency_reason,
)
from viewer.services.workspace import NoSuitableRole, Workspace
from viewer.sources.errors import ReauthenticationRequired, SourceUnavailable
from viewer.sources.relationship import Relationship, RelationshipClient

ORG = "RWV99"
NHS = "9990000018"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DOCTOR = Role("555000000101", ORG, "Clinical Practitioner", "R8000")
ADMIN = Role("555000000109", ORG, "Receptionist", "R8008")
ADMITTED = Relationship("encounter", "enc-1", NOW - timedelta(days=2))


def session(role: Role | None = DOCTOR) -> ClinicianSession:
    return ClinicianSession(
        user_id="555000000001", name=PersonName("Asha", "Patel"), roles=(role,) if role else (DOCTOR,),
        selected_role=role, tokens=TokenSet("tok", NOW + timedelta(hours=1)), signed_in_at=NOW,
    )


class Finder:
    def __init__(self, answer=None, error: Exception | None = None):
        self.answer, self.error, self.calls = answer, error, []

    async def find(self, nhs, ctx):
        self.calls.append((nhs, ctx.role_id))
        if self.error is not None:
            raise self.error
        return self.answer


class Opener:
    """Stands in for OpenRecord: records what was fetched, and what the access log held by then."""

    def __init__(self):
        self.calls = []
        self.workspace: Workspace | None = None

    async def __call__(self, nhs, ctx, on_update=None):
        self.calls.append((nhs, len(self.workspace.access_log)))
        return f"record of {nhs}"


def workspace(finder=None, *, on_access=None, configured=True) -> tuple[Workspace, Opener]:
    opener = Opener()
    extra = {"on_access": on_access} if on_access else {}
    ws = Workspace(
        oidc=None, browser_for=lambda _u: None, open_record=opener, org_ods=ORG,  # type: ignore[arg-type]
        relationship=RelationshipCheck(finder, org_ods=ORG) if configured else None, **extra,
    )
    opener.workspace = ws
    return ws, opener


def run(coro):
    return asyncio.run(coro)


def test_relationship_opens_and_is_logged_before_the_fetch():
    ws, opener = workspace(Finder(ADMITTED))
    assert run(ws.open_record(NHS, session(), None)) == f"record of {NHS}"
    assert opener.calls == [(NHS, 1)]  # the access was recorded before anything was fetched
    [event] = ws.access_log
    assert (event.nhs_number, event.kind, event.reason) == (NHS, "relationship", "active encounter enc-1")
    assert event.relationship == ADMITTED
    assert (event.user_id, event.role_id) == ("555000000001", DOCTOR.person_roleid)


def test_no_relationship_needs_emergency_access_and_fetches_nothing():
    ws, opener = workspace(Finder(None))
    with pytest.raises(NeedsEmergencyAccess) as refused:
        run(ws.open_record(NHS, session(), None))
    assert refused.value.user_message == "no active encounter or episode of care at RWV99"
    assert not refused.value.check_failed
    assert opener.calls == [] and ws.access_log == []


def test_emergency_reason_opens_flagged_without_checking_again():
    finder = Finder(None)
    ws, opener = workspace(finder)
    run(ws.open_record(NHS, session(), None, emergency_reason="  Emergency care:  collapsed  "))
    assert finder.calls == []
    assert opener.calls == [(NHS, 1)]
    [event] = ws.access_log
    assert (event.nhs_number, event.kind, event.reason) == (NHS, "emergency", "Emergency care: collapsed")
    assert event.relationship is None


def test_blank_emergency_reason_is_refused():
    ws, opener = workspace(Finder(None))
    with pytest.raises(ValueError):
        run(ws.open_record(NHS, session(), None, emergency_reason="   "))
    assert opener.calls == [] and ws.access_log == []


def test_server_error_is_check_failed_and_open_needs_emergency_route():
    ws, _ = workspace(Finder(error=SourceUnavailable("The hospital record server is not answering")))
    result = run(ws.check_relationship(NHS, session()))
    assert result == CheckFailed("The hospital record server is not answering")
    with pytest.raises(NeedsEmergencyAccess) as refused:
        run(ws.open_record(NHS, session(), None))
    assert refused.value.check_failed
    assert refused.value.user_message == (
        "the check could not be made: The hospital record server is not answering"
    )
    run(ws.open_record(NHS, session(), None, emergency_reason="Emergency care"))
    assert [e.kind for e in ws.access_log] == ["emergency"]


def test_a_defect_in_the_check_still_leaves_the_emergency_route():
    ws, _ = workspace(Finder(error=KeyError("boom")))
    assert isinstance(run(ws.check_relationship(NHS, session())), CheckFailed)


def test_expired_sign_in_is_not_turned_into_an_emergency():
    ws, _ = workspace(Finder(error=ReauthenticationRequired("sign in again", status=401)))
    with pytest.raises(ReauthenticationRequired):
        run(ws.open_record(NHS, session(), None))


def test_no_hospital_server_means_every_open_is_an_emergency():
    for ws, _ in (workspace(None), workspace(configured=False)):
        result = run(ws.check_relationship(NHS, session()))
        assert result == CheckFailed("no hospital record server is configured")
        with pytest.raises(NeedsEmergencyAccess):
            run(ws.open_record(NHS, session(), None))


def test_organisation_is_named_for_the_dialog():
    ws, _ = workspace(Finder(None))
    assert ws.organisation == ORG
    named = Workspace(oidc=None, browser_for=lambda _u: None, open_record=Opener(),  # type: ignore[arg-type]
                      org_ods=ORG, org_name="Wardview Sandbox Hospital")
    assert named.organisation == "Wardview Sandbox Hospital"


def test_check_result_passes_through():
    ws, _ = workspace(Finder(ADMITTED))
    assert run(ws.check_relationship(NHS, session())) == ADMITTED
    ws, _ = workspace(Finder(None))
    assert run(ws.check_relationship(NHS, session())) is None


def test_refusals_come_before_any_network():
    finder = Finder(ADMITTED)
    ws, _ = workspace(finder)
    with pytest.raises(InvalidNhsNumber):
        run(ws.open_record("9990000019", session(), None))
    with pytest.raises(NoSuitableRole):
        run(ws.check_relationship(NHS, session(None)))
    with pytest.raises(NoSuitableRole):
        run(ws.open_record(NHS, session(ADMIN), None, emergency_reason="Emergency care"))
    assert finder.calls == []


def test_on_access_sees_every_access_and_its_failure_stops_the_open():
    seen = []
    ws, opener = workspace(Finder(ADMITTED), on_access=seen.append)
    run(ws.open_record("999 000 0018", session(), None))
    assert [(e.nhs_number, e.kind) for e in seen] == [(NHS, "relationship")]

    def broken(_event):
        raise OSError("audit store unavailable")

    ws, opener = workspace(Finder(ADMITTED), on_access=broken)
    with pytest.raises(OSError):
        run(ws.open_record(NHS, session(), None))
    assert opener.calls == [] and ws.access_log == []


def test_emergency_reason_text():
    assert emergency_reason("Emergency care", "") == "Emergency care"
    assert emergency_reason("Emergency care", " found  collapsed ") == "Emergency care: found collapsed"
    assert emergency_reason("Other (explain)", "GP asked") == "Other (explain): GP asked"
    with pytest.raises(ValueError):
        emergency_reason("Other (explain)", "  ")
    with pytest.raises(ValueError):
        emergency_reason("Curiosity", "")
    assert "Other (explain)" in EMERGENCY_CHOICES


def test_built_from_settings():
    async def go():
        async with httpx.AsyncClient() as http:
            configured = build_relationship_check(
                Settings(hospital_fhir_url="https://hospital.test/fhir", ods_code=ORG), http
            )
            bare = build_relationship_check(Settings(ods_code=ORG), http)
            return configured, bare

    configured, bare = run(go())
    assert isinstance(configured._finder, RelationshipClient)
    assert bare._finder is None and bare.org_ods == ORG
