"""PDS client against httpx.MockTransport: headers, retries, superseded, restricted, errors, search."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from viewer.domain.dates import PartialDate
from viewer.domain.provenance import SourceKind
from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    AccessDenied,
    InvalidRequest,
    PatientNotFound,
    ReauthenticationRequired,
    SourceUnavailable,
    TooManyMatches,
    UnreadableResponse,
)
from viewer.sources.pds import PdsClient, PdsQuery, PdsResult, is_fresh

BASE = "https://pds.test/personal-demographics/FHIR/R4"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NHS = "9990000018"
NEW_NHS = "9990000026"
CTX = RequestContext(access_token="tok-123", user_id="555000000001", role_id="555000000101",
                     family_name="Gose", given_name="Sandra", org_ods="RWV99")
STUBS = (Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "pds" / "karate-tests" / "src"
         / "test" / "java" / "mocks" / "stubs")
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"


def stub(folder: str, name: str) -> dict:
    path = STUBS / folder / name
    if not path.is_file():
        pytest.skip(f"PDS reference stubs not found at {STUBS}")
    return json.loads(path.read_text(encoding="utf-8"))


def patient_json(nhs: str = NHS, *, restricted: bool = False) -> dict:
    return {
        "resourceType": "Patient",
        "id": nhs,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
        "meta": {"versionId": "3", "security": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": "R" if restricted else "U"}]},
        "name": [
            {"use": "usual", "period": {"start": "1990-01-01", "end": "2001-05-01"}, "family": "Maiden",
             "given": ["Jane"]},
            {"use": "usual", "period": {"start": "2001-05-02"}, "family": "Smith", "given": ["Jane", "Ann"],
             "prefix": ["Mrs"]},
        ],
        "gender": "female",
        "birthDate": "1945-07-14",
        "address": [
            {"use": "home", "period": {"start": "1990-01-01", "end": "2010-01-01"}, "line": ["Old Road"],
             "postalCode": "LS9 9ZZ"},
            {"use": "home", "period": {"start": "2010-01-02"}, "line": ["1 High Street", "Leeds"],
             "postalCode": "LS1 1AA"},
        ],
        "telecom": [{"system": "email", "value": "jane@example.com"},
                    {"system": "phone", "value": "0113 496 0000", "use": "home"}],
        "generalPractitioner": [{"type": "Organization",
                                 "identifier": {"system": ODS_SYSTEM, "value": "Y90001"}}],
    }


def fhir(body: dict, status: int = 200, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"content-type": "application/fhir+json",
                                                      **(headers or {})})


def outcome(code: str, issue_code: str = "value") -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": issue_code,
        "details": {"coding": [{"system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
                                "code": code}]}}]}


async def no_sleep(seconds: float) -> None:
    """Retries in tests wait for nothing (never a timing-based test)."""


def run(handler: Callable[[httpx.Request], httpx.Response], call):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await call(PdsClient(client, BASE, clock=lambda: NOW, sleep=no_sleep))

    return asyncio.run(go())


def test_read_sends_the_pds_headers_and_maps_the_patient() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fhir(patient_json())

    result = run(handler, lambda c: c.read("999 000 0018", CTX))
    (request,) = seen
    assert request.method == "GET" and str(request.url) == f"{BASE}/Patient/{NHS}"
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert uuid.UUID(request.headers["X-Request-ID"])
    assert uuid.UUID(request.headers["X-Correlation-ID"])
    assert request.headers["NHSD-Session-URID"] == "555000000101"
    assert isinstance(result, PdsResult)
    assert (result.superseded_from, result.restricted, result.version, result.retrieved_at) == (
        None, False, "3", NOW)
    p = result.patient
    assert p.nhs_number == NHS and p.provenance.source is SourceKind.PDS
    assert p.name.banner() == "SMITH, Jane Ann (Mrs)"  # the current usual name, not the ended one
    assert p.gender == "female" and p.birth_date == PartialDate(1945, 7, 14) and not p.deceased
    assert p.address == ("1 High Street", "Leeds") and p.postcode == "LS1 1AA"
    assert p.phone == "0113 496 0000" and p.gp_practice_ods == "Y90001"


def test_x_request_id_is_reused_on_retry_and_new_per_call() -> None:
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["X-Request-ID"])
        if len(ids) == 1:
            return fhir(outcome("SERVICE_UNAVAILABLE", "exception"), 503, {"Retry-After": "0"})
        return fhir(patient_json())

    async def twice(client: PdsClient):
        first = await client.read(NHS, CTX)
        second = await client.read(NHS, CTX)
        return first, second

    first, _ = run(handler, twice)
    assert first.patient.nhs_number == NHS
    assert len(ids) == 3
    assert ids[0] == ids[1]  # the retry of one request
    assert ids[2] != ids[0]  # a new request


def test_superseded_number_is_followed_and_reported() -> None:
    result = run(lambda r: fhir(patient_json(NEW_NHS)), lambda c: c.read(NHS, CTX))
    assert result.superseded_from == NHS
    assert result.patient.nhs_number == NEW_NHS and result.patient.superseded_from == NHS


def test_restricted_patient_never_shows_what_pds_withholds() -> None:
    result = run(lambda r: fhir(patient_json(restricted=True)), lambda c: c.read(NHS, CTX))
    p = result.patient
    assert result.restricted and p.restricted
    assert p.address == () and p.postcode is None and p.phone is None and p.gp_practice_ods is None
    assert p.name.family == "Smith"  # the name is still shown


def test_reference_mocks_map(reference_dir: Path) -> None:
    normal = stub("patientResponses", "patient_9000000009.json")
    result = run(lambda r: fhir(normal, headers={"ETag": 'W/"2"'}), lambda c: c.read("9000000009", CTX))
    p = result.patient
    assert (p.name.family, p.name.given, p.gender) == ("Smith", ("Jane",), "female")
    assert p.deceased and p.deceased_date is not None and p.deceased_date.display() == "22-Oct-2010"
    assert p.postcode == "LS1 6AE" and p.address[0] == "1 Trevelyan Square"
    assert p.gp_practice_ods == "Y12345" and p.phone == "01632960587" and result.version == "2"
    sensitive = stub("patientResponses", "patient_9000000025.json")
    restricted = run(lambda r: fhir(sensitive), lambda c: c.read("9000000025", CTX))
    assert restricted.restricted and restricted.patient.gp_practice_ods is None


@pytest.mark.parametrize(
    ("status", "code", "error", "message"),
    [
        (404, "RESOURCE_NOT_FOUND", PatientNotFound, "No patient with this NHS number on the Spine"),
        (404, "INVALIDATED_RESOURCE", PatientNotFound, "This NHS number has been invalidated on the Spine"),
        (400, "INVALID_RESOURCE_ID", InvalidRequest, "This is not a valid NHS number"),
        (401, "ACCESS_DENIED", ReauthenticationRequired, "please sign in again"),
        (403, "ACCESS_DENIED", AccessDenied, "may not see"),
        (500, "INTERNAL_SERVER_ERROR", SourceUnavailable, "not answering"),
        (408, "UNABLE_TO_CALL_SERVICE", SourceUnavailable, "not answering"),
        (400, "MISSING_VALUE", InvalidRequest, "MISSING_VALUE"),
    ],
)
def test_errors_are_typed_with_clinician_messages(status, code, error, message) -> None:
    with pytest.raises(error) as caught:
        run(lambda r: fhir(outcome(code), status), lambda c: c.read(NHS, CTX))
    assert message in caught.value.user_message
    assert caught.value.status == status and caught.value.code == code
    assert NHS not in str(caught.value)


def test_reference_error_bodies(reference_dir: Path) -> None:
    not_found = stub("errorResponses", "RESOURCE_NOT_FOUND.json")
    with pytest.raises(PatientNotFound):
        run(lambda r: fhir(not_found, 404), lambda c: c.read(NHS, CTX))
    invalid = stub("errorResponses", "INVALID_RESOURCE_ID.json")
    with pytest.raises(InvalidRequest, match="This is not a valid NHS number"):
        run(lambda r: fhir(invalid, 400), lambda c: c.read("9000000009", CTX))
    sent: list[httpx.Request] = []
    with pytest.raises(InvalidRequest, match="This is not a valid NHS number"):
        run(lambda r: sent.append(r) or fhir(invalid, 400), lambda c: c.read("9000000000", CTX))
    with pytest.raises(InvalidRequest):
        run(lambda r: sent.append(r) or fhir(invalid, 400), lambda c: c.read("../Patient?x=1", CTX))
    assert sent == []  # a number failing Modulus 11 is never sent


def test_unreadable_bodies() -> None:
    def garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"resourceType": "Pat')

    with pytest.raises(UnreadableResponse):
        run(garbage, lambda c: c.read(NHS, CTX))
    with pytest.raises(UnreadableResponse):
        run(lambda r: fhir({"resourceType": "Bundle"}), lambda c: c.read(NHS, CTX))
    with pytest.raises(ReauthenticationRequired):  # a 401 with a non-JSON body is still a 401
        run(lambda r: httpx.Response(401, content=b"<html>no</html>"), lambda c: c.read(NHS, CTX))


def searchset(*patients: tuple[dict, float]) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(patients),
            "entry": [{"fullUrl": f"{BASE}/Patient/{p['id']}", "resource": p, "search": {"score": s}}
                      for p, s in patients]}


def test_search_sends_parameters_and_orders_by_score() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fhir(searchset((patient_json(NHS), 0.8), (patient_json(NEW_NHS, restricted=True), 1.0)))

    query = PdsQuery(family="Smith", given="Jane", birthdate=date(1945, 7, 14), gender="female",
                     postcode="LS1 1AA", fuzzy=True, max_results=5)
    matches = run(handler, lambda c: c.search(query, CTX))
    (request,) = seen
    assert request.url.path.endswith("/Patient")
    params = request.url.params
    assert params["family"] == "Smith" and params["given"] == "Jane"
    assert params["birthdate"] == "eq1945-07-14" and params["gender"] == "female"
    assert params["address-postalcode"] == "LS1 1AA"
    assert params["_fuzzy-match"] == "true" and params["_max-results"] == "5"
    assert request.headers["NHSD-Session-URID"] == CTX.role_id and uuid.UUID(request.headers["X-Request-ID"])
    assert [(m.patient.nhs_number, m.score) for m in matches] == [(NEW_NHS, 1.0), (NHS, 0.8)]
    assert matches[0].patient.restricted and matches[0].patient.address == ()


def test_search_too_many_matches() -> None:
    too_many = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "multiple-matches",
        "details": {"coding": [{"code": "TOO_MANY_MATCHES", "display": "Too Many Matches"}]}}]}
    with pytest.raises(TooManyMatches) as caught:
        run(lambda r: fhir(too_many), lambda c: c.search(PdsQuery(family="Smith", birthdate="1945"), CTX))
    assert caught.value.user_message == "Too many patients match: add more detail"


def test_search_reference_responses(reference_dir: Path) -> None:
    body = stub("searchResponses", "TOO_MANY_MATCHES.json")
    with pytest.raises(TooManyMatches):
        run(lambda r: fhir(body), lambda c: c.search(PdsQuery(family="Smith"), CTX))
    multiple = stub("searchResponses", "mock_multiple_searchset.json")
    matches = run(lambda r: fhir(multiple), lambda c: c.search(PdsQuery(family="McMatch-Multiple"), CTX))
    assert len(matches) == len(multiple["entry"]) == 2
    assert all(m.score == 1.0 and m.patient.name.family == "McMatch-Multiple" for m in matches)


def test_search_empty_and_invalid() -> None:
    empty = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    assert run(lambda r: fhir(empty), lambda c: c.search(PdsQuery(family="Nobody"), CTX)) == []
    with pytest.raises(InvalidRequest, match="more or different details"):
        run(lambda r: fhir(outcome("INVALID_SEARCH_DATA"), 400),
            lambda c: c.search(PdsQuery(family="S"), CTX))


def test_query_parameters() -> None:
    assert PdsQuery(family=" Smith ", birthdate="ge1940-01-01", max_results=500).params() == [
        ("family", "Smith"), ("birthdate", "ge1940-01-01"), ("_max-results", "50")]
    assert ("birthdate", "eq1945-07-14") in PdsQuery(birthdate="1945-07-14").params()


def test_is_fresh_within_24_hours() -> None:
    result = run(lambda r: fhir(patient_json()), lambda c: c.read(NHS, CTX))
    assert is_fresh(result, NOW + timedelta(hours=23, minutes=59))
    assert not is_fresh(result, NOW + timedelta(hours=24))
    assert not is_fresh(result, NOW - timedelta(hours=1))  # retrieved "in the future": clock is wrong
    assert is_fresh(result, (NOW + timedelta(hours=1)).replace(tzinfo=None))
