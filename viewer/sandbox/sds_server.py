"""A loopback Spine Directory Service (SDS FHIR API): where each GP practice's GP Connect endpoint is.

The viewer looks up a practice's provider endpoint and ASID the way GP Connect tells consumers to
(reference/sds README): `GET /Endpoint` by organisation and interaction gives `Endpoint.address` and
the MHS party key; `GET /Device` with the party key gives the ASID. Only the Get Structured Record
interaction is registered, for every practice of the world; the endpoint address points at the
sandbox's own GP Connect server, so a lookup leads to a server that really answers.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from viewer.sandbox.world import Practice, World

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
INTERACTION_SYSTEM = "https://fhir.nhs.uk/Id/nhsServiceInteractionId"
PARTY_KEY_SYSTEM = "https://fhir.nhs.uk/Id/nhsMhsPartyKey"
ASID_SYSTEM = "https://fhir.nhs.uk/Id/nhsSpineASID"
STRUCTURED_INTERACTION = "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1"
ERROR_SYSTEM = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
EXT_INTERACTION = "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-NhsServiceInteractionId"
EXT_RELIABILITY = "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-ReliabilityConfiguration"
EXT_MANUFACTURER = "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-ManufacturingOrganisation"
# The (synthetic) GP system supplier that made every practice's system.
SUPPLIER_ODS = "YGM99"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ACCEPTABLE = ("application/fhir+json", "application/json", "*/*")
# Endpoint: the combinations the spec supports (organisation, service interaction, party key).
_ENDPOINT_COMBINATIONS = frozenset({
    frozenset({"org", "interaction", "party_key"}), frozenset({"org", "party_key"}),
    frozenset({"org", "interaction"}), frozenset({"interaction", "party_key"}),
})


class SdsError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(code)
        self.status, self.code, self.diagnostics = status, code, diagnostics


def operation_outcome(code: str, diagnostics: str, issue_code: str = "invalid") -> dict[str, Any]:
    """An SDS error body: Spine error code and a diagnostic, as the SDS service's error handler writes."""
    return {"resourceType": "OperationOutcome", "id": str(uuid.uuid4()), "issue": [{
        "severity": "error", "code": issue_code,
        "details": {"coding": [{"system": ERROR_SYSTEM, "code": code,
                                "display": code.replace("_", " ").title()}]},
        "diagnostics": diagnostics,
    }]}


def endpoint_address(gpconnect_base_url: str, ods_code: str) -> str:
    """The GP Connect FHIR service root URL registered for a practice."""
    return f"{gpconnect_base_url.rstrip('/')}/{ods_code}/STU3/1/gpconnect/structured/fhir"


def _stable_id(kind: str, practice: Practice) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"wardview-sandbox:{kind}:{practice.ods_code}")).upper()


def endpoint_resource(practice: Practice, gpconnect_base_url: str) -> dict[str, Any]:
    fqdn = urlsplit(gpconnect_base_url).hostname or "127.0.0.1"
    mhs_id = f"S{practice.asid}"
    return {
        "resourceType": "Endpoint",
        "id": _stable_id("endpoint", practice),
        "status": "active",
        "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                           "code": "hl7-fhir-rest", "display": "HL7 FHIR"},
        "payloadType": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type",
                                     "code": "any", "display": "Any"}]}],
        "address": endpoint_address(gpconnect_base_url, practice.ods_code),
        "managingOrganization": {"identifier": {"system": ODS_SYSTEM, "value": practice.ods_code}},
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhsMhsFQDN", "value": fqdn},
            {"system": PARTY_KEY_SYSTEM, "value": practice.party_key},
            {"system": "https://fhir.nhs.uk/Id/nhsMhsCPAId", "value": mhs_id},
            {"system": "https://fhir.nhs.uk/Id/nhsMHSId", "value": mhs_id},
        ],
        "extension": [
            {"url": EXT_RELIABILITY, "extension": [
                {"url": "nhsMHSSyncReplyMode", "valueString": "None"},
                {"url": "nhsMHSRetryInterval", "valueString": "PT0S"},
                {"url": "nhsMHSRetries", "valueInteger": 0},
                {"url": "nhsMHSPersistDuration", "valueString": "PT0S"},
                {"url": "nhsMHSDuplicateElimination", "valueString": "never"},
                {"url": "nhsMHSAckRequested", "valueString": "never"},
            ]},
            _interaction_extension(),
        ],
    }


def device_resource(practice: Practice) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "id": _stable_id("device", practice),
        "identifier": [{"system": ASID_SYSTEM, "value": practice.asid},
                       {"system": PARTY_KEY_SYSTEM, "value": practice.party_key}],
        "extension": [
            {"url": EXT_MANUFACTURER, "valueReference": {"identifier": {"system": ODS_SYSTEM,
                                                                         "value": SUPPLIER_ODS}}},
            _interaction_extension(),
        ],
        "owner": {"identifier": {"system": ODS_SYSTEM, "value": practice.ods_code}},
    }


def _interaction_extension() -> dict[str, Any]:
    return {"url": EXT_INTERACTION, "valueReference": {"identifier": {"system": INTERACTION_SYSTEM,
                                                                      "value": STRUCTURED_INTERACTION}}}


