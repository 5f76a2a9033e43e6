"""The sandbox hospital's record of each patient as FHIR R4 resources shaped after UK Core.

Written from the sandbox's own `World`, never from `viewer.domain`, so the consumer's R4 mapping is tested
against an independent reading of the UK Core profiles (ARCHITECTURE.md). Resources are plain dicts: the
large-record patient carries more than ten thousand observations and must be ready in well under a
second, which a model library would not manage.

Each resource also carries `SearchKeys` (status, category tokens, the date the `date` search parameter
compares), worked out once here, where the source values are still typed, so the server filters without
re-parsing FHIR dates.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from viewer.sandbox.world import (
    SNOMED,
    Clinician,
    Code,
    Demographics,
    Name,
    SynthAllergy,
    SynthDocument,
    SynthEncounter,
    SyntheticPatient,
    SynthImmunisation,
    SynthMedication,
    SynthObservation,
    SynthProblem,
    World,
)

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SDS_USER_SYSTEM = "https://fhir.nhs.uk/Id/sds-user-id"
UCUM = "http://unitsofmeasure.org"
PROFILE_BASE = "https://fhir.hl7.org.uk/StructureDefinition/"
EXTENSION_BASE = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-"
UKCORE_CODESYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-"
HL7_CODESYSTEM = "http://terminology.hl7.org/CodeSystem/"

NO_KNOWN_ALLERGY = Code(SNOMED, "716186003", "No known allergy")
_DIAGNOSTIC_REPORT = Code(SNOMED, "721981007", "Diagnostic studies report")

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
_LAB_PROFILE = "UKCore-Observation-Lab"
_VITALS_PROFILE = "UKCore-Observation-VitalSigns"

# Observation codes that are vital signs (LOINC vital-signs panel and their SNOMED observables);
# everything else the hospital reports is a laboratory result.
_VITAL_SIGN_CODES = frozenset({
    "85353-1", "9279-1", "8867-4", "2708-6", "59408-5", "8310-5", "8302-2", "9843-4", "29463-7",
    "39156-5", "85354-9", "8480-6", "8462-4", "8478-0",
    "364075005", "78564009", "444981005", "86290005", "431314004", "103228002", "276885007",
    "386725007", "27113001", "50373000", "60621009", "75367002", "271649006", "271650006",
    "72313002", "1091811000000102", "163020007", "1104441000000107",
})
# Units as people write them -> the UCUM code (the display keeps what the record says).
_UCUM_CODES = MappingProxyType({
    "bpm": "/min",
    "beats/min": "/min",
    "breaths/min": "/min",
    "per minute": "/min",
    "mmhg": "mm[Hg]",
    "°c": "Cel",
    "c": "Cel",
    "degc": "Cel",
    "x10^9/l": "10*9/L",
    "10^9/l": "10*9/L",
    "x10^12/l": "10*12/L",
    "10^12/l": "10*12/L",
    "kg/m2": "kg/m2",
    "kg/m^2": "kg/m2",
    "iu/l": "[IU]/L",
    "u/l": "U/L",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m^2": "mL/min/{1.73_m2}",
})
_ANTICOAGULANTS = ("warfarin", "apixaban", "rivaroxaban", "edoxaban", "dabigatran", "phenindione")
_ENCOUNTER_CLASS = MappingProxyType({
    "consultation": ("AMB", "ambulatory"),
    "outpatient": ("AMB", "ambulatory"),
    "inpatient": ("IMP", "inpatient encounter"),
    "emergency": ("EMER", "emergency"),
})
_SEVERITY = MappingProxyType({
    "major": Code(SNOMED, "24484000", "Severe"),
    "minor": Code(SNOMED, "255604002", "Mild"),
})
_ID_SAFE = re.compile(r"[^A-Za-z0-9.\-]")
_KEY_LENGTH = 16


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


def fhir_instant(value: datetime) -> str:
    """A FHIR dateTime with seconds and a zone; the world's naive times are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


