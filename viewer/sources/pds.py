"""PDS FHIR R4 client: trace a patient by NHS number, or search by demographics.

The trace decides which GP practice is asked for the record, so superseded numbers are followed and
said out loud, restricted records never leak what PDS withheld, and a trace older than 24 hours is not
trusted for GP Connect (CLINICAL.md).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
from msgspec.structs import replace

from viewer.domain.nhs_number import is_valid, normalise
from viewer.domain.patient import Patient
from viewer.domain.provenance import SourceKind
from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    AccessDenied,
    InvalidRequest,
    PatientNotFound,
    ReauthenticationRequired,
    SourceUnavailable,
    TooManyMatches,
    UnreadableResponse,
)
from viewer.sources.fhir_common import as_dict, as_list, as_text
from viewer.sources.http import MB, Sleep, send
from viewer.sources.r4_patient import map_r4_patient, nhs_number_of

log = logging.getLogger(__name__)

SERVICE = "PDS"
TRACE_MAX_AGE = timedelta(hours=24)
FHIR_JSON = "application/fhir+json"
RESTRICTED_CODES = frozenset({"R", "REDACTED"})
MAX_RESULTS_LIMIT = 50  # healthcare worker access mode (patient-search.yaml)
MAX_REPLY_BYTES = 5 * MB  # one Patient is a few kB, fifty search matches a few hundred

_MSG_SIGN_IN = "Your sign-in has expired or was refused: please sign in again"
_MSG_UNAVAILABLE = "The Spine (PDS) is not answering at the moment; try again shortly"
_MSG_UNREADABLE = "The Spine (PDS) sent a reply that could not be read"


@dataclass(frozen=True, slots=True)
class PdsResult:
    patient: Patient
    superseded_from: str | None
    restricted: bool
    version: str | None
    retrieved_at: datetime


@dataclass(frozen=True, slots=True)
class PdsQuery:
    """A demographic search. `birthdate` may be a date (sent as `eqYYYY-MM-DD`) or PDS's own `geYYYY...`."""

    family: str | None = None
    given: str | None = None
    birthdate: date | str | None = None
    gender: str | None = None
    postcode: str | None = None
    fuzzy: bool = False
    max_results: int = 10

    def params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        for key, value in (("family", self.family), ("given", self.given), ("gender", self.gender),
                           ("address-postalcode", self.postcode)):
            if value and value.strip():
                params.append((key, value.strip()))
        if isinstance(self.birthdate, date):
            params.append(("birthdate", f"eq{self.birthdate.isoformat()}"))
        elif self.birthdate and self.birthdate.strip():
            text = self.birthdate.strip()
            params.append(("birthdate", text if text[:2] in ("eq", "ge", "le") else f"eq{text}"))
        if self.fuzzy:
            params.append(("_fuzzy-match", "true"))
        params.append(("_max-results", str(max(1, min(self.max_results, MAX_RESULTS_LIMIT)))))
        return params


@dataclass(frozen=True, slots=True)
class PdsMatch:
    patient: Patient
    score: float | None


def _now() -> datetime:
    return datetime.now(UTC)


def is_fresh(result: PdsResult, now: datetime) -> bool:
    """A trace younger than 24 h (GP Connect must not be called on an older one). A trace dated in the
    future by more than a few minutes means a broken clock, so it is not trusted either."""
    retrieved = result.retrieved_at
    if retrieved.tzinfo is None:
        retrieved = retrieved.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    age = now - retrieved
    return timedelta(minutes=-5) <= age < TRACE_MAX_AGE


def is_restricted(resource: dict[str, Any]) -> bool:
    """meta.security code R (or REDACTED, which PDS should never return): treat as restricted."""
    return any(
        as_dict(label).get("code") in RESTRICTED_CODES
        for label in as_list(as_dict(resource.get("meta")).get("security"))
    )


def _spine_code(body: Any) -> str | None:
    for issue in as_list(as_dict(body).get("issue")):
        for coding in as_list(as_dict(as_dict(issue).get("details")).get("coding")):
            code = as_text(as_dict(coding).get("code"))
            if code:
                return code
    return None


