"""The sandbox GP practice's answer to `$gpc.getstructuredrecord`, as GP Connect 1.6 FHIR STU3 JSON.

Written from the specification pages (retrieve, lists, clinical-area config, version compatibility,
error handling), never from the viewer's own mapping code, so that a misreading of the spec cannot
hide by being made twice. Resources are built as plain dicts: the large synthetic record has
thousands of entries and must come back well inside GP Connect's one-second target.

Choices the spec leaves open, made here on purpose:
- every resource id is a UUID derived from practice, patient and synthetic item, so it is stable
  between calls (consumers keep logical ids, STR05) and always matches the FHIR id pattern;
- unrecognised parameters or part parameters are reported as NOT_IMPLEMENTED warnings inside a
  200 Bundle (forwards compatibility page), and 422 INVALID_PARAMETER only when nothing is
  recognised at all;
- `data-in-transit` is a whole-record condition, so it is put on every List returned.
"""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from viewer.sandbox.nhs_numbers import is_valid_nhs_number
from viewer.sandbox.world import (
    DMD,
    SNOMED,
    Area,
    ClinicalRecord,
    Clinician,
    Code,
    GpAccess,
    Name,
    Practice,
    SynthAllergy,
    SynthEncounter,
    SyntheticPatient,
    SynthImmunisation,
    SynthMedication,
    SynthObservation,
    SynthProblem,
    SynthReferral,
    World,
)

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SDS_USER_SYSTEM = "https://fhir.nhs.uk/Id/sds-user-id"
SPINE_CODES = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"
SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
OPERATION_OUTCOME_PROFILE = SD + "GPConnect-OperationOutcome-1"
BUNDLE_PROFILE = SD + "GPConnect-StructuredRecord-Bundle-1"
LIST_WARNING_URL = SD + "Extension-CareConnect-GPC-ListWarningCode-1"
EMPTY_REASON_SYSTEM = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ListEmptyReasonCode-1"
NO_KNOWN_ALLERGY = Code(SNOMED, "716186003", "No known allergy")
DIARY_ENTRIES = "includeDiaryEntries"  # in the OperationDefinition, though the world has no diary

_CC_EXT = "https://fhir.hl7.org.uk/STU3/StructureDefinition/"
_ID_NAMESPACE = uuid.UUID("5b0d9c3e-7a51-4c1e-9d8e-2f1a6c0b7e41")
_FHIR_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Spine code -> (HTTP status, issue type, display), from the error-handling page and the
# Spine-ErrorOrWarningCode-1 CodeSystem.
SPINE_ERRORS: dict[str, tuple[int, str, str]] = {
    "BAD_REQUEST": (400, "invalid", "Bad request"),
    "INVALID_NHS_NUMBER": (400, "value", "Invalid NHS number"),
    "INVALID_IDENTIFIER_SYSTEM": (400, "value", "Invalid identifier system"),
    "ACCESS DENIED": (403, "forbidden", "Access denied"),
    "NO_PATIENT_CONSENT": (403, "forbidden", "Patient has not provided consent to share data"),
    "PATIENT_NOT_FOUND": (404, "not-found", "Patient not found"),
    "NO_RECORD_FOUND": (404, "not-found", "No record found"),
    "ORGANISATION_NOT_FOUND": (404, "not-found", "Organisation not found"),
    "METHOD_NOT_ALLOWED": (405, "not-supported", "Method not allowed"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "not-supported", "Unsupported media type"),
    "INVALID_RESOURCE": (422, "invalid", "Invalid validation of resource"),
    "INVALID_PARAMETER": (422, "invalid", "Invalid parameter"),
    "INTERNAL_SERVER_ERROR": (500, "exception", "Internal server error"),
    "NOT_IMPLEMENTED": (501, "not-supported", "Not implemented"),
}

# Primary lists: (SNOMED code, display, List.title) from the "Returning data in lists" page.
PRIMARY_LISTS: dict[str, tuple[str, str, str]] = {
    Area.ALLERGIES: (
        "886921000000105",
        "Allergies and adverse reactions",
        "Allergies and adverse reactions",
    ),
    "ended-allergies": ("1103671000000101", "Ended allergies", "Ended allergies"),
    Area.CONSULTATIONS: ("1149501000000101", "List of consultations", "List of consultations"),
    DIARY_ENTRIES: (
        "714311000000108",
        "Patient recall administration",
        "Patient recall administration",
    ),
    Area.IMMUNISATIONS: ("1102181000000102", "Immunisations", "Immunisations"),
    Area.INVESTIGATIONS: (
        "887191000000108",
        "Investigations and results",
        "Investigations and results",
    ),
    Area.MEDICATION: (
        "933361000000108",
        "Medications and medical devices",
        "Medications and medical devices",
    ),
    Area.REFERRALS: ("792931000000107", "Outbound referral", "Outbound referral"),
    Area.PROBLEMS: ("717711000000103", "Problems", "Problems"),
    Area.UNCATEGORISED: ("826501000000100", "Miscellaneous record", "Uncategorised data"),
}

WARNING_TEXT = {
    "confidential-items": "Items excluded due to confidentiality and/or patient preferences.",
    "data-in-transit": (
        "Patient record transfer from previous GP practice not yet complete; "
        "information recorded before {date} may be missing."
    ),
    "data-awaiting-filing": (
        "Patient record contains some items in the GP practice workflow that have "
        "not been reviewed for inclusion in this message; information recorded "
        "before {date} may be missing."
    ),
}
EMPTY_NOTE = "Information not available"

