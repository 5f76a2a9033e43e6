"""Asks the trust's FHIR R4 server whether the patient is under this organisation's care right now: an
active Encounter or EpisodeOfCare whose provider is this organisation.

The answer gates who may open a record without declaring an emergency, so everything the server says is
checked again here rather than trusted: a server that ignores the `status` filter (lenient handling is
the FHIR default) or the `patient` parameter must never turn into a silent allow. Failures are typed
(`viewer.sources.errors`) so the caller can tell "no relationship" from "the check could not be made".

HospitalClient is not reused: its searches take no status filter, and its `find_patient` keeps only the
first of duplicate registrations, where a current admission under the second one must still count.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from viewer.domain.nhs_number import normalise
from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    InvalidRequest,
    UnreadableResponse,
)
from viewer.sources.fhir_common import as_dict, as_list, as_text, reference_key
from viewer.sources.hospital_http import get_bundle
from viewer.sources.http import Sleep
from viewer.sources.r4_patient import NHS_NUMBER_SYSTEM, ODS_SYSTEM, nhs_number_of

log = logging.getLogger(__name__)

# Encounter statuses that mean the patient is with us now (R4 EncounterStatus).
ACTIVE_ENCOUNTER_STATUSES: tuple[str, ...] = ("in-progress", "arrived", "triaged", "onleave")
ACTIVE_EPISODE_STATUSES: tuple[str, ...] = ("active",)
MAX_PAGES = 20  # an answer needs one match; a server paging on and on is not worth a ward's wait
# Statuses that mean "this server does not offer that search".

_MSG_DENIED = "The hospital record server refused the care relationship check for your role"
_MSG_UNREADABLE = "The hospital record server sent a reply that could not be read"
_MSG_NO_SEARCH = "The hospital record server offers no search for encounters or episodes of care"

RelationshipKind = Literal["encounter", "episode"]


@dataclass(frozen=True, slots=True)
class Relationship:
    """Why this clinician's organisation may see the record: the resource that shows current care."""

    kind: RelationshipKind
    resource_id: str
    since: datetime | None  # the start of the encounter or episode, UTC; None when the server gave none

    def describe(self) -> str:
        """For the audit trail: what the access rested on, without patient data."""
        noun = "encounter" if self.kind == "encounter" else "episode of care"
        return f"active {noun} {self.resource_id}"


@dataclass(frozen=True, slots=True)
class _Search:
    rtype: str
    kind: RelationshipKind
    statuses: tuple[str, ...]
    subject_field: str
    provider_field: str


_SEARCHES = (
    _Search("Encounter", "encounter", ACTIVE_ENCOUNTER_STATUSES, "subject", "serviceProvider"),
    _Search("EpisodeOfCare", "episode", ACTIVE_EPISODE_STATUSES, "patient", "managingOrganization"),
)


