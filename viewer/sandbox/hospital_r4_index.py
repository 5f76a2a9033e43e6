"""What the hospital server searches: the types it serves, their search parameters, and each resource
paired with the values those parameters compare.

The keys (status, category tokens, the date `date=` compares) are worked out once, where the source
values are still typed, so the server filters without re-parsing FHIR dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

# Every type the server searches, in the order the CapabilityStatement lists them (Patient apart).
SEARCH_TYPES: tuple[str, ...] = (
    "AllergyIntolerance",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Encounter",
    "EpisodeOfCare",
    "Observation",
    "DiagnosticReport",
    "Immunization",
    "DocumentReference",
    "Flag",
)

# Search parameters beyond patient/subject/_count, per type: (name, FHIR search param type).
TYPE_SEARCH_PARAMS: MappingProxyType[str, tuple[tuple[str, str], ...]] = MappingProxyType({
    "AllergyIntolerance": (("clinical-status", "token"), ("category", "token"), ("date", "date")),
    "Condition": (("clinical-status", "token"), ("category", "token")),
    "MedicationRequest": (("status", "token"), ("category", "token"), ("date", "date")),
    "MedicationStatement": (("status", "token"), ("category", "token"), ("date", "date")),
    "Encounter": (("status", "token"), ("class", "token"), ("date", "date")),
    "EpisodeOfCare": (("status", "token"), ("date", "date")),
    "Observation": (("category", "token"), ("status", "token"), ("date", "date")),
    "DiagnosticReport": (("category", "token"), ("status", "token"), ("date", "date")),
    "Immunization": (("status", "token"), ("date", "date")),
    "DocumentReference": (("status", "token"), ("date", "date")),
    "Flag": (("status", "token"), ("category", "token"), ("date", "date")),
})


@dataclass(frozen=True, slots=True)
class SearchKeys:
    """What the server's search parameters compare for one resource."""

    status: str | None = None
    categories: frozenset[str] = frozenset()  # both "code" and "system|code"
    when: datetime | None = None  # UTC; what `date=` compares


@dataclass(frozen=True, slots=True)
class Indexed:
    resource: dict[str, Any]
    keys: SearchKeys


@dataclass(frozen=True, slots=True)
class HospitalPatientRecord:
    """Everything the hospital serves for one patient; `resources` has a (maybe empty) entry per type."""

    patient_id: str
    nhs_number: str
    mrn: str
    patient: dict[str, Any]
    resources: dict[str, tuple[Indexed, ...]]

    def find(self, rtype: str, rid: str) -> dict[str, Any] | None:
        for item in self.resources.get(rtype, ()):
            if item.resource["id"] == rid:
                return item.resource
        return None


def category_tokens(concepts: Iterable[dict[str, Any]]) -> frozenset[str]:
    """Both token forms a `category=` search may use: the bare code and `system|code`."""
    tokens: set[str] = set()
    for concept in concepts:
        for coding in concept.get("coding", ()):
            tokens.add(coding["code"])
            tokens.add(f"{coding['system']}|{coding['code']}")
    return frozenset(tokens)


def newest_first(items: list[Indexed]) -> tuple[Indexed, ...]:
    """Newest first, as a ward wants them; undated items last; ties by id so paging is stable."""
    floor = datetime.min.replace(tzinfo=UTC)
    items.sort(key=lambda i: i.resource["id"])
    items.sort(key=lambda i: i.keys.when or floor, reverse=True)
    return tuple(items)