# Allowed part parameters per parameter, with their value type (GetStructuredRecord-Operation-1;
# filterSignificance is the 1.5 problems filter the viewer may still send).
PART_TYPES: dict[str, dict[str, str]] = {
    Area.ALLERGIES: {"includeResolvedAllergies": "boolean"},
    Area.MEDICATION: {
        "includePrescriptionIssues": "boolean",
        "medicationSearchFromDate": "past-date",
        "filterPrescriptionType": "code",
    },
    Area.CONSULTATIONS: {
        "consultationSearchPeriod": "period",
        "includeNumberOfMostRecent": "positiveInt",
    },
    Area.PROBLEMS: {"filterStatus": "code", "filterSignificance": "code"},
    Area.IMMUNISATIONS: {"includeNotGiven": "boolean", "includeStatus": "boolean"},
    Area.UNCATEGORISED: {"uncategorisedDataSearchPeriod": "period"},
    Area.INVESTIGATIONS: {"investigationSearchPeriod": "period"},
    Area.REFERRALS: {"referralSearchPeriod": "period"},
    DIARY_ENTRIES: {"diaryEntriesSearchDate": "future-date"},
}
_REPEATABLE_PARTS = frozenset({"filterPrescriptionType"})
_CODE_VALUES = {
    "filterStatus": frozenset({"active", "inactive"}),
    "filterSignificance": frozenset({"major", "minor"}),
    "filterPrescriptionType": frozenset({"acute", "repeat"}),
}
_VALUE_KEYS = {
    "boolean": "valueBoolean",
    "past-date": "valueDate",
    "future-date": "valueDate",
    "period": "valuePeriod",
    "positiveInt": "valuePositiveInt",
    "code": "valueCode",
}
# Not permitted beside consultations / problems (retrieve page, not permitted combinations).
_NOT_WITH_CONSULTATIONS = (
    (Area.MEDICATION, "medicationSearchFromDate"),
    (Area.UNCATEGORISED, "uncategorisedDataSearchPeriod"),
    (Area.PROBLEMS, "filterStatus"),
    (Area.REFERRALS, "referralSearchPeriod"),
    (DIARY_ENTRIES, "diaryEntriesSearchDate"),
    (Area.IMMUNISATIONS, "includeNotGiven"),
    (Area.IMMUNISATIONS, "includeStatus"),
)
_NOT_WITH_PROBLEMS = tuple(p for p in _NOT_WITH_CONSULTATIONS if p[1] != "filterStatus")


class GpcError(Exception):
    """A request the provider refuses, carrying the Spine error code to answer with.

    The diagnostics text goes back to the consumer; it never carries patient data because servers
    log exceptions.
    """

    def __init__(self, code: str, diagnostics: str | None = None) -> None:
        super().__init__(code if diagnostics is None else f"{code}: {diagnostics}")
        self.code = code
        self.diagnostics = diagnostics


def operation_outcome(code: str, diagnostics: str | None = None) -> dict:
    """A GPConnect-OperationOutcome-1 error body for a Spine error code."""
    _status, issue_type, display = SPINE_ERRORS[code]
    issue: dict[str, Any] = {
        "severity": "error",
        "code": issue_type,
        "details": {"coding": [{"system": SPINE_CODES, "code": code, "display": display}]},
    }
    if diagnostics:
        issue["diagnostics"] = diagnostics
    return {
        "resourceType": "OperationOutcome",
        "meta": {"profile": [OPERATION_OUTCOME_PROFILE]},
        "issue": [issue],
    }


def error_response(code: str, diagnostics: str | None = None) -> tuple[int, dict]:
    """The HTTP status and OperationOutcome the spec pairs with a Spine error code."""
    return SPINE_ERRORS[code][0], operation_outcome(code, diagnostics)


# --------------------------------------------------------------------------------------------------
# The request
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RecordRequest:
    """A checked Parameters resource: which areas, with which part parameters, what was unknown."""

    nhs_number: str
    areas: dict[str, dict[str, Any]] = field(default_factory=dict)
    unrecognised: list[str] = field(default_factory=list)


def parse_parameters(parameters: Any, today: date) -> RecordRequest:
    """Check a `$gpc.getstructuredrecord` Parameters resource against the OperationDefinition.

    Raises GpcError with the code from the retrieve page's error table.
    """
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise GpcError("INVALID_RESOURCE", "the request body is not a Parameters resource")
    items = parameters.get("parameter")
    if not isinstance(items, list) or not items:
        raise GpcError("INVALID_RESOURCE", "Parameters.parameter is missing or not a list")
    seen: set[str] = set()
    nhs_number: str | None = None
    areas: dict[str, dict[str, Any]] = {}
    unrecognised: list[str] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise GpcError("INVALID_RESOURCE", "every parameter needs a name")
        name = item["name"]
        if name in seen:
            raise GpcError("INVALID_RESOURCE", f"parameter {name} appears more than once")
        seen.add(name)
        if name == "patientNHSNumber":
            nhs_number = _nhs_number(item)
        elif name in PART_TYPES:
            areas[name] = _parts(name, item, today, unrecognised)
        else:
            unrecognised.append(name)
    if nhs_number is None:
        raise GpcError("INVALID_PARAMETER", "patientNHSNumber is required")
    if unrecognised and not areas:
        raise GpcError("INVALID_PARAMETER", "no recognised parameters: " + ", ".join(unrecognised))
    if Area.ALLERGIES in areas and "includeResolvedAllergies" not in areas[Area.ALLERGIES]:
        raise GpcError("INVALID_PARAMETER", "includeAllergies needs includeResolvedAllergies")
    consultations = areas.get(Area.CONSULTATIONS, {})
    if "consultationSearchPeriod" in consultations and "includeNumberOfMostRecent" in consultations:
        raise GpcError(
            "INVALID_RESOURCE",
            "consultationSearchPeriod and includeNumberOfMostRecent cannot both be given",
        )
    for anchor, forbidden in (
        (Area.CONSULTATIONS, _NOT_WITH_CONSULTATIONS),
        (Area.PROBLEMS, _NOT_WITH_PROBLEMS),
    ):
        if anchor not in areas:
            continue
        for area, part in forbidden:
            if part in areas.get(area, {}):
                raise GpcError("INVALID_PARAMETER", f"{area}.{part} is not permitted with {anchor}")
    return RecordRequest(nhs_number, areas, unrecognised)


def _nhs_number(item: dict) -> str:
    ident = item.get("valueIdentifier")
    if not isinstance(ident, dict):
        raise GpcError("INVALID_PARAMETER", "patientNHSNumber needs a valueIdentifier")
    if ident.get("system") != NHS_NUMBER_SYSTEM:
        raise GpcError(
            "INVALID_IDENTIFIER_SYSTEM", f"patientNHSNumber system must be {NHS_NUMBER_SYSTEM}"
        )
    value = ident.get("value")
    if not isinstance(value, str) or not is_valid_nhs_number(value):
        raise GpcError(
            "INVALID_NHS_NUMBER", "patientNHSNumber fails the format or check digit test"
        )
    return value