class RelationshipClient:
    """One check per record opened, on the shared client; only safe GETs, so retries are allowed."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        org_ods: str,
        timeout: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ):
        self._client = client
        self._base = base_url.rstrip("/")
        self._origin = _origin(self._base)
        self._org_ods = org_ods.strip().upper()
        self._timeout = timeout
        self._sleep = sleep

    async def find(self, nhs_number: str, ctx: RequestContext) -> Relationship | None:
        """The current encounter or episode at this organisation, or None when there is none (or the
        hospital does not know the patient). Raises a SourceError when the check cannot be made."""
        patient_ids = await self._patient_ids(normalise(nhs_number), ctx)
        if not patient_ids:
            return None
        answered = False
        for search in _SEARCHES:
            for pid in patient_ids:
                found, supported = await self._search(search, pid, ctx)
                answered = answered or supported
                if found is not None:
                    return found
        if not answered:
            raise InvalidRequest(_MSG_NO_SEARCH)
        return None

    async def _patient_ids(self, nhs_number: str, ctx: RequestContext) -> list[str]:
        body = await self._get(
            f"{self._base}/Patient", ctx, {"identifier": f"{NHS_NUMBER_SYSTEM}|{nhs_number}"}
        )
        assert body is not None  # a Patient search is never optional
        ids: list[str] = []
        for resource in _resources(body):
            rid = as_text(resource.get("id"))
            # a server that ignored the search parameter must never lend us another patient's care
            is_match = resource.get("resourceType") == "Patient" and nhs_number_of(resource) == nhs_number
            if is_match and rid and rid not in ids:
                ids.append(rid)
        return ids

    async def _search(
        self, search: _Search, patient_id: str, ctx: RequestContext
    ) -> tuple[Relationship | None, bool]:
        """(the first qualifying resource, whether the server offers this search at all)."""
        url: str | None = f"{self._base}/{search.rtype}"
        params: Any = {"patient": patient_id, "status": ",".join(search.statuses)}
        visited: set[str] = set()
        for page in range(MAX_PAGES):
            assert url is not None
            body = await self._get(url, ctx, params, optional=page == 0)
            if body is None:
                return None, False
            for resource in _resources(body):
                found = self._qualifies(search, patient_id, resource)
                if found is not None:
                    return found, True
            visited.add(str(httpx.URL(url, params=params)) if params else url)
            url, params = self._next_link(body, visited), None
            if url is None:
                return None, True
        log.warning("Hospital %s search stopped after %d pages", search.rtype, MAX_PAGES)
        return None, True

    def _qualifies(self, search: _Search, patient_id: str, resource: dict) -> Relationship | None:
        rid = as_text(resource.get("id"))
        if resource.get("resourceType") != search.rtype or not rid:
            return None
        if resource.get("status") not in search.statuses:
            return None
        if reference_key(resource.get(search.subject_field)) != ("Patient", patient_id):
            return None
        if not self._is_ours(resource.get(search.provider_field)):
            return None
        return Relationship(search.kind, rid, _start_of(resource.get("period")))

    def _is_ours(self, reference: Any) -> bool:
        """A logical reference by ODS code: a literal `Organization/x` alone cannot be told apart from
        another trust's, so it does not count."""
        identifier = as_dict(as_dict(reference).get("identifier"))
        system = identifier.get("system")
        value = as_text(identifier.get("value"))
        return system in (None, ODS_SYSTEM) and value is not None and value.upper() == self._org_ods

    async def _get(
        self, url: str, ctx: RequestContext, params: Any, *, optional: bool = False
    ) -> dict | None:
        """One page as a Bundle; None when an `optional` search is not offered by this server."""
        return await get_bundle(self._client, url, ctx, params=params, optional=optional,
                                denied_message=_MSG_DENIED, timeout=self._timeout, sleep=self._sleep)

    def _next_link(self, body: dict, visited: set[str]) -> str | None:
        for link in as_list(body.get("link")):
            data = as_dict(link)
            if data.get("relation") != "next":
                continue
            target = as_text(data.get("url"))
            if target is None:
                return None
            target = str(httpx.URL(self._base + "/").join(target))
            if _origin(target) != self._origin:
                # the bearer token must not travel; what we have read is all we can say
                log.warning("Hospital server sent a next link to another host: refused")
                raise UnreadableResponse(_MSG_UNREADABLE)
            return None if target in visited else target
        return None


def _resources(body: dict) -> Iterator[dict]:
    for entry in as_list(body.get("entry")):
        resource = as_dict(entry).get("resource")
        if isinstance(resource, dict):
            yield resource


def _start_of(period: Any) -> datetime | None:
    start = as_text(as_dict(period).get("start"))
    if start is None:
        return None
    try:
        when = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


__all__ = [
    "ACTIVE_ENCOUNTER_STATUSES",
    "ACTIVE_EPISODE_STATUSES",
    "Relationship",
    "RelationshipClient",
    "RelationshipKind",
]
