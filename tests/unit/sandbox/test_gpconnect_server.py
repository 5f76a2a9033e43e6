"""The sandbox GP Connect HTTP layer: SSP headers, media types, the audit JWT, the SSP URL form.

Driven through Flask's test client (no sockets); the TLS and client-certificate layer belongs to the
runner and is tested there.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from datetime import date
from typing import Any

import pytest
from fhir.resources.STU3 import get_fhir_model_class
from fhir.resources.STU3.bundle import Bundle

from viewer.sandbox.gpconnect_server import INTERACTION_ID, make_gpconnect_app, ods_from_address
from viewer.sandbox.nhs_numbers import make_nhs_number
from viewer.sandbox.world import (
    SNOMED,
    ClinicalRecord,
    Code,
    Demographics,
    GpAccess,
    Name,
    Practice,
    SynthAllergy,
    SyntheticPatient,
    World,
)

BASE = "https://127.0.0.1:50123"
ODS = "Y90001"
PROVIDER_ASID = "918999100001"
CONSUMER_ASID = "918999198993"
ADDRESS = f"{BASE}/{ODS}/STU3/1/gpconnect/structured/fhir"
PATH = f"/{ODS}/STU3/1/gpconnect/structured/fhir/Patient/$gpc.getstructuredrecord"
PATIENT = make_nhs_number(42)
DISSENTER = make_nhs_number(43)
FAMILY = "Quigglesworth"


@pytest.fixture(scope="module")
def world() -> World:
    demo = Demographics(Name(FAMILY, ("Tess",), "Ms"), "female", date(1980, 1, 2))
    record = ClinicalRecord(
        demographics=demo,
        allergies=[
            SynthAllergy(
                "a-1",
                Code(SNOMED, "91936005", "Allergy to penicillin"),
                "active",
                "confirmed",
                "medication",
                date(2020, 1, 1),
            )
        ],
    )
    return World(
        patients=[
            SyntheticPatient(PATIENT, "ok", "ok", demo, ODS, record, None),
            SyntheticPatient(
                DISSENTER, "dissent", "dissent", demo, ODS, record, None, gp_access=GpAccess.DISSENT
            ),
        ],
        practices=[Practice(ODS, "Wardleigh Surgery", PROVIDER_ASID, "Y90001-1")],
        users=[],
        hospital_ods="RWV99",
        hospital_name="Wardview Sandbox Hospital NHS Trust",
        seed=1,
    )


@pytest.fixture
def client(world: World) -> Any:
    return make_gpconnect_app(world, BASE, CONSUMER_ASID).test_client()


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def claims(**changes: Any) -> dict:
    now = int(time.time())
    out: dict[str, Any] = {
        "iss": "https://wardview.invalid/",
        "sub": "555000111222",
        "aud": ADDRESS,
        "iat": now,
        "exp": now + 300,
        "reason_for_request": "directcare",
        "requested_scope": "patient/*.read",
        "requesting_device": {
            "resourceType": "Device",
            "model": "Wardview",
            "version": "1.0",
            "identifier": [{"system": "https://wardview.invalid/Id/device", "value": "wv"}],
        },
        "requesting_organization": {
            "resourceType": "Organization",
            "name": "Wardview Sandbox Hospital",
            "identifier": [
                {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RWV99"}
            ],
        },
        "requesting_practitioner": {
            "resourceType": "Practitioner",
            "id": "555000111222",
            "name": [{"family": "Jones", "given": ["Claire"]}],
            "identifier": [
                {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "555000111222"},
                {"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "555000333444"},
            ],
        },
    }
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


def jwt(payload: dict | None = None, header: dict | None = None, signature: str = "") -> str:
    return (
        f"{_b64(header or {'alg': 'none', 'typ': 'JWT'})}.{_b64(payload or claims())}.{signature}"
    )


def headers(**changes: str | None) -> dict[str, str]:
    out: dict[str, str | None] = {
        "Ssp-TraceID": str(uuid.uuid4()),
        "Ssp-From": CONSUMER_ASID,
        "Ssp-To": PROVIDER_ASID,
        "Ssp-InteractionID": INTERACTION_ID,
        "Accept": "application/fhir+json;charset=utf-8",
        "Content-Type": "application/fhir+json;charset=utf-8",
        "Authorization": f"Bearer {jwt()}",
    }
    out.update({k.replace("_", "-"): v for k, v in changes.items()})
    return {k: v for k, v in out.items() if v is not None}


def body(number: str = PATIENT) -> bytes:
    return json.dumps(
        {
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "patientNHSNumber",
                    "valueIdentifier": {
                        "system": "https://fhir.nhs.uk/Id/nhs-number",
                        "value": number,
                    },
                },
                {
                    "name": "includeAllergies",
                    "part": [{"name": "includeResolvedAllergies", "valueBoolean": True}],
                },
            ],
        }
    ).encode()


def post(client: Any, path: str = PATH, data: bytes | None = None, **hdrs: str | None) -> Any:
    return client.post(path, data=body() if data is None else data, headers=headers(**hdrs))


def spine(response: Any) -> tuple[int, str]:
    out = response.get_json(force=True)
    get_fhir_model_class("OperationOutcome").model_validate(out)
    assert out["meta"]["profile"] == [
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"
    ]
    coding = out["issue"][0]["details"]["coding"][0]
    assert coding["system"] == "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"
    return response.status_code, coding["code"]


def assert_valid_bundle(response: Any) -> dict:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/fhir+json;charset=utf-8"
    bundle = response.get_json(force=True)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return bundle


def test_direct_request_returns_the_record(client: Any) -> None:
    bundle = assert_valid_bundle(post(client))
    patients = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert patients[0]["identifier"][0]["value"] == PATIENT


def test_charset_is_optional_on_media_types(client: Any) -> None:
    assert_valid_bundle(
        post(client, Accept="application/fhir+json", Content_Type="application/fhir+json")
    )


@pytest.mark.parametrize("embedded", [ADDRESS, ADDRESS.replace("https://", "https:/")])
def test_ssp_form_reaches_the_same_provider(client: Any, embedded: str) -> None:
    assert_valid_bundle(post(client, f"/ssp/{embedded}/Patient/$gpc.getstructuredrecord"))


@pytest.mark.parametrize(
    "embedded",
    [
        "https://127.0.0.1:9/Y90001/STU3/1/gpconnect/structured/fhir",
        f"{BASE}/Y90001/STU3/1/gpconnect/fhir",
        f"{BASE}/Y90001/STU3/1/gpconnect/structured/fhir/extra",
    ],
)
def test_ssp_rejects_a_target_that_is_not_a_registered_endpoint(client: Any, embedded: str) -> None:
    assert spine(post(client, f"/ssp/{embedded}/Patient/$gpc.getstructuredrecord")) == (
        400,
        "BAD_REQUEST",
    )


def test_ods_from_address() -> None:
    assert ods_from_address(ADDRESS, BASE) == ODS
    assert ods_from_address(ADDRESS.replace("https://", "https:/"), BASE) == ODS
    assert (
        ods_from_address("http://127.0.0.1:50123/Y90001/STU3/1/gpconnect/structured/fhir", BASE)
        is None
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Ssp-TraceID": None}, (400, "BAD_REQUEST")),
        ({"Ssp-TraceID": "not-a-uuid"}, (400, "BAD_REQUEST")),
        ({"Ssp-From": None}, (400, "BAD_REQUEST")),
        ({"Ssp-From": "200000000999"}, (403, "ACCESS DENIED")),
        ({"Ssp-To": None}, (400, "BAD_REQUEST")),
        ({"Ssp-To": "200000000999"}, (403, "ACCESS DENIED")),
        ({"Ssp-InteractionID": None}, (400, "BAD_REQUEST")),
        (
            {"Ssp-InteractionID": "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1"},
            (400, "BAD_REQUEST"),
        ),
        ({"Content-Type": "application/json"}, (415, "UNSUPPORTED_MEDIA_TYPE")),
        (
            {"Content-Type": "application/fhir+json;charset=latin-1"},
            (415, "UNSUPPORTED_MEDIA_TYPE"),
        ),
        ({"Accept": "*/*"}, (415, "UNSUPPORTED_MEDIA_TYPE")),
        ({"Accept": None}, (415, "UNSUPPORTED_MEDIA_TYPE")),
    ],
)
def test_header_checks(client: Any, changes: dict, expected: tuple[int, str]) -> None:
    response = client.post(
        PATH,
        data=body(),
        headers={k: v for k, v in {**headers(), **changes}.items() if v is not None},
    )
    assert spine(response) == expected


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: None, id="missing"),
        pytest.param(lambda: "Basic abc", id="not-bearer"),
        pytest.param(lambda: "Bearer " + jwt().rstrip("."), id="two-parts"),
        pytest.param(lambda: "Bearer " + jwt(signature="c2lnbmVk"), id="signed"),
        pytest.param(
            lambda: "Bearer " + jwt(header={"alg": "HS256", "typ": "JWT"}), id="alg-hs256"
        ),
        pytest.param(lambda: "Bearer not.json.", id="garbage"),
        pytest.param(
            lambda: "Bearer " + jwt(claims(iat=_now() - 900, exp=_now() - 600)), id="expired"
        ),
        pytest.param(lambda: "Bearer " + jwt(claims(exp=_now() + 3600)), id="lifetime-not-300"),
        pytest.param(
            lambda: "Bearer " + jwt(claims(iat=_now() + 600, exp=_now() + 900)),
            id="issued-in-future",
        ),
        pytest.param(
            lambda: "Bearer " + jwt(claims(aud="https://elsewhere.invalid/fhir")), id="wrong-aud"
        ),
        pytest.param(lambda: "Bearer " + jwt(claims(aud=None)), id="no-aud"),
        pytest.param(lambda: "Bearer " + jwt(claims(iss=None)), id="no-iss"),
        pytest.param(lambda: "Bearer " + jwt(claims(reason_for_request="migration")), id="reason"),
        pytest.param(
            lambda: "Bearer " + jwt(claims(requested_scope="organization/*.read")), id="scope"
        ),
        pytest.param(
            lambda: "Bearer " + jwt(claims(sub="someone-else")), id="sub-not-practitioner"
        ),
        pytest.param(
            lambda: "Bearer " + jwt(claims(requesting_device={"resourceType": "Patient"})),
            id="device-type",
        ),
        pytest.param(lambda: "Bearer " + jwt(claims(requesting_device=None)), id="no-device"),
        pytest.param(
            lambda: (
                "Bearer "
                + jwt(
                    claims(
                        requesting_organization={
                            "resourceType": "Organization",
                            "name": "X",
                            "identifier": [{"system": "urn:x", "value": "1"}],
                        }
                    )
                )
            ),
            id="org-without-ods",
        ),
        pytest.param(
            lambda: (
                "Bearer "
                + jwt(
                    claims(
                        requesting_practitioner={
                            "resourceType": "Practitioner",
                            "id": "555000111222",
                            "name": [{"family": "Jones"}],
                            "identifier": [
                                {
                                    "system": "https://fhir.nhs.uk/Id/sds-user-id",
                                    "value": "555000111222",
                                }
                            ],
                        }
                    )
                )
            ),
            id="practitioner-without-role-profile",
        ),
        pytest.param(
            lambda: (
                "Bearer "
                + jwt(
                    claims(
                        requesting_practitioner={
                            "resourceType": "Practitioner",
                            "id": "555000111222",
                            "identifier": [
                                {
                                    "system": "https://fhir.nhs.uk/Id/sds-user-id",
                                    "value": "555000111222",
                                },
                                {
                                    "system": "https://fhir.nhs.uk/Id/sds-role-profile-id",
                                    "value": "1",
                                },
                            ],
                        }
                    )
                )
            ),
            id="practitioner-without-name",
        ),
    ],
)
def test_jwt_checks(client: Any, token: Any) -> None:
    response = post(client, Authorization=token())
    assert spine(response) == (400, "BAD_REQUEST")
    assert response.headers["WWW-Authenticate"].startswith("Bearer error=")


def test_jwt_with_confidentiality_scope_is_accepted(client: Any) -> None:
    assert_valid_bundle(
        post(client, Authorization="Bearer " + jwt(claims(requested_scope="patient/*.read conf/N")))
    )


def test_ssp_jwt_audience_is_the_provider_address_not_the_proxy(client: Any) -> None:
    path = f"/ssp/{ADDRESS}/Patient/$gpc.getstructuredrecord"
    proxy_aud = "Bearer " + jwt(claims(aud=f"{BASE}/ssp/{ADDRESS}"))
    assert spine(post(client, path, Authorization=proxy_aud)) == (400, "BAD_REQUEST")


def test_unparseable_body_is_invalid_resource(client: Any) -> None:
    assert spine(post(client, data=b"{not json")) == (422, "INVALID_RESOURCE")


def test_operation_errors_pass_through(client: Any) -> None:
    assert spine(post(client, data=body(DISSENTER))) == (403, "NO_PATIENT_CONSENT")
    assert spine(post(client, data=body(make_nhs_number(999)))) == (404, "PATIENT_NOT_FOUND")


def test_unknown_practice_and_wrong_method(client: Any) -> None:
    path = "/Z99999/STU3/1/gpconnect/structured/fhir/Patient/$gpc.getstructuredrecord"
    assert spine(post(client, path)) == (404, "ORGANISATION_NOT_FOUND")
    assert spine(client.get(PATH, headers=headers())) == (405, "METHOD_NOT_ALLOWED")
    assert spine(client.post("/nothing/here", headers=headers())) == (404, "NO_RECORD_FOUND")


def test_logs_name_no_patient(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    post(client)
    post(client, data=body(DISSENTER))
    post(client, Ssp_From="200000000999")
    text = caplog.text
    assert "gpconnect" in text
    for secret in (PATIENT, DISSENTER, FAMILY, "penicillin"):
        assert secret not in text


def test_the_answer_is_not_cached(client: Any) -> None:
    assert post(client).headers["Cache-Control"] == "no-store"
