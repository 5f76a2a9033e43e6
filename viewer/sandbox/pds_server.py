"""A loopback Personal Demographics Service (PDS FHIR R4) over the synthetic world.

It answers the way the published PDS API does (reference/pds: patient-get.yaml, patient-search.yaml,
the sandbox mocks and the Karate stubs), because the viewer's PDS client is only as good as the
server it was tested against: superseded numbers answer with the new record, restricted patients
lose address, telecom and GP, errors are OperationOutcomes with Spine error codes, and a search with
more matches than `_max-results` is a 200 carrying TOO_MANY_MATCHES.

Deviation noted on purpose: `_max-results` defaults to 50, as the spec says for healthcare worker
(user-restricted) access, the only mode this sandbox serves.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from viewer.sandbox.nhs_numbers import is_valid_nhs_number
from viewer.sandbox.world import SyntheticPatient, World

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SPINE_CODES = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
VERIFICATION_EXT = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus"
DEATH_EXT = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus"
DEATH_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE_PARAM = re.compile(r"^(eq|ge|le)?(\d{4}-\d{2}-\d{2})$")
_SEARCH_PARAMS = frozenset({
    "_fuzzy-match", "_exact-match", "_history", "_max-results", "family", "given", "gender", "birthdate",
    "death-date", "address-postalcode", "address-postcode", "general-practitioner", "email", "phone",
})
_GENDERS = ("male", "female", "other", "unknown")
_DEFAULT_MAX_RESULTS = 50
_MAX_NAME = 35

# (http status, OperationOutcome issue code, severity, display) per Spine error code, as in the stubs.
_ERRORS: Mapping[str, tuple[int, str, str, str]] = MappingProxyType({
    "ACCESS_DENIED": (401, "forbidden", "error", "Access Denied - Unauthorised"),
    "INVALID_RESOURCE_ID": (400, "value", "error", "Resource Id is invalid"),
    "RESOURCE_NOT_FOUND": (404, "not-found", "information", "Resource not found"),
    "INVALID_SEARCH_DATA": (400, "value", "error", "Search data is invalid"),
    "MISSING_VALUE": (400, "required", "error", "Required value is missing"),
    "INVALID_VALUE": (400, "value", "error", "Provided value is invalid"),
    "UNSUPPORTED_SERVICE": (400, "processing", "error", "Unsupported Service"),
    "ADDITIONAL_PROPERTIES": (400, "invariant", "error", "Additional properties should not be included"),
    "INVALID_METHOD": (405, "processing", "error", "Method not allowed"),
})


class PdsError(Exception):
    """An answer PDS gives as an OperationOutcome; diagnostics never carry patient data."""

    def __init__(self, code: str, diagnostics: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.diagnostics = diagnostics


def operation_outcome(code: str, diagnostics: str | None = None) -> tuple[int, dict[str, Any]]:
    """The status and OperationOutcome body PDS sends for a Spine error or warning code."""
    status, issue_code, severity, display = _ERRORS[code]
    issue: dict[str, Any] = {
        "severity": severity,
        "code": issue_code,
        "details": {"coding": [{"system": SPINE_CODES, "version": "1", "code": code, "display": display}]},
    }
    if diagnostics:
        issue["diagnostics"] = diagnostics
    return status, {"resourceType": "OperationOutcome", "issue": [issue]}


def too_many_matches() -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "multiple-matches",
        "details": {"coding": [{"system": SPINE_CODES, "version": "1", "code": "TOO_MANY_MATCHES",
                                "display": "Too Many Matches"}]},
    }]}


def version_of(patient: SyntheticPatient) -> str:
    """A stable record version (meta.versionId / ETag); records that have changed more read higher."""
    return str(1 + int(patient.nhs_number) % 5 + (2 if patient.superseded_by or patient.deceased else 0))


def patient_resource(patient: SyntheticPatient) -> dict[str, Any]:
    """The patient as PDS returns it, with what a restricted record withholds already removed."""
    demo, nhs = patient.pds, patient.nhs_number
    since = {"start": demo.birth_date.isoformat()}
    name: dict[str, Any] = {"id": f"N{nhs[-6:]}", "use": "usual", "period": since,
                            "given": list(demo.name.given), "family": demo.name.family}
    if demo.name.prefix:
        name["prefix"] = [demo.name.prefix]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": nhs,
        "identifier": [{
            "system": NHS_NUMBER_SYSTEM, "value": nhs,
            "extension": [{"url": VERIFICATION_EXT, "valueCodeableConcept": {"coding": [{
                "system": VERIFICATION_SYSTEM, "version": "1.0.0", "code": "01",
                "display": "Number present and verified"}]}}],
        }],
        "meta": {"versionId": version_of(patient), "security": [
            {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"} if patient.restricted
            else {"system": CONFIDENTIALITY, "code": "U", "display": "unrestricted"}]},
        "name": [name],
        "gender": demo.gender,
        "birthDate": demo.birth_date.isoformat(),
    }
    if patient.deceased is not None:
        died = patient.deceased.astimezone(UTC).isoformat()
        resource["deceasedDateTime"] = died
        resource["extension"] = [{"url": DEATH_EXT, "extension": [
            {"url": "deathNotificationStatus", "valueCodeableConcept": {"coding": [{
                "system": DEATH_SYSTEM, "version": "1.0.0", "code": "2",
                "display": "Formal - death notice received from Registrar of Deaths"}]}},
            {"url": "systemEffectiveDate", "valueDateTime": died},
        ]}]
    if patient.restricted:
        return resource
    if patient.practice_ods:
        resource["generalPractitioner"] = [{"id": f"GP{nhs[-6:]}", "type": "Organization", "identifier": {
            "system": ODS_SYSTEM, "value": patient.practice_ods}}]
    if demo.phone:
        digits = demo.phone.replace(" ", "")
        resource["telecom"] = [{"id": f"T{nhs[-6:]}", "period": since,
                                "system": "phone", "value": digits,
                                "use": "mobile" if digits.startswith("07") else "home"}]
    if demo.address or demo.postcode:
        address: dict[str, Any] = {"id": f"A{nhs[-6:]}", "use": "home", "line": list(demo.address)}
        if demo.postcode:
            address["postalCode"] = demo.postcode
        resource["address"] = [address]
    return resource


# ------------------------------------------------------------------------------------------- searching


@dataclass(frozen=True, slots=True)
class _DateFilter:
    prefix: str
    day: date

    def accepts(self, value: date | None) -> bool:
        if value is None:
            return False
        if self.prefix == "ge":
            return value >= self.day
        if self.prefix == "le":
            return value <= self.day
        return value == self.day


@dataclass(frozen=True, slots=True)
class _Query:
    fuzzy: bool
    exact: bool
    max_results: int
    family: str | None
    given: tuple[str, ...]
    gender: str | None
    birthdate: tuple[_DateFilter, ...]
    death_date: tuple[_DateFilter, ...]
    postcode: str | None
    gp: str | None
    email: str | None
    phone: str | None


def _fold(text: str) -> str:
    """Case- and accent-insensitive form, as PDS compares names ('Kociński' ~ 'kocinski')."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def soundex(text: str) -> str:
    """American Soundex, the homophone key PDS fuzzy search uses ('Smith' and 'Smythe' -> S530)."""
    letters = [ch for ch in _fold(text).upper() if "A" <= ch <= "Z"]
    if not letters:
        return ""
    codes = {**dict.fromkeys("BFPV", "1"), **dict.fromkeys("CGJKQSXZ", "2"), **dict.fromkeys("DT", "3"),
             "L": "4", **dict.fromkeys("MN", "5"), "R": "6"}
    key, last = letters[0], codes.get(letters[0], "")
    for ch in letters[1:]:
        code = codes.get(ch, "")
        if code and code != last:
            key += code
        if ch not in "HW":
            last = code
    return (key + "000")[:4]


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in _fold(pattern).split("*")))


