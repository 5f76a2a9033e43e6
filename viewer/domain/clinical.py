"""Clinical items shown by the viewer. Every one carries its Provenance; fields are kept as given."""

from __future__ import annotations

from viewer.domain.coding import Concept
from viewer.domain.dates import PartialDate
from viewer.domain.provenance import Provenance
from viewer.domain.record_value import RecordValue


class Reaction(RecordValue):
    manifestations: tuple[Concept, ...] = ()
    severity: str | None = None
    description: str | None = None
    onset: PartialDate | None = None


class Allergy(RecordValue):
    """An allergy or adverse reaction. `no_known_allergies` marks a coded 'no known allergies' entry,
    which is different from an empty list (CLINICAL.md)."""

    substance: Concept
    provenance: Provenance
    clinical_status: str | None = None  # active / inactive / resolved
    verification_status: str | None = None
    category: tuple[str, ...] = ()
    criticality: str | None = None
    asserted: PartialDate | None = None
    onset: PartialDate | None = None
    recorder: str | None = None
    notes: tuple[str, ...] = ()
    end_date: PartialDate | None = None
    end_reason: str | None = None
    reactions: tuple[Reaction, ...] = ()
    no_known_allergies: bool = False
    # With no_known_allergies: what the statement covers ("all", "drug", "food", ...; see allergy_negation)
    negation_scope: str | None = None

    @property
    def covers_all_allergies(self) -> bool:
        """True only for a statement of no known allergy of any kind."""
        return self.no_known_allergies and self.negation_scope in (None, "all")

    @property
    def is_active(self) -> bool:
        """Resolved allergies count for nothing in safety checks; an unknown status is treated as active."""
        if self.no_known_allergies:
            return False
        return self.clinical_status not in ("resolved", "inactive") and self.end_date is None


class Medication(RecordValue):
    """A medicine from either record; `kind` is acute / repeat / repeat-dispensing as the source says."""

    name: Concept
    provenance: Provenance
    status: str | None = None
    kind: str | None = None
    dosage: str | None = None
    quantity: str | None = None
    started: PartialDate | None = None
    ended: PartialDate | None = None
    last_issued: PartialDate | None = None
    prescriber: str | None = None
    patient_notes: tuple[str, ...] = ()
    prescriber_notes: tuple[str, ...] = ()
    prescribed_elsewhere: bool = False
    transfer_degraded: bool = False

    @property
    def is_current(self) -> bool:
        return self.status in (None, "active", "intended", "on-hold")


class Problem(RecordValue):
    condition: Concept
    provenance: Provenance
    clinical_status: str | None = None
    significance: str | None = None
    onset: PartialDate | None = None
    abated: PartialDate | None = None
    notes: tuple[str, ...] = ()


class RecordWarning(RecordValue):
    """A warning the source put on the record (List warning codes, areas not supplied, withheld items)."""

    code: str
    message: str
    provenance: Provenance
    area: str | None = None


class Unreadable(RecordValue):
    """A resource that could not be mapped: counted and shown, never silently dropped; no patient data."""

    source: str
    resource_type: str
    resource_id: str | None
    reason: str
