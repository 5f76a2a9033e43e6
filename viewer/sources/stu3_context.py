"""What every STU3 item mapper needs from the rest of the Bundle: references, people's names, provenance.

Kept apart from the mappers so each of them stays a small pure function of (resource, context).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from viewer.domain.provenance import Provenance, SourceKind
from viewer.sources.fhir_common import (
    ResourceIndex,
    as_dict,
    as_list,
    as_text,
    human_name,
    reference_key,
)


class Unmappable(Exception):
    """A resource that cannot be shown; `reason` is fixed text with no patient data in it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def resource_id(resource: dict[str, Any]) -> str | None:
    """The logical id as sent: ids that break the FHIR id pattern are kept, not rejected (vendor data)."""
    value = resource.get("id")
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


@dataclass(slots=True)
class Stu3Context:
    index: ResourceIndex
    retrieved_at: datetime
    org_ods: str | None = None
    org_name: str | None = None
    warnings_by_item: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

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
        PractitionerRole, or an Organization's name; the reference's display when it dangles."""
        rtype, rid = reference_key(reference)
        display = as_text(as_dict(reference).get("display"))
        target = self.index.get(rtype, rid) if rtype else None
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
