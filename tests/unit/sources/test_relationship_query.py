"""The care relationship query against an in-memory FHIR server on httpx.MockTransport."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    InvalidRequest,
    ReauthenticationRequired,
    SourceUnavailable,
    UnreadableResponse,
)
from viewer.sources.relationship import Relationship, RelationshipClient

BASE = "https://hospital.test/fhir/R4"
ORG = "RWV99"
NHS = "9990000018"
CTX = RequestContext(access_token="hosp-token", user_id="555000000001", role_id="555000000101",
                     family_name="Gose", given_name="Sandra", org_ods=ORG)
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def patient(pid: str = "pat-1", nhs: str = NHS) -> dict:
    return {"resourceType": "Patient", "id": pid,
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}]}


def org(code: str) -> dict:
    return {"identifier": {"system": ODS, "value": code}, "display": "A trust"}


def encounter(rid: str = "enc-1", status: str = "in-progress", provider: str = ORG, pid: str = "pat-1",
              start: str = "2026-01-10T09:30:00Z") -> dict:
    return {"resourceType": "Encounter", "id": rid, "status": status,
            "subject": {"reference": f"Patient/{pid}"}, "serviceProvider": org(provider),
            "period": {"start": start}}


def episode(rid: str = "eoc-1", status: str = "active", provider: str = ORG, pid: str = "pat-1") -> dict:
    return {"resourceType": "EpisodeOfCare", "id": rid, "status": status,
            "patient": {"reference": f"Patient/{pid}"}, "managingOrganization": org(provider),
            "period": {"start": "2026-01-02"}}


def bundle(resources: list[dict], next_url: str | None = None) -> dict:
    links = [{"relation": "self", "url": "ignored"}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {"resourceType": "Bundle", "type": "searchset", "link": links,
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}


class FakeHospital:
    """Answers Patient/Encounter/EpisodeOfCare searches from lists; ignores `status` unless `filters`."""

    def __init__(self, *, patients=None, encounters=(), episodes=(), filters=True):
        self.patients = [patient()] if patients is None else patients
        self.by_type = {"Encounter": list(encounters), "EpisodeOfCare": list(episodes)}
        self.filters = filters
        self.requests: list[httpx.Request] = []
        self.overrides: dict[str, httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        rtype = request.url.path.rsplit("/", 1)[-1]
        if rtype in self.overrides:
            return self.overrides[rtype]
        if rtype == "Patient":
            return httpx.Response(200, json=bundle(self.patients))
        items = self.by_type[rtype]
        wanted = request.url.params.get("status", "").split(",")
        pid = request.url.params.get("patient")
        if self.filters:
            key = "subject" if rtype == "Encounter" else "patient"
            items = [i for i in items if i["status"] in wanted and i[key]["reference"] == f"Patient/{pid}"]
        return httpx.Response(200, json=bundle(items))


def find(server, nhs: str = NHS, org_ods: str = ORG) -> Relationship | None:
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
            rc = RelationshipClient(client, BASE, org_ods=org_ods, sleep=_no_sleep)
            return await rc.find(nhs, CTX)

    return asyncio.run(go())


async def _no_sleep(_seconds: float) -> None:
    return None


def test_encounter_in_progress_here_is_a_relationship():
    server = FakeHospital(encounters=[encounter()])
    found = find(server)
    assert found == Relationship("encounter", "enc-1", datetime(2026, 1, 10, 9, 30, tzinfo=UTC))
    enc = next(r for r in server.requests if r.url.path.endswith("/Encounter"))
    assert enc.url.params["patient"] == "pat-1"
    assert set(enc.url.params["status"].split(",")) == {"in-progress", "arrived", "triaged", "onleave"}
    assert enc.headers["Authorization"] == "Bearer hosp-token"
    patient_search = server.requests[0]
    assert patient_search.url.params["identifier"] == f"https://fhir.nhs.uk/Id/nhs-number|{NHS}"
    assert not any(r.url.path.endswith("/EpisodeOfCare") for r in server.requests)  # already answered


@pytest.mark.parametrize("status", ["arrived", "triaged", "onleave"])
def test_other_current_encounter_statuses_count(status):
    assert find(FakeHospital(encounters=[encounter(status=status)])).kind == "encounter"


def test_encounter_at_another_organisation_does_not_count():
    assert find(FakeHospital(encounters=[encounter(provider="RXX01")])) is None


def test_ods_code_compared_without_case():
    assert find(FakeHospital(encounters=[encounter()]), org_ods="rwv99") is not None


def test_encounter_without_provider_identifier_does_not_count():
    enc = encounter()
    enc["serviceProvider"] = {"reference": "Organization/o1"}
    assert find(FakeHospital(encounters=[enc])) is None


def test_active_episode_of_care_is_a_relationship():
    found = find(FakeHospital(episodes=[episode()]))
    assert found == Relationship("episode", "eoc-1", datetime(2026, 1, 2, tzinfo=UTC))


def test_episode_elsewhere_or_finished_does_not_count():
    server = FakeHospital(episodes=[episode(provider="RXX01"), episode("eoc-2", status="finished")],
                          filters=False)
    assert find(server) is None


def test_server_that_ignores_the_filters_cannot_lend_a_relationship():
    """Finished encounters, and another patient's admission, come back from a lenient server."""
    server = FakeHospital(encounters=[encounter(status="finished"), encounter("e2", pid="someone-else")],
                          filters=False)
    assert find(server) is None


