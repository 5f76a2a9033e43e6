"""GP Connect Access Record: Structured, consumer side: one POST per patient, raw Bundle back.

The body is returned unmapped so the cache can keep exactly what the practice sent (STR05) and the
mapping can be re-run by a newer viewer. Every Spine error code becomes a typed error whose message a
clinician can act on; a dissent (NO_PATIENT_CONSENT) is never retried and never shown as "no data".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import msgspec
import orjson

from viewer import __version__
from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    AccessDenied,
    ConsentWithheld,
    InvalidRequest,
    PatientNotFound,
    ReauthenticationRequired,
    SourceError,
    SourceUnavailable,
    UnreadableResponse,
)
from viewer.sources.fhir_common import as_dict, as_list, as_text
from viewer.sources.gpconnect_jwt import build_audit_jwt
from viewer.sources.http import MB, send
from viewer.sources.sds import STRUCTURED_INTERACTION, GpConnectEndpoint
from viewer.sources.wide_json import NotJson, loads_wide

log = logging.getLogger(__name__)

SERVICE = "GP Connect"
FHIR_JSON = "application/fhir+json;charset=utf-8"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
OPERATION = "Patient/$gpc.getstructuredrecord"
# The largest real records (decades of consultations and results) are a few MB; fifty is a runaway.
MAX_RECORD_BYTES = 50 * MB

MSG_CONSENT = "The patient has asked that their GP record is not shared"
MSG_NOT_FOUND = (
    "The GP practice has no record it can share for this patient "
    "(they may not be registered there, or the record may be restricted)"
)
MSG_ACCESS = "The GP practice's system did not allow access to this record from here"
MSG_NO_RELATIONSHIP = "The GP practice's system found no care relationship that allows access"
MSG_INVALID = "The GP practice's system rejected the request as invalid; please report this to IT support"
MSG_REAUTH = "Your sign-in was not accepted for the GP record; please sign in again"
MSG_UNAVAILABLE = "The GP practice's system is not available at the moment"
MSG_NOT_SUPPORTED = "The GP practice's system does not support this request"
MSG_BUSY = "The GP practice's system is busy; please try again shortly"
MSG_UNREADABLE = "The GP practice's system sent a record that could not be read"


class DateRangeError(ValueError):
    """An area filter the spec forbids (partial combination or future-dated)."""


Period = tuple[date | None, date | None]


@dataclass(frozen=True, slots=True)
class GpConnectAreas:
    """Which clinical areas to ask for and their filters. The default asks for everything, resolved
    allergies and prescription issues included, with no filters (so no forbidden combinations)."""

    allergies: bool = True
    resolved_allergies: bool = True
    medication: bool = True
    prescription_issues: bool = True
    medication_from: date | None = None
    consultations: bool = True
    consultation_period: Period | None = None
    most_recent_consultations: int | None = None
    problems: bool = True
    problem_status: str | None = None  # "active" or "inactive"
    immunisations: bool = True
    uncategorised: bool = True
    uncategorised_period: Period | None = None
    investigations: bool = True
    investigation_period: Period | None = None
    referrals: bool = True
    referral_period: Period | None = None
    diary_entries: bool = True
    diary_search_date: date | None = None

    def __post_init__(self) -> None:
        """Refuse the combinations the retrieve page forbids: a provider answers them with an error, and
        some of them hide clinical data (e.g. a medication date filter beside consultations)."""
        if self.consultation_period is not None and self.most_recent_consultations is not None:
            raise DateRangeError("consultation period and number of most recent cannot both be set")
        if self.problem_status not in (None, "active", "inactive"):
            raise DateRangeError("problem status filter must be active or inactive")
        if self.consultations or self.problems:
            forbidden = [
                self.medication_from, self.uncategorised_period, self.referral_period,
                self.diary_search_date,
            ]
            if self.consultations:
                forbidden.append(self.problem_status)
            if any(value is not None for value in forbidden):
                raise DateRangeError("area filters cannot be combined with consultations or problems")

    def parameters(self, nhs_number: str) -> dict[str, Any]:
        """The `Parameters` request body."""
        params: list[dict[str, Any]] = [
            {
                "name": "patientNHSNumber",
                "valueIdentifier": {"system": NHS_NUMBER_SYSTEM, "value": nhs_number},
            }
        ]

        def add(name: str, *parts: dict[str, Any] | None) -> None:
            item: dict[str, Any] = {"name": name}
            kept = [p for p in parts if p is not None]
            if kept:
                item["part"] = kept
            params.append(item)

        if self.allergies:
            add("includeAllergies", _bool("includeResolvedAllergies", self.resolved_allergies))
        if self.medication:
            add(
                "includeMedication",
                _bool("includePrescriptionIssues", self.prescription_issues),
                _date("medicationSearchFromDate", self.medication_from),
            )
        if self.consultations:
            count = self.most_recent_consultations
            add(
                "includeConsultations",
                _period("consultationSearchPeriod", self.consultation_period),
                {"name": "includeNumberOfMostRecent", "valuePositiveInt": count} if count else None,
            )
        if self.problems:
            status = self.problem_status
            add("includeProblems", {"name": "filterStatus", "valueCode": status} if status else None)
        if self.immunisations:
            add("includeImmunisations")
        if self.uncategorised:
            period = _period("uncategorisedDataSearchPeriod", self.uncategorised_period)
            add("includeUncategorisedData", period)
        if self.investigations:
            add("includeInvestigations", _period("investigationSearchPeriod", self.investigation_period))
        if self.referrals:
            add("includeReferrals", _period("referralSearchPeriod", self.referral_period))
        if self.diary_entries:
            add("includeDiaryEntries", _date("diaryEntriesSearchDate", self.diary_search_date))
        return {"resourceType": "Parameters", "parameter": params}


def _bool(name: str, value: bool) -> dict[str, Any]:
    return {"name": name, "valueBoolean": value}


def _date(name: str, value: date | None) -> dict[str, Any] | None:
    return {"name": name, "valueDate": value.isoformat()} if value is not None else None


def _period(name: str, value: Period | None) -> dict[str, Any] | None:
    if value is None:
        return None
    start, end = value
    period = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
    return {"name": name, "valuePeriod": period} if period else None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class GpConnectClient:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        consumer_asid: str,
        ssp_url: str | None,
        areas: GpConnectAreas | None = None,
        issuer: str = "https://wardview.invalid/",
        organization_name: str | None = None,
        device_name: str = "Wardview",
        device_version: str = __version__,
        clock: Callable[[], datetime] = _utc_now,
        timeout: float | None = None,
    ):
        self._client = client
        self._timeout = timeout
        self._asid = consumer_asid
        self._ssp = ssp_url.rstrip("/") if ssp_url else None
        self._areas = areas or GpConnectAreas()
        self._issuer = issuer
        self._org_name = organization_name
        self._device = (device_name, device_version)
        self._clock = clock

    def url_for(self, endpoint: GpConnectEndpoint) -> str:
        """Through the SSP the provider's address is embedded whole, exactly as SDS gave it."""
        provider = f"{endpoint.address.rstrip('/')}/{OPERATION}"
        return f"{self._ssp}/{provider}" if self._ssp else provider

    def headers_for(self, endpoint: GpConnectEndpoint, ctx: RequestContext) -> dict[str, str]:
        token = build_audit_jwt(
            ctx,
            endpoint.address,
            issuer=self._issuer,
            device_name=self._device[0],
            device_version=self._device[1],
            now=self._clock(),
            organization_name=self._org_name,
        )
        return {
            "Ssp-TraceID": str(uuid.uuid4()),
            "Ssp-From": self._asid,
            "Ssp-To": endpoint.asid,
            "Ssp-InteractionID": STRUCTURED_INTERACTION,
            "Accept": FHIR_JSON,
            "Content-Type": FHIR_JSON,
            "Authorization": f"Bearer {token}",
        }

    async def get_structured_record(
        self, nhs_number: str, endpoint: GpConnectEndpoint, ctx: RequestContext
    ) -> bytes:
        """The raw Bundle. POST is not repeated once it may have reached the provider (the provider
        audits each request); `send` repeats it only when the connection was never made."""
        body = orjson.dumps(self._areas.parameters(nhs_number))
        response = await send(
            self._client,
            "POST",
            self.url_for(endpoint),
            safe=False,
            service=SERVICE,
            timeout=self._timeout,
            headers=self.headers_for(endpoint, ctx),
            content=body,
            max_bytes=MAX_RECORD_BYTES,
            json_only=True,
        )
        content = response.content
        if response.status_code != 200:
            raise error_for(response.status_code, content)
        kind = _resource_type(content)
        if kind == "OperationOutcome":
            raise error_for(200, content)
        if kind != "Bundle":
            raise UnreadableResponse(MSG_UNREADABLE, status=200)
        return content


