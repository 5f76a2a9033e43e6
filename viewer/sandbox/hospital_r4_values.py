"""UK Core R4 spellings the hospital writers share: profile and code system bases, and the builders of
codings, names, periods and narrative in the shape UK Core expects.
"""

from __future__ import annotations

from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from viewer.sandbox.fhir_values import codeable, fhir_date_time
from viewer.sandbox.world import Code, Name

PROFILE_BASE = "https://fhir.hl7.org.uk/StructureDefinition/"
EXTENSION_BASE = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-"
UKCORE_CODESYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-"
HL7_CODESYSTEM = "http://terminology.hl7.org/CodeSystem/"

_PROFILE = MappingProxyType({
    "Patient": "UKCore-Patient",
    "AllergyIntolerance": "UKCore-AllergyIntolerance",
    "Condition": "UKCore-Condition",
    "MedicationRequest": "UKCore-MedicationRequest",
    "MedicationStatement": "UKCore-MedicationStatement",
    "Encounter": "UKCore-Encounter",
    "EpisodeOfCare": "UKCore-EpisodeOfCare",
    "DiagnosticReport": "UKCore-DiagnosticReport-Lab",
    "Immunization": "UKCore-Immunization",
    "DocumentReference": "UKCore-DocumentReference",
    "Flag": "UKCore-Flag",
})


def profile_meta(rtype: str) -> dict[str, Any]:
    """Resource.meta claiming the UK Core profile of a resource type."""
    return {"profile": [PROFILE_BASE + _PROFILE[rtype]]}


def coding(code: Code) -> dict[str, str]:
    return {"system": code.system, "code": code.code, "display": code.display}


def concept(code: Code) -> dict[str, Any]:
    return {"coding": [coding(code)], "text": code.display}


def hl7(system: str, code: str, display: str) -> dict[str, Any]:
    """A concept from one of HL7's terminology code systems, named without its base URL."""
    return codeable(HL7_CODESYSTEM + system, code, display)


def person_name(name: Name) -> str:
    return " ".join(p for p in (name.prefix, *name.given, name.family) if p)


def human_name(name: Name) -> dict[str, Any]:
    out: dict[str, Any] = {"use": "official", "family": name.family}
    if name.given:
        out["given"] = list(name.given)
    if name.prefix:
        out["prefix"] = [name.prefix]
    return out


def period(start: date | datetime | None, end: date | datetime | None) -> dict[str, str]:
    out = {}
    if start is not None:
        out["start"] = fhir_date_time(start)
    if end is not None:
        out["end"] = fhir_date_time(end)
    return out


def xhtml(text: str) -> str:
    """Narrative for free text R4 has no element for; escaped, as a narrative div must be XHTML."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{escaped}</div>'