def _parts(name: str, item: dict, today: date, unrecognised: list[str]) -> dict[str, Any]:
    raw = item.get("part", [])
    if not isinstance(raw, list):
        raise GpcError("INVALID_RESOURCE", f"{name}.part must be a list")
    allowed = PART_TYPES[name]
    out: dict[str, Any] = {}
    for part in raw:
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise GpcError("INVALID_RESOURCE", f"every part of {name} needs a name")
        pname = part["name"]
        if pname not in allowed:
            unrecognised.append(f"{name}.{pname}")
            continue
        kind = allowed[pname]
        key = _VALUE_KEYS[kind]
        if key not in part:
            raise GpcError("INVALID_PARAMETER", f"{name}.{pname} was passed without a {key}")
        value = _part_value(f"{name}.{pname}", kind, part[key], today)
        if kind == "code" and value not in _CODE_VALUES[pname]:
            raise GpcError(
                "INVALID_PARAMETER",
                f"{name}.{pname} must be one of " + ", ".join(sorted(_CODE_VALUES[pname])),
            )
        if pname in _REPEATABLE_PARTS:
            out.setdefault(pname, set()).add(value)
        elif pname in out:
            raise GpcError("INVALID_RESOURCE", f"{name}.{pname} appears more than once")
        else:
            out[pname] = value
    return out


def _part_value(label: str, kind: str, value: Any, today: date) -> Any:
    if kind == "boolean":
        if not isinstance(value, bool):
            raise GpcError("INVALID_PARAMETER", f"{label} must be a boolean")
        return value
    if kind == "positiveInt":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GpcError("INVALID_PARAMETER", f"{label} must be a positive integer")
        return value
    if kind == "code":
        if not isinstance(value, str):
            raise GpcError("INVALID_PARAMETER", f"{label} must be a code")
        return value
    if kind == "past-date":
        day = _whole_date(label, value)
        if day > today:
            raise GpcError("INVALID_PARAMETER", f"{label} is after the current date")
        return day
    if kind == "future-date":
        day = _whole_date(label, value)
        if day < today:
            raise GpcError("INVALID_PARAMETER", f"{label} is before the current date")
        return day
    # period
    if not isinstance(value, dict) or not (value.get("start") or value.get("end")):
        raise GpcError("INVALID_PARAMETER", f"{label} needs a start or an end")
    start = _whole_date(f"{label}.start", value["start"]) if value.get("start") else None
    end = _whole_date(f"{label}.end", value["end"]) if value.get("end") else None
    for bound in (start, end):
        if bound is not None and bound > today:
            raise GpcError("INVALID_PARAMETER", f"{label} is after the current date")
    if start and end and start > end:
        raise GpcError("INVALID_PARAMETER", f"{label} starts after it ends")
    return (start, end)