def test_patient_search_answer_for_another_number_is_ignored():
    server = FakeHospital(patients=[patient("other", "9990000026")], encounters=[encounter(pid="other")],
                          filters=False)
    assert find(server) is None
    assert len(server.requests) == 1  # nothing searched for a patient who is not ours


def test_unknown_patient_has_no_relationship():
    server = FakeHospital(patients=[])
    assert find(server) is None


def test_admission_under_a_duplicate_registration_counts():
    server = FakeHospital(patients=[patient("pat-1"), patient("pat-2")],
                          encounters=[encounter(pid="pat-2")])
    assert find(server).resource_id == "enc-1"


def test_episode_search_not_offered_still_answers_from_encounters():
    server = FakeHospital()
    server.overrides["EpisodeOfCare"] = httpx.Response(404, json={"resourceType": "OperationOutcome"})
    assert find(server) is None


def test_neither_search_offered_is_a_failure_not_a_no():
    server = FakeHospital()
    for rtype in ("Encounter", "EpisodeOfCare"):
        server.overrides[rtype] = httpx.Response(404, json={"resourceType": "OperationOutcome"})
    with pytest.raises(InvalidRequest):
        find(server)


@pytest.mark.parametrize(("status", "error"), [(500, SourceUnavailable), (503, SourceUnavailable),
                                               (401, ReauthenticationRequired)])
def test_server_errors_are_typed(status, error):
    server = FakeHospital()
    server.overrides["Encounter"] = httpx.Response(status)
    with pytest.raises(error):
        find(server)


def test_unreadable_answer_is_typed():
    server = FakeHospital()
    server.overrides["Patient"] = httpx.Response(200, content=b"<html>login</html>")
    with pytest.raises(UnreadableResponse):
        find(server)


def test_network_failure_is_unavailable():
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(SourceUnavailable):
        find(boom)


def test_next_pages_are_followed_to_a_match():
    class Paged(FakeHospital):
        def __call__(self, request):
            self.requests.append(request)
            if request.url.path.endswith("/Patient"):
                return httpx.Response(200, json=bundle(self.patients))
            if request.url.path.endswith("/Encounter") and "page" not in request.url.params:
                return httpx.Response(200, json=bundle([encounter("old", status="finished")],
                                                       f"{BASE}/Encounter?page=2"))
            if request.url.path.endswith("/Encounter"):
                return httpx.Response(200, json=bundle([encounter("now")]))
            return httpx.Response(200, json=bundle([]))

    assert find(Paged()).resource_id == "now"


def test_next_link_to_another_host_is_refused():
    class Foreign(FakeHospital):
        def __call__(self, request):
            self.requests.append(request)
            if request.url.path.endswith("/Patient"):
                return httpx.Response(200, json=bundle(self.patients))
            return httpx.Response(200, json=bundle([], "https://elsewhere.test/Encounter?page=2"))

    server = Foreign()
    with pytest.raises(UnreadableResponse):
        find(server)
    assert all(r.url.host == "hospital.test" for r in server.requests)


def test_describe_names_no_patient_data():
    text = Relationship("episode", "eoc-1", None).describe()
    assert text == "active episode of care eoc-1"