def _parse(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def _raise_for_error(response: httpx.Response, *, searching: bool) -> None:
    """Typed errors with a sentence for the clinician; the Spine code rides along for support."""
    status = response.status_code
    if status < 400:
        return
    code = _spine_code(_parse(response))
    log.info("PDS refused a request: HTTP %s %s", status, code or "")
    if status == 401:
        raise ReauthenticationRequired(_MSG_SIGN_IN, code=code, status=status)
    if status == 403:
        raise AccessDenied("Your role may not see this patient's details on the Spine",
                           code=code, status=status)
    if status == 404 and code == "INVALIDATED_RESOURCE":
        raise PatientNotFound("This NHS number has been invalidated on the Spine",
                              code=code, status=status)
    if status == 404:
        raise PatientNotFound("No patient with this NHS number on the Spine", code=code, status=status)
    if status in (408, 429) or status >= 500:
        raise SourceUnavailable(_MSG_UNAVAILABLE, code=code, status=status)
    if code == "INVALID_RESOURCE_ID":
        raise InvalidRequest("This is not a valid NHS number", code=code, status=status)
    if searching and code in ("INVALID_SEARCH_DATA", "MISSING_VALUE", "INVALID_VALUE"):
        raise InvalidRequest("PDS needs more or different details to search: check what was entered",
                             code=code, status=status)
    raise InvalidRequest(f"PDS refused the request ({code or f'HTTP {status}'})", code=code, status=status)


def _version(resource: dict[str, Any], response: httpx.Response) -> str | None:
    version = as_dict(resource.get("meta")).get("versionId")
    if version is not None:
        return str(version)
    etag = response.headers.get("etag", "")
    return etag.removeprefix("W/").strip('"') or None


class PdsClient:
    """Reads and searches PDS on the shared client. Each call carries a new X-Request-ID, which the HTTP
    layer's retries reuse so PDS can recognise a repeated request."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        clock: Callable[[], datetime] = _now,
        sleep: Sleep = asyncio.sleep,
        timeout: float | None = None,
    ):
        self._client = client
        self._timeout = timeout
        self._base = base_url.rstrip("/")
        self._clock = clock
        self._sleep = sleep

    def _headers(self, ctx: RequestContext) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {ctx.access_token}",
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "NHSD-Session-URID": ctx.role_id,
            "Accept": FHIR_JSON,
        }
        if ctx.org_ods:
            headers["NHSD-End-User-Organisation-ODS"] = ctx.org_ods
        return headers

    async def _get(self, url: str, ctx: RequestContext, params: Any = None) -> httpx.Response:
        return await send(
            self._client, "GET", url, safe=True, service=SERVICE, sleep=self._sleep, timeout=self._timeout,
            headers=self._headers(ctx), params=params, max_bytes=MAX_REPLY_BYTES, json_only=True,
        )

    async def read(self, nhs_number: str, ctx: RequestContext) -> PdsResult:
        """Trace one patient. A superseded number comes back as the new record (its id differs)."""
        requested = normalise(nhs_number)
        if not is_valid(requested):  # also keeps anything but ten digits out of the URL path
            raise InvalidRequest("This is not a valid NHS number", code="INVALID_RESOURCE_ID")
        response = await self._get(f"{self._base}/Patient/{requested}", ctx)
        _raise_for_error(response, searching=False)
        retrieved = self._clock()
        body = _parse(response)
        if not isinstance(body, dict) or body.get("resourceType") != "Patient":
            raise UnreadableResponse(_MSG_UNREADABLE, status=response.status_code)
        restricted = is_restricted(body)
        try:
            patient = map_r4_patient(body, source=SourceKind.PDS, retrieved_at=retrieved,
                                     restricted=restricted)
        except Exception as exc:
            log.warning("PDS patient could not be mapped (%s)", type(exc).__name__)
            raise UnreadableResponse(_MSG_UNREADABLE, status=response.status_code) from None
        returned = nhs_number_of(body) or as_text(body.get("id")) or ""
        if not returned:
            raise UnreadableResponse(_MSG_UNREADABLE, status=response.status_code)
        superseded_from = requested if returned != requested else None
        if superseded_from:
            log.info("PDS answered with a superseding record")
            patient = replace(patient, superseded_from=superseded_from)
        return PdsResult(patient, superseded_from, restricted, _version(body, response), retrieved)

    async def search(self, query: PdsQuery, ctx: RequestContext) -> list[PdsMatch]:
        """Best match first. TOO_MANY_MATCHES (an OperationOutcome in a 200) asks for more detail."""
        response = await self._get(f"{self._base}/Patient", ctx, params=query.params())
        _raise_for_error(response, searching=True)
        retrieved = self._clock()
        body = _parse(response)
        if not isinstance(body, dict):
            raise UnreadableResponse(_MSG_UNREADABLE, status=response.status_code)
        if body.get("resourceType") == "OperationOutcome":
            code = _spine_code(body)
            if code == "TOO_MANY_MATCHES":
                raise TooManyMatches("Too many patients match: add more detail", code=code)
            raise InvalidRequest(f"PDS could not search ({code or 'no reason given'})", code=code)
        if body.get("resourceType") != "Bundle":
            raise UnreadableResponse(_MSG_UNREADABLE, status=response.status_code)
        matches = []
        skipped = 0
        for entry in as_list(body.get("entry")):
            resource = as_dict(as_dict(entry).get("resource"))
            if resource.get("resourceType") != "Patient":
                skipped += 1
                continue
            try:
                patient = map_r4_patient(resource, source=SourceKind.PDS, retrieved_at=retrieved,
                                         restricted=is_restricted(resource))
            except Exception:
                skipped += 1
                continue
            score = as_dict(as_dict(entry).get("search")).get("score")
            ok = isinstance(score, int | float) and not isinstance(score, bool)
            matches.append(PdsMatch(patient, float(score) if ok else None))
        if skipped:
            log.warning("PDS search: %d entries could not be read", skipped)
        matches.sort(key=lambda m: -(m.score if m.score is not None else 0.0))
        return matches
