"""The sandbox hospital FHIR R4 server: bearer tokens, Patient lookup, type searches, filters and paging."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import flask
import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from viewer.sandbox.hospital_r4 import SEARCH_TYPES, mrn_system, patient_key
from viewer.sandbox.hospital_server import decode_page, encode_page, make_hospital_app, parse_date_param
from viewer.sandbox.world import (
    LOINC,
    SNOMED,
    ClinicalRecord,
    Code,
    Demographics,
    Name,
    SynthEncounter,
    SyntheticPatient,
    SynthMedication,
    SynthObservation,
    SynthProblem,
    World,
)

BASE = "https://127.0.0.1:50999"
GOOD = "good-token"
NO_OPENID = "token-without-openid"
AUTH = {"Authorization": f"Bearer {GOOD}"}
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
BUSY, GP_ONLY = "9990000018", "9990000026"
UNKNOWN_VALID = "9990000034"
N_OBS = 2345


def _verify(token: str) -> dict | None:
    if token == GOOD:
        return {"sub": "555000000001", "selected_roleid": "r1", "scope": "openid profile", "exp": 2**40}
    if token == NO_OPENID:
        return {"sub": "555000000001", "scope": "nationalrbacaccess"}
    return None


def _demo() -> Demographics:
    return Demographics(Name("BUSY", ("Bea",)), "female", date(1960, 1, 1), ("2 Road",), "LS2 2BB")


def busy_world() -> World:
    """One patient with enough of everything to page through and filter."""
    start = datetime(2020, 1, 1, 8, 0)
    obs = []
    for n in range(N_OBS):
        vital = n % 5 == 0
        code = Code(LOINC, "8867-4", "Heart rate") if vital else Code(SNOMED, "1000821000000103", "Albumin")
        obs.append(SynthObservation(f"o{n}", code, start + timedelta(hours=n), 60.0 + n % 40,
                                    "bpm" if vital else "g/L", report_id=None if vital else f"r{n // 4}"))
    record = ClinicalRecord(
        demographics=_demo(),
        problems=[
            SynthProblem("p1", Code(SNOMED, "38341003", "Hypertension"), True, "major"),
            SynthProblem("p2", Code(SNOMED, "195967001", "Asthma"), False, "minor", abated=date(2010, 1, 1)),
        ],
        medications=[
            SynthMedication("m1", Code(SNOMED, "1", "Drug A"), "daily", "repeat", date(2024, 1, 1)),
            SynthMedication("m2", Code(SNOMED, "2", "Drug B"), "daily", "acute", date(2023, 1, 1),
                            status="stopped", ended=date(2023, 2, 1)),
            SynthMedication("m3", Code(SNOMED, "3", "Drug C"), "daily", "repeat", date(2022, 1, 1),
                            prescribed_elsewhere=True),
        ],
        encounters=[
            SynthEncounter("e1", "inpatient", datetime(2026, 2, 1, 9, 0), status="in-progress"),
            SynthEncounter("e2", "inpatient", datetime(2025, 1, 1, 9, 0), datetime(2025, 1, 5, 9, 0)),
            SynthEncounter("e3", "outpatient", datetime(2024, 1, 1, 9, 0), datetime(2024, 1, 1, 9, 30)),
        ],
        observations=obs,
    )
    patients = [
        SyntheticPatient(BUSY, "busy", "lots", _demo(), None, None, record),
        SyntheticPatient(GP_ONLY, "gp-only", "not at the hospital", _demo(), None, None, None),
    ]
    return World(patients, [], [], "RWV99", "Wardview Sandbox Hospital NHS Trust", 2026)


@pytest.fixture(scope="module")
def client() -> flask.testing.FlaskClient:
    return make_hospital_app(busy_world(), BASE, _verify).test_client()


def _get(client: flask.testing.FlaskClient, url: str, headers: dict | None = None, **params: Any) -> Any:
    """GET a path or an absolute link the server issued (links must point at the server itself)."""
    if url.startswith("https://"):
        assert url.startswith(BASE + "/")
        parts = urlsplit(url)
        url, query = parts.path, parse_qsl(parts.query)
        return client.get(url, query_string=query, headers=AUTH if headers is None else headers)
    return client.get(url, query_string=params, headers=AUTH if headers is None else headers)


def _json(response: Any) -> dict:
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    return orjson.loads(response.data)


def _validate(resource: dict) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _matches(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def _next(bundle: dict) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)


def _search_all(client: flask.testing.FlaskClient, rtype: str, **params: Any) -> tuple[list[dict], int]:
    """Every match of a search, following next links; also returns how many pages it took."""
    bundle = _json(_get(client, f"/{rtype}", **params))
    found, pages, total = _matches(bundle), 1, bundle["total"]
    while (url := _next(bundle)) is not None:
        response = _get(client, url)
        assert response.status_code == 200
        bundle = _json(response)
        assert bundle["total"] == total
        found.extend(_matches(bundle))
        pages += 1
    assert len(found) == total
    return found, pages


PID = patient_key(2026, BUSY)


# --- authentication ------------------------------------------------------------------------------------


def test_metadata_needs_no_token_and_lists_every_type(client: flask.testing.FlaskClient) -> None:
    response = client.get("/metadata")
    assert response.status_code == 200
    statement = _json(response)
    _validate(statement)
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert types == {"Patient", *SEARCH_TYPES}
    obs = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Observation")
    assert {"patient", "category", "date", "_count"} <= {p["name"] for p in obs["searchParam"]}


@pytest.mark.parametrize("path", ["/Patient", "/Observation", "/Patient/x", "/NoSuchType"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"},
                                     {"Authorization": "Basic eA=="}, {"Authorization": "Bearer "}])
def test_requests_without_a_valid_bearer_token_get_401(
    client: flask.testing.FlaskClient, path: str, headers: dict
) -> None:
    response = client.get(path, query_string={"patient": PID}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = _json(response)
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "login"
    _validate(body)


def test_a_token_without_openid_scope_is_still_accepted(client: flask.testing.FlaskClient) -> None:
    response = _get(client, "/Condition", headers={"Authorization": f"Bearer {NO_OPENID}"}, patient=PID)
    assert response.status_code == 200


# --- Patient ---------------------------------------------------------------------------------------------


def test_patient_search_by_nhs_number(client: flask.testing.FlaskClient) -> None:
    bundle = _json(_get(client, "/Patient", identifier=f"{NHS_SYSTEM}|{BUSY}"))
    _validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    [patient] = _matches(bundle)
    assert patient["id"] == PID
    assert {"system": NHS_SYSTEM, "value": BUSY}.items() <= patient["identifier"][0].items()
    assert bundle["entry"][0]["fullUrl"] == f"{BASE}/Patient/{PID}"


@pytest.mark.parametrize("number", [GP_ONLY, UNKNOWN_VALID])
def test_patient_search_for_someone_the_hospital_does_not_know_is_empty(
    client: flask.testing.FlaskClient, number: str
) -> None:
    response = _get(client, "/Patient", identifier=f"{NHS_SYSTEM}|{number}")
    assert response.status_code == 200
    bundle = _json(response)
    _validate(bundle)
    assert bundle["total"] == 0 and _matches(bundle) == []


@pytest.mark.parametrize("identifier", [f"{NHS_SYSTEM}|9990000019", f"{NHS_SYSTEM}|99900000",
                                        f"{NHS_SYSTEM}|abcdefghij", f"{NHS_SYSTEM}|"])
def test_patient_search_with_a_malformed_nhs_number_is_400(
    client: flask.testing.FlaskClient, identifier: str
) -> None:
    response = _get(client, "/Patient", identifier=identifier)
    assert response.status_code == 400
    assert _json(response)["resourceType"] == "OperationOutcome"


def test_patient_search_needs_an_identifier(client: flask.testing.FlaskClient) -> None:
    assert _get(client, "/Patient").status_code == 400


def test_patient_search_by_hospital_number_and_by_id(client: flask.testing.FlaskClient) -> None:
    patient = _matches(_json(_get(client, "/Patient", identifier=f"{NHS_SYSTEM}|{BUSY}")))[0]
    mrn = next(i["value"] for i in patient["identifier"] if i["system"] == mrn_system("RWV99"))
    by_mrn = _json(_get(client, "/Patient", identifier=f"{mrn_system('RWV99')}|{mrn}"))
    assert _matches(by_mrn)[0]["id"] == PID
    assert _matches(_json(_get(client, "/Patient", identifier=mrn)))[0]["id"] == PID
    assert _matches(_json(_get(client, "/Patient", _id=PID)))[0]["id"] == PID
    other = _json(_get(client, "/Patient", identifier=f"https://example.org/other|{mrn}"))
    assert other["total"] == 0


def test_patient_read_and_unknown_id(client: flask.testing.FlaskClient) -> None:
    response = _get(client, f"/Patient/{PID}")
    assert response.status_code == 200 and _json(response)["id"] == PID
    missing = _get(client, "/Patient/doesnotexist00000")
    assert missing.status_code == 404
    assert _json(missing)["issue"][0]["code"] == "not-found"


# --- type searches ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"patient": PID}, {"patient": f"Patient/{PID}"},
                                    {"patient": f"{BASE}/Patient/{PID}"}, {"subject": PID},
                                    {"subject": f"Patient/{PID}"}])
def test_every_patient_reference_form_finds_the_same_record(
    client: flask.testing.FlaskClient, params: dict
) -> None:
    bundle = _json(_get(client, "/Condition", **params))
    assert bundle["total"] == 2
    assert {r["subject"]["reference"] for r in _matches(bundle)} == {f"Patient/{PID}"}


def test_search_for_an_unknown_patient_is_an_empty_searchset(client: flask.testing.FlaskClient) -> None:
    bundle = _json(_get(client, "/Observation", patient="nobody"))
    _validate(bundle)
    assert bundle["total"] == 0 and _matches(bundle) == [] and _next(bundle) is None


def test_unknown_resource_type_is_404_operation_outcome(client: flask.testing.FlaskClient) -> None:
    response = _get(client, "/Practitioner", patient=PID)
    assert response.status_code == 404
    body = _json(response)
    _validate(body)
    assert body["resourceType"] == "OperationOutcome"


def test_type_search_without_a_patient_is_400(client: flask.testing.FlaskClient) -> None:
    assert _get(client, "/Observation").status_code == 400


def test_unknown_search_parameter_is_ignored_and_reported(client: flask.testing.FlaskClient) -> None:
    bundle = _json(_get(client, "/Condition", patient=PID, colour="blue"))
    _validate(bundle)
    assert bundle["total"] == 2 and len(_matches(bundle)) == 2
    [outcome] = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome["resource"]["resourceType"] == "OperationOutcome"
    assert "colour" in outcome["resource"]["issue"][0]["diagnostics"]
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert "colour" not in self_link


def test_count_default_maximum_and_invalid(client: flask.testing.FlaskClient) -> None:
    assert len(_matches(_json(_get(client, "/Observation", patient=PID)))) == 50
    big = _json(_get(client, "/Observation", patient=PID, _count=5000))
    assert len(_matches(big)) == 1000 and big["total"] == N_OBS
    assert _get(client, "/Observation", patient=PID, _count="many").status_code == 400
    assert _get(client, "/Observation", patient=PID, _count=-1).status_code == 400
    none = _json(_get(client, "/Observation", patient=PID, _count=0))
    assert none["total"] == N_OBS and _matches(none) == [] and _next(none) is None


def test_paging_follows_next_links_to_every_observation_once(client: flask.testing.FlaskClient) -> None:
    found, pages = _search_all(client, "Observation", patient=PID, _count=400)
    ids = [r["id"] for r in found]
    assert len(ids) == N_OBS == len(set(ids))
    assert pages == -(-N_OBS // 400)


def test_next_links_are_absolute_opaque_and_keep_the_query(client: flask.testing.FlaskClient) -> None:
    bundle = _json(_get(client, "/Observation", patient=PID, category="vital-signs", _count=10))
    nxt = _next(bundle)
    assert nxt is not None and nxt.startswith(f"{BASE}/Observation?")
    query = dict(parse_qsl(urlsplit(nxt).query))
    assert query["category"] == "vital-signs" and query["_count"] == "10" and query["patient"] == PID
    assert decode_page(query["page"]) == 10
    self_url = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert self_url.startswith(f"{BASE}/Observation?")


def test_a_bad_page_token_is_400(client: flask.testing.FlaskClient) -> None:
    for token in ("!!!", encode_page(-1)[:-2] + "zz", "eyJ4IjoxfQ"):
        assert _get(client, "/Observation", patient=PID, page=token).status_code == 400


def test_status_filters(client: flask.testing.FlaskClient) -> None:
    def ids(rtype: str, **params: Any) -> set[str]:
        return {r["id"].rsplit("-", 1)[-1] for r in _search_all(client, rtype, patient=PID, **params)[0]}

    assert ids("Encounter", status="in-progress") == {"e1"}
    assert ids("Encounter", status="finished") == {"e2", "e3"}
    assert ids("Encounter", status="in-progress,finished") == {"e1", "e2", "e3"}
    assert ids("EpisodeOfCare", status="active") == {"e1"}
    assert ids("EpisodeOfCare") == {"e1", "e2"}
    assert ids("MedicationRequest", status="active") == {"m1"}
    assert ids("MedicationRequest", status="stopped") == {"m2"}
    assert ids("MedicationStatement") == {"m3"}
    assert ids("Condition", **{"clinical-status": "active"}) == {"p1"}
    assert ids(
        "Condition", **{"clinical-status": "http://terminology.hl7.org/CodeSystem/condition-clinical|resolved"}
    ) == {"p2"}
    assert ids("Encounter", **{"class": "IMP"}) == {"e1", "e2"}


def test_observation_category_and_date_filters(client: flask.testing.FlaskClient) -> None:
    vitals, _ = _search_all(client, "Observation", patient=PID, category="vital-signs", _count=1000)
    labs, _ = _search_all(client, "Observation", patient=PID, _count=1000,
                          category="http://terminology.hl7.org/CodeSystem/observation-category|laboratory")
    assert len(vitals) == len(range(0, N_OBS, 5))
    assert len(vitals) + len(labs) == N_OBS
    assert {r["category"][0]["coding"][0]["code"] for r in vitals} == {"vital-signs"}
    # observation n is at 2020-01-01T08:00 + n hours; 2020-01-02 starts at n = 16
    recent, _ = _search_all(client, "Observation", patient=PID, date="ge2020-01-02", _count=1000)
    assert len(recent) == N_OBS - 16
    window, _ = _search_all(client, "Observation", patient=PID, date=["ge2020-01-02", "lt2020-01-03"])
    assert len(window) == 24
    assert all(r["effectiveDateTime"].startswith("2020-01-02") for r in window)
    assert _get(client, "/Observation", patient=PID, date="ge-not-a-date").status_code == 400


def test_date_parameter_precision() -> None:
    from datetime import UTC

    def when(*args: int) -> datetime:
        return datetime(*args, tzinfo=UTC)

    assert parse_date_param("2024").matches(when(2024, 12, 31, 23))
    assert not parse_date_param("2024").matches(when(2025, 1, 1))
    assert parse_date_param("gt2024-02").matches(when(2024, 3, 1))
    assert not parse_date_param("gt2024-02").matches(when(2024, 2, 29))
    assert parse_date_param("le2024-02-29").matches(when(2024, 2, 29, 23, 59))
    assert parse_date_param("lt2024-02-29T10:00:00Z").matches(when(2024, 2, 29, 9, 59))
    assert parse_date_param("ne2024").matches(when(2023, 1, 1))
    assert not parse_date_param("ge2024").matches(None)


def test_diagnostic_reports_point_at_served_observations(client: flask.testing.FlaskClient) -> None:
    reports, _ = _search_all(client, "DiagnosticReport", patient=PID, _count=1000)
    assert reports
    for ref in reports[0]["result"]:
        assert _get(client, f"/{ref['reference']}").status_code == 200


def test_read_any_resource_found_by_search(client: flask.testing.FlaskClient) -> None:
    for rtype in SEARCH_TYPES:
        for resource in _matches(_json(_get(client, f"/{rtype}", patient=PID, _count=2))):
            response = _get(client, f"/{rtype}/{resource['id']}")
            assert response.status_code == 200 and _json(response) == resource
    assert _get(client, "/Observation/nope").status_code == 404


def test_format_json_is_accepted_and_xml_refused(client: flask.testing.FlaskClient) -> None:
    assert _get(client, "/Condition", patient=PID, _format="json").status_code == 200
    assert _get(client, "/Condition", patient=PID, _format="application/fhir+json").status_code == 200
    response = _get(client, "/Condition", patient=PID, _format="xml")
    assert response.status_code == 406 and _json(response)["resourceType"] == "OperationOutcome"


def test_wrong_method_is_an_operation_outcome(client: flask.testing.FlaskClient) -> None:
    response = client.post("/Observation", headers=AUTH, data=b"{}")
    assert response.status_code == 405
    assert _json(response)["resourceType"] == "OperationOutcome"


def test_logs_carry_no_nhs_number(
    client: flask.testing.FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _get(client, "/Patient", identifier=f"{NHS_SYSTEM}|{BUSY}")
        _get(client, "/Patient", identifier=f"{NHS_SYSTEM}|9990000019")
        _get(client, "/Observation", patient=PID, headers={"Authorization": "Bearer bad"})
        _search_all(client, "Condition", patient=PID)
    assert BUSY not in caplog.text and "9990000019" not in caplog.text and "BUSY" not in caplog.text


# --- the generated world ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_client() -> Iterator[tuple[flask.testing.FlaskClient, World]]:
    population = pytest.importorskip("viewer.sandbox.population")
    world = population.build_world(2026)
    yield make_hospital_app(world, BASE, _verify).test_client(), world


def test_large_record_pages_through_every_observation_exactly_once(
    world_client: tuple[flask.testing.FlaskClient, World],
) -> None:
    client, world = world_client
    [large] = [p for p in world.patients if p.scenario == "large-record"]
    assert large.hospital is not None
    [patient] = _matches(_json(_get(client, "/Patient", identifier=f"{NHS_SYSTEM}|{large.nhs_number}")))
    found, pages = _search_all(client, "Observation", patient=patient["id"], _count=1000)
    ids = [r["id"] for r in found]
    assert len(ids) >= 10_000
    assert len(ids) == len(set(ids)) == len(large.hospital.observations)
    assert pages == -(-len(ids) // 1000)
    # the default page size walks the same set
    default_ids = [r["id"] for r in _search_all(client, "Observation", patient=patient["id"])[0]]
    assert sorted(default_ids) == sorted(ids)


def test_every_bundle_for_every_built_world_patient_validates(
    world_client: tuple[flask.testing.FlaskClient, World],
) -> None:
    client, world = world_client
    bundle_model = get_fhir_model_class("Bundle")
    served = 0
    for p in world.patients:
        bundle = _json(_get(client, "/Patient", identifier=f"{NHS_SYSTEM}|{p.nhs_number}"))
        bundle_model.model_validate(bundle)
        if p.hospital is None:
            assert bundle["total"] == 0
            continue
        [patient] = _matches(bundle)
        for rtype in SEARCH_TYPES:
            url: str | None = f"/{rtype}?patient={patient['id']}&_count=1000"
            while url is not None:
                page = _json(_get(client, url) if url.startswith("https") else client.get(url, headers=AUTH))
                bundle_model.model_validate(page)
                served += len(_matches(page))
                url = _next(page)
    assert served >= 10_000
