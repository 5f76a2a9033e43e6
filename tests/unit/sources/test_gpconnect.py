"""GP Connect consumer: URL (direct and through the SSP), headers, body and every Spine error code."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest

from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    AccessDenied,
    ConsentWithheld,
    InvalidRequest,
    PatientNotFound,
    ReauthenticationRequired,
    SourceUnavailable,
    UnreadableResponse,
)
from viewer.sources.gpconnect import DateRangeError, GpConnectAreas, GpConnectClient, error_for
from viewer.sources.sds import GpConnectEndpoint

NHS = "9990000018"
ENDPOINT = GpConnectEndpoint("https://gp.test/A12345/STU3/1/gpconnect/structured/fhir", "918999198738", "pk")
CTX = RequestContext(
    access_token="tok",
    user_id="555021935107",
    role_id="555021936108",
    family_name="Jones",
    given_name="Claire",
    org_ods="RWV99",
)
BUNDLE = {"resourceType": "Bundle", "type": "collection", "entry": []}


def outcome(code: str, status_text: str = "forbidden") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": status_text,
                "details": {
                    "coding": [
                        {
                            "system": "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1",
                            "code": code,
                        }
                    ]
                },
            }
        ],
    }


def client_with(*responses, ssp_url=None, areas=None):
    seen: list[httpx.Request] = []
    script = list(responses)

    def handler(request):
        seen.append(request)
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    clock = lambda: datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # noqa: E731
    return GpConnectClient(
        http, consumer_asid="918999198993", ssp_url=ssp_url, areas=areas, clock=clock
    ), seen


def fetch(client):
    return asyncio.run(client.get_structured_record(NHS, ENDPOINT, CTX))


def test_direct_url_headers_and_body():
    client, seen = client_with(httpx.Response(200, json=BUNDLE))
    body = fetch(client)
    assert json.loads(body) == BUNDLE
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"{ENDPOINT.address}/Patient/$gpc.getstructuredrecord"
    h = request.headers
    uuid.UUID(h["Ssp-TraceID"])
    assert h["Ssp-From"] == "918999198993"
    assert h["Ssp-To"] == "918999198738"
    assert (
        h["Ssp-InteractionID"] == "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1"
    )
    assert h["Accept"] == h["Content-Type"] == "application/fhir+json;charset=utf-8"
    token = h["Authorization"].removeprefix("Bearer ")
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == ENDPOINT.address and claims["sub"] == "555021935107"
    params = json.loads(request.content)
    assert params["resourceType"] == "Parameters"
    names = [p["name"] for p in params["parameter"]]
    assert names[0] == "patientNHSNumber"
    assert params["parameter"][0]["valueIdentifier"] == {
        "system": "https://fhir.nhs.uk/Id/nhs-number",
        "value": NHS,
    }
    for name in (
        "includeAllergies",
        "includeMedication",
        "includeConsultations",
        "includeProblems",
        "includeImmunisations",
        "includeUncategorisedData",
        "includeInvestigations",
        "includeReferrals",
    ):
        assert name in names
    by_name = {p["name"]: p for p in params["parameter"]}
    assert by_name["includeAllergies"]["part"] == [{"name": "includeResolvedAllergies", "valueBoolean": True}]
    assert by_name["includeMedication"]["part"] == [
        {"name": "includePrescriptionIssues", "valueBoolean": True}
    ]


def test_ssp_url_embeds_the_provider_address_and_trace_ids_are_new_per_call():
    client, seen = client_with(
        httpx.Response(200, json=BUNDLE), httpx.Response(200, json=BUNDLE), ssp_url="https://ssp.test/ssp/"
    )
    fetch(client)
    fetch(client)
    assert str(seen[0].url) == f"https://ssp.test/ssp/{ENDPOINT.address}/Patient/$gpc.getstructuredrecord"
    assert seen[0].headers["Ssp-TraceID"] != seen[1].headers["Ssp-TraceID"]


@pytest.mark.parametrize(
    ("status", "code", "error", "text"),
    [
        (
            403,
            "NO_PATIENT_CONSENT",
            ConsentWithheld,
            "The patient has asked that their GP record is not shared",
        ),
        (404, "PATIENT_NOT_FOUND", PatientNotFound, "no record"),
        (404, "NO_RECORD_FOUND", PatientNotFound, "no record"),
        (403, "ACCESS DENIED", AccessDenied, "did not allow"),
        (403, "NO_RELATIONSHIP", AccessDenied, "relationship"),
        (400, "INVALID_NHS_NUMBER", InvalidRequest, "invalid"),
        (400, "BAD_REQUEST", InvalidRequest, "invalid"),
        (422, "INVALID_RESOURCE", InvalidRequest, "invalid"),
        (422, "INVALID_PARAMETER", InvalidRequest, "invalid"),
        (401, "", ReauthenticationRequired, "sign in again"),
        (500, "INTERNAL_SERVER_ERROR", SourceUnavailable, "not available"),
        (501, "NOT_IMPLEMENTED", SourceUnavailable, "does not support"),
        (502, "", SourceUnavailable, "not available"),
    ],
)
def test_every_spine_error_code_becomes_a_typed_error(status, code, error, text):
    body = outcome(code) if code else {"resourceType": "OperationOutcome", "issue": []}
    client, seen = client_with(httpx.Response(status, json=body))
    with pytest.raises(error) as info:
        fetch(client)
    assert text in info.value.user_message
    assert info.value.status == status
    assert NHS not in info.value.user_message
    assert len(seen) == 1  # a POST is never repeated once it reached the provider


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, AccessDenied), (400, InvalidRequest), (503, SourceUnavailable), (401, ReauthenticationRequired)],
)
def test_non_json_error_bodies_are_still_typed(status, error):
    client, _ = client_with(httpx.Response(status, text="<html>Bad Gateway</html>"))
    with pytest.raises(error):
        fetch(client)


def test_dissent_inside_a_200_operation_outcome_is_still_a_dissent():
    client, _ = client_with(httpx.Response(200, json=outcome("NO_PATIENT_CONSENT")))
    with pytest.raises(ConsentWithheld):
        fetch(client)


@pytest.mark.parametrize("body", [b"{not json", b'{"resourceType": "Patient"}', b"[]"])
def test_200_that_is_not_a_bundle_is_unreadable(body):
    client, _ = client_with(httpx.Response(200, content=body))
    with pytest.raises(UnreadableResponse):
        fetch(client)


def test_timeout_is_not_retried_and_reads_clearly():
    client, seen = client_with(httpx.ReadTimeout("slow"), httpx.Response(200, json=BUNDLE))
    with pytest.raises(SourceUnavailable) as info:
        fetch(client)
    assert info.value.user_message == "GP Connect did not answer in time"
    assert len(seen) == 1


def test_spine_code_beats_status():
    assert isinstance(error_for(400, json.dumps(outcome("NO_PATIENT_CONSENT")).encode()), ConsentWithheld)


def test_areas_filters_and_forbidden_combinations():
    areas = GpConnectAreas(
        consultations=False,
        problems=False,
        medication_from=date(2025, 1, 1),
        referral_period=(date(2024, 1, 1), None),
        diary_entries=False,
    )
    params = {p["name"]: p for p in areas.parameters(NHS)["parameter"]}
    assert {"name": "medicationSearchFromDate", "valueDate": "2025-01-01"} in params["includeMedication"][
        "part"
    ]
    assert params["includeReferrals"]["part"] == [
        {"name": "referralSearchPeriod", "valuePeriod": {"start": "2024-01-01"}}
    ]
    assert "includeConsultations" not in params and "includeDiaryEntries" not in params
    assert "part" not in params["includeImmunisations"]
    with pytest.raises(DateRangeError):
        GpConnectAreas(medication_from=date(2025, 1, 1))  # forbidden beside consultations/problems
    with pytest.raises(DateRangeError):
        GpConnectAreas(consultation_period=(date(2025, 1, 1), None), most_recent_consultations=3)


def test_areas_sent_as_configured():
    areas = GpConnectAreas(
        consultations=False,
        problems=True,
        problem_status="active",
        immunisations=False,
        uncategorised=False,
        investigations=False,
        referrals=False,
        diary_entries=False,
        resolved_allergies=False,
    )
    client, seen = client_with(httpx.Response(200, json=BUNDLE), areas=areas)
    fetch(client)
    names = [p["name"] for p in json.loads(seen[0].content)["parameter"]]
    assert names == ["patientNHSNumber", "includeAllergies", "includeMedication", "includeProblems"]