class _Kind(msgspec.Struct):
    resourceType: Any = None


_KIND = msgspec.json.Decoder(_Kind)


def _resource_type(content: bytes) -> Any:
    """The body's top-level resourceType; raises UnreadableResponse when the body is not JSON at all.

    Every byte is still checked to be JSON, but nothing else is built: the large sandbox record's 4 MB
    took 25 ms to parse whole with orjson (holding the GIL, on the event loop's thread, a freeze of the
    ward UI) only to read this one element; the mapper parses the body anyway."""
    try:
        return _KIND.decode(content).resourceType
    except msgspec.ValidationError:  # valid JSON that is not an object
        return None
    except msgspec.DecodeError:
        pass
    try:  # a number beyond a double's range (the mapper reads those too), else not JSON at all
        document = loads_wide(content)
    except NotJson:
        raise UnreadableResponse(MSG_UNREADABLE, status=200) from None
    return document.get("resourceType") if isinstance(document, dict) else None


def spine_codes(content: bytes) -> list[str]:
    """Spine error codes (issue.details.coding.code) then issue types, from an OperationOutcome body;
    [] when the body is not one (SSP and proxies may send HTML or nothing)."""
    try:
        outcome = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return []
    codes: list[str] = []
    for issue in as_list(as_dict(outcome).get("issue")):
        for coding in as_list(as_dict(as_dict(issue).get("details")).get("coding")):
            code = as_text(as_dict(coding).get("code"))
            if code:
                codes.append(code.strip().upper())
    return codes


