"""The sandbox PDS answers like the published PDS FHIR API: reads, searches and every error shape."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from flask.testing import FlaskClient

from viewer.sandbox.nhs_numbers import synthetic_numbers
from viewer.sandbox.pds_server import make_pds_app, soundex
from viewer.sandbox.population import build_world, patient_for
from viewer.sandbox.world import World

SPINE = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"


def _verify(token: str) -> dict | None:
    return {"sub": "555000000001", "selected_roleid": "555000000101"} if token == "good-token" else None


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def client(world: World) -> FlaskClient:
    return make_pds_app(world, _verify).test_client()


def _headers(**extra: str) -> dict[str, str]:
    return {"Authorization": "Bearer good-token", "X-Request-ID": str(uuid.uuid4()), **extra}


def _error_code(body: dict[str, Any]) -> str:
    OperationOutcome.model_validate(body)
    coding = body["issue"][0]["details"]["coding"][0]
    assert coding["system"] == SPINE
    return coding["code"]


def _search(client: FlaskClient, params: list[tuple[str, str]] | dict[str, str]) -> tuple[int, dict]:
    response = client.get("/Patient", query_string=params, headers=_headers())
    return response.status_code, response.get_json()


# ----------------------------------------------------------------------------------------------- read


def test_read_returns_pds_shaped_patient(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "ordinary-adult")
    request_id, correlation = str(uuid.uuid4()), "trace-123"
    response = client.get(f"/Patient/{p.nhs_number}", headers={
        "Authorization": "Bearer good-token", "X-Request-ID": request_id, "X-Correlation-ID": correlation,
        "NHSD-Session-URID": "555000000101"})
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.headers["X-Request-ID"] == request_id
    assert response.headers["X-Correlation-ID"] == correlation
    body = response.get_json()
    Patient.model_validate(body)
    assert body["id"] == p.nhs_number
    assert response.headers["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    identifier = body["identifier"][0]
    assert identifier == {**identifier, "system": "https://fhir.nhs.uk/Id/nhs-number", "value": p.nhs_number}
    assert identifier["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "01"
    assert body["meta"]["security"][0]["code"] == "U"
    name = body["name"][0]
    assert (name["use"], name["family"], name["given"], name["prefix"]) == ("usual", "Sharma",
                                                                             ["Priya", "Anjali"], ["Mrs"])
    assert "start" in name["period"]
    assert body["birthDate"] == p.pds.birth_date.isoformat() and body["gender"] == "female"
    gp = body["generalPractitioner"][0]["identifier"]
    assert gp == {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": p.practice_ods}
    assert body["address"][0]["postalCode"] == p.pds.postcode
    assert body["telecom"][0]["value"] == p.pds.phone.replace(" ", "")
    assert "deceasedDateTime" not in body


def test_every_patient_validates_as_r4_patient(client: FlaskClient, world: World) -> None:
    for p in world.patients:
        response = client.get(f"/Patient/{p.nhs_number}", headers=_headers())
        assert response.status_code == 200, p.scenario
        Patient.model_validate(response.get_json())


def test_superseded_number_answers_with_new_record(client: FlaskClient, world: World) -> None:
    old, new = patient_for(world, "superseded-old"), patient_for(world, "superseded-new")
    body = client.get(f"/Patient/{old.nhs_number}", headers=_headers()).get_json()
    assert body["id"] == new.nhs_number != old.nhs_number
    assert body["identifier"][0]["value"] == new.nhs_number


def test_restricted_patient_withholds_location(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "restricted")
    body = client.get(f"/Patient/{p.nhs_number}", headers=_headers()).get_json()
    security = body["meta"]["security"][0]
    assert (security["system"], security["code"]) == ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                                      "R")
    for withheld in ("address", "telecom", "generalPractitioner"):
        assert withheld not in body
    assert body["name"][0]["family"] == p.pds.name.family


def test_deceased_patient(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "deceased")
    body = client.get(f"/Patient/{p.nhs_number}", headers=_headers()).get_json()
    assert body["deceasedDateTime"] == p.deceased.isoformat()
    assert body["deceasedDateTime"].endswith("+00:00")


def test_special_characters_survive(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "free-text")
    response = client.get(f"/Patient/{p.nhs_number}", headers=_headers())
    body = response.get_json()
    assert body["name"][0]["family"] == "D'Arcy-Smythe" and body["name"][0]["given"][0] == "Zoë"
    assert '"The Willows"' in body["address"][0]["line"]


def test_invalid_nhs_number(client: FlaskClient) -> None:
    response = client.get("/Patient/9434765918", headers=_headers())
    assert response.status_code == 400
    assert _error_code(response.get_json()) == "INVALID_RESOURCE_ID"
    assert client.get("/Patient/not-a-number", headers=_headers()).status_code == 400


def test_unknown_patient(client: FlaskClient, world: World) -> None:
    known = {p.nhs_number for p in world.patients}
    unknown = next(n for n in synthetic_numbers(1000) if n not in known)
    response = client.get(f"/Patient/{unknown}", headers=_headers())
    assert response.status_code == 404
    assert _error_code(response.get_json()) == "RESOURCE_NOT_FOUND"


@pytest.mark.parametrize("auth", [None, "Bearer bad-token", "Basic good-token", "Bearer "])
def test_bearer_token_required(client: FlaskClient, world: World, auth: str | None) -> None:
    headers = {"X-Request-ID": str(uuid.uuid4())} | ({"Authorization": auth} if auth is not None else {})
    response = client.get(f"/Patient/{world.patients[0].nhs_number}", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert _error_code(body) == "ACCESS_DENIED" and body["issue"][0]["code"] == "forbidden"
    # Searches are protected the same way.
    assert client.get("/Patient?family=Smith&birthdate=eq1968-05-17", headers=headers).status_code == 401


def test_request_id_required_and_must_be_uuid(client: FlaskClient, world: World) -> None:
    url = f"/Patient/{world.patients[0].nhs_number}"
    missing = client.get(url, headers={"Authorization": "Bearer good-token"})
    assert missing.status_code == 400 and _error_code(missing.get_json()) == "MISSING_VALUE"
    bad = client.get(url, headers={"Authorization": "Bearer good-token", "X-Request-ID": "not-a-uuid"})
    assert bad.status_code == 400 and _error_code(bad.get_json()) == "INVALID_VALUE"
    assert bad.headers["X-Request-ID"] == "not-a-uuid"


def test_errors_never_carry_the_nhs_number(client: FlaskClient, world: World) -> None:
    known = {p.nhs_number for p in world.patients}
    unknown = next(n for n in synthetic_numbers(2000) if n not in known)
    for number in (unknown, "9434765918"):
        assert number not in client.get(f"/Patient/{number}", headers=_headers()).get_data(as_text=True)


def test_unknown_path_and_method_are_operation_outcomes(client: FlaskClient) -> None:
    response = client.post("/Patient/9434765919", headers=_headers())
    assert response.status_code == 405
    OperationOutcome.model_validate(response.get_json())
    missing_id = client.get("/Patient/", headers=_headers())
    assert missing_id.status_code == 400 and _error_code(missing_id.get_json()) == "UNSUPPORTED_SERVICE"


# --------------------------------------------------------------------------------------------- search


def test_search_exact_match_scores_one(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "ordinary-adult")
    status, body = _search(client, {"family": "SHARMA", "given": "priya", "gender": "female",
                                    "birthdate": f"eq{p.pds.birth_date.isoformat()}"})
    assert status == 200
    Bundle.model_validate(body)
    assert body["type"] == "searchset" and body["total"] == 1
    entry = body["entry"][0]
    assert entry["search"]["score"] == 1.0
    assert entry["resource"]["id"] == p.nhs_number
    assert entry["fullUrl"].endswith(f"/Patient/{p.nhs_number}")


def test_search_wildcard_and_range_score_lower(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "ordinary-adult")
    born = p.pds.birth_date
    params = [("family", "Sha*"), ("birthdate", f"ge{born.replace(year=born.year - 1).isoformat()}"),
              ("birthdate", f"le{born.replace(year=born.year + 1).isoformat()}")]
    status, body = _search(client, params)
    ids = [e["resource"]["id"] for e in body["entry"]]
    assert status == 200 and p.nhs_number in ids
    assert all(e["search"]["score"] < 1.0 for e in body["entry"])
    status, exact = _search(client, [*params, ("_exact-match", "true")])
    assert status == 200 and exact["total"] == 0 and "entry" not in exact


def test_search_gender_mismatch_finds_nobody(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "ordinary-adult")
    status, body = _search(client, {"family": "Sharma", "gender": "male",
                                    "birthdate": f"eq{p.pds.birth_date.isoformat()}"})
    assert status == 200 and body["total"] == 0


def test_fuzzy_search_matches_homophones_and_transposed_names(client: FlaskClient, world: World) -> None:
    assert soundex("Whittaker") == soundex("Whitaker") == "W326"
    assert soundex("Smith") == soundex("Smythe") == "S530"
    p = patient_for(world, "polypharmacy-elderly")
    born = f"eq{p.pds.birth_date.isoformat()}"
    status, body = _search(client, {"family": "Whitaker", "given": "Margaret", "birthdate": born,
                                    "_fuzzy-match": "true"})
    assert status == 200 and body["entry"][0]["resource"]["id"] == p.nhs_number
    assert body["entry"][0]["search"]["score"] < 1.0
    status, plain = _search(client, {"family": "Whitaker", "birthdate": born})
    assert status == 200 and plain["total"] == 0  # non-fuzzy does not match homophones
    status, swapped = _search(client, {"family": "Margaret", "given": "Whittaker", "birthdate": born,
                                       "_fuzzy-match": "true"})
    assert status == 200 and swapped["entry"][0]["resource"]["id"] == p.nhs_number


def test_search_too_many_matches(client: FlaskClient, world: World) -> None:
    a, b = patient_for(world, "namesake-a"), patient_for(world, "namesake-b")
    params = {"family": "Smith", "given": "John", "birthdate": "eq1968-05-17"}
    status, body = _search(client, params)
    assert status == 200 and {e["resource"]["id"] for e in body["entry"]} == {a.nhs_number, b.nhs_number}
    status, body = _search(client, {**params, "_max-results": "1"})
    assert status == 200 and body["resourceType"] == "OperationOutcome"
    OperationOutcome.model_validate(body)
    issue = body["issue"][0]
    assert issue["code"] == "multiple-matches" and issue["details"]["coding"][0]["code"] == "TOO_MANY_MATCHES"
    status, body = _search(client, {**params, "address-postalcode": "wl24hs"})
    assert status == 200 and [e["resource"]["id"] for e in body["entry"]] == [a.nhs_number]


def test_search_never_returns_superseded_number(client: FlaskClient, world: World) -> None:
    new, old = patient_for(world, "superseded-new"), patient_for(world, "superseded-old")
    status, body = _search(client, {"family": "O'Connor", "birthdate": f"eq{new.pds.birth_date.isoformat()}"})
    assert status == 200 and [e["resource"]["id"] for e in body["entry"]] == [new.nhs_number]
    assert old.nhs_number not in str(body)


def test_restricted_found_without_postcode_but_never_with(client: FlaskClient, world: World) -> None:
    p = patient_for(world, "restricted")
    params = {"family": "Ellis", "birthdate": f"eq{p.pds.birth_date.isoformat()}"}
    status, body = _search(client, params)
    resource = body["entry"][0]["resource"]
    assert resource["meta"]["security"][0]["code"] == "R" and "address" not in resource
    status, body = _search(client, {**params, "address-postalcode": p.pds.postcode})
    assert status == 200 and body["total"] == 0
    status, body = _search(client, {**params, "general-practitioner": p.practice_ods})
    assert status == 200 and body["total"] == 0


@pytest.mark.parametrize(("params", "code"), [
    ({}, "UNSUPPORTED_SERVICE"),
    ({"family": "Smith"}, "INVALID_SEARCH_DATA"),
    ({"given": "John", "birthdate": "eq1968-05-17"}, "INVALID_SEARCH_DATA"),
    ({"family": "Smith", "given": "John", "_fuzzy-match": "true"}, "INVALID_SEARCH_DATA"),
    ({"family": "Sm*", "given": "John", "birthdate": "eq1968-05-17", "_fuzzy-match": "true"},
     "INVALID_SEARCH_DATA"),
    ({"family": "S*", "birthdate": "eq1968-05-17"}, "INVALID_SEARCH_DATA"),
    ({"family": "Smith", "birthdate": "17/05/1968"}, "INVALID_VALUE"),
    ({"family": "Smith", "birthdate": "eq1968-02-30"}, "INVALID_VALUE"),
    ({"family": "Smith", "birthdate": "eq1968-05-17", "gender": "mal"}, "INVALID_VALUE"),
    ({"family": "Smith", "birthdate": "eq1968-05-17", "_max-results": "51"}, "INVALID_VALUE"),
    ({"family": "Smith", "birthdate": "eq1968-05-17", "_fuzzy-match": "yes"}, "INVALID_VALUE"),
    ({"family": "Smith", "birthdate": "eq1968-05-17", "shoe-size": "9"}, "ADDITIONAL_PROPERTIES"),
    ({"family": "Smith", "birthdate": "eq1968-05-17", "address-postcode": "WL2 4HS",
      "address-postalcode": "WL2 4HS"}, "INVALID_SEARCH_DATA"),
    ({"email": "someone@example.com", "phone": "07700900314"}, "INVALID_SEARCH_DATA"),
])
def test_search_errors(client: FlaskClient, params: dict[str, str], code: str) -> None:
    status, body = _search(client, params)
    assert status == 400
    assert _error_code(body) == code
