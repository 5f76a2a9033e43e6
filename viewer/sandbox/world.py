"""The sandbox's synthetic world: patients, practices, clinicians and what each system holds about them.

This is the sandbox's own model, written independently of `viewer.domain` on purpose: the servers turn it
into FHIR themselves, so a misreading of a specification cannot hide by being made twice (ARCHITECTURE.md).
The generator in `viewer.sandbox.population` fills it deterministically from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
LOINC = "http://loinc.org"


@dataclass(frozen=True, slots=True)
class Code:
    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Name:
    family: str
    given: tuple[str, ...]
    prefix: str | None = None


@dataclass(frozen=True, slots=True)
class Demographics:
    """What one system records about who the patient is. PDS, GP and hospital may disagree."""

    name: Name
    gender: str  # male | female | other | unknown
    birth_date: date
    address: tuple[str, ...] = ()
    postcode: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Clinician:
    """A recorder / prescriber inside a record (not a sign-in user)."""

    id: str
    name: Name
    sds_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class SynthAllergy:
    id: str
    substance: Code
    clinical_status: str  # active | resolved
    verification_status: str  # confirmed | unconfirmed
    category: str  # medication | environment | food
    asserted: date
    recorder: Clinician | None = None
    onset: date | None = None
    note: str | None = None
    end_date: date | None = None
    end_reason: str | None = None
    reaction: Code | None = None
    severity: str | None = None  # mild | moderate | severe
    criticality: str | None = None  # low | high | unable-to-assess


@dataclass(frozen=True, slots=True)
class SynthMedication:
    id: str
    medicine: Code  # dm+d
    dosage_text: str
    kind: str  # acute | repeat | repeat-dispensing
    started: date
    status: str = "active"  # active | completed | stopped
    ended: date | None = None
    last_issued: date | None = None
    quantity_value: float | None = None
    quantity_unit: str | None = None
    repeats_allowed: int | None = None
    prescriber: Clinician | None = None
    patient_notes: str | None = None
    prescriber_notes: str | None = None
    prescribed_elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class SynthProblem:
    id: str
    condition: Code
    active: bool
    significance: str  # major | minor
    onset: date | None = None
    abated: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SynthEncounter:
    id: str
    kind: str  # consultation | inpatient | outpatient | emergency
    start: datetime
    end: datetime | None = None
    reason: Code | None = None
    clinician: Clinician | None = None
    location: str | None = None
    note: str | None = None
    status: str = "finished"  # finished | in-progress (an in-progress hospital Encounter = current admission)


@dataclass(frozen=True, slots=True)
class SynthObservation:
    id: str
    test: Code
    effective: datetime
    value: float | None = None
    unit: str | None = None
    text_value: str | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    report_id: str | None = None  # groups results under one DiagnosticReport
    report_name: str | None = None


@dataclass(frozen=True, slots=True)
class SynthImmunisation:
    id: str
    vaccine: Code
    given: date
    dose_number: int | None = None
    status: str = "completed"


@dataclass(frozen=True, slots=True)
class SynthReferral:
    id: str
    to_service: str
    reason: Code | None
    authored: date
    priority: str = "routine"
    status: str = "active"


@dataclass(frozen=True, slots=True)
class SynthDocument:
    id: str
    title: str
    created: datetime
    author: str
    content_type: str = "application/pdf"


class Area(StrEnum):
    """GP Connect clinical areas, by their Parameters part name."""

    ALLERGIES = "includeAllergies"
    MEDICATION = "includeMedication"
    CONSULTATIONS = "includeConsultations"
    PROBLEMS = "includeProblems"
    IMMUNISATIONS = "includeImmunisations"
    UNCATEGORISED = "includeUncategorisedData"
    INVESTIGATIONS = "includeInvestigations"
    REFERRALS = "includeReferrals"


@dataclass(slots=True)
class ClinicalRecord:
    """What one system (the GP practice or the hospital) holds for the patient."""

    demographics: Demographics
    allergies: list[SynthAllergy] = field(default_factory=list)
    no_known_allergies: bool = False  # a coded 'no known allergies' entry, not merely an empty list
    medications: list[SynthMedication] = field(default_factory=list)
    problems: list[SynthProblem] = field(default_factory=list)
    encounters: list[SynthEncounter] = field(default_factory=list)
    observations: list[SynthObservation] = field(default_factory=list)
    immunisations: list[SynthImmunisation] = field(default_factory=list)
    referrals: list[SynthReferral] = field(default_factory=list)
    documents: list[SynthDocument] = field(default_factory=list)
    # GP only: List warning codes per area (confidential-items, data-in-transit, data-awaiting-filing)
    warnings: dict[Area, tuple[str, ...]] = field(default_factory=dict)
    # GP only: areas the practice system cannot supply (OperationOutcome NOT_IMPLEMENTED in the Bundle)
    not_implemented: tuple[Area, ...] = ()


class GpAccess(StrEnum):
    """How the GP Connect provider answers for this patient."""

    OK = "ok"
    DISSENT = "dissent"  # 403 NO_PATIENT_CONSENT
    NOT_REGISTERED = "not-registered"  # 404 PATIENT_NOT_FOUND
    NO_RECORD = "no-record"  # 404 NO_RECORD_FOUND


@dataclass(frozen=True, slots=True)
class Practice:
    ods_code: str
    name: str
    asid: str
    party_key: str
    address: tuple[str, ...] = ()
    postcode: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """A CIS2 RBAC role (an entry of `nhsid_nrbac_roles`)."""

    person_roleid: str
    org_code: str
    org_name: str
    role_name: str
    role_code: str
    activity_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo clinician who can sign in to the sandbox IdP."""

    uid: str  # nhsid_useruid (SDS user id)
    username: str  # what the sign-in form shows / login_hint matches
    name: Name
    roles: tuple[Role, ...]
    acr: str = "AAL3_ANY"


@dataclass(slots=True)
class SyntheticPatient:
    nhs_number: str
    scenario: str  # short key, e.g. "large-record"
    summary: str  # one line for the README table: what it shows
    pds: Demographics
    practice_ods: str | None
    gp: ClinicalRecord | None
    hospital: ClinicalRecord | None
    gp_access: GpAccess = GpAccess.OK
    deceased: datetime | None = None
    restricted: bool = False
    superseded_by: str | None = None  # PDS answers a read of this number with the record of superseded_by


@dataclass(slots=True)
class World:
    """Everything the sandbox servers serve. Built once per run by `viewer.sandbox.population.build_world`."""

    patients: list[SyntheticPatient]
    practices: list[Practice]
    users: list[DemoUser]
    hospital_ods: str
    hospital_name: str
    seed: int

    def patient(self, nhs_number: str) -> SyntheticPatient | None:
        for p in self.patients:
            if p.nhs_number == nhs_number:
                return p
        return None

    def practice(self, ods_code: str) -> Practice | None:
        for pr in self.practices:
            if pr.ods_code == ods_code:
                return pr
        return None