def _token(raw: str, allowed: Mapping[str, str], param: str) -> tuple[str, str]:
    """Split `system|value` into (kind, value), kind from `allowed` (system -> kind)."""
    system, bar, value = raw.partition("|")
    if not bar or not value or system not in allowed:
        raise SdsError(400, "BAD_REQUEST", f"Invalid value for query parameter '{param}': expected one of "
                       f"{', '.join(sorted(allowed))} followed by '|' and a value")
    return allowed[system], value


def _criteria(allowed_params: frozenset[str]) -> dict[str, str]:
    """The query as {org, interaction, party_key, manufacturer} after the checks SDS makes."""
    unknown = sorted(set(request.args) - allowed_params)
    if unknown:
        raise SdsError(400, "BAD_REQUEST", f"Unsupported query parameter(s): {', '.join(unknown)}")
    found: dict[str, str] = {}
    for raw in request.args.getlist("identifier"):
        kind, value = _token(raw, {INTERACTION_SYSTEM: "interaction", PARTY_KEY_SYSTEM: "party_key"},
                             "identifier")
        if kind in found:
            raise SdsError(400, "BAD_REQUEST", f"Query parameter 'identifier' repeats the {kind} system")
        found[kind] = value
    for param, key in (("organization", "org"), ("manufacturing-organization", "manufacturer")):
        values = request.args.getlist(param)
        if len(values) > 1:
            raise SdsError(400, "BAD_REQUEST", f"Query parameter '{param}' must not be repeated")
        if values:
            found[key] = _token(values[0], {ODS_SYSTEM: key}, param)[1]
    return found


def _matches(practice: Practice, criteria: Mapping[str, str]) -> bool:
    return (criteria.get("org", practice.ods_code).upper() == practice.ods_code
            and criteria.get("interaction", STRUCTURED_INTERACTION) == STRUCTURED_INTERACTION
            and criteria.get("party_key", practice.party_key).upper() == practice.party_key.upper()
            and criteria.get("manufacturer", SUPPLIER_ODS).upper() == SUPPLIER_ODS)


def make_sds_app(world: World, gpconnect_base_url: str, api_key: str) -> Flask:
    """SDS at the app root: GET /Endpoint and GET /Device, `apikey` header required."""
    app = Flask(__name__)

    def respond(status: int, body: dict[str, Any]) -> Response:
        headers = {}
        correlation = request.headers.get("X-Correlation-ID")
        if correlation:
            headers["X-Correlation-ID"] = correlation
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return Response(data, status=status, headers=headers, content_type=f"{FHIR_JSON}; charset=utf-8")

    def check_request() -> None:
        if request.headers.get("apikey") != api_key:
            raise SdsError(401, "ACCESS_DENIED", "Invalid or missing API key in header 'apikey'")
        correlation = request.headers.get("X-Correlation-ID")
        if correlation is not None and not _UUID.match(correlation):
            raise SdsError(400, "BAD_REQUEST", "Invalid X-Correlation-ID header: must be a UUID")
        accept = request.headers.get("Accept")
        if accept:
            types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
            if not any(t in _ACCEPTABLE for t in types):
                raise SdsError(406, "BAD_REQUEST", "Unsupported media type in header 'Accept'")

    def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
        base = request.host_url.rstrip("/")
        body: dict[str, Any] = {
            "resourceType": "Bundle", "id": str(uuid.uuid4()).upper(), "type": "searchset",
            "total": len(resources), "link": [{"relation": "self", "url": request.url}],
        }
        if resources:
            body["entry"] = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                              "search": {"mode": "match"}} for r in resources]
        return body

    @app.errorhandler(SdsError)
    def sds_error(error: SdsError) -> Response:
        issue = {401: "forbidden", 406: "not-supported"}.get(error.status, "invalid")
        return respond(error.status, operation_outcome(error.code, error.diagnostics, issue))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        diagnostics = "Invalid endpoint path" if error.code == 404 else "Only GET is available"
        return respond(error.code or 400, operation_outcome("BAD_REQUEST", diagnostics))

    @app.get("/Endpoint")
    def endpoints() -> Response:
        check_request()
        criteria = _criteria(frozenset({"organization", "identifier"}))
        if frozenset(criteria) not in _ENDPOINT_COMBINATIONS:
            raise SdsError(400, "BAD_REQUEST", "Unsupported combination of query parameters: use "
                           "organization with identifier (service interaction and/or party key), or both "
                           "identifiers")
        found = [endpoint_resource(p, gpconnect_base_url) for p in world.practices if _matches(p, criteria)]
        log.info("SDS Endpoint search: %d match(es)", len(found))
        return respond(200, bundle(found))

    @app.get("/Device")
    def devices() -> Response:
        check_request()
        criteria = _criteria(frozenset({"organization", "identifier", "manufacturing-organization"}))
        if "org" not in criteria:
            raise SdsError(400, "BAD_REQUEST", "Missing required query parameter 'organization'")
        if "interaction" not in criteria:
            raise SdsError(400, "BAD_REQUEST", "Missing required query parameter 'identifier' with "
                           f"system {INTERACTION_SYSTEM}")
        found = [device_resource(p) for p in world.practices if _matches(p, criteria)]
        log.info("SDS Device search: %d match(es)", len(found))
        return respond(200, bundle(found))

    return app
