"""What every STU3 item mapper needs from the rest of the Bundle: references, people's names, provenance.

Kept apart from the mappers so each of them stays a small pure function of (resource, context).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from viewer.domain.coding import Concept
from viewer.domain.dates import PartialDate
from viewer.domain.provenance import Provenance, SourceKind
from viewer.sources.fhir_common import (
    ResourceIndex,
    as_dict,
    as_list,
    as_text,
    concept,
    human_name,
    reference_key,
)
from viewer.sources.stu3_values import Value, components_text, value_of


class Unmappable(Exception):
    """A resource that cannot be shown; `reason` is fixed text with no patient data in it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def resource_id(resource: dict[str, Any]) -> str | None:
    """The logical id as sent: ids that break the FHIR id pattern are kept, not rejected (vendor data).
    A blank string or a number is no id, as the hospital mapper reads it: a reference (always text)
    could never name it, and an item must not claim an id its resource does not have."""
    value = resource.get("id")
    if isinstance(value, str) and value.strip():
        return value
    return None


@dataclass(slots=True)
class Stu3Context:
    """One mapping run. `dates` and `concepts` cache what this run has read: a GP record repeats the same
    dates and codes many times, and a consultation's text reads the same items the mappers read."""

    index: ResourceIndex
    retrieved_at: datetime
    org_ods: str | None = None
    org_name: str | None = None
    warnings_by_item: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    dates: dict[str, PartialDate | None] = field(default_factory=dict)
    concepts: dict[tuple[Any, ...], Concept] = field(default_factory=dict)
    readings: dict[int, tuple[Concept, Value, str | None]] = field(default_factory=dict)
    names: dict[tuple[Any, Any], str | None] = field(default_factory=dict)

    def reading(self, observation: dict[str, Any]) -> tuple[Concept, Value, str | None]:
        """(test, value, multi-part text) of an Observation, read once per run: the results list and
        the text of the consultation it was recorded in both show them. Keyed by identity, which is
        safe because the Bundle's dicts outlive the run; the multi-part text is only read when there
        is no plain value, the only case anyone shows it."""
        key = id(observation)
        found = self.readings.get(key)
        if found is None:
            value = value_of(observation)
            parts = None if value.text or "component" not in observation else components_text(observation)
            found = self.readings[key] = (self.concept(observation.get("code")), value, parts)
        return found

    def date(self, value: Any) -> PartialDate | None:
        """`fhir_common.partial_date`, parsed once per distinct text in this run."""
        if not isinstance(value, str):
            return None
        dates = self.dates  # checked with `in`, not try/except: most dates are new, and raising is slow
        if value not in dates:
            dates[value] = PartialDate.parse(value)
        return dates[value]

    def first_date(self, resource: dict[str, Any], *names: str) -> PartialDate | None:
        """`fhir_common.first_date` through the run's date cache."""
        for name in names:
            value = resource.get(name)
            if isinstance(value, dict):  # a Period: when it began, else when it ended
                found = self.date(value.get("start")) or self.date(value.get("end"))
            else:
                found = self.date(value)
            if found is not None:
                return found
        return None

    def concept(self, value: Any) -> Concept:
        """`fhir_common.concept`, shared between equal concepts (a record names the same medicines,
        roles and tests again and again). Only text and each coding's system, code and display shape a
        Concept, so equal keys give equal Concepts; anything unusual takes the plain reader."""
        if not isinstance(value, dict):
            return concept(value)
        codings = value.get("coding")
        if codings is None:
            key: tuple[Any, ...] = (value.get("text"),)
        elif isinstance(codings, list):
            # (text, (system, code, display), ...), built without a generator: every item reads concepts
            parts: list[Any] = [value.get("text")]
            for c in codings:
                if not isinstance(c, dict):
                    return concept(value)
                parts.append((c.get("system"), c.get("code"), c.get("display")))
            key = tuple(parts)
        else:
            return concept(value)
        try:
            found = self.concepts.get(key)
        except TypeError:  # an unhashable (malformed) part: read it the plain way
            return concept(value)
        if found is None:
            found = self.concepts[key] = concept(value)
        return found

    def provenance(
        self, resource_type: str, rid: str | None, related: tuple[tuple[str, str], ...] = ()
    ) -> Provenance:
        warnings = self.warnings_by_item.get((resource_type, rid), ()) if rid is not None else ()
        return Provenance(
            source=SourceKind.GP,
            resource_type=resource_type,
            resource_id=rid,
            retrieved_at=self.retrieved_at,
            org_ods=self.org_ods,
            org_name=self.org_name,
            warnings=warnings,
            related=related,
        )

    def person_name(self, reference: Any) -> str | None:
        """The name behind a recorder/asserter/prescriber reference: Practitioner directly, through a
        PractitionerRole, or an Organization's name; the reference's display when it dangles. Only the
        reference and its display decide the answer, so it is worked out once per pair in a run (the
        same few clinicians recorded most of a record)."""
        if not isinstance(reference, dict):
            return None
        key = (reference.get("reference"), reference.get("display"))
        try:
            known = key in self.names
        except TypeError:  # an unhashable (malformed) part: read it the plain way
            return self._person_name(reference)
        if not known:
            self.names[key] = self._person_name(reference)
        return self.names[key]

    def _person_name(self, reference: dict[str, Any]) -> str | None:
        target = self.index.target(reference)
        if target is not None:
            rtype = target["resourceType"]
        else:
            rtype, rid = reference_key(reference)
            target = self.index.get(rtype, rid) if rtype else None
        display = as_text(reference.get("display"))
        if target is None:
            return display
        if rtype == "PractitionerRole":
            practitioner = self.index.resolve(target.get("practitioner"), "Practitioner")
            if practitioner is None:
                return as_text(as_dict(target.get("practitioner")).get("display")) or display
            target, rtype = practitioner, "Practitioner"
        if rtype == "Practitioner":
            names = as_list(target.get("name"))
            return human_name(names[0]) if names else display
        return as_text(target.get("name")) or display
