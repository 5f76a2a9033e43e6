"""Where an item came from: every clinical item carries one, so its source and age are always visible."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from viewer.domain.record_value import RecordValue


class SourceKind(StrEnum):
    GP = "gp"
    HOSPITAL = "hospital"
    PDS = "pds"

    @property
    def label(self) -> str:
        return {"gp": "GP", "hospital": "Hospital", "pds": "PDS"}[self.value]


class Provenance(RecordValue):
    """Source system, organisation, FHIR resource and retrieval time of an item (GP Connect STR02/03/05)."""

    source: SourceKind
    resource_type: str
    resource_id: str | None
    retrieved_at: datetime
    org_ods: str | None = None
    org_name: str | None = None
    warnings: tuple[str, ...] = ()
    # Other resources of the same source the item was built from, as (resource type, logical id): a GP
    # medicine's MedicationRequest plan and Medication, so every resource behind an item can be traced.
    related: tuple[tuple[str, str], ...] = ()
    # The resource's own narrative (`text.div`) exactly as the source sent it: untrusted markup, shown only
    # through viewer.record.narrative.safe_html. None when the source sent none.
    narrative: str | None = None
