"""The GP Connect audit JWT, checked against the spec page's structure."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from viewer.sources.context import RequestContext
from viewer.sources.gpconnect_jwt import build_audit_jwt

CTX = RequestContext(
    access_token="secret-token",
    user_id="555021935107",
    role_id="555021936108",
    family_name="Jones",
    given_name="Claire",
    org_ods="RWV99",
    title="Dr",
)
NOW = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)
AUD = "https://gp.test/A12345/STU3/1/gpconnect/structured/fhir"


def decode(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def make(**kw):
    args = {
        "issuer": "https://wardview.test/",
        "device_name": "Wardview",
        "device_version": "0.1.0",
        "now": NOW,
    }
    args.update(kw)
    return build_audit_jwt(CTX, AUD, **args)


def test_structure_is_unsigned_with_trailing_dot():
    token = make()
    header, payload, signature = token.split(".")
    assert token.endswith(".") and signature == ""
    assert decode(header) == {"alg": "none", "typ": "JWT"}
    assert "=" not in header + payload  # base64url without padding


def test_claims():
    claims = decode(make(organization_name="Wardview Sandbox Hospital NHS Trust").split(".")[1])
    assert claims["iss"] == "https://wardview.test/"
    assert claims["sub"] == "555021935107"
    assert claims["aud"] == AUD
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["exp"] == claims["iat"] + 300
    assert claims["reason_for_request"] == "directcare"
    assert claims["requested_scope"] == "patient/*.read"
    device = claims["requesting_device"]
    assert (
        device["resourceType"] == "Device" and device["model"] == "Wardview" and device["version"] == "0.1.0"
    )
    assert device["identifier"][0]["system"] and device["identifier"][0]["value"]
    org = claims["requesting_organization"]
    assert org["identifier"] == [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RWV99"}]
    assert org["name"] == "Wardview Sandbox Hospital NHS Trust"
    practitioner = claims["requesting_practitioner"]
    assert practitioner["resourceType"] == "Practitioner"
    assert practitioner["id"] == claims["sub"]
    ids = {i["system"]: i["value"] for i in practitioner["identifier"]}
    assert ids["https://fhir.nhs.uk/Id/sds-user-id"] == "555021935107"
    assert ids["https://fhir.nhs.uk/Id/sds-role-profile-id"] == "555021936108"
    assert len(ids) == 3  # plus the local user id
    assert practitioner["name"] == [{"family": "Jones", "given": ["Claire"], "prefix": ["Dr"]}]


def test_access_token_never_in_the_audit_jwt():
    assert "secret-token" not in json.dumps(decode(make().split(".")[1]))


def test_new_per_request_time():
    later = datetime(2026, 3, 1, 10, 5, 0, tzinfo=UTC)
    assert make() != make(now=later)
