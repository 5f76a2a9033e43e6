"""The request side of `$gpc.getstructuredrecord`: a Parameters resource checked against the
GetStructuredRecord-Operation-1 OperationDefinition and the retrieve page's rules.

Unrecognised parameters and part parameters are collected, not refused: the provider answers them with
NOT_IMPLEMENTED warnings inside a 200 Bundle (forwards compatibility page), and 422 INVALID_PARAMETER
only when nothing at all is recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from viewer.sandbox.fhir_values import NHS_NUMBER_SYSTEM
from viewer.sandbox.gpconnect_errors import GpcError
from viewer.sandbox.nhs_numbers import is_valid_nhs_number
from viewer.sandbox.world import Area

DIARY_ENTRIES = "includeDiaryEntries"  # in the OperationDefinition, though the world has no diary

_FHIR_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

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

