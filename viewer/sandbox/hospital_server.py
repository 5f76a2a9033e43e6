"""The sandbox trust's FHIR R4 server: patient lookup by NHS number and per-type searches with paging.

It behaves as a real trust server does where the viewer could trip: a bearer token on everything but
`/metadata` (401 means sign in again, not "no data"), pages of `_count` linked by an opaque `next` URL,
an accurate `total`, unknown search parameters ignored but reported in an OperationOutcome entry
(`Prefer: handling=lenient`, the FHIR default), and errors as OperationOutcomes, never HTML.

Searches are answered from `HospitalRecords` without state: a page token carries only an offset, and the
next link repeats the query, so every page of a search can be fetched again (a retried request loses
nothing) and the records are never mutated.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Flask, Response, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from viewer.sandbox.hospital_r4 import (
    NHS_NUMBER_SYSTEM,
    PROFILE_BASE,
    SEARCH_TYPES,
    TYPE_SEARCH_PARAMS,
    HospitalPatientRecord,
    HospitalRecords,
    Indexed,
    mrn_system,
)
from viewer.sandbox.nhs_numbers import is_valid_nhs_number
from viewer.sandbox.world import World

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json; charset=utf-8"
DEFAULT_COUNT = 50
MAX_COUNT = 1000
_JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json", "application/json+fhir"})
_ALWAYS_ALLOWED = frozenset({"_format", "_pretty"})  # accepted everywhere, never echoed in links
_PATIENT_PARAMS = ("identifier", "_id", "_count")
_REFERENCE_PARAMS = ("patient", "subject")
_DATE_PREFIXES = ("eq", "ne", "ge", "gt", "le", "lt")

TokenVerifier = Callable[[str], dict | None]


class FhirError(Exception):
    """An error answered as an OperationOutcome (its message is generic: it may reach the log)."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics


def operation_outcome(issues: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """An OperationOutcome from (severity, code, diagnostics) triples."""
    return {
        "resourceType": "OperationOutcome",
        "id": str(uuid.uuid4()),
        "issue": [{"severity": s, "code": c, "diagnostics": d} for s, c, d in issues],
    }


def _fhir_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers, content_type=FHIR_JSON)


def _error_response(error: FhirError, headers: dict[str, str] | None = None) -> Response:
    outcome = operation_outcome([("error", error.code, error.diagnostics)])
    return _fhir_response(outcome, error.status, headers)


# --- parameters ------------------------------------------------------------------------------------------


def _count(args: MultiDict[str, str]) -> int:
    raw = args.get("_count")
    if raw is None:
        return DEFAULT_COUNT
    try:
        value = int(raw)
    except ValueError:
        raise FhirError(400, "invalid", "_count must be a whole number") from None
    if value < 0:
        raise FhirError(400, "invalid", "_count must not be negative")
    return min(value, MAX_COUNT)


def encode_page(offset: int) -> str:
    """An opaque page token; clients must follow links, not build them."""
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


def decode_page(token: str | None) -> int:
    if not token:
        return 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = data["o"]
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise FhirError(400, "invalid", "the page token is not one this server issued") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise FhirError(400, "invalid", "the page token is not one this server issued")
    return offset


def _patient_id_from(value: str, base_url: str) -> str:
    """`{id}`, `Patient/{id}` or an absolute `{base}/Patient/{id}`: the forms a reference search takes."""
    if value.startswith(base_url + "/"):
        value = value[len(base_url) + 1:]
    if value.startswith("Patient/"):
        value = value[len("Patient/"):]
    if not value or "/" in value:
        raise FhirError(400, "invalid", "the patient parameter must be a Patient id or reference")
    return value


@dataclass(frozen=True, slots=True)
class _DateBound:
    prefix: str
    start: datetime  # inclusive
    end: datetime  # exclusive: the end of the precision given

    def matches(self, when: datetime | None) -> bool:
        if when is None:
            return False
        inside = self.start <= when < self.end
        return {
            "eq": inside,
            "ne": not inside,
            "ge": when >= self.start,
            "gt": when >= self.end,
            "le": when < self.end,
            "lt": when < self.start,
        }[self.prefix]


