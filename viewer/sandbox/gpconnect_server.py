"""The sandbox GP Connect provider, reachable directly and through a stand-in Spine Secure Proxy.

It is strict on purpose: every header, media type and JWT claim the GP Connect specification asks a
consumer for is checked, with the Spine error the specification gives, so that a consumer bug shows
up against the sandbox rather than in production. Nothing that identifies a patient is logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
from typing import Any

import flask
import orjson
from werkzeug.exceptions import HTTPException

from viewer.sandbox.gpconnect_stu3 import (
    ODS_SYSTEM,
    SDS_USER_SYSTEM,
    error_response,
    structured_record,
)
from viewer.sandbox.world import World

log = logging.getLogger(__name__)

INTERACTION_ID = "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1"
FHIR_JSON = "application/fhir+json"
RESPONSE_TYPE = "application/fhir+json;charset=utf-8"
SDS_ROLE_PROFILE_SYSTEM = "https://fhir.nhs.uk/Id/sds-role-profile-id"
ENDPOINT_PATH = "/{ods}/STU3/1/gpconnect/structured/fhir"
OPERATION = "/Patient/$gpc.getstructuredrecord"
JWT_LIFETIME = 300
CLOCK_SKEW = 60


class RequestRejected(Exception):
    """A check failed; carries the Spine code and a diagnostic free of patient data."""

    def __init__(self, code: str, diagnostics: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {diagnostics}")
        self.code = code
        self.diagnostics = diagnostics
        self.headers = headers or {}


def make_gpconnect_app(world: World, base_url: str, consumer_asid: str) -> flask.Flask:
    """The provider app: `/{ODS}/STU3/1/gpconnect/structured/fhir/...` and `/ssp/{address}/...`."""
    app = flask.Flask(__name__)
    # The SSP form embeds `https://...` in the path; merging slashes would redirect it away.
    app.url_map.merge_slashes = False
    base_url = base_url.rstrip("/")

    def answer(status: int, body: dict, headers: dict[str, str] | None = None) -> flask.Response:
        response = flask.Response(orjson.dumps(body), status=status, content_type=RESPONSE_TYPE)
        response.headers["Cache-Control"] = "no-store"
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    def handle(ods: str) -> flask.Response:
        practice = world.practice(ods)
        if practice is None:
            log.info("gpconnect: no provider for the requested ODS code")
            return answer(
                *error_response("ORGANISATION_NOT_FOUND", "no GP Connect provider at this address")
            )
        address = base_url + ENDPOINT_PATH.format(ods=ods)
        try:
            check_headers(flask.request.headers, consumer_asid, practice.asid)
            check_jwt(flask.request.headers.get("Authorization"), address, time.time())
            try:
                parameters = json.loads(flask.request.get_data(cache=False))
            except (ValueError, UnicodeDecodeError):
                raise RequestRejected(
                    "INVALID_RESOURCE", "the request body is not valid JSON"
                ) from None
        except RequestRejected as exc:
            log.info("gpconnect %s: request rejected with %s", ods, exc.code)
            status, body = error_response(exc.code, exc.diagnostics)
            return answer(status, body, exc.headers)
        status, body = structured_record(world, parameters, ods)
        log.info("gpconnect %s: answered %d", ods, status)
        return answer(status, body)

    @app.post("/<ods>/STU3/1/gpconnect/structured/fhir/Patient/$gpc.getstructuredrecord")
    def provider(ods: str) -> flask.Response:
        return handle(ods)

    @app.post("/ssp/<path:provider_address>/Patient/$gpc.getstructuredrecord")
    def ssp(provider_address: str) -> flask.Response:
        ods = ods_from_address(provider_address, base_url)
        if ods is None:
            log.info("gpconnect ssp: target URL is not a registered endpoint")
            return answer(
                *error_response(
                    "BAD_REQUEST", "Target URL varies from the endpoint registered in SDS"
                )
            )
        return handle(ods)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> flask.Response:
        if exc.code == 405:
            return answer(
                *error_response("METHOD_NOT_ALLOWED", "use POST for $gpc.getstructuredrecord")
            )
        if exc.code == 404:
            return answer(*error_response("NO_RECORD_FOUND", "no such endpoint on this server"))
        return answer(exc.code or 500, error_response("BAD_REQUEST", exc.name)[1])

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> flask.Response:
        log.error("gpconnect: unexpected %s", type(exc).__name__)
        return answer(
            *error_response("INTERNAL_SERVER_ERROR", "unexpected error in the sandbox provider")
        )

    return app


def ods_from_address(provider_address: str, base_url: str) -> str | None:
    """The ODS code in an SSP-embedded provider address, or None when it is not one of ours.

    Proxies and path normalisers may collapse `https://` to `https:/`; both forms are accepted.
    """
    address = provider_address
    for scheme in ("https:/", "http:/"):
        if address.startswith(scheme) and not address.startswith(scheme + "/"):
            address = scheme + "/" + address[len(scheme) :]
    prefix = base_url + "/"
    if not address.startswith(prefix):
        return None
    parts = address[len(prefix) :].split("/")
    if (
        len(parts) != 6
        or parts[1:] != ["STU3", "1", "gpconnect", "structured", "fhir"]
        or not parts[0]
    ):
        return None
    return parts[0]


def check_headers(headers: Any, consumer_asid: str, provider_asid: str) -> None:
    """The Spine Secure Proxy headers and the FHIR media types (retrieve page, SSP page)."""
    trace = headers.get("Ssp-TraceID")
    if not trace:
        raise RequestRejected("BAD_REQUEST", "Ssp-TraceID header is missing")
    try:
        uuid.UUID(trace)
    except ValueError:
        raise RequestRejected("BAD_REQUEST", "Ssp-TraceID must be a UUID") from None
    sender = headers.get("Ssp-From")
    if not sender:
        raise RequestRejected("BAD_REQUEST", "Ssp-From header is missing")
    if sender != consumer_asid:
        raise RequestRejected("ACCESS DENIED", f"ASID_CHECK_FAILED_MESSAGESENDER_{sender}")
    receiver = headers.get("Ssp-To")
    if not receiver:
        raise RequestRejected("BAD_REQUEST", "Ssp-To header is missing")
    if receiver != provider_asid:
        raise RequestRejected(
            "ACCESS DENIED", f"PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_{receiver}"
        )
    interaction = headers.get("Ssp-InteractionID")
    if not interaction:
        raise RequestRejected("BAD_REQUEST", "Ssp-InteractionID header is missing")
    if interaction != INTERACTION_ID:
        raise RequestRejected("BAD_REQUEST", "Ssp-InteractionID does not match the request")
    if not _is_fhir_json(headers.get("Content-Type", "")):
        raise RequestRejected(
            "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/fhir+json"
        )
    accept = headers.get("Accept", "")
    if not any(_is_fhir_json(choice) for choice in accept.split(",")):
        raise RequestRejected("UNSUPPORTED_MEDIA_TYPE", "Accept must be application/fhir+json")


def _is_fhir_json(value: str) -> bool:
    media, *params = (p.strip().lower() for p in value.split(";"))
    if media != FHIR_JSON:
        return False
    for param in params:
        key, _, val = param.partition("=")
        if key.strip() == "charset" and val.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _b64_json(segment: str, what: str) -> dict:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise RequestRejected("BAD_REQUEST", f"JWT {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise RequestRejected("BAD_REQUEST", f"JWT {what} is not a JSON object")
    return value


def check_jwt(authorization: str | None, audience: str, now: float) -> dict:
    """Check the unsigned audit JWT (audit and provenance page); return its claims."""
    try:
        return _jwt_claims(authorization, audience, now)
    except RequestRejected as exc:
        # RFC 6750 section 3.1, as the audit and provenance page asks.
        exc.headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_request"')
        raise


def _jwt_claims(authorization: str | None, audience: str, now: float) -> dict:
    if not authorization:
        raise RequestRejected("BAD_REQUEST", "Authorization header is missing")
    scheme, _, token = authorization.partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise RequestRejected("BAD_REQUEST", "Authorization must be 'Bearer <JWT>'")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise RequestRejected("BAD_REQUEST", "JWT must have three dot-separated parts")
    header = _b64_json(parts[0], "header")
    if header.get("alg") != "none" or parts[2] != "":
        raise RequestRejected(
            "BAD_REQUEST", "JWT must be unsigned: alg none and an empty signature"
        )
    if header.get("typ", "JWT") != "JWT":
        raise RequestRejected("BAD_REQUEST", "JWT typ must be JWT")
    claims = _b64_json(parts[1], "payload")
    for name in ("iss", "sub", "aud", "reason_for_request", "requested_scope"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise RequestRejected("BAD_REQUEST", f"JWT {name} claim is missing or empty")
    if claims["aud"].rstrip("/") != audience:
        raise RequestRejected("BAD_REQUEST", "JWT aud claim is not this provider's endpoint")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (iat, exp)):
        raise RequestRejected("BAD_REQUEST", "JWT iat and exp must be integer seconds")
    if exp - iat != JWT_LIFETIME:
        raise RequestRejected("BAD_REQUEST", "JWT exp must be iat + 300 seconds")
    if iat > now + CLOCK_SKEW:
        raise RequestRejected("BAD_REQUEST", "JWT iat is in the future")
    if exp <= now:
        raise RequestRejected(
            "BAD_REQUEST", "JWT has expired", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    if claims["reason_for_request"] != "directcare":
        raise RequestRejected("BAD_REQUEST", "JWT reason_for_request must be directcare")
    scopes = claims["requested_scope"].split()
    if "patient/*.read" not in scopes:
        raise RequestRejected("BAD_REQUEST", "JWT requested_scope must be patient/*.read")
    _check_device(claims.get("requesting_device"))
    _check_organization(claims.get("requesting_organization"))
    _check_practitioner(claims.get("requesting_practitioner"), claims["sub"])
    return claims


def _resource(value: Any, resource_type: str, claim: str) -> dict:
    if not isinstance(value, dict):
        raise RequestRejected("BAD_REQUEST", f"JWT {claim} claim is missing")
    if value.get("resourceType") != resource_type:
        raise RequestRejected(
            "BAD_REQUEST", f"JWT {claim} claim must be a {resource_type} resource"
        )
    return value


def _identifiers(resource: dict, claim: str) -> dict[str, str]:
    found = resource.get("identifier")
    if not isinstance(found, list) or not found:
        raise RequestRejected("BAD_REQUEST", f"JWT {claim} needs an identifier")
    out: dict[str, str] = {}
    for ident in found:
        if not isinstance(ident, dict) or not ident.get("system") or not ident.get("value"):
            raise RequestRejected(
                "BAD_REQUEST", f"JWT {claim} identifiers need a system and a value"
            )
        out[ident["system"]] = ident["value"]
    return out


def _check_device(value: Any) -> None:
    device = _resource(value, "Device", "requesting_device")
    _identifiers(device, "requesting_device")
    if not device.get("model") or not device.get("version"):
        raise RequestRejected("BAD_REQUEST", "JWT requesting_device needs model and version")


def _check_organization(value: Any) -> None:
    organization = _resource(value, "Organization", "requesting_organization")
    if ODS_SYSTEM not in _identifiers(organization, "requesting_organization"):
        raise RequestRejected(
            "BAD_REQUEST", "JWT requesting_organization needs an ODS code identifier"
        )
    if not organization.get("name"):
        raise RequestRejected("BAD_REQUEST", "JWT requesting_organization needs a name")


def _check_practitioner(value: Any, subject: str) -> None:
    practitioner = _resource(value, "Practitioner", "requesting_practitioner")
    if practitioner.get("id") != subject:
        raise RequestRejected("BAD_REQUEST", "JWT sub must equal requesting_practitioner.id")
    systems = _identifiers(practitioner, "requesting_practitioner")
    for system in (SDS_USER_SYSTEM, SDS_ROLE_PROFILE_SYSTEM):
        if system not in systems:
            raise RequestRejected(
                "BAD_REQUEST", f"JWT requesting_practitioner needs an {system} identifier"
            )
    names = practitioner.get("name")
    if (
        not isinstance(names, list)
        or not names
        or not isinstance(names[0], dict)
        or not names[0].get("family")
    ):
        raise RequestRejected(
            "BAD_REQUEST", "JWT requesting_practitioner needs a name with a family name"
        )
