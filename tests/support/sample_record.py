"""A small combined record whose FHIR text carries markup, for the printing and export tests."""

from __future__ import annotations

from datetime import UTC, datetime

from viewer.domain import (
    Allergy,
    Concept,
    HumanName,
    Medication,
    PartialDate,
    Patient,
    Provenance,
    SourceKind,
)
from viewer.domain.source_record import SourceRecord
from viewer.record.combined import CombinedRecord, combine
from viewer.record.status import SourceState, SourceStatus

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
NHS = "9990000018"
SCRIPT_DRUG = "<script>alert('x')</script>Amoxicillin & co"
IMG_ALLERGY = "<img src=x onerror=alert(1)>Penicillin"
GP_ORG = ("Y90001", "Test Surgery")
HOSPITAL_ORG = ("RWV99", "Wardview Sandbox Hospital")


def _prov(source: SourceKind, rtype: str, rid: str) -> Provenance:
    ods, name = GP_ORG if source is SourceKind.GP else HOSPITAL_ORG
    return Provenance(source, rtype, rid, NOW, org_ods=ods, org_name=name)


def hostile_record() -> CombinedRecord:
    """GP and hospital loaded; a medicine and an allergy whose names are markup."""
    patient = Patient(NHS, HumanName("O'Brien <b>", ("Siân",), ("Ms",)), "female", PartialDate(1950, 3, 4),
                      _prov(SourceKind.PDS, "Patient", NHS))
    gp = SourceRecord(
        SourceKind.GP, NOW, patient, *GP_ORG,
        allergies=(Allergy(Concept(IMG_ALLERGY), _prov(SourceKind.GP, "AllergyIntolerance", "a1"),
                           clinical_status="active"),),
        medications=(Medication(Concept(SCRIPT_DRUG), _prov(SourceKind.GP, "MedicationStatement", "m1"),
                                dosage="1 <tablet> three times a day"),),
    )
    hospital = SourceRecord(
        SourceKind.HOSPITAL, NOW, patient, *HOSPITAL_ORG,
        medications=(Medication(Concept("Paracetamol 500mg tablets"),
                                _prov(SourceKind.HOSPITAL, "MedicationRequest", "h1"), dosage="1g QDS"),),
    )
    statuses = {
        SourceKind.PDS: SourceStatus(SourceKind.PDS, SourceState.LOADED, NOW),
        SourceKind.GP: SourceStatus(SourceKind.GP, SourceState.LOADED, NOW),
        SourceKind.HOSPITAL: SourceStatus(SourceKind.HOSPITAL, SourceState.LOADED, NOW),
    }
    return combine(patient, statuses, gp, hospital)
