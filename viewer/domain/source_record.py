"""What one source returned for one patient, already mapped. The merge combines these per source."""

from __future__ import annotations

from datetime import datetime

from viewer.domain.clinical import Allergy, Medication, Problem, RecordWarning, Unreadable
from viewer.domain.events import Document, Encounter, Flag, Immunisation, Observation, Referral, Report
from viewer.domain.patient import Patient
from viewer.domain.provenance import SourceKind
from viewer.domain.record_value import RecordValue


class SourceRecord(RecordValue):
    """`allergies_supplied` is False when the source did not supply the allergy area at all (then the
    banner must say 'Allergies unavailable', never 'not recorded')."""

    source: SourceKind
    retrieved_at: datetime
    patient: Patient | None
    org_ods: str | None = None
    org_name: str | None = None
    allergies: tuple[Allergy, ...] = ()
    allergies_supplied: bool = True
    medications: tuple[Medication, ...] = ()
    problems: tuple[Problem, ...] = ()
    encounters: tuple[Encounter, ...] = ()
    observations: tuple[Observation, ...] = ()
    reports: tuple[Report, ...] = ()
    immunisations: tuple[Immunisation, ...] = ()
    referrals: tuple[Referral, ...] = ()
    documents: tuple[Document, ...] = ()
    flags: tuple[Flag, ...] = ()
    warnings: tuple[RecordWarning, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    missing_areas: tuple[str, ...] = ()