def as_utc(value: date | datetime) -> datetime:
    """A date or time as an aware UTC datetime (a date is its midnight), for ordering and `date=`."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def fhir_id(*parts: str) -> str:
    """A logical id matching `[A-Za-z0-9\\-\\.]{1,64}`; over-long ids are shortened by a hash, so two
    world items never share an id however long theirs were."""
    raw = "-".join(parts)
    safe = _ID_SAFE.sub("-", raw)
    if len(safe) <= 64 and safe == raw:
        return safe
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    return f"{safe[:47]}-{digest}"


def patient_key(seed: int, nhs_number: str) -> str:
    """An opaque, stable logical id for the hospital's patient: ids travel in URLs and logs, NHS numbers
    must not."""
    return hashlib.sha256(f"wardview-hospital:{seed}:{nhs_number}".encode()).hexdigest()[:_KEY_LENGTH]


def _coding(code: Code) -> dict[str, str]:
    return {"system": code.system, "code": code.code, "display": code.display}


def _concept(code: Code) -> dict[str, Any]:
    return {"coding": [_coding(code)], "text": code.display}


def _hl7(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": HL7_CODESYSTEM + system, "code": code, "display": display}]}


def _category_tokens(concepts: Iterable[dict[str, Any]]) -> frozenset[str]:
    tokens: set[str] = set()
    for concept in concepts:
        for coding in concept.get("coding", ()):
            tokens.add(coding["code"])
            tokens.add(f"{coding['system']}|{coding['code']}")
    return frozenset(tokens)


def _person_name(name: Name) -> str:
    return " ".join(p for p in (name.prefix, *name.given, name.family) if p)


def _human_name(name: Name) -> dict[str, Any]:
    out: dict[str, Any] = {"use": "official", "family": name.family}
    if name.given:
        out["given"] = list(name.given)
    if name.prefix:
        out["prefix"] = [name.prefix]
    return out


def _period(start: date | datetime | None, end: date | datetime | None) -> dict[str, str]:
    out = {}
    if start is not None:
        out["start"] = _when(start)
    if end is not None:
        out["end"] = _when(end)
    return out


def _when(value: date | datetime) -> str:
    return fhir_instant(value) if isinstance(value, datetime) else value.isoformat()


def _ucum(unit: str) -> str:
    return _UCUM_CODES.get(unit.strip().lower(), unit)


def _quantity(value: float, unit: str | None) -> dict[str, Any]:
    if unit is None:
        return {"value": value}
    return {"value": value, "unit": unit, "system": UCUM, "code": _ucum(unit)}


def _newest_first(items: list[Indexed]) -> tuple[Indexed, ...]:
    """Newest first, as a ward wants them; undated items last; ties by id so paging is stable."""
    floor = datetime.min.replace(tzinfo=UTC)
    items.sort(key=lambda i: i.resource["id"])
    items.sort(key=lambda i: i.keys.when or floor, reverse=True)
    return tuple(items)


class _PatientWriter:
    """Writes one patient's resources; knows the ids and references every resource shares."""

    def __init__(self, world: World, patient: SyntheticPatient, base_url: str) -> None:
        self._world = world
        self._p = patient
        self._base = base_url
        self.key = patient_key(world.seed, patient.nhs_number)
        self.subject = {"reference": f"Patient/{self.key}"}
        self.trust = {
            "identifier": {"system": ODS_SYSTEM, "value": world.hospital_ods},
            "display": world.hospital_name,
        }

    def rid(self, *parts: str) -> str:
        return fhir_id(self.key, *parts)

    def _meta(self, rtype: str) -> dict[str, Any]:
        return {"profile": [PROFILE_BASE + _PROFILE[rtype]]}

    @staticmethod
    def person(clinician: Clinician | None) -> dict[str, Any] | None:
        """A logical reference (SDS user id) plus display: the server serves no Practitioner, and a
        reference that cannot be resolved must still say who."""
        if clinician is None:
            return None
        ref: dict[str, Any] = {"display": _person_name(clinician.name)}
        if clinician.sds_user_id:
            ref["identifier"] = {"system": SDS_USER_SYSTEM, "value": clinician.sds_user_id}
        return ref

    @property
    def mrn(self) -> str:
        return local_mrn(self._world.hospital_ods, self.key)

    @property
    def mrn_system(self) -> str:
        return mrn_system(self._world.hospital_ods)

    # --- Patient -------------------------------------------------------------------------------------

    def patient(self, demo: Demographics) -> dict[str, Any]:
        p = self._p
        res: dict[str, Any] = {
            "resourceType": "Patient",
            "id": self.key,
            "meta": self._meta("Patient"),
            "identifier": [
                {
                    "extension": [{
                        "url": EXTENSION_BASE + "NHSNumberVerificationStatus",
                        "valueCodeableConcept": {"coding": [{
                            "system": UKCORE_CODESYSTEM + "NHSNumberVerificationStatusEngland",
                            "code": "01",
                            "display": "Number present and verified",
                        }]},
                    }],
                    "system": NHS_NUMBER_SYSTEM,
                    "value": p.nhs_number,
                },
                {
                    "use": "usual",
                    "type": _hl7("v2-0203", "MR", "Medical record number"),
                    "system": self.mrn_system,
                    "value": self.mrn,
                },
            ],
            "active": True,
            "name": [_human_name(demo.name)],
            "gender": demo.gender,
            "birthDate": demo.birth_date.isoformat(),
            "managingOrganization": self.trust,
        }
        if demo.phone:
            res["telecom"] = [{"system": "phone", "value": demo.phone, "use": "home"}]
        if demo.address or demo.postcode:
            address: dict[str, Any] = {"use": "home"}
            if demo.address:
                address["line"] = list(demo.address)
            if demo.postcode:
                address["postalCode"] = demo.postcode
            res["address"] = [address]
        if p.deceased is not None:
            res["deceasedDateTime"] = fhir_instant(p.deceased)
        if p.practice_ods:
            gp: dict[str, Any] = {"identifier": {"system": ODS_SYSTEM, "value": p.practice_ods}}
            practice = self._world.practice(p.practice_ods)
            if practice is not None:
                gp["display"] = practice.name
            res["generalPractitioner"] = [gp]
        return res

    # --- AllergyIntolerance ---------------------------------------------------------------------------

    def allergy(self, a: SynthAllergy) -> Indexed:
        res: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "id": self.rid("al", a.id),
            "meta": self._meta("AllergyIntolerance"),
            "clinicalStatus": _hl7("allergyintolerance-clinical", a.clinical_status,
                                   a.clinical_status.capitalize()),
            "verificationStatus": _hl7("allergyintolerance-verification", a.verification_status,
                                       a.verification_status.capitalize()),
            "category": [a.category],
            "code": _concept(a.substance),
            "patient": self.subject,
            "recordedDate": a.asserted.isoformat(),
        }
        if a.end_date is not None or a.end_reason:
            parts: list[dict[str, Any]] = []
            if a.end_date is not None:
                parts.append({"url": "endDate", "valueDateTime": a.end_date.isoformat()})
            if a.end_reason:
                parts.append({"url": "reasonEnded", "valueString": a.end_reason})
            res["extension"] = [{"url": EXTENSION_BASE + "AllergyIntoleranceEnd", "extension": parts}]
        if a.criticality:
            res["criticality"] = a.criticality
        if a.onset is not None:
            res["onsetDateTime"] = a.onset.isoformat()
        recorder = self.person(a.recorder)
        if recorder:
            res["recorder"] = recorder
        if a.note:
            res["note"] = [{"text": a.note}]
        if a.reaction is not None or a.severity:
            manifestation = _concept(a.reaction) if a.reaction else {"text": "Reaction not specified"}
            reaction: dict[str, Any] = {"manifestation": [manifestation]}
            if a.severity:
                reaction["severity"] = a.severity
            res["reaction"] = [reaction]
        return Indexed(res, SearchKeys(
            status=a.clinical_status,
            categories=frozenset({a.category}),
            when=as_utc(a.asserted),
        ))

    def no_known_allergies(self, recorded: date | None) -> Indexed:
        """A coded 'no known allergy' entry: a statement, unlike an empty list, which says nothing."""
        res: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "id": self.rid("nka"),
            "meta": self._meta("AllergyIntolerance"),
            "clinicalStatus": _hl7("allergyintolerance-clinical", "active", "Active"),
            "verificationStatus": _hl7("allergyintolerance-verification", "confirmed", "Confirmed"),
            "code": _concept(NO_KNOWN_ALLERGY),
            "patient": self.subject,
        }
        if recorded is not None:
            res["recordedDate"] = recorded.isoformat()
        return Indexed(res, SearchKeys(status="active", when=as_utc(recorded) if recorded else None))

    # --- Condition -------------------------------------------------------------------------------------

    def condition(self, c: SynthProblem) -> Indexed:
        clinical = "active" if c.active else ("resolved" if c.abated else "inactive")
        category = _hl7("condition-category", "problem-list-item", "Problem List Item")
        res: dict[str, Any] = {
            "resourceType": "Condition",
            "id": self.rid("co", c.id),
            "meta": self._meta("Condition"),
            "clinicalStatus": _hl7("condition-clinical", clinical, clinical.capitalize()),
            "verificationStatus": _hl7("condition-ver-status", "confirmed", "Confirmed"),
            "category": [category],
            "code": _concept(c.condition),
            "subject": self.subject,
        }
        severity = _SEVERITY.get(c.significance)
        if severity is not None:
            res["severity"] = _concept(severity)
        if c.onset is not None:
            res["onsetDateTime"] = c.onset.isoformat()
        if c.abated is not None:
            res["abatementDateTime"] = c.abated.isoformat()
        if c.note:
            res["note"] = [{"text": c.note}]
        when = as_utc(c.onset) if c.onset else None
        return Indexed(res, SearchKeys(clinical, _category_tokens([category]), when))

    # --- Medicines -------------------------------------------------------------------------------------

    def _medicine_common(self, m: SynthMedication) -> dict[str, Any]:
        return {"medicationCodeableConcept": _concept(m.medicine), "subject": self.subject}

    @staticmethod
    def _dosage(m: SynthMedication) -> dict[str, Any]:
        dosage: dict[str, Any] = {"text": m.dosage_text}
        if m.patient_notes:
            dosage["patientInstruction"] = m.patient_notes
        return dosage

    def medication_request(self, m: SynthMedication) -> Indexed:
        if m.kind == "acute":
            course = _hl7("medicationrequest-course-of-therapy", "acute", "Short course (acute) therapy")
            category = _hl7("medicationrequest-category", "inpatient", "Inpatient")
        else:
            course = _hl7("medicationrequest-course-of-therapy", "continuous",
                          "Continuous long term therapy")
            category = _hl7("medicationrequest-category", "outpatient", "Outpatient")
        if m.kind == "repeat-dispensing":
            course = {"coding": [{
                "system": UKCORE_CODESYSTEM + "MedicationRequestCourseOfTherapy",
                "code": "continuous-repeat-dispensing",
                "display": "Continuous long term (repeat dispensing)",
            }]}
        res: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": self.rid("mr", m.id),
            "meta": self._meta("MedicationRequest"),
            "status": m.status,
            "intent": "order",
            "category": [category],
            **self._medicine_common(m),
            "authoredOn": m.started.isoformat(),
            "courseOfTherapyType": course,
            "dosageInstruction": [self._dosage(m)],
        }
        requester = self.person(m.prescriber)
        if requester:
            res["requester"] = requester
        if m.prescriber_notes:
            res["note"] = [{"text": m.prescriber_notes}]
        dispense: dict[str, Any] = {"validityPeriod": _period(m.started, m.ended)}
        if m.quantity_value is not None:
            dispense["quantity"] = {"value": m.quantity_value}
            if m.quantity_unit:
                dispense["quantity"]["unit"] = m.quantity_unit
        if m.repeats_allowed is not None:
            dispense["numberOfRepeatsAllowed"] = m.repeats_allowed
        res["dispenseRequest"] = dispense
        return Indexed(res, SearchKeys(m.status, _category_tokens([category]), as_utc(m.started)))

    def medication_statement(self, m: SynthMedication) -> Indexed:
        """Drug history: a medicine prescribed outside the trust (by the GP, say) that the patient takes."""
        category = _hl7("medication-statement-category", "community", "Community")
        res: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": self.rid("ms", m.id),
            "meta": self._meta("MedicationStatement"),
            "extension": [{
                "url": EXTENSION_BASE + "MedicationPrescribingOrganizationType",
                "valueCodeableConcept": {"coding": [{
                    "system": UKCORE_CODESYSTEM + "MedicationPrescribingOrganizationType",
                    "code": "prescribed-by-another-organisation",
                    "display": "Prescribed by another organisation",
                }]},
            }],
            "status": m.status,
            "category": category,
            **self._medicine_common(m),
            "effectivePeriod": _period(m.started, m.ended),
            "dateAsserted": m.started.isoformat(),
            "dosage": [self._dosage(m)],
        }
        if m.last_issued is not None:
            res["extension"].append({
                "url": EXTENSION_BASE + "MedicationStatementLastIssueDate",
                "valueDateTime": m.last_issued.isoformat(),
            })
        source = self.person(m.prescriber)
        if source:
            res["informationSource"] = source
        notes = [n for n in (m.prescriber_notes,) if n]
        if m.quantity_value is not None:
            unit = f" {m.quantity_unit}" if m.quantity_unit else ""
            notes.append(f"Quantity: {m.quantity_value:g}{unit}")
        if notes:
            res["note"] = [{"text": n} for n in notes]
        return Indexed(res, SearchKeys(m.status, _category_tokens([category]), as_utc(m.started)))

    # --- Encounter / EpisodeOfCare ----------------------------------------------------------------------

    def encounter(self, e: SynthEncounter, episode_id: str | None) -> Indexed:
        code, display = _ENCOUNTER_CLASS.get(e.kind, ("AMB", "ambulatory"))
        res: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": self.rid("en", e.id),
            "meta": self._meta("Encounter"),
            "status": e.status,
            "class": {"system": HL7_CODESYSTEM + "v3-ActCode", "code": code, "display": display},
            "subject": self.subject,
            "period": _period(e.start, e.end),
            "serviceProvider": self.trust,
        }
        if episode_id is not None:
            res["episodeOfCare"] = [{"reference": f"EpisodeOfCare/{episode_id}"}]
        clinician = self.person(e.clinician)
        if clinician:
            res["participant"] = [{
                "type": [_hl7("v3-ParticipationType", "ATND", "attender")],
                "individual": clinician,
            }]
        if e.reason is not None:
            res["reasonCode"] = [_concept(e.reason)]
        if e.location:
            res["location"] = [{"location": {"display": e.location}}]
        if e.note:
            # R4 Encounter has no note element; the narrative keeps the free text rather than lose it.
            res["text"] = {"status": "additional", "div": _xhtml(e.note)}
        return Indexed(res, SearchKeys(e.status, frozenset({code}), as_utc(e.start)))

    def episode(self, e: SynthEncounter, episode_id: str) -> Indexed:
        status = "active" if e.status == "in-progress" else "finished"
        res: dict[str, Any] = {
            "resourceType": "EpisodeOfCare",
            "id": episode_id,
            "meta": self._meta("EpisodeOfCare"),
            "status": status,
            "type": [{"text": "Inpatient admission"}],
            "patient": self.subject,
            "managingOrganization": self.trust,
            "period": _period(e.start, e.end),
        }
        return Indexed(res, SearchKeys(status, frozenset(), as_utc(e.start)))

    # --- Observation / DiagnosticReport ----------------------------------------------------------------

    def observation(self, o: SynthObservation) -> Indexed:
        vital = o.test.code in _VITAL_SIGN_CODES
        category = (_hl7("observation-category", "vital-signs", "Vital Signs") if vital
                    else _hl7("observation-category", "laboratory", "Laboratory"))
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "id": self.rid("ob", o.id),
            "meta": {"profile": [PROFILE_BASE + (_VITALS_PROFILE if vital else _LAB_PROFILE)]},
            "status": "final",
            "category": [category],
            "code": _concept(o.test),
            "subject": self.subject,
            "effectiveDateTime": fhir_instant(o.effective),
            "performer": [self.trust],
        }
        if o.value is not None:
            res["valueQuantity"] = _quantity(o.value, o.unit)
        elif o.text_value is not None:
            res["valueString"] = o.text_value
        else:
            res["dataAbsentReason"] = _hl7("data-absent-reason", "unknown", "Unknown")
        if o.ref_low is not None or o.ref_high is not None:
            ref: dict[str, Any] = {}
            if o.ref_low is not None:
                ref["low"] = _quantity(o.ref_low, o.unit)
            if o.ref_high is not None:
                ref["high"] = _quantity(o.ref_high, o.unit)
            res["referenceRange"] = [ref]
        return Indexed(res, SearchKeys("final", _category_tokens([category]), as_utc(o.effective)))

    def reports(self, observations: list[SynthObservation], written: dict[str, str]) -> list[Indexed]:
        """One DiagnosticReport per report_id, its results pointing at the Observations already written."""
        groups: dict[str, list[SynthObservation]] = {}
        for o in observations:
            if o.report_id:
                groups.setdefault(o.report_id, []).append(o)
        category = _hl7("v2-0074", "LAB", "Laboratory")
        tokens = _category_tokens([category])
        out = []
        for report_id, members in groups.items():
            name = next((m.report_name for m in members if m.report_name), None) or "Laboratory report"
            effective = min(m.effective for m in members)
            res = {
                "resourceType": "DiagnosticReport",
                "id": self.rid("dr", report_id),
                "meta": self._meta("DiagnosticReport"),
                "status": "final",
                "category": [category],
                "code": {"coding": [_coding(_DIAGNOSTIC_REPORT)], "text": name},
                "subject": self.subject,
                "effectiveDateTime": fhir_instant(effective),
                "performer": [self.trust],
                "result": [{"reference": f"Observation/{written[m.id]}"} for m in members],
            }
            out.append(Indexed(res, SearchKeys("final", tokens, as_utc(effective))))
        return out

    # --- Immunization / DocumentReference / Flag ------------------------------------------------------

    def immunization(self, i: SynthImmunisation) -> Indexed:
        res: dict[str, Any] = {
            "resourceType": "Immunization",
            "id": self.rid("im", i.id),
            "meta": self._meta("Immunization"),
            "status": i.status,
            "vaccineCode": _concept(i.vaccine),
            "patient": self.subject,
            "occurrenceDateTime": i.given.isoformat(),
            "primarySource": True,
        }
        if i.dose_number is not None:
            res["protocolApplied"] = [{"doseNumberPositiveInt": i.dose_number}]
        return Indexed(res, SearchKeys(i.status, frozenset(), as_utc(i.given)))

    def document(self, d: SynthDocument) -> Indexed:
        rid = self.rid("doc", d.id)
        created = fhir_instant(d.created)
        res: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "id": rid,
            "meta": self._meta("DocumentReference"),
            "status": "current",
            "type": {"text": d.title},
            "subject": self.subject,
            "date": created,
            "author": [{"display": d.author}],
            "custodian": self.trust,
            "description": d.title,
            "content": [{"attachment": {
                "contentType": d.content_type,
                "url": f"{self._base}/Binary/{rid}",
                "title": d.title,
                "creation": created,
            }}],
        }
        return Indexed(res, SearchKeys("current", frozenset(), as_utc(d.created)))

    def flags(self, meds: list[SynthMedication], allergies: list[SynthAllergy]) -> list[Indexed]:
        """Alerts a ward expects on the banner: anticoagulation, and each severe active allergy."""
        category = _hl7("flag-category", "clinical", "Clinical")
        tokens = _category_tokens([category])
        out = []
        for m in meds:
            name = m.medicine.display.lower()
            if m.status != "active" or not any(drug in name for drug in _ANTICOAGULANTS):
                continue
            res = {
                "resourceType": "Flag",
                "id": self.rid("fl", "anticoag", m.id),
                "meta": self._meta("Flag"),
                "status": "active",
                "category": [category],
                "code": {
                    "coding": [{"system": SNOMED, "code": "182764009", "display": "Anticoagulant therapy"}],
                    "text": f"Anticoagulant: {m.medicine.display}. Check bleeding risk before procedures.",
                },
                "subject": self.subject,
                "period": {"start": m.started.isoformat()},
                "author": self.trust,
            }
            out.append(Indexed(res, SearchKeys("active", tokens, as_utc(m.started))))
        for a in allergies:
            severe = a.criticality == "high" or a.severity == "severe"
            if a.clinical_status != "active" or a.verification_status == "entered-in-error" or not severe:
                continue
            res = {
                "resourceType": "Flag",
                "id": self.rid("fl", "allergy", a.id),
                "meta": self._meta("Flag"),
                "status": "active",
                "category": [category],
                "code": {
                    "coding": [{"system": SNOMED, "code": "609328004", "display": "Allergic disposition"}],
                    "text": f"Severe allergy: {a.substance.display}",
                },
                "subject": self.subject,
                "period": {"start": a.asserted.isoformat()},
                "author": self.trust,
            }
            out.append(Indexed(res, SearchKeys("active", tokens, as_utc(a.asserted))))
        return out

    # --- the whole record ------------------------------------------------------------------------------

    def record(self) -> HospitalPatientRecord:
        rec = self._p.hospital
        assert rec is not None  # callers only write patients the hospital knows
        by_type: dict[str, list[Indexed]] = {t: [] for t in SEARCH_TYPES}
        by_type["AllergyIntolerance"] = [self.allergy(a) for a in rec.allergies]
        if rec.no_known_allergies:
            first_seen = min((e.start.date() for e in rec.encounters), default=None)
            by_type["AllergyIntolerance"].append(self.no_known_allergies(first_seen))
        by_type["Condition"] = [self.condition(c) for c in rec.problems]
        for m in rec.medications:
            if m.prescribed_elsewhere:
                by_type["MedicationStatement"].append(self.medication_statement(m))
            else:
                by_type["MedicationRequest"].append(self.medication_request(m))
        for e in rec.encounters:
            episode_id = self.rid("eoc", e.id) if e.kind == "inpatient" else None
            by_type["Encounter"].append(self.encounter(e, episode_id))
            if episode_id is not None:
                by_type["EpisodeOfCare"].append(self.episode(e, episode_id))
        written: dict[str, str] = {}
        for o in rec.observations:
            item = self.observation(o)
            written[o.id] = item.resource["id"]
            by_type["Observation"].append(item)
        by_type["DiagnosticReport"] = self.reports(rec.observations, written)
        by_type["Immunization"] = [self.immunization(i) for i in rec.immunisations]
        by_type["DocumentReference"] = [self.document(d) for d in rec.documents]
        by_type["Flag"] = self.flags(rec.medications, rec.allergies)
        return HospitalPatientRecord(
            patient_id=self.key,
            nhs_number=self._p.nhs_number,
            mrn=self.mrn,
            patient=self.patient(rec.demographics),
            resources={t: _newest_first(items) for t, items in by_type.items()},
        )