def _whole_date(label: str, value: Any) -> date:
    if not isinstance(value, str) or not _FHIR_DATE.match(value):
        raise GpcError("INVALID_PARAMETER", f"{label} must be a whole date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise GpcError("INVALID_PARAMETER", f"{label} is not a calendar date") from None


# --------------------------------------------------------------------------------------------------
# The operation
# --------------------------------------------------------------------------------------------------


def structured_record(
    world: World, parameters: dict, practice_ods: str, now: datetime | None = None
) -> tuple[int, dict]:
    """Answer `$gpc.getstructuredrecord` at practice `practice_ods`: (HTTP status, FHIR JSON)."""
    now = now or datetime.now(UTC)
    practice = world.practice(practice_ods)
    if practice is None:
        return error_response("ORGANISATION_NOT_FOUND", "no GP Connect provider at this ODS code")
    try:
        request = parse_parameters(parameters, now.date())
        patient = _registered_patient(world, request.nhs_number, practice)
    except GpcError as exc:
        return error_response(exc.code, exc.diagnostics)
    assert patient.gp is not None
    return 200, _BundleBuilder(world, patient, patient.gp, practice, request, now).build()


def _registered_patient(world: World, nhs_number: str, practice: Practice) -> SyntheticPatient:
    patient = world.patient(nhs_number)
    if (
        patient is None
        or patient.restricted
        or patient.superseded_by is not None
        or patient.deceased is not None
        or patient.practice_ods != practice.ods_code
        or patient.gp_access is GpAccess.NOT_REGISTERED
    ):
        # Sensitive, deceased and elsewhere-registered patients answer as not found (retrieve page).
        raise GpcError("PATIENT_NOT_FOUND")
    if patient.gp_access is GpAccess.DISSENT:
        raise GpcError("NO_PATIENT_CONSENT")
    if patient.gp_access is GpAccess.NO_RECORD or patient.gp is None:
        raise GpcError("NO_RECORD_FOUND")
    return patient


# --------------------------------------------------------------------------------------------------
# FHIR building blocks
# --------------------------------------------------------------------------------------------------


def _fhir_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _coding(code: Code) -> dict:
    # dm+d concepts are SNOMED CT concepts; GP Connect STU3 codes them with the SNOMED system.
    system = SNOMED if code.system == DMD else code.system
    return {"system": system, "code": code.code, "display": code.display}


def _concept(code: Code) -> dict:
    return {"coding": [_coding(code)], "text": code.display}


def _human_name(name: Name, use: str) -> dict:
    out: dict[str, Any] = {"use": use, "family": name.family, "given": list(name.given)}
    if name.prefix:
        out["prefix"] = [name.prefix]
    return out


def _in_period(day: date | None, period: tuple[date | None, date | None] | None) -> bool:
    """Spec: items with no date come back alongside those that match."""
    if period is None or day is None:
        return True
    start, end = period
    return (start is None or day >= start) and (end is None or day <= end)


def _aware(value: datetime) -> datetime:
    """Synthetic times without a zone are UTC; comparing them with zoned ones must not fail."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


class _BundleBuilder:
    """Builds one response Bundle; keeps the Practitioners the items refer to, once each."""

    def __init__(
        self,
        world: World,
        patient: SyntheticPatient,
        record: ClinicalRecord,
        practice: Practice,
        request: RecordRequest,
        now: datetime,
    ) -> None:
        self.world = world
        self.patient = patient
        self.record = record
        self.practice = practice
        self.request = request
        self.now = now
        self.ods = practice.ods_code
        self.local_system = f"https://sandbox.wardview.invalid/{self.ods}/Id/record-item"
        self.patient_ref = "Patient/" + self._id("patient")
        self.org_ref = "Organization/" + self._id("organization")
        self.entries: list[dict] = []
        self.clinicians: dict[str, dict] = {}
        self.list_date = _fhir_date(now)
        warned = {code for codes in record.warnings.values() for code in codes}
        self.record_wide = ("data-in-transit",) if "data-in-transit" in warned else ()
        self.registered = self._registration_date()

    # --- identity -------------------------------------------------------------------------------

    def _id(self, *parts: str) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, "/".join((self.ods, self.patient.nhs_number, *parts))))

    def _identifier(self, value: str) -> list[dict]:
        return [{"system": self.local_system, "value": value}]

    def _meta(self, profile: str) -> dict:
        return {"profile": [SD + profile]}

    def _add(self, resource: dict) -> None:
        self.entries.append({"resource": resource})

    def _registration_date(self) -> date:
        """The synthetic world has no registration date; derive a stable one from the NHS number.

        A patient whose record is still in transit registered recently; the warning text shows it.
        """
        seed = zlib.crc32(self.patient.nhs_number.encode())
        if self.record_wide:
            return self.now.date() - timedelta(days=7 + seed % 21)
        birth = self.record.demographics.birth_date
        guess = date(2000 + seed % 20, 1 + seed % 12, 1 + seed % 28)
        return min(max(birth, guess), self.now.date())

    # --- people and places ------------------------------------------------------------------------

    def _clinician_ref(self, clinician: Clinician | None) -> str:
        """Reference to a recorder's Practitioner; the practice's usual GP when none is known."""
        clinician = clinician or self._usual_gp()
        key = clinician.id
        if key not in self.clinicians:
            pid = self._id("practitioner", key)
            practitioner: dict[str, Any] = {
                "resourceType": "Practitioner",
                "id": pid,
                "meta": self._meta("CareConnect-GPC-Practitioner-1"),
                "identifier": self._identifier(key),
                "name": [_human_name(clinician.name, "usual")],
            }
            if clinician.sds_user_id:
                practitioner["identifier"].insert(
                    0, {"system": SDS_USER_SYSTEM, "value": clinician.sds_user_id}
                )
            role = {
                "resourceType": "PractitionerRole",
                "id": self._id("practitioner-role", key),
                "meta": self._meta("CareConnect-GPC-PractitionerRole-1"),
                "practitioner": {"reference": f"Practitioner/{pid}"},
                "organization": {"reference": self.org_ref},
                "code": [
                    {
                        "coding": [
                            {
                                "system": "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                                "code": "R0260",
                                "display": "General Medical Practitioner",
                            }
                        ]
                    }
                ],
            }
            self.clinicians[key] = {"practitioner": practitioner, "role": role}
        return "Practitioner/" + self.clinicians[key]["practitioner"]["id"]

    def _usual_gp(self) -> Clinician:
        for source in (self.record.encounters, self.record.medications, self.record.allergies):
            for item in source:
                who = (
                    getattr(item, "clinician", None)
                    or getattr(item, "prescriber", None)
                    or getattr(item, "recorder", None)
                )
                if who is not None:
                    return who
        return Clinician(id=f"{self.ods}-duty-gp", name=Name("Duty", ("Practice",), "Dr"))

    def _patient(self) -> dict:
        demo = self.record.demographics
        resource: dict[str, Any] = {
            "resourceType": "Patient",
            "id": self.patient_ref.split("/")[1],
            "meta": self._meta("CareConnect-GPC-Patient-1"),
            "extension": [
                {
                    "url": SD + "Extension-CareConnect-GPC-RegistrationDetails-1",
                    "extension": [
                        {
                            "url": "registrationPeriod",
                            "valuePeriod": {"start": _fhir_date(self.registered)},
                        }
                    ],
                }
            ],
            "identifier": [
                {
                    "extension": [
                        {
                            "url": SD + "Extension-CareConnect-GPC-NHSNumberVerificationStatus-1",
                            "valueCodeableConcept": {
                                "coding": [
                                    {
                                        "system": "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1",
                                        "code": "01",
                                        "display": "Number present and verified",
                                    }
                                ]
                            },
                        }
                    ],
                    "system": NHS_NUMBER_SYSTEM,
                    "value": self.patient.nhs_number,
                }
            ],
            "active": True,
            "name": [_human_name(demo.name, "official")],
            "gender": demo.gender,
            "birthDate": _fhir_date(demo.birth_date),
            "generalPractitioner": [{"reference": self._clinician_ref(None)}],
            "managingOrganization": {"reference": self.org_ref},
        }
        if demo.phone:
            resource["telecom"] = [{"system": "phone", "value": demo.phone, "use": "home"}]
        if demo.address or demo.postcode:
            address: dict[str, Any] = {"use": "home", "type": "physical"}
            if demo.address:
                address["line"] = list(demo.address)
            if demo.postcode:
                address["postalCode"] = demo.postcode
            resource["address"] = [address]
        return resource

    def _organization(self) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Organization",
            "id": self.org_ref.split("/")[1],
            "meta": self._meta("CareConnect-GPC-Organization-1"),
            "identifier": [{"system": ODS_SYSTEM, "value": self.ods}],
            "name": self.practice.name,
        }
        if self.practice.address or self.practice.postcode:
            address: dict[str, Any] = {"use": "work"}
            if self.practice.address:
                address["line"] = list(self.practice.address)
            if self.practice.postcode:
                address["postalCode"] = self.practice.postcode
            resource["address"] = [address]
        return resource

    # --- lists ------------------------------------------------------------------------------------

    def _list(
        self, key: str, refs: Iterable[str], area: str, contained: list[dict] | None = None
    ) -> dict:
        code, display, title = PRIMARY_LISTS[key]
        resource: dict[str, Any] = {
            "resourceType": "List",
            "id": self._id("list", key),
            "meta": self._meta("CareConnect-GPC-List-1"),
            "status": "current",
            "mode": "snapshot",
            "title": title,
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
            "subject": {"reference": self.patient_ref},
            "date": self.list_date,
            "orderedBy": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/list-order",
                        "code": "event-date",
                        "display": "Sorted by Event Date",
                    }
                ]
            },
        }
        if contained:
            resource["contained"] = contained
        entries = [{"item": {"reference": ref}} for ref in refs]
        codes = list(self.record.warnings.get(area, ()))
        codes += [c for c in self.record_wide if c not in codes]
        notes = [
            WARNING_TEXT[c].format(date=self.registered.strftime("%d-%b-%Y"))
            for c in codes
            if c in WARNING_TEXT
        ]
        if codes:
            resource["extension"] = [{"url": LIST_WARNING_URL, "valueCode": c} for c in codes]
        if entries:
            resource["entry"] = entries
        else:
            resource["emptyReason"] = {
                "coding": [
                    {
                        "system": EMPTY_REASON_SYSTEM,
                        "code": "no-content-recorded",
                        "display": "No Content Recorded",
                    }
                ]
            }
            notes.append(EMPTY_NOTE)
        if notes:
            resource["note"] = [{"text": text} for text in notes]
        return resource

    # --- the bundle -------------------------------------------------------------------------------

    def build(self) -> dict:
        areas = self.request.areas
        disabled = [a for a in areas if a in self.record.not_implemented]
        body: list[dict] = []
        sections = (
            (Area.ALLERGIES, self._allergies),
            (Area.MEDICATION, self._medication),
            (Area.CONSULTATIONS, self._consultations),
            (Area.PROBLEMS, self._problems),
            (Area.IMMUNISATIONS, self._immunisations),
            (Area.UNCATEGORISED, self._uncategorised),
            (Area.INVESTIGATIONS, self._investigations),
            (Area.REFERRALS, self._referrals),
            (DIARY_ENTRIES, self._diary_entries),
        )
        for area, section in sections:
            if area in areas and area not in disabled:
                body.extend(section(areas[area]))
        head = [self._patient(), self._organization()]
        for pair in self.clinicians.values():
            head.extend((pair["practitioner"], pair["role"]))
        resources = head + body
        outcome = self._warnings(disabled)
        if outcome is not None:
            resources.append(outcome)
        return {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"profile": [BUNDLE_PROFILE]},
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }

    def _warnings(self, disabled: list[str]) -> dict | None:
        """One OperationOutcome for switched-off areas and parameters does not know."""
        issues = []
        for area in disabled:
            issues.append((f"{area} has been disabled", area))
        for name in self.request.unrecognised:
            issues.append((f"{name} is an unrecognised parameter", name))
        if not issues:
            return None
        return {
            "resourceType": "OperationOutcome",
            "id": str(uuid.uuid4()),
            "meta": {"profile": [OPERATION_OUTCOME_PROFILE]},
            "issue": [
                {
                    "severity": "warning",
                    "code": "not-supported",
                    "details": {
                        "coding": [
                            {
                                "system": SPINE_CODES,
                                "code": "NOT_IMPLEMENTED",
                                "display": "Not implemented",
                            }
                        ],
                        "text": text,
                    },
                    "diagnostics": diagnostics,
                }
                for text, diagnostics in issues
            ],
        }

    # --- allergies --------------------------------------------------------------------------------

    def _allergies(self, options: dict) -> list[dict]:
        active = [a for a in self.record.allergies if a.clinical_status != "resolved"]
        resources = [self._allergy(a) for a in active]
        if self.record.no_known_allergies and not active:
            resources.append(self._no_known_allergies())
        out = [
            self._list(
                Area.ALLERGIES, (f"AllergyIntolerance/{r['id']}" for r in resources), Area.ALLERGIES
            )
        ]
        out.extend(resources)
        if options["includeResolvedAllergies"]:
            # Resolved allergies live only inside their List, so none can pass for an active one.
            ended = [
                self._allergy(a) for a in self.record.allergies if a.clinical_status == "resolved"
            ]
            out.append(
                self._list(
                    "ended-allergies",
                    (f"#{r['id']}" for r in ended),
                    Area.ALLERGIES,
                    contained=ended,
                )
            )
        return out

    def _allergy(self, allergy: SynthAllergy) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "id": self._id("allergy", allergy.id),
            "meta": self._meta("CareConnect-GPC-AllergyIntolerance-1"),
            "identifier": self._identifier(allergy.id),
            "clinicalStatus": "resolved" if allergy.clinical_status == "resolved" else "active",
            "verificationStatus": allergy.verification_status,
            "category": [allergy.category],
            "code": _concept(allergy.substance),
            "patient": {"reference": self.patient_ref},
            "assertedDate": _fhir_date(allergy.asserted),
            "recorder": {"reference": self._clinician_ref(allergy.recorder)},
        }
        if allergy.criticality:
            resource["criticality"] = allergy.criticality
        if allergy.onset:
            resource["onsetDateTime"] = _fhir_date(allergy.onset)
        if allergy.note:
            resource["note"] = [{"text": allergy.note}]
        if allergy.reaction or allergy.severity:
            reaction: dict[str, Any] = {
                "manifestation": [
                    _concept(allergy.reaction) if allergy.reaction else {"text": "Unknown reaction"}
                ]
            }
            if allergy.severity:
                reaction["severity"] = allergy.severity
            resource["reaction"] = [reaction]
        if allergy.clinical_status == "resolved":
            ended: list[dict] = []
            if allergy.end_date:
                ended.append({"url": "endDate", "valueDateTime": _fhir_date(allergy.end_date)})
            ended.append(
                {"url": "reasonEnded", "valueString": allergy.end_reason or "No reason recorded"}
            )
            resource["extension"] = [
                {
                    "url": SD + "Extension-CareConnect-GPC-AllergyIntoleranceEnd-1",
                    "extension": ended,
                }
            ]
        return resource

    def _no_known_allergies(self) -> dict:
        """'No known allergies' is a coded AllergyIntolerance (716186003), not an empty List."""
        return {
            "resourceType": "AllergyIntolerance",
            "id": self._id("allergy", "no-known-allergies"),
            "meta": self._meta("CareConnect-GPC-AllergyIntolerance-1"),
            "identifier": self._identifier("no-known-allergies"),
            "clinicalStatus": "active",
            "verificationStatus": "confirmed",
            "category": ["medication"],
            "code": _concept(NO_KNOWN_ALLERGY),
            "patient": {"reference": self.patient_ref},
            "assertedDate": _fhir_date(self.registered),
            "recorder": {"reference": self._clinician_ref(None)},
        }

    # --- medication -------------------------------------------------------------------------------

    def _medication(self, options: dict) -> list[dict]:
        since: date | None = options.get("medicationSearchFromDate")
        kinds: set[str] | None = options.get("filterPrescriptionType")
        issues = options.get("includePrescriptionIssues", True)
        statements: list[dict] = []
        others: list[dict] = []
        for med in self.record.medications:
            if since is not None and med.ended is not None and med.ended < since:
                continue
            kind = "acute" if med.kind == "acute" else "repeat"
            if kinds is not None and kind not in kinds:
                continue
            statement, rest = self._medicine(med, issues)
            statements.append(statement)
            others.extend(rest)
        refs = (f"MedicationStatement/{s['id']}" for s in statements)
        return [self._list(Area.MEDICATION, refs, Area.MEDICATION), *statements, *others]

    def _medicine(self, med: SynthMedication, with_issues: bool) -> tuple[dict, list[dict]]:
        medication_ref = "Medication/" + self._id("medication", med.id)
        plan_id = self._id("medication-plan", med.id)
        prescriber = self._clinician_ref(med.prescriber)
        status = med.status if med.status in ("active", "completed", "stopped") else "active"
        dosage: dict[str, Any] = {"text": med.dosage_text}
        if med.patient_notes:
            dosage["patientInstruction"] = med.patient_notes
        notes = [{"text": med.prescriber_notes}] if med.prescriber_notes else []
        prescription_type = {
            "url": SD + "Extension-CareConnect-GPC-PrescriptionType-1",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescriptionType-1",
                        "code": med.kind
                        if med.kind in ("acute", "repeat", "repeat-dispensing")
                        else "acute",
                        "display": {
                            "acute": "Acute",
                            "repeat": "Repeat",
                            "repeat-dispensing": "Repeat dispensing",
                        }.get(med.kind, "Acute"),
                    }
                ]
            },
        }
        validity: dict[str, str] = {"start": _fhir_date(med.started)}
        if med.ended:
            validity["end"] = _fhir_date(med.ended)
        dispense: dict[str, Any] = {"validityPeriod": validity}
        if med.quantity_value is not None:
            text = f"{med.quantity_value:g} {med.quantity_unit or ''}".strip()
            dispense["quantity"] = {
                "value": med.quantity_value,
                "extension": [
                    {
                        "url": SD + "Extension-CareConnect-GPC-MedicationQuantityText-1",
                        "valueString": text,
                    }
                ],
            }
            if med.quantity_unit:
                dispense["quantity"]["unit"] = med.quantity_unit
        plan: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": plan_id,
            "meta": self._meta("CareConnect-GPC-MedicationRequest-1"),
            "extension": [prescription_type],
            "identifier": self._identifier(med.id),
            "status": status,
            "intent": "plan",
            "medicationReference": {"reference": medication_ref},
            "subject": {"reference": self.patient_ref},
            "authoredOn": _fhir_date(med.started),
            "recorder": {"reference": prescriber},
            "dosageInstruction": [dosage],
            "dispenseRequest": dispense,
        }
        if notes:
            plan["note"] = notes
        if med.kind != "acute" and med.repeats_allowed:
            plan["extension"].append(
                {
                    "url": SD + "Extension-CareConnect-GPC-MedicationRepeatInformation-1",
                    "extension": [
                        {
                            "url": "numberOfRepeatPrescriptionsAllowed",
                            "valuePositiveInt": med.repeats_allowed,
                        }
                    ],
                }
            )
        if status == "stopped":
            plan["extension"].append(
                {
                    "url": SD + "Extension-CareConnect-GPC-MedicationStatusReason-1",
                    "extension": [
                        {
                            "url": "statusChangeDate",
                            "valueDateTime": _fhir_date(med.ended or med.started),
                        },
                        {
                            "url": "statusReason",
                            "valueCodeableConcept": {"text": "Stopped by prescriber"},
                        },
                    ],
                }
            )
        agency = (
            ("prescribed-by-another-organisation", "Prescribed by another organisation")
            if med.prescribed_elsewhere
            else ("prescribed-at-gp-practice", "Prescribed at GP practice")
        )
        effective: dict[str, str] = {"start": _fhir_date(med.started)}
        if med.ended:
            effective["end"] = _fhir_date(med.ended)
        statement_ext: list[dict] = []
        if med.last_issued:
            statement_ext.append(
                {
                    "url": SD + "Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1",
                    "valueDateTime": _fhir_date(med.last_issued),
                }
            )
        statement_ext.append(
            {
                "url": SD + "Extension-CareConnect-GPC-PrescribingAgency-1",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescribingAgency-1",
                            "code": agency[0],
                            "display": agency[1],
                        }
                    ]
                },
            }
        )
        statement: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": self._id("medication-statement", med.id),
            "meta": self._meta("CareConnect-GPC-MedicationStatement-1"),
            "extension": statement_ext,
            "identifier": self._identifier(med.id),
            "basedOn": [{"reference": f"MedicationRequest/{plan_id}"}],
            "status": status,
            "medicationReference": {"reference": medication_ref},
            "effectivePeriod": effective,
            "dateAsserted": _fhir_date(med.started),
            "subject": {"reference": self.patient_ref},
            "taken": "unk",
            "dosage": [dosage],
        }
        if notes:
            statement["note"] = notes
        medication = {
            "resourceType": "Medication",
            "id": medication_ref.split("/")[1],
            "meta": self._meta("CareConnect-GPC-Medication-1"),
            "code": _concept(med.medicine),
        }
        rest = [plan, medication]
        if with_issues and med.last_issued and not med.prescribed_elsewhere:
            issue = {key: value for key, value in plan.items() if key != "note"}
            issue_id = self._id("medication-issue", med.id)
            issue.update(
                {
                    "id": issue_id,
                    "intent": "order",
                    "identifier": self._identifier(f"{med.id}-issue"),
                    "basedOn": [{"reference": f"MedicationRequest/{plan_id}"}],
                    "authoredOn": _fhir_date(med.last_issued),
                    "status": "completed",
                    "extension": [prescription_type],
                    "dispenseRequest": {
                        **dispense,
                        "validityPeriod": {"start": _fhir_date(med.last_issued)},
                    },
                }
            )
            rest.append(issue)
        return statement, rest

    # --- problems ---------------------------------------------------------------------------------

    def _problems(self, options: dict) -> list[dict]:
        status = options.get("filterStatus")
        significance = options.get("filterSignificance")
        conditions = [
            self._condition(p)
            for p in self.record.problems
            if (status is None or (status == "active") == p.active)
            and (significance is None or p.significance == significance)
        ]
        refs = (f"Condition/{c['id']}" for c in conditions)
        return [self._list(Area.PROBLEMS, refs, Area.PROBLEMS), *conditions]

    def _condition(self, problem: SynthProblem) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": self._id("problem", problem.id),
            "meta": self._meta("CareConnect-GPC-ProblemHeader-Condition-1"),
            "extension": [
                {
                    "url": _CC_EXT + "Extension-CareConnect-ProblemSignificance-1",
                    "valueCode": problem.significance,
                }
            ],
            "identifier": self._identifier(problem.id),
            "clinicalStatus": "active" if problem.active else "inactive",
            "category": [
                {
                    "coding": [
                        {
                            "system": "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-ConditionCategory-1",
                            "code": "problem-list-item",
                            "display": "Problem List Item",
                        }
                    ]
                }
            ],
            "code": _concept(problem.condition),
            "subject": {"reference": self.patient_ref},
            "assertedDate": _fhir_date(problem.onset or self.registered),
            "asserter": {"reference": self._clinician_ref(None)},
        }
        if problem.onset:
            resource["onsetDateTime"] = _fhir_date(problem.onset)
        if problem.abated:
            resource["abatementDateTime"] = _fhir_date(problem.abated)
        if problem.note:
            resource["note"] = [{"text": problem.note}]
        return resource

    # --- consultations ----------------------------------------------------------------------------

    def _consultations(self, options: dict) -> list[dict]:
        period = options.get("consultationSearchPeriod")
        chosen = [e for e in self.record.encounters if _in_period(_day(e.start), period)]
        if "includeNumberOfMostRecent" in options:
            chosen = sorted(chosen, key=lambda e: _aware(e.start), reverse=True)[
                : options["includeNumberOfMostRecent"]
            ]
        out: list[dict] = []
        encounter_refs: list[str] = []
        for encounter in chosen:
            resources = self._consultation(encounter)
            encounter_refs.append(f"Encounter/{resources[0]['id']}")
            out.extend(resources)
        return [self._list(Area.CONSULTATIONS, encounter_refs, Area.CONSULTATIONS), *out]

    def _consultation(self, encounter: SynthEncounter) -> list[dict]:
        """Encounter + consultation List -> topic List -> category List -> note Observation."""
        enc_id = self._id("encounter", encounter.id)
        enc_ref = {"reference": f"Encounter/{enc_id}"}
        clinician = self._clinician_ref(encounter.clinician)
        period: dict[str, str] = {"start": _fhir_date(encounter.start)}
        if encounter.end:
            period["end"] = _fhir_date(encounter.end)
        title = (
            "Surgery Consultation" if encounter.kind == "consultation" else encounter.kind.title()
        )
        resource: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": enc_id,
            "meta": self._meta("CareConnect-GPC-Encounter-1"),
            "identifier": self._identifier(encounter.id),
            "status": encounter.status
            if encounter.status in ("finished", "in-progress")
            else "finished",
            "type": [{"text": title}],
            "subject": {"reference": self.patient_ref},
            "participant": [
                {
                    "type": [
                        {
                            "coding": [
                                {
                                    "system": "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-ParticipantType-1",
                                    "code": "PPRF",
                                    "display": "primary performer",
                                }
                            ]
                        }
                    ],
                    "individual": {"reference": clinician},
                }
            ],
            "period": period,
        }
        if encounter.reason:
            resource["reason"] = [_concept(encounter.reason)]
        when = _fhir_date(encounter.start)

        def structure_list(
            kind: str, code: str, display: str, list_title: str, refs: list[str]
        ) -> dict:
            item: dict[str, Any] = {
                "resourceType": "List",
                "id": self._id(kind, encounter.id),
                "meta": self._meta("CareConnect-GPC-List-1"),
                "status": "current",
                "mode": "snapshot",
                "title": list_title,
                "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                "subject": {"reference": self.patient_ref},
                "encounter": enc_ref,
                "date": when,
                "orderedBy": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/list-order",
                            "code": "system",
                            "display": "Sorted by System",
                        }
                    ]
                },
            }
            if refs:
                item["entry"] = [{"item": {"reference": r}} for r in refs]
            else:
                item["emptyReason"] = {
                    "coding": [
                        {
                            "system": EMPTY_REASON_SYSTEM,
                            "code": "no-content-recorded",
                            "display": "No Content Recorded",
                        }
                    ]
                }
                item["note"] = [{"text": EMPTY_NOTE}]
            return item

        out = [resource]
        if encounter.note or encounter.reason:
            obs_id = self._id("consultation-note", encounter.id)
            note = {
                "resourceType": "Observation",
                "id": obs_id,
                "meta": self._meta("CareConnect-GPC-Observation-1"),
                "identifier": self._identifier(f"{encounter.id}-note"),
                "status": "final",
                "code": _concept(encounter.reason)
                if encounter.reason
                else {"text": "Consultation note"},
                "subject": {"reference": self.patient_ref},
                "context": enc_ref,
                "effectiveDateTime": when,
                "performer": [{"reference": clinician}],
            }
            if encounter.note:
                note["comment"] = encounter.note
            category = structure_list(
                "consultation-category",
                "24781000000107",
                "Category (EHR)",
                "History",
                [f"Observation/{obs_id}"],
            )
            topic_title = encounter.reason.display if encounter.reason else title
            topic = structure_list(
                "consultation-topic",
                "25851000000105",
                "Topic (EHR)",
                topic_title,
                [f"List/{category['id']}"],
            )
            consultation = structure_list(
                "consultation", "325851000000107", "Consultation", title, [f"List/{topic['id']}"]
            )
            out.extend((consultation, topic, category, note))
        else:
            out.append(structure_list("consultation", "325851000000107", "Consultation", title, []))
        return out

    # --- immunisations ----------------------------------------------------------------------------

    def _immunisations(self, options: dict) -> list[dict]:
        include_not_given = options.get("includeNotGiven", False)
        items = [
            self._immunisation(i)
            for i in self.record.immunisations
            if include_not_given or i.status == "completed"
        ]
        refs = (f"Immunization/{i['id']}" for i in items)
        return [self._list(Area.IMMUNISATIONS, refs, Area.IMMUNISATIONS), *items]

    def _immunisation(self, item: SynthImmunisation) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Immunization",
            "id": self._id("immunisation", item.id),
            "meta": self._meta("CareConnect-GPC-Immunization-1"),
            "extension": [
                {
                    "url": _CC_EXT + "Extension-CareConnect-DateRecorded-1",
                    "valueDateTime": _fhir_date(item.given),
                }
            ],
            "identifier": self._identifier(item.id),
            "status": "completed",
            "notGiven": item.status != "completed",
            "vaccineCode": _concept(item.vaccine),
            "patient": {"reference": self.patient_ref},
            "date": _fhir_date(item.given),
            "primarySource": True,
            "practitioner": [{"actor": {"reference": self._clinician_ref(None)}}],
        }
        if item.dose_number:
            resource["vaccinationProtocol"] = [
                {
                    "doseSequence": item.dose_number,
                    "targetDisease": [{"text": item.vaccine.display}],
                    "doseStatus": {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/vaccination-protocol-dose-status",
                                "code": "count",
                                "display": "Counts",
                            }
                        ]
                    },
                }
            ]
        return resource

    # --- observations -----------------------------------------------------------------------------

    def _observation(self, obs: SynthObservation) -> dict:
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": self._id("observation", obs.id),
            "meta": self._meta("CareConnect-GPC-Observation-1"),
            "identifier": self._identifier(obs.id),
            "status": "final",
            "code": _concept(obs.test),
            "subject": {"reference": self.patient_ref},
            "effectiveDateTime": _fhir_date(obs.effective),
            "issued": _fhir_date(obs.effective),
            "performer": [{"reference": self.org_ref}],
        }
        if obs.value is not None:
            quantity: dict[str, Any] = {"value": obs.value}
            if obs.unit:
                quantity["unit"] = obs.unit
            resource["valueQuantity"] = quantity
        elif obs.text_value is not None:
            resource["valueString"] = obs.text_value
        if obs.ref_low is not None or obs.ref_high is not None:
            ranges: dict[str, Any] = {}
            for key, bound in (("low", obs.ref_low), ("high", obs.ref_high)):
                if bound is not None:
                    ranges[key] = {"value": bound, **({"unit": obs.unit} if obs.unit else {})}
            resource["referenceRange"] = [ranges]
        return resource

    def _uncategorised(self, options: dict) -> list[dict]:
        period = options.get("uncategorisedDataSearchPeriod")
        items = [
            self._observation(o)
            for o in self.record.observations
            if o.report_id is None and _in_period(_day(o.effective), period)
        ]
        refs = (f"Observation/{o['id']}" for o in items)
        return [self._list(Area.UNCATEGORISED, refs, Area.UNCATEGORISED), *items]

    def _investigations(self, options: dict) -> list[dict]:
        period = options.get("investigationSearchPeriod")
        reports: dict[str, list[SynthObservation]] = {}
        for obs in self.record.observations:
            if obs.report_id is not None:
                reports.setdefault(obs.report_id, []).append(obs)
        out: list[dict] = []
        refs: list[str] = []
        for report_id, results in reports.items():
            issued = max((o.effective for o in results), key=_aware)
            if not _in_period(_day(issued), period):
                continue
            observations = [self._observation(o) for o in results]
            for observation in observations:
                observation["category"] = [
                    {"coding": [{"system": SNOMED, "code": "394595002", "display": "Pathology"}]}
                ]
            report = {
                "resourceType": "DiagnosticReport",
                "id": self._id("report", report_id),
                "meta": self._meta("CareConnect-GPC-DiagnosticReport-1"),
                "identifier": self._identifier(report_id),
                "status": "final",
                "code": {
                    "coding": [
                        {
                            "system": SNOMED,
                            "code": "721981007",
                            "display": "Diagnostic studies report",
                        }
                    ],
                    "text": results[0].report_name or "Diagnostic studies report",
                },
                "subject": {"reference": self.patient_ref},
                "issued": _fhir_date(issued),
                "performer": [{"actor": {"reference": self.org_ref}}],
                "result": [{"reference": f"Observation/{o['id']}"} for o in observations],
            }
            refs.append(f"DiagnosticReport/{report['id']}")
            out.append(report)
            out.extend(observations)
        return [self._list(Area.INVESTIGATIONS, refs, Area.INVESTIGATIONS), *out]

    # --- referrals and diary ----------------------------------------------------------------------

    def _referrals(self, options: dict) -> list[dict]:
        period = options.get("referralSearchPeriod")
        items = [self._referral(r) for r in self.record.referrals if _in_period(r.authored, period)]
        refs = (f"ReferralRequest/{r['id']}" for r in items)
        return [self._list(Area.REFERRALS, refs, Area.REFERRALS), *items]

    def _referral(self, referral: SynthReferral) -> dict:
        statuses = (
            "draft",
            "active",
            "suspended",
            "cancelled",
            "completed",
            "entered-in-error",
            "unknown",
        )
        resource: dict[str, Any] = {
            "resourceType": "ReferralRequest",
            "id": self._id("referral", referral.id),
            "meta": self._meta("CareConnect-GPC-ReferralRequest-1"),
            "identifier": self._identifier(referral.id),
            "status": referral.status if referral.status in statuses else "unknown",
            "intent": "order",
            "subject": {"reference": self.patient_ref},
            "authoredOn": _fhir_date(referral.authored),
            "requester": {
                "agent": {"reference": self._clinician_ref(None)},
                "onBehalfOf": {"reference": self.org_ref},
            },
            "recipient": [{"display": referral.to_service}],
            "description": f"Referral to {referral.to_service}",
        }
        if referral.priority in ("routine", "urgent", "asap", "stat"):
            resource["priority"] = referral.priority
        if referral.reason:
            resource["reasonCode"] = [_concept(referral.reason)]
        return resource

    def _diary_entries(self, options: dict) -> list[dict]:
        return [self._list(DIARY_ENTRIES, (), DIARY_ENTRIES)]
