"""Spine Directory Service: where a practice's GP Connect endpoint lives and which ASID answers there.

Two searches, as the GP Connect spec's LDAP recipe maps onto the SDS FHIR API: the MHS record
(`/Endpoint`) gives the service root URL and party key, the AS record (`/Device`) gives the ASID.
Results are cached per client instance, which the caller makes per session: the spec says SHOULD cache
per session, MUST NOT reuse across sessions.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from viewer.sources.errors import (
    AccessDenied,
    InvalidRequest,
    SourceError,
    SourceUnavailable,
    UnreadableResponse,
)
from viewer.sources.fhir_common import as_dict, as_list, as_text, identifier_value
from viewer.sources.http import MB, send

log = logging.getLogger(__name__)

SERVICE = "The Spine Directory Service"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
INTERACTION_SYSTEM = "https://fhir.nhs.uk/Id/nhsServiceInteractionId"
PARTY_KEY_SYSTEM = "https://fhir.nhs.uk/Id/nhsMhsPartyKey"
ASID_SYSTEM = "https://fhir.nhs.uk/Id/nhsSpineASID"
STRUCTURED_INTERACTION = "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1"
MAX_REPLY_BYTES = 2 * MB  # a practice has a handful of endpoints and devices


@dataclass(frozen=True, slots=True)
class GpConnectEndpoint:
    address: str  # the provider's FHIR service root URL, exactly as SDS holds it (the SSP checks it)
    asid: str
    party_key: str


class GpConnectNotOffered(SourceError):
    """SDS has no GP Connect structured-record endpoint (or no ASID) for the practice."""

    def __init__(self) -> None:
        super().__init__("The GP practice does not offer GP Connect", code="NO_ENDPOINT")


class SdsClient:
    def __init__(
        self, client: httpx.AsyncClient, base_url: str, api_key: str, *, timeout: float | None = None
    ):
        self._client = client
        self._timeout = timeout
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._cache: dict[str, GpConnectEndpoint] = {}

    async def lookup_gpconnect(self, ods_code: str) -> GpConnectEndpoint:
        """The structured-record endpoint of the practice; raises GpConnectNotOffered when SDS has none."""
        ods = ods_code.strip().upper()
        cached = self._cache.get(ods)
        if cached is not None:
            return cached
        organization = f"{ODS_SYSTEM}|{ods}"
        interaction = f"{INTERACTION_SYSTEM}|{STRUCTURED_INTERACTION}"
        endpoints = await self._search(
            "Endpoint", [("organization", organization), ("identifier", interaction)]
        )
        address, party_key = _first_endpoint(endpoints)
        if address is None or party_key is None:
            raise GpConnectNotOffered()
        devices = await self._search(
            "Device",
            [
                ("organization", organization),
                ("identifier", interaction),
                ("identifier", f"{PARTY_KEY_SYSTEM}|{party_key}"),
            ],
        )
        asid = _first_asid(devices)
        if asid is None:
            raise GpConnectNotOffered()
        found = GpConnectEndpoint(address=address, asid=asid, party_key=party_key)
        self._cache[ods] = found
        return found

    async def _search(self, resource: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        response = await send(
            self._client,
            "GET",
            f"{self._base}/{resource}",
            safe=True,
            service=SERVICE,
            timeout=self._timeout,
            params=params,
            max_bytes=MAX_REPLY_BYTES,
            json_only=True,
            headers={
                "apikey": self._api_key,
                "Accept": "application/fhir+json",
                "X-Correlation-ID": str(uuid.uuid4()),
            },
        )
        _raise_for_status(response)
        try:
            bundle = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UnreadableResponse(f"{SERVICE} sent an answer that could not be read") from None
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise UnreadableResponse(f"{SERVICE} sent an answer that could not be read")
        found = []
        for entry in as_list(bundle.get("entry")):
            res = as_dict(as_dict(entry).get("resource"))
            if res.get("resourceType") == resource:
                found.append(res)
        return found


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    log.warning("SDS search answered %d", status)
    if status in (401, 403):
        raise AccessDenied(f"{SERVICE} refused this system's credentials", status=status)
    if status in (400, 404, 405, 406, 422):
        raise InvalidRequest(f"{SERVICE} could not process the request", status=status)
    raise SourceUnavailable(f"{SERVICE} is not available at the moment", status=status)


def _first_endpoint(endpoints: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    for endpoint in endpoints:
        if endpoint.get("status") not in (None, "active"):
            continue
        address = as_text(endpoint.get("address"))
        party_key = identifier_value(endpoint, PARTY_KEY_SYSTEM)
        if address and party_key:
            return address.strip(), party_key.strip()
    return None, None


def _first_asid(devices: list[dict[str, Any]]) -> str | None:
    for device in devices:
        asid = identifier_value(device, ASID_SYSTEM)
        if asid:
            return asid.strip()
    return None
