"""FHIR values the sandbox's GP Connect (STU3) and hospital (R4) writers both put in resources.

National identifier systems, dates and addresses are written the same way in either FHIR version; one
definition keeps the two servers from drifting apart where the specifications agree. Everything that
differs between the versions (codings, names, profiles) stays with its own writer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from viewer.sandbox.world import SNOMED, Code

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SDS_USER_SYSTEM = "https://fhir.nhs.uk/Id/sds-user-id"

NO_KNOWN_ALLERGY = Code(SNOMED, "716186003", "No known allergy")
DIAGNOSTIC_STUDIES_REPORT = Code(SNOMED, "721981007", "Diagnostic studies report")


def fhir_instant(value: datetime) -> str:
    """A FHIR dateTime with seconds and a zone; the world's naive times are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


def fhir_date_time(value: date | datetime) -> str:
    """A whole date stays a FHIR date; a time becomes a zoned dateTime, so no precision is invented."""
    return fhir_instant(value) if isinstance(value, datetime) else value.isoformat()


def as_utc(value: date | datetime) -> datetime:
    """A date or time as an aware UTC datetime (a date is its midnight), for ordering and `date=`."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def codeable(system: str, code: str, display: str) -> dict[str, Any]:
    """A CodeableConcept of one coding and no text: the shape of FHIR's fixed value sets."""
    return {"coding": [coding(system, code, display)]}


def address(lines: tuple[str, ...], postcode: str | None, **fixed: str) -> dict[str, Any] | None:
    """An Address with `fixed` elements (use, type) first, or None when there is nothing to write."""
    if not (lines or postcode):
        return None
    out: dict[str, Any] = dict(fixed)
    if lines:
        out["line"] = list(lines)
    if postcode:
        out["postalCode"] = postcode
    return out