def parse_date_param(raw: str) -> _DateBound:
    """A FHIR `date` search value (`ge2024-01`, `lt2025-03-01T10:00:00Z`, `2024`) as an interval test."""
    prefix, value = ("eq", raw)
    if raw[:2] in _DATE_PREFIXES:
        prefix, value = raw[:2], raw[2:]
    try:
        if len(value) == 4:
            start = datetime(int(value), 1, 1, tzinfo=UTC)
            end = start.replace(year=start.year + 1)
        elif len(value) == 7:
            start = datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=UTC)
            end = (start + timedelta(days=32)).replace(day=1)
        elif len(value) == 10:
            start = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
            end = start + timedelta(days=1)
        else:
            start = datetime.fromisoformat(value.replace("Z", "+00:00"))
            start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
            end = start + timedelta(seconds=1)
    except ValueError:
        raise FhirError(400, "invalid", "a date parameter is not a FHIR date") from None
    return _DateBound(prefix, start, end)


def _token_matches(values: Sequence[str], candidate: str | None) -> bool:
    """A token search value list (comma = OR); `system|code` or bare `code`."""
    if candidate is None:
        return False
    return any(v.rsplit("|", 1)[-1] == candidate for v in values)


def _token_in(values: Sequence[str], tokens: frozenset[str]) -> bool:
    return any(v.rsplit("|", 1)[-1] in tokens for v in values)


@dataclass(frozen=True, slots=True)
class _Search:
    """One parsed type search: what it filters on and the parameters that shape its links."""

    rtype: str
    patient_id: str
    count: int
    offset: int
    statuses: tuple[str, ...] | None
    categories: tuple[str, ...] | None
    classes: tuple[str, ...] | None
    dates: tuple[_DateBound, ...]
    link_params: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]

    def keep(self, item: Indexed) -> bool:
        keys = item.keys
        if self.statuses is not None and not _token_matches(self.statuses, keys.status):
            return False
        if self.categories is not None and not any(c in keys.categories for c in self.categories):
            return False
        if self.classes is not None and not _token_in(self.classes, keys.categories):
            return False
        return all(bound.matches(keys.when) for bound in self.dates)


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(v for value in values for v in value.split(",") if v)


def _parse_search(rtype: str, args: MultiDict[str, str], base_url: str) -> _Search:
    supported = dict(TYPE_SEARCH_PARAMS[rtype])
    known = set(supported) | set(_REFERENCE_PARAMS) | {"_count", "page"} | _ALWAYS_ALLOWED
    references = [v for name in _REFERENCE_PARAMS for v in args.getlist(name)]
    if not references:
        raise FhirError(400, "required", "this server searches one patient's record: give patient=")
    patient_ids = {_patient_id_from(v, base_url) for v in references}
    if len(patient_ids) > 1:
        raise FhirError(400, "not-supported", "search one patient at a time")
    patient_id = patient_ids.pop()
    count = _count(args)
    status_param = "clinical-status" if "clinical-status" in supported else "status"
    link: list[tuple[str, str]] = [("patient", patient_id)]
    for name in (status_param, "category", "class", "date"):
        if name in supported:
            link.extend((name, v) for v in args.getlist(name))
    link.append(("_count", str(count)))
    statuses = _split(args.getlist(status_param)) if args.getlist(status_param) else None
    categories = _split(args.getlist("category")) if args.getlist("category") else None
    classes = _split(args.getlist("class")) if "class" in supported and args.getlist("class") else None
    dates = tuple(parse_date_param(v) for v in args.getlist("date")) if "date" in supported else ()
    return _Search(
        rtype=rtype,
        patient_id=patient_id,
        count=count,
        offset=decode_page(args.get("page")),
        statuses=statuses,
        categories=categories,
        classes=classes,
        dates=dates,
        link_params=tuple(link),
        ignored=tuple(sorted({name for name in args if name not in known})),
    )