def _xhtml(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{escaped}</div>'


def local_mrn(hospital_ods: str, key: str) -> str:
    """The trust's hospital number for the patient whose logical id is `key` (deterministic)."""
    return f"{hospital_ods[:3]}{int(key[:10], 16) % 10**7:07d}"


def mrn_system(hospital_ods: str) -> str:
    """The trust's local patient identifier (hospital number) namespace."""
    return f"https://fhir.{hospital_ods.lower()}.nhs.uk/Id/local-patient-identifier"


class HospitalRecords:
    """The hospital's view of the world: which patients it knows and, built on first use and kept, their
    FHIR resources. Thread-safe, as the server answers on several threads."""

    def __init__(self, world: World, base_url: str) -> None:
        self._world = world
        self._base_url = base_url.rstrip("/")
        known = [p for p in world.patients if p.hospital is not None]
        self._by_key = {patient_key(world.seed, p.nhs_number): p for p in known}
        self._key_by_nhs = {p.nhs_number: k for k, p in self._by_key.items()}
        self._key_by_mrn = {local_mrn(world.hospital_ods, k): k for k in self._by_key}
        self._built: dict[str, HospitalPatientRecord] = {}
        self._lock = threading.Lock()

    @property
    def world(self) -> World:
        return self._world

    def patient_id(self, nhs_number: str) -> str | None:
        """The hospital's logical id for this NHS number, or None when the hospital has no record."""
        return self._key_by_nhs.get(nhs_number)

    def patient_ids(self) -> list[str]:
        return list(self._by_key)

    def record(self, patient_id: str) -> HospitalPatientRecord | None:
        patient = self._by_key.get(patient_id)
        if patient is None:
            return None
        with self._lock:
            built = self._built.get(patient_id)
            if built is None:
                built = _PatientWriter(self._world, patient, self._base_url).record()
                self._built[patient_id] = built
            return built

    def record_for_nhs(self, nhs_number: str) -> HospitalPatientRecord | None:
        key = self.patient_id(nhs_number)
        return None if key is None else self.record(key)

    def record_for_mrn(self, mrn: str) -> HospitalPatientRecord | None:
        key = self._key_by_mrn.get(mrn)
        return None if key is None else self.record(key)

    def records(self) -> Iterator[HospitalPatientRecord]:
        for key in self._by_key:
            record = self.record(key)
            if record is not None:
                yield record

    def find(self, rtype: str, rid: str) -> dict[str, Any] | None:
        """Read one resource by type and id; ids begin with their patient's id, so only one patient's
        record is built to answer."""
        record = self.record(rid[:_KEY_LENGTH])
        if record is None:
            return None
        if rtype == "Patient":
            return record.patient if rid == record.patient_id else None
        return record.find(rtype, rid)


__all__ = [
    "NHS_NUMBER_SYSTEM",
    "NO_KNOWN_ALLERGY",
    "SEARCH_TYPES",
    "TYPE_SEARCH_PARAMS",
    "HospitalPatientRecord",
    "HospitalRecords",
    "Indexed",
    "SearchKeys",
    "as_utc",
    "fhir_id",
    "fhir_instant",
    "local_mrn",
    "mrn_system",
    "patient_key",
]
