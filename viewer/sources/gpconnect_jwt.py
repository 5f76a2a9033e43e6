"""The GP Connect audit token: an unsigned JWT that tells the provider who is looking and why.

The provider writes its audit trail from these claims, so they must name the real signed-in clinician
and role (never a generic system user) and be made fresh for every request
(integration_cross_organisation_audit_and_provenance.md).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson

from viewer.sources.context import RequestContext

HEADER = {"alg": "none", "typ": "JWT"}
LIFETIME_SECONDS = 300
SDS_USER_SYSTEM = "https://fhir.nhs.uk/Id/sds-user-id"
SDS_ROLE_SYSTEM = "https://fhir.nhs.uk/Id/sds-role-profile-id"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode("ascii")


def audit_claims(
    ctx: RequestContext,
    audience: str,
    *,
    issuer: str,
    device_name: str,
    device_version: str,
    now: datetime,
    organization_name: str | None = None,
) -> dict[str, Any]:
    """The JWT payload; kept separate so tests and the audit log can read what was claimed."""
    iat = int(now.timestamp())
    local_system = f"{issuer.rstrip('/')}/Id/user-id"
    name: dict[str, Any] = {"family": ctx.family_name, "given": [ctx.given_name]}
    if ctx.title:
        name["prefix"] = [ctx.title]
    return {
        "iss": issuer,
        "sub": ctx.user_id,
        "aud": audience,
        "exp": iat + LIFETIME_SECONDS,
        "iat": iat,
        "reason_for_request": "directcare",
        "requested_scope": "patient/*.read",
        "requesting_device": {
            "resourceType": "Device",
            "identifier": [{"system": f"{issuer.rstrip('/')}/Id/device-identifier", "value": device_name}],
            "model": device_name,
            "version": device_version,
        },
        "requesting_organization": {
            "resourceType": "Organization",
            "identifier": [{"system": ODS_SYSTEM, "value": ctx.org_ods}],
            "name": organization_name or ctx.org_ods,
        },
        "requesting_practitioner": {
            "resourceType": "Practitioner",
            "id": ctx.user_id,
            "identifier": [
                {"system": SDS_USER_SYSTEM, "value": ctx.user_id or "UNK"},
                {"system": SDS_ROLE_SYSTEM, "value": ctx.role_id or "UNK"},
                {"system": local_system, "value": ctx.user_id},
            ],
            "name": [name],
        },
    }


def build_audit_jwt(
    ctx: RequestContext,
    audience: str,
    *,
    issuer: str,
    device_name: str,
    device_version: str,
    now: datetime,
    organization_name: str | None = None,
) -> str:
    """`header.payload.` with an empty signature (alg none), as the spec requires; the trailing dot
    is part of the token."""
    claims = audit_claims(
        ctx, audience, issuer=issuer, device_name=device_name, device_version=device_version,
        now=now, organization_name=organization_name,
    )
    return f"{_b64url(HEADER)}.{_b64url(claims)}."
