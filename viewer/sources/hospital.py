"""The trust's FHIR R4 server: find the patient by NHS number, then search every resource type at once.

Pages are followed to the end because a missing page is a silently missing allergy or medicine. A next
link that leaves the server is refused (the bearer token must not travel), and a type the server does not
support is left out of the result, so the mapper reports that area as not supplied instead of empty.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from viewer.domain.nhs_number import normalise
from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    ReauthenticationRequired,
    SourceError,
    UnreadableResponse,
)
from viewer.sources.fhir_common import as_dict, as_list, as_text
from viewer.sources.fhir_decode import TypedResource
from viewer.sources.hospital_http import get_bundle, get_search_page
from viewer.sources.http import Sleep
from viewer.sources.r4_patient import NHS_NUMBER_SYSTEM, nhs_number_of

log = logging.getLogger(__name__)

DEFAULT_TYPES: tuple[str, ...] = (
    "AllergyIntolerance",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Encounter",
    "Observation",
    "DiagnosticReport",  # groups the results into investigations
    "Immunization",
    "ServiceRequest",  # referrals; a server without this search simply leaves the type out
    "DocumentReference",
    "Flag",
)
MAX_PAGES = 10_000  # a server that pages forever must not hang the ward
# Statuses that mean "this server does not offer that search", not "this patient has nothing".

_MSG_UNREADABLE = "The hospital record server sent a reply that could not be read"
_MSG_FOREIGN_LINK = (
    "The hospital record server pointed to another server for the rest of the record; "
    "it was not fetched, so the record would be incomplete"
)


@dataclass(frozen=True, slots=True)
class HospitalFetch:
    """What the hospital holds for one patient. A type absent from `resources` was not supplied.
    `outcomes` counts OperationOutcome entries (warnings the server put in its search results)."""

    patient: dict | None
    resources: dict[str, list[Any]]  # dicts, or typed resources for results and reports (hospital_page)
    outcomes: int = 0


@dataclass(slots=True)
class _TypeResult:
    resources: dict[str, list[Any]] = field(default_factory=dict)
    outcomes: int = 0
    supported: bool = True


class HospitalClient:
    """Searches the trust's server on the shared client, at most `max_concurrency` requests at a time."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        page_size: int = 200,
        max_concurrency: int = 6,
        sleep: Sleep = asyncio.sleep,
        timeout: float | None = None,
    ):
        self._client = client
        self._sleep = sleep
        self._timeout = timeout
        self._base = base_url.rstrip("/")
        self._origin = _origin(self._base)
        self._page_size = page_size
        self._max_concurrency = max(1, max_concurrency)

    async def _get_json(self, url: str, ctx: RequestContext, params: Any = None) -> Any:
        """One page as parsed JSON."""
        return await get_bundle(self._client, url, ctx, params=params, timeout=self._timeout,
                                sleep=self._sleep)

    async def find_patient(self, nhs_number: str, ctx: RequestContext) -> dict | None:
        """The hospital's Patient for this NHS number, or None when the hospital does not know them."""
        matches = await self._find_patients(nhs_number, ctx)
        return matches[0] if matches else None

    async def _find_patients(self, nhs_number: str, ctx: RequestContext) -> list[dict]:
        nhs_number = normalise(nhs_number)
        identifier = f"{NHS_NUMBER_SYSTEM}|{nhs_number}"
        body = await self._get_json(f"{self._base}/Patient", ctx, {"identifier": identifier})
        found: dict[str, dict] = {}
        ignored = 0
        for entry in as_list(body.get("entry")):
            resource = as_dict(as_dict(entry).get("resource"))
            if resource.get("resourceType") != "Patient" or not as_text(resource.get("id")):
                continue
            # a server that ignored the search parameter must never hand us another patient
            if nhs_number_of(resource) == nhs_number:
                found.setdefault(resource["id"], resource)
            else:
                ignored += 1
        if ignored:
            log.warning("Hospital returned %d patients without the searched NHS number: ignored", ignored)
        return list(found.values())

    async def fetch_resources(
        self, patient_id: str, ctx: RequestContext, types: tuple[str, ...] = DEFAULT_TYPES
    ) -> dict[str, list[Any]]:
        """Every resource of each type for one patient; keys only for the types the server supplied."""
        resources, outcomes = await self._fetch_all([patient_id], ctx, types)
        if outcomes:
            log.info("Hospital search returned %d OperationOutcome entries (ignored)", outcomes)
        return resources

    async def fetch_record(self, nhs_number: str, ctx: RequestContext) -> HospitalFetch:
        """The patient and all their resources. Duplicate hospital registrations for one NHS number are
        all searched, so nothing recorded under the second one goes missing."""
        patients = await self._find_patients(nhs_number, ctx)
        if not patients:
            return HospitalFetch(None, {})
        if len(patients) > 1:
            log.warning("Hospital holds %d patient records for one NHS number", len(patients))
        ids = [p["id"] for p in patients]
        resources, outcomes = await self._fetch_all(ids, ctx, DEFAULT_TYPES)
        return HospitalFetch(patients[0], resources, outcomes)

    async def _fetch_all(
        self, patient_ids: list[str], ctx: RequestContext, types: tuple[str, ...]
    ) -> tuple[dict[str, list[Any]], int]:
        semaphore = asyncio.Semaphore(self._max_concurrency)
        jobs = [(pid, rtype) for pid in patient_ids for rtype in types]
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._search_type(pid, rtype, ctx, semaphore))
                         for pid, rtype in jobs]
        except BaseExceptionGroup as failed:
            raise _most_telling(failed) from None
        merged: dict[str, list[Any]] = {}
        seen: set[tuple[str, str]] = set()
        outcomes = 0
        supported = dict.fromkeys(types, True)
        for (_, rtype), task in zip(jobs, tasks, strict=True):
            result = task.result()
            outcomes += result.outcomes
            supported[rtype] = supported[rtype] and result.supported
            for key, items in result.resources.items():
                bucket = merged.setdefault(key, [])
                for item in items:
                    rid = _id_of(item)
                    if isinstance(rid, str) and rid:
                        if (key, rid) in seen:
                            continue
                        seen.add((key, rid))
                    bucket.append(item)
        for rtype, ok in supported.items():
            if ok:
                merged.setdefault(rtype, [])
            elif not any(isinstance(r, TypedResource) or (isinstance(r, dict) and r)
                         for r in merged.get(rtype, [])):
                merged.pop(rtype, None)
                log.info("Hospital server does not support %s searches", rtype)
        return merged, outcomes

    async def _search_type(
        self, patient_id: str, rtype: str, ctx: RequestContext, semaphore: asyncio.Semaphore
    ) -> _TypeResult:
        result = _TypeResult()
        url: str | None = f"{self._base}/{rtype}"
        params: Any = {"patient": patient_id, "_count": str(self._page_size)}
        visited: set[str] = set()
        pages = 0
        while url is not None:
            async with semaphore:
                page = await get_search_page(self._client, url, ctx, rtype, params=params,
                                             optional=pages == 0, timeout=self._timeout, sleep=self._sleep)
            if page is None:
                result.supported = False
                return result
            pages += 1
            result.outcomes += page.outcomes
            for key, items in page.resources.items():
                result.resources.setdefault(key, []).extend(items)
            visited.add(url if params is None else str(httpx.URL(url, params=params)))
            url, params = self._next_link(page.link, visited), None
            if pages >= MAX_PAGES and url is not None:
                log.warning("Hospital %s search stopped after %d pages", rtype, pages)
                raise UnreadableResponse(_MSG_UNREADABLE)
        return result

    def _next_link(self, links: Any, visited: set[str]) -> str | None:
        for link in as_list(links):
            data = as_dict(link)
            if data.get("relation") != "next":
                continue
            target = as_text(data.get("url"))
            if target is None:
                return None
            target = httpx.URL(self._base + "/").join(target).__str__()
            if _origin(target) != self._origin:
                log.warning("Hospital server sent a next link to another host: refused")
                raise UnreadableResponse(_MSG_FOREIGN_LINK)
            if target in visited:
                log.warning("Hospital server sent a next link already followed: paging stopped")
                return None
            return target
        return None


def _id_of(item: Any) -> Any:
    """The `id` element of a resource, typed or dict, as sent (None for anything else)."""
    if isinstance(item, TypedResource):
        return item.id  # type: ignore[attr-defined]
    return item.get("id") if isinstance(item, dict) else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _most_telling(group: BaseExceptionGroup) -> BaseException:
    """One error for the caller: re-authentication first (never 'no data'), then any typed error."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for kind in (ReauthenticationRequired, SourceError):
        for exc in leaves:
            if isinstance(exc, kind):
                return exc
    return leaves[0]
