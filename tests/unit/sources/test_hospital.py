"""Hospital FHIR R4 client against an in-memory server on httpx.MockTransport."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from viewer.sources.context import RequestContext
from viewer.sources.errors import ReauthenticationRequired, SourceUnavailable, UnreadableResponse
from viewer.sources.hospital import DEFAULT_TYPES, HospitalClient, HospitalFetch
from viewer.sources.r4_mapping import map_hospital_record

BASE = "https://hospital.test/fhir/R4"
NHS = "9990000018"
PID = "pat-1"
CTX = RequestContext(access_token="hosp-token", user_id="555000000001", role_id="555000000101",
                     family_name="Gose", given_name="Sandra", org_ods="RWV99")
PATIENT = {"resourceType": "Patient", "id": PID,
           "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS}],
           "name": [{"family": "Smith", "given": ["Jane"]}]}


def bundle(entries: list[dict], next_url: str | None = None) -> dict:
    links = [{"relation": "self", "url": "ignored"}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


def allergy(i: int) -> dict:
    return {"resourceType": "AllergyIntolerance", "id": f"a{i}",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "764146007",
                                 "display": "Penicillin"}]}}


class FakeServer:
    """Serves `counts[type]` resources per type in pages of `_count`, with absolute next links."""

    def __init__(self, counts: dict[str, int] | None = None):
        self.counts = counts or {}
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.overrides: dict[str, httpx.Response] = {}
        self.extra_entries: dict[str, list[dict]] = {}

    def resource(self, rtype: str, i: int) -> dict:
        if rtype == "AllergyIntolerance":
            return allergy(i)
        return {"resourceType": rtype, "id": f"{rtype[:3].lower()}{i}"}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(3):  # let the other searches run: concurrency becomes observable
                await asyncio.sleep(0)
            return self.respond(request)
        finally:
            self.in_flight -= 1

    def respond(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != "Bearer hosp-token":
            return httpx.Response(401, json={"resourceType": "OperationOutcome"})
        rtype = request.url.path.rsplit("/", 1)[-1]
        if rtype in self.overrides:
            return self.overrides[rtype]
        if rtype == "Patient":
            found = request.url.params.get("identifier") == f"https://fhir.nhs.uk/Id/nhs-number|{NHS}"
            return httpx.Response(200, json=bundle([{"resource": PATIENT}] if found else []))
        assert request.url.params["patient"] == PID
        count = int(request.url.params["_count"])
        offset = int(request.url.params.get("offset", "0"))
        total = self.counts.get(rtype, 0)
        entries = [{"resource": self.resource(rtype, i), "search": {"mode": "match"}}
                   for i in range(offset, min(offset + count, total))]
        if offset == 0:
            entries += self.extra_entries.get(rtype, [])
        nxt = None
        if offset + count < total:
            nxt = f"{BASE}/{rtype}?patient={PID}&_count={count}&offset={offset + count}"
        return httpx.Response(200, json=bundle(entries, nxt),
                              headers={"content-type": "application/fhir+json"})


async def no_sleep(seconds: float) -> None:
    """Retries in tests wait for nothing (never a timing-based test)."""


def run(server, call, **kwargs):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
            return await call(HospitalClient(client, BASE, sleep=no_sleep, **kwargs))

    return asyncio.run(go())


def test_every_page_of_every_type_with_exact_counts_and_no_duplicates() -> None:
    counts = {"Observation": 1234, "AllergyIntolerance": 7, "MedicationRequest": 250, "Encounter": 100}
    server = FakeServer(counts)
    resources = run(server, lambda c: c.fetch_resources(PID, CTX), page_size=100)
    assert set(resources) == set(DEFAULT_TYPES)
    for rtype in DEFAULT_TYPES:
        ids = [r["id"] for r in resources[rtype]]
        assert len(ids) == counts.get(rtype, 0) and len(set(ids)) == len(ids)
    pages = Counter(r.url.path.rsplit("/", 1)[-1] for r in server.requests)
    assert pages["Observation"] == 13 and pages["MedicationRequest"] == 3 and pages["Encounter"] == 1
    assert pages["Condition"] == 1  # an empty type is still asked once
    assert all(r.headers["Authorization"] == "Bearer hosp-token" for r in server.requests)


def test_types_are_searched_concurrently_within_the_bound() -> None:
    server = FakeServer(dict.fromkeys(DEFAULT_TYPES, 30))
    resources = run(server, lambda c: c.fetch_resources(PID, CTX), page_size=10, max_concurrency=3)
    assert sum(len(v) for v in resources.values()) == 30 * len(DEFAULT_TYPES)
    assert 2 <= server.max_in_flight <= 3
    first_pages = [r for r in server.requests if "offset" not in r.url.params]
    assert sorted(r.url.path.rsplit("/", 1)[-1] for r in first_pages) == sorted(DEFAULT_TYPES)
    assert all(r.url.params["_count"] == "10" for r in first_pages)


def test_fetch_record_finds_the_patient_then_fetches() -> None:
    server = FakeServer({"AllergyIntolerance": 2})
    fetched = run(server, lambda c: c.fetch_record(NHS, CTX))
    assert isinstance(fetched, HospitalFetch)
    assert fetched.patient == PATIENT and [a["id"] for a in fetched.resources["AllergyIntolerance"]] == [
        "a0", "a1"]
    patient_request = server.requests[0]
    assert patient_request.url.params["identifier"] == f"https://fhir.nhs.uk/Id/nhs-number|{NHS}"


def test_unknown_patient_means_no_searches() -> None:
    server = FakeServer()
    fetched = run(server, lambda c: c.fetch_record("9990000026", CTX))
    assert fetched.patient is None and fetched.resources == {}
    assert len(server.requests) == 1
    assert run(FakeServer(), lambda c: c.find_patient("9990000026", CTX)) is None


def test_401_is_reauthentication_never_no_data() -> None:
    server = FakeServer({"Observation": 500})
    server.overrides["Condition"] = httpx.Response(401, json={"resourceType": "OperationOutcome"})
    with pytest.raises(ReauthenticationRequired):
        run(server, lambda c: c.fetch_resources(PID, CTX))
    bad_ctx = RequestContext("expired", "u", "r", "f", "g", "RWV99")
    with pytest.raises(ReauthenticationRequired):
        run(FakeServer(), lambda c: c.fetch_record(NHS, bad_ctx))


def test_server_errors_are_source_unavailable() -> None:
    server = FakeServer()
    server.overrides["Flag"] = httpx.Response(503, headers={"Retry-After": "0"}, text="busy")
    with pytest.raises(SourceUnavailable):
        run(server, lambda c: c.fetch_resources(PID, CTX))

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(SourceUnavailable):
        run(timeout, lambda c: c.fetch_record(NHS, CTX))


def test_next_link_to_another_host_is_refused() -> None:
    server = FakeServer()
    evil = "https://elsewhere.test/fhir/R4/AllergyIntolerance?page=2"
    server.overrides["AllergyIntolerance"] = httpx.Response(200, json=bundle([{"resource": allergy(1)}],
                                                                             evil))
    with pytest.raises(UnreadableResponse, match="another server"):
        run(server, lambda c: c.fetch_resources(PID, CTX))
    assert all(r.url.host == "hospital.test" for r in server.requests)


def test_next_link_loop_stops_without_duplicates() -> None:
    server = FakeServer()
    loop = f"{BASE}/AllergyIntolerance?page=again"
    server.overrides["AllergyIntolerance"] = httpx.Response(200, json=bundle([{"resource": allergy(1)}],
                                                                             loop))
    resources = run(server, lambda c: c.fetch_resources(PID, CTX, ("AllergyIntolerance",)))
    assert [a["id"] for a in resources["AllergyIntolerance"]] == ["a1"]
    assert sum(1 for r in server.requests if r.url.path.endswith("/AllergyIntolerance")) == 2


def test_relative_next_link_is_followed() -> None:
    pages = iter([
        httpx.Response(200, json=bundle([{"resource": allergy(1)}], "AllergyIntolerance?page=2")),
        httpx.Response(200, json=bundle([{"resource": allergy(2)}])),
    ])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return next(pages)

    resources = run(handler, lambda c: c.fetch_resources(PID, CTX, ("AllergyIntolerance",)))
    assert [a["id"] for a in resources["AllergyIntolerance"]] == ["a1", "a2"]
    assert seen[1] == f"{BASE}/AllergyIntolerance?page=2"


def test_outcomes_ignored_but_counted_and_broken_entries_kept_for_counting() -> None:
    server = FakeServer({"AllergyIntolerance": 2})
    server.extra_entries["AllergyIntolerance"] = [
        {"resource": {"resourceType": "OperationOutcome", "issue": []}, "search": {"mode": "outcome"}},
        {"search": {"mode": "match"}},  # no resource at all
    ]
    server.extra_entries["Observation"] = [{"resource": {"resourceType": "OperationOutcome"}}]
    fetched = run(server, lambda c: c.fetch_record(NHS, CTX))
    assert fetched.outcomes == 2
    assert len(fetched.resources["AllergyIntolerance"]) == 3
    record = map_hospital_record(fetched.patient, fetched.resources, retrieved_at=datetime.now(UTC),
                                 org_ods="RWV99", org_name="Trust")
    assert len(record.allergies) == 2 and [u.reason for u in record.unreadable] == ["entry has no resource"]
    assert record.patient is not None and record.patient.nhs_number == NHS


def test_unsupported_type_is_left_out_so_the_area_reads_not_supplied() -> None:
    server = FakeServer({"MedicationRequest": 1})
    server.overrides["AllergyIntolerance"] = httpx.Response(404, json={"resourceType": "OperationOutcome"})
    fetched = run(server, lambda c: c.fetch_record(NHS, CTX))
    assert "AllergyIntolerance" not in fetched.resources and "MedicationRequest" in fetched.resources
    record = map_hospital_record(fetched.patient, fetched.resources, retrieved_at=datetime.now(UTC),
                                 org_ods="RWV99", org_name="Trust")
    assert not record.allergies_supplied and record.missing_areas == ("Allergies",)


def test_malformed_json_is_unreadable() -> None:
    server = FakeServer()
    server.overrides["Encounter"] = httpx.Response(200, content=b'{"resourceType": "Bun')
    with pytest.raises(UnreadableResponse):
        run(server, lambda c: c.fetch_resources(PID, CTX))


def test_duplicate_registrations_are_all_fetched_and_other_patients_ignored() -> None:
    second = dict(PATIENT, id="pat-2")
    stranger = {"resourceType": "Patient", "id": "pat-x",
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000026"}]}
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        rtype = request.url.path.rsplit("/", 1)[-1]
        if rtype == "Patient":
            return httpx.Response(200, json=bundle([{"resource": PATIENT}, {"resource": stranger},
                                                    {"resource": second}]))
        asked.append(f"{rtype}:{request.url.params['patient']}")
        if rtype != "AllergyIntolerance":
            return httpx.Response(200, json=bundle([]))
        shared = allergy(0)  # the same resource reachable from both registrations counts once
        own = allergy(1 if request.url.params["patient"] == PID else 2)
        return httpx.Response(200, json=bundle([{"resource": shared}, {"resource": own}]))

    fetched = run(handler, lambda c: c.fetch_record(NHS, CTX))
    assert fetched.patient == PATIENT
    assert sorted(a["id"] for a in fetched.resources["AllergyIntolerance"]) == ["a0", "a1", "a2"]
    assert not any(a.endswith(":pat-x") for a in asked)
    assert len(asked) == 2 * len(DEFAULT_TYPES)


def test_reports_and_referrals_are_searched_and_a_server_without_referrals_is_not_a_warning() -> None:
    assert {"DiagnosticReport", "ServiceRequest"} <= set(DEFAULT_TYPES)
    server = FakeServer()
    server.extra_entries["DiagnosticReport"] = [{"resource": {
        "resourceType": "DiagnosticReport", "id": "dr1", "status": "final", "code": {"text": "U&E"},
        "result": [{"reference": "Observation/o1"}]}}]
    server.extra_entries["Observation"] = [{"resource": {
        "resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "Sodium"},
        "valueQuantity": {"value": 139, "unit": "mmol/L"}}}]
    server.overrides["ServiceRequest"] = httpx.Response(404, json={"resourceType": "OperationOutcome"})
    fetched = run(server, lambda c: c.fetch_record(NHS, CTX))
    assert "ServiceRequest" not in fetched.resources and "DiagnosticReport" in fetched.resources
    record = map_hospital_record(fetched.patient, fetched.resources, retrieved_at=datetime.now(UTC),
                                 org_ods="RWV99", org_name="Trust")
    assert record.missing_areas == () and record.warnings == () and record.referrals == ()
    (result,) = record.observations
    assert (result.value, result.unit, result.report_id) == ("139", "mmol/L", "dr1")
    assert [r.result_ids for r in record.reports] == [("o1",)]