def _check_format(args: MultiDict[str, str]) -> None:
    fmt = args.get("_format")
    if fmt is not None and fmt.split(";")[0].strip().lower() not in _JSON_FORMATS:
        raise FhirError(406, "not-supported", "this server answers in JSON only (_format=json)")


# --- bundles ---------------------------------------------------------------------------------------------


def _searchset(
    base_url: str,
    path: str,
    resources: Sequence[dict[str, Any]],
    total: int,
    link_params: Sequence[tuple[str, str]],
    offset: int,
    count: int,
    ignored: Sequence[str] = (),
) -> dict[str, Any]:
    def url(page_offset: int) -> str:
        params = list(link_params)
        if page_offset:
            params.append(("page", encode_page(page_offset)))
        return f"{base_url}/{path}?{urlencode(params)}"

    links = [{"relation": "self", "url": url(offset)}]
    if count and offset + count < total:
        links.append({"relation": "next", "url": url(offset + count)})
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in resources
    ]
    if ignored:
        outcome = operation_outcome(
            ("warning", "not-supported", f"search parameter {name} is not supported and was ignored")
            for name in ignored
        )
        entries.append({"fullUrl": f"urn:uuid:{outcome['id']}", "resource": outcome,
                        "search": {"mode": "outcome"}})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": datetime.now(UTC).isoformat(timespec="seconds")},
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }


def _page(items: Sequence[Indexed], search: _Search) -> tuple[list[dict[str, Any]], int]:
    if search.statuses is None and search.categories is None and search.classes is None and not search.dates:
        matches: Sequence[Indexed] = items
    else:
        matches = [i for i in items if search.keep(i)]
    window = matches[search.offset:search.offset + search.count]
    return [i.resource for i in window], len(matches)


# --- CapabilityStatement ---------------------------------------------------------------------------------


def capability_statement(world: World, base_url: str) -> dict[str, Any]:
    """What the server does, so a client (or a tester) can tell 'not supported' from 'nothing recorded'."""
    reference_params = [
        {"name": "patient", "type": "reference"},
        {"name": "subject", "type": "reference"},
        {"name": "_count", "type": "number"},
    ]
    resources: list[dict[str, Any]] = [{
        "type": "Patient",
        "profile": PROFILE_BASE + "UKCore-Patient",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {"name": "identifier", "type": "token",
             "documentation": f"{NHS_NUMBER_SYSTEM}|{{nhs number}} or the hospital number"},
            {"name": "_id", "type": "token"},
        ],
    }]
    for rtype in SEARCH_TYPES:
        resources.append({
            "type": rtype,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": reference_params + [
                {"name": name, "type": ptype} for name, ptype in TYPE_SEARCH_PARAMS[rtype]
            ],
        })
    return {
        "resourceType": "CapabilityStatement",
        "id": "wardview-sandbox-hospital",
        "status": "active",
        "date": date(2026, 1, 1).isoformat(),
        "publisher": world.hospital_name,
        "kind": "instance",
        "software": {"name": "Wardview sandbox hospital FHIR server"},
        "implementation": {"description": f"{world.hospital_name} (synthetic data)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "OAuth",
                    "display": "OAuth",
                }]}],
                "description": "Bearer access token from the sign-in (CIS2-style OpenID Connect).",
            },
            "resource": resources,
        }],
    }


# --- the app ---------------------------------------------------------------------------------------------