def _bool_param(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return False
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise PdsError("INVALID_VALUE", f"Invalid value - '{raw}' in field '{name}'")


def _dates(name: str) -> tuple[_DateFilter, ...]:
    filters = []
    for raw in request.args.getlist(name):
        found = _DATE_PARAM.match(raw)
        try:
            day = date.fromisoformat(found.group(2)) if found else None
        except ValueError:
            day = None
        if found is None or day is None:
            raise PdsError("INVALID_VALUE", f"Invalid value - '{raw}' in field '{name}'")
        filters.append(_DateFilter(found.group(1) or "eq", day))
    return tuple(filters)


def _parse_query() -> _Query:
    if not request.args:
        raise PdsError("UNSUPPORTED_SERVICE")
    unknown = sorted(set(request.args) - _SEARCH_PARAMS)
    if unknown:
        raise PdsError("ADDITIONAL_PROPERTIES", f"Invalid query parameter(s) - {', '.join(unknown)}")
    raw_max = request.args.get("_max-results", str(_DEFAULT_MAX_RESULTS))
    if not raw_max.isdigit() or not 1 <= int(raw_max) <= 50:
        raise PdsError("INVALID_VALUE", f"Invalid value - '{raw_max}' in field '_max-results'")
    gender = request.args.get("gender")
    if gender is not None and gender not in _GENDERS:
        raise PdsError("INVALID_VALUE", f"Invalid value - '{gender}' in field 'gender'")
    if "address-postcode" in request.args and "address-postalcode" in request.args:
        raise PdsError("INVALID_SEARCH_DATA", "Use address-postalcode or address-postcode, not both")
    query = _Query(
        fuzzy=_bool_param("_fuzzy-match"), exact=_bool_param("_exact-match"), max_results=int(raw_max),
        family=request.args.get("family") or None,
        given=tuple(g for g in request.args.getlist("given") if g),
        gender=gender, birthdate=_dates("birthdate"), death_date=_dates("death-date"),
        postcode=request.args.get("address-postalcode") or request.args.get("address-postcode") or None,
        gp=request.args.get("general-practitioner") or None,
        email=request.args.get("email") or None, phone=request.args.get("phone") or None,
    )
    _check_combination(query)
    return query


def _check_combination(q: _Query) -> None:
    texts = [t for t in (q.family, *q.given, q.postcode) if t]
    if any(len(t) > _MAX_NAME for t in (q.family, *q.given) if t):
        raise PdsError("INVALID_VALUE", f"Names are limited to {_MAX_NAME} characters")
    if any("*" in t[:2] for t in texts):
        raise PdsError("INVALID_SEARCH_DATA", "Wildcards must not be in the first two characters")
    has = {"family": bool(q.family), "given": bool(q.given), "birthdate": bool(q.birthdate),
           "gender": bool(q.gender), "postcode": bool(q.postcode)}
    fuzzy_sets = (("given", "family", "birthdate"), ("family", "birthdate", "gender", "postcode"),
                  ("given", "birthdate", "gender", "postcode"))
    if q.fuzzy:
        if any("*" in t for t in texts):
            raise PdsError("INVALID_SEARCH_DATA", "Wildcards are not allowed in a fuzzy search")
        if not any(all(has[k] for k in combo) for combo in fuzzy_sets):
            raise PdsError("INVALID_SEARCH_DATA", "Not enough search parameters were provided for a fuzzy "
                           "search: given, family and birthdate, or birthdate, gender and postcode with "
                           "family or given")
    elif not (has["family"] and has["birthdate"]) and not any(all(has[k] for k in c) for c in fuzzy_sets):
        raise PdsError("INVALID_SEARCH_DATA", "Not enough search parameters were provided to be able to "
                       "make a search: family and birthdate are the minimum")


def _score(patient: SyntheticPatient, q: _Query) -> float | None:
    """None when the patient does not match; else 1.0 for an exact match, less for looser matches."""
    demo = patient.pds
    penalty = 0.0
    if q.birthdate:
        if not all(f.accepts(demo.birth_date) for f in q.birthdate):
            return None
        penalty += 0.05 if any(f.prefix != "eq" for f in q.birthdate) else 0.0
    if q.gender and q.gender != demo.gender:
        return None
    names_penalty = _names_penalty(demo.name.family, demo.name.given, q)
    if names_penalty is None:
        return None
    penalty += names_penalty
    if q.postcode:
        if not demo.postcode or patient.restricted:
            return None
        want, have = q.postcode.replace(" ", ""), demo.postcode.replace(" ", "")
        if "*" in want and not q.fuzzy:
            if not _wildcard(want).fullmatch(_fold(have)):
                return None
            penalty += 0.1
        elif _fold(want) != _fold(have):
            return None
    if q.phone and (patient.restricted or (demo.phone or "").replace(" ", "") != q.phone.replace(" ", "")):
        return None
    if q.email:
        return None  # no synthetic patient has an email address
    died = patient.deceased.date() if patient.deceased else None
    registered = (patient.practice_ods or "").upper()
    gp_matches = q.gp is None or (not patient.restricted and registered == q.gp.upper())
    death_matches = all(f.accepts(died) for f in q.death_date)
    if q.fuzzy:  # death date and GP only weigh on the score in a fuzzy search
        penalty += (0.0 if gp_matches else 0.1) + (0.0 if death_matches else 0.1)
        if q.gp and patient.restricted:
            return None
    elif not (gp_matches and death_matches):
        return None
    return round(max(1.0 - penalty, 0.5), 2)


def _names_penalty(family: str, given: Iterable[str], q: _Query) -> float | None:
    family_f, given_f = _fold(family), [_fold(g) for g in given]
    if not q.fuzzy:
        penalty = 0.0
        if q.family:
            if not _wildcard(q.family).fullmatch(family_f):
                return None
            penalty += 0.1 if "*" in q.family else 0.0
        for i, want in enumerate(q.given):
            pool = given_f[:1] if i == 0 else given_f[1:]
            if not any(_wildcard(want).fullmatch(g) for g in pool):
                return None
            penalty += 0.1 if "*" in want else 0.0
        return penalty
    straight = _fuzzy_names(family_f, given_f, q)
    if straight is not None:
        return straight
    if given_f:  # transposed: 'Adam Thomas' found as 'Thomas Adam'
        swapped = _fuzzy_names(given_f[0], [family_f, *given_f[1:]], q)
        return None if swapped is None else swapped + 0.2
    return None


def _fuzzy_names(family: str, given: list[str], q: _Query) -> float | None:
    penalty = 0.0
    if q.family and _fold(q.family) != family:
        if soundex(q.family) != soundex(family):
            return None
        penalty += 0.1
    for want in q.given:
        if _fold(want) in given:
            continue
        if not any(soundex(want) == soundex(g) for g in given):
            return None
        penalty += 0.1
    return penalty


def search(world: World, q: _Query) -> list[tuple[float, SyntheticPatient]]:
    """Matching live (not superseded) records, best first; restricted ones never via postcode or GP."""
    matches = []
    for patient in world.patients:
        if patient.superseded_by:
            continue
        score = _score(patient, q)
        if score is not None and (not q.exact or score == 1.0):
            matches.append((score, patient))
    matches.sort(key=lambda m: (-m[0], m[1].nhs_number))
    return matches


# ------------------------------------------------------------------------------------------------- app


def make_pds_app(world: World, verify_token: Callable[[str], dict | None]) -> Flask:
    """The PDS FHIR R4 API at the app root: GET /Patient/{id} and GET /Patient (search)."""
    app = Flask(__name__)

    def respond(status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> Response:
        headers = {name: request.headers[name] for name in ("X-Request-ID", "X-Correlation-ID")
                   if request.headers.get(name)}
        headers.update(extra or {})
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return Response(data, status=status, headers=headers, content_type=f"{FHIR_JSON}; charset=utf-8")

    def check_request() -> None:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or verify_token(token.strip()) is None:
            raise PdsError("ACCESS_DENIED", "Invalid Access Token")
        request_id = request.headers.get("X-Request-ID")
        if request_id is None:
            raise PdsError("MISSING_VALUE", "Invalid request with error - X-Request-ID header must be "
                           "supplied to access this resource")
        if not _UUID.match(request_id):
            raise PdsError("INVALID_VALUE", f"Invalid value - '{request_id[:64]}' in header 'X-Request-ID'")
        urid = request.headers.get("NHSD-Session-URID")
        if urid is not None and not urid.isdigit():
            raise PdsError("INVALID_VALUE", "Invalid value in header 'NHSD-Session-URID'")

    @app.errorhandler(PdsError)
    def pds_error(error: PdsError) -> Response:
        status, body = operation_outcome(error.code, error.diagnostics)
        return respond(status, body)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = "INVALID_METHOD" if error.code == 405 else "UNSUPPORTED_SERVICE"
        _, body = operation_outcome(code, error.description)
        return respond(error.code or 400, body)

    @app.get("/Patient/<path:nhs_number>")
    def read(nhs_number: str) -> Response:
        check_request()
        if not is_valid_nhs_number(nhs_number):
            raise PdsError("INVALID_RESOURCE_ID")
        patient = world.patient(nhs_number)
        if patient is not None and patient.superseded_by:
            patient = world.patient(patient.superseded_by)
        if patient is None:
            raise PdsError("RESOURCE_NOT_FOUND")
        version = version_of(patient)
        return respond(200, patient_resource(patient), {"ETag": f'W/"{version}"'})

    @app.get("/Patient/")
    def read_without_id() -> Response:
        check_request()
        raise PdsError("UNSUPPORTED_SERVICE", "Missing NHS number")

    @app.get("/Patient")
    def search_patients() -> Response:
        check_request()
        query = _parse_query()
        matches = search(world, query)
        log.info("PDS search: %d match(es)", len(matches))
        if len(matches) > query.max_results:
            return respond(200, too_many_matches())
        base = request.host_url.rstrip("/")
        bundle: dict[str, Any] = {
            "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset",
            "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat(), "total": len(matches),
        }
        if matches:
            bundle["entry"] = [{"fullUrl": f"{base}/Patient/{p.nhs_number}", "search": {"score": score},
                                "resource": patient_resource(p)} for score, p in matches]
        return respond(200, bundle)

    return app