_BY_CODE: dict[str, tuple[type[SourceError], str]] = {
    "NO_PATIENT_CONSENT": (ConsentWithheld, MSG_CONSENT),
    "PATIENT_NOT_FOUND": (PatientNotFound, MSG_NOT_FOUND),
    "NO_RECORD_FOUND": (PatientNotFound, MSG_NOT_FOUND),
    "ACCESS DENIED": (AccessDenied, MSG_ACCESS),
    "ACCESS_DENIED": (AccessDenied, MSG_ACCESS),
    "NO_RELATIONSHIP": (AccessDenied, MSG_NO_RELATIONSHIP),
    "NO_ORGANISATION_CONSENT": (AccessDenied, MSG_ACCESS),
    "BAD_REQUEST": (InvalidRequest, MSG_INVALID),
    "CONFLICTING_VALUES": (InvalidRequest, MSG_INVALID),
    "NOT_IMPLEMENTED": (SourceUnavailable, MSG_NOT_SUPPORTED),
    "INTERNAL_SERVER_ERROR": (SourceUnavailable, MSG_UNAVAILABLE),
}


def error_for(status: int, content: bytes) -> SourceError:
    """The typed error for a failed answer. The Spine code decides where there is one (a dissent must
    read as a dissent whatever the status); otherwise the HTTP status does."""
    codes = spine_codes(content)
    log.warning("GP Connect answered %d with codes %s", status, ",".join(codes) or "none")
    if status == 401:
        return ReauthenticationRequired(MSG_REAUTH, code=codes[0] if codes else None, status=status)
    for code in codes:
        if code in _BY_CODE:
            kind, message = _BY_CODE[code]
            return kind(message, code=code, status=status)
        if code.startswith(("INVALID_", "ORGANISATION_NOT_FOUND", "PRACTITIONER_NOT_FOUND")):
            return InvalidRequest(MSG_INVALID, code=code, status=status)
    code = codes[0] if codes else None
    if status == 403:
        return AccessDenied(MSG_ACCESS, code=code, status=status)
    if status == 429:
        return SourceUnavailable(MSG_BUSY, code=code, status=status)
    if status == 501:
        return SourceUnavailable(MSG_NOT_SUPPORTED, code=code, status=status)
    if 400 <= status < 500:
        return InvalidRequest(MSG_INVALID, code=code, status=status)
    if status == 200:
        return UnreadableResponse(MSG_UNREADABLE, code=code, status=status)
    return SourceUnavailable(MSG_UNAVAILABLE, code=code, status=status)