def _patient_search(records: HospitalRecords, args: MultiDict[str, str]) -> list[HospitalPatientRecord]:
    identifiers = args.getlist("identifier")
    ids = _split(args.getlist("_id"))
    if not identifiers and not ids:
        raise FhirError(400, "required", "Patient searches need identifier= (the NHS number) or _id=")
    candidates: list[HospitalPatientRecord] | None = None
    if ids:
        candidates = [r for r in (records.record(i) for i in ids) if r is not None]
    local_system = mrn_system(records.world.hospital_ods)
    for raw in identifiers:
        system, sep, value = raw.rpartition("|")
        if not sep:
            system = None
        if system == NHS_NUMBER_SYSTEM and not is_valid_nhs_number(value):
            raise FhirError(400, "invalid", "the NHS number in the identifier is not a valid NHS number")
        if not value:
            raise FhirError(400, "invalid", "the identifier has no value")
        if candidates is None:
            found = []
            if system in (None, NHS_NUMBER_SYSTEM):
                found.append(records.record_for_nhs(value))
            if system in (None, local_system):
                found.append(records.record_for_mrn(value))
            candidates = [r for r in found if r is not None]
        else:
            candidates = [
                r for r in candidates
                if (system in (None, NHS_NUMBER_SYSTEM) and r.nhs_number == value)
                or (system in (None, local_system) and r.mrn == value)
            ]
    return candidates or []


def make_hospital_app(world: World, base_url: str, verify_token: TokenVerifier) -> Flask:
    """The trust's FHIR R4 server over `world`; `base_url` is its own external address (no trailing /)."""
    base_url = base_url.rstrip("/")
    records = HospitalRecords(world, base_url)
    app = Flask(__name__)

    @app.before_request
    def _require_bearer() -> Response | None:
        if request.path == "/metadata":
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error_response(FhirError(401, "login", "a bearer access token is required"),
                                   {"WWW-Authenticate": 'Bearer realm="hospital"'})
        if verify_token(token.strip()) is None:
            log.info("hospital request refused: invalid or expired access token")
            return _error_response(
                FhirError(401, "login", "the access token is invalid or has expired"),
                {"WWW-Authenticate": 'Bearer realm="hospital", error="invalid_token"'},
            )
        return None

    @app.errorhandler(FhirError)
    def _fhir_error(error: FhirError) -> Response:
        return _error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        code = {404: "not-found", 405: "not-supported"}.get(error.code or 500, "exception")
        return _error_response(FhirError(error.code or 500, code, error.name))

    @app.errorhandler(Exception)
    def _crash(error: Exception) -> Response:
        log.exception("hospital server failed (%s)", type(error).__name__)
        return _error_response(FhirError(500, "exception", "internal server error"))

    @app.get("/metadata")
    def metadata() -> Response:
        return _fhir_response(capability_statement(world, base_url))

    @app.get("/Patient")
    def patient_search() -> Response:
        args = request.args
        _check_format(args)
        found = _patient_search(records, args)
        count = _count(args)
        link = [(name, v) for name in ("identifier", "_id") for v in args.getlist(name)]
        ignored = sorted({n for n in args if n not in set(_PATIENT_PARAMS) | _ALWAYS_ALLOWED | {"page"}})
        offset = decode_page(args.get("page"))
        window = [r.patient for r in found[offset:offset + count]]
        link.append(("_count", str(count)))
        bundle = _searchset(base_url, "Patient", window, len(found), link, offset, count, ignored)
        return _fhir_response(bundle)

    @app.get("/<rtype>")
    def type_search(rtype: str) -> Response:
        if rtype not in SEARCH_TYPES:
            raise FhirError(404, "not-supported", "this server does not hold that resource type")
        _check_format(request.args)
        search = _parse_search(rtype, request.args, base_url)
        record = records.record(search.patient_id)
        items = record.resources[rtype] if record is not None else ()
        window, total = _page(items, search)
        log.debug("hospital %s search: %d of %d", rtype, len(window), total)
        return _fhir_response(_searchset(
            base_url, rtype, window, total, search.link_params, search.offset, search.count, search.ignored
        ))

    @app.get("/<rtype>/<rid>")
    def read(rtype: str, rid: str) -> Response:
        if rtype != "Patient" and rtype not in SEARCH_TYPES:
            raise FhirError(404, "not-supported", "this server does not hold that resource type")
        _check_format(request.args)
        resource = records.find(rtype, rid)
        if resource is None:
            raise FhirError(404, "not-found", f"no {rtype} with that id")
        return _fhir_response(resource)

    return app
