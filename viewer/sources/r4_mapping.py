"""The hospital's FHIR R4 (UK Core) resources -> one SourceRecord.

Tolerant by design (CLINICAL.md): each resource is mapped on its own, and one that cannot be shown is
counted in `unreadable` with a reason, never dropped and never allowed to hide the rest. Entered-in-error
items are not clinical facts, so they are counted the same way instead of being shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewer.domain.allergy_negation import negation_scope
from viewer.domain.clinical import Allergy, Medication, Problem, Reaction, RecordWarning, Unreadable
from viewer.domain.coding import SNOMED
from viewer.domain.provenance import Provenance
from viewer.domain.source_record import SourceRecord
from viewer.sources.fhir_common import (
    as_dict,
    as_list,
    as_text,
    code_of,
    concept,
    first_date,
    notes,
    partial_date,
)
from viewer.sources.r4_context import (
    ENTERED_IN_ERROR,
    SOURCE,
    MappingContext,
    Skip,
    map_all,
    status_of,
    unreadable,
)
from viewer.sources.r4_dosage import dosage_text
from viewer.sources.r4_events import map_document, map_encounter, map_flag, map_immunisation, map_referral
from viewer.sources.r4_fields import is_empty, quantity_text
from viewer.sources.r4_patient import map_r4_patient
from viewer.sources.r4_results import map_report, observation_mapper, report_groups
from viewer.sources.r4_structs import TYPED
from viewer.sources.r4_typed import map_typed_report, typed_observation_mapper

_TYPED = frozenset(TYPED)
# Areas the domain model holds, and the FHIR types that supply each (absent key = not supplied).
# Referrals (ServiceRequest) and report grouping (DiagnosticReport) are left out: many trust servers
# offer neither search, and their absence loses no result (results still show, ungrouped), so a warning
# on every record would only teach clinicians to ignore warnings.
AREAS = {
    "Allergies": ("AllergyIntolerance",),
    "Medications": ("MedicationRequest", "MedicationStatement"),
    "Problems": ("Condition",),
    "Encounters": ("Encounter",),
    "Observations": ("Observation",),
    "Immunisations": ("Immunization",),
    "Documents": ("DocumentReference",),
    "Flags": ("Flag",),
}


def map_hospital_record(
    patient: dict | None,
    resources: dict[str, list[Any]],
    *,
    retrieved_at: datetime,
    org_ods: str,
    org_name: str,
) -> SourceRecord:
    """Map what HospitalClient fetched. A type missing from `resources` was not supplied (not 'none').
    Resources are dicts, or typed resources from `hospital_page.read_search_page` (results and reports)."""
    resources = resources if isinstance(resources, dict) else {}
    index: dict[tuple[str, str], Any] = {}
    for items in resources.values():
        for r in as_list(items):
            if type(r) in _TYPED:  # the typed bulk: its id is a str or None by its Struct
                if r.id is not None:
                    index[(r.resource_type, r.id)] = r
            elif isinstance(r, dict) and r.get("id") is not None:
                index[(str(r.get("resourceType")), str(r.get("id")))] = r
    ctx = MappingContext(retrieved_at, org_ods, org_name, index)
    lost: list[Unreadable] = []

    mapped_patient = None
    if isinstance(patient, dict):
        try:
            mapped_patient = map_r4_patient(
                patient, source=SOURCE, retrieved_at=retrieved_at, org_ods=org_ods, org_name=org_name
            )
        except Exception as exc:  # tolerant: the clinical items still show
            lost.append(unreadable("Patient", patient, f"could not be read ({type(exc).__name__})"))
    elif patient is not None:
        lost.append(Unreadable(SOURCE.value, "Patient", None, "not a FHIR resource"))

    allergies = map_all(resources, "AllergyIntolerance", _allergy, ctx, lost)
    medications = map_all(resources, "MedicationRequest", _medication_request, ctx, lost)
    medications += map_all(resources, "MedicationStatement", _medication_statement, ctx, lost)
    problems = map_all(resources, "Condition", _problem, ctx, lost)
    encounters = map_all(resources, "Encounter", map_encounter, ctx, lost)
    reports = map_all(resources, "DiagnosticReport", map_report, ctx, lost, map_typed_report)
    groups = report_groups(reports, ctx)
    observations = map_all(resources, "Observation", observation_mapper(groups), ctx, lost,
                           typed_observation_mapper(groups))
    immunisations = map_all(resources, "Immunization", map_immunisation, ctx, lost)
    referrals = map_all(resources, "ServiceRequest", map_referral, ctx, lost)
    documents = map_all(resources, "DocumentReference", map_document, ctx, lost)
    flags = map_all(resources, "Flag", map_flag, ctx, lost)

    missing = tuple(
        area for area, types in AREAS.items() if any(t not in resources for t in types)
    )
    warnings = tuple(
        RecordWarning(
            "area-not-supplied",
            f"The hospital record did not supply {area.lower()}: this part may be incomplete.",
            Provenance(SOURCE, "Bundle", None, retrieved_at, org_ods, org_name),
            area,
        )
        for area in missing
    )
    return SourceRecord(
        source=SOURCE,
        retrieved_at=retrieved_at,
        patient=mapped_patient,
        org_ods=org_ods,
        org_name=org_name,
        allergies=tuple(allergies),
        allergies_supplied="AllergyIntolerance" in resources,
        medications=tuple(medications),
        problems=tuple(problems),
        encounters=tuple(encounters),
        observations=tuple(observations),
        reports=tuple(reports),
        immunisations=tuple(immunisations),
        referrals=tuple(referrals),
        documents=tuple(documents),
        flags=tuple(flags),
        warnings=warnings,
        unreadable=tuple(lost),
        missing_areas=missing,
    )


def _allergy(res: dict[str, Any], ctx: MappingContext) -> Allergy:
    verification = code_of(res.get("verificationStatus"))
    if verification == ENTERED_IN_ERROR:
        raise Skip("entered in error")
    substance = concept(res.get("code"))
    scopes = [negation_scope(c.code) for c in substance.codings if c.system in (SNOMED, None)]
    scope = next((s for s in scopes if s is not None), None)
    if is_empty(substance):
        raise Skip("no substance given")
    category = tuple(c for c in as_list(res.get("category")) if as_text(c))
    end_date, end_reason = _allergy_end(res)
    criticality = res.get("criticality")
    return Allergy(
        substance=substance,
        provenance=ctx.provenance(res),
        clinical_status=code_of(res.get("clinicalStatus")),
        verification_status=verification,
        category=category,
        criticality=criticality if isinstance(criticality, str) else None,
        asserted=partial_date(res.get("recordedDate")),
        onset=first_date(res, "onsetDateTime", "onsetPeriod"),
        recorder=ctx.person(res, res.get("recorder")) or ctx.person(res, res.get("asserter")),
        notes=notes(res.get("note")),
        end_date=end_date,
        end_reason=end_reason,
        reactions=tuple(_reaction(r) for r in as_list(res.get("reaction")) if isinstance(r, dict)),
        no_known_allergies=scope is not None,
        negation_scope=scope,
    )


def _allergy_end(res: dict[str, Any]) -> tuple[Any, str | None]:
    """UK Core / Care Connect allergy-end extension (endDate + reasonEnded), when a server sends it."""
    for ext in as_list(res.get("extension")):
        data = as_dict(ext)
        if not str(data.get("url", "")).rstrip("/").endswith(("AllergyIntoleranceEnd", "AllergyEnd")):
            continue
        parts = {as_dict(p).get("url"): as_dict(p) for p in as_list(data.get("extension"))}
        end = partial_date(parts.get("endDate", {}).get("valueDateTime"))
        reason = as_text(parts.get("reasonEnded", {}).get("valueString"))
        return end, reason
    return None, None


def _reaction(data: dict[str, Any]) -> Reaction:
    manifestations = tuple(
        c for c in (concept(m) for m in as_list(data.get("manifestation"))) if not is_empty(c)
    )
    severity = data.get("severity")
    return Reaction(
        manifestations=manifestations,
        severity=severity if isinstance(severity, str) else None,
        description=as_text(data.get("description")),
        onset=partial_date(data.get("onset")),
    )


def _medicine_name(res: dict[str, Any], ctx: MappingContext) -> Any:
    name = concept(res.get("medicationCodeableConcept"))
    if is_empty(name) and "medicationReference" in res:
        medication = ctx.resolve(res, res.get("medicationReference"))
        if medication is not None:
            name = concept(medication.get("code"))
        if is_empty(name):
            display = as_text(as_dict(res.get("medicationReference")).get("display"))
            name = concept({"text": display})
    if is_empty(name):
        raise Skip("no medicine name given")
    return name


def _patient_instructions(dosages: Any) -> tuple[str, ...]:
    texts = (as_text(as_dict(d).get("patientInstruction")) for d in as_list(dosages))
    return tuple(t for t in texts if t)


def _medication_request(res: dict[str, Any], ctx: MappingContext) -> Medication:
    status = status_of(res)
    name = _medicine_name(res, ctx)
    dispense = as_dict(res.get("dispenseRequest"))
    validity = as_dict(dispense.get("validityPeriod"))
    return Medication(
        name=name,
        provenance=ctx.provenance(res),
        status=status,
        kind=code_of(res.get("courseOfTherapyType")),
        dosage=dosage_text(res.get("dosageInstruction")),
        quantity=quantity_text(dispense.get("quantity")),
        started=partial_date(res.get("authoredOn")) or partial_date(validity.get("start")),
        ended=partial_date(validity.get("end")),
        prescriber=ctx.person(res, res.get("requester")),
        patient_notes=_patient_instructions(res.get("dosageInstruction")),
        prescriber_notes=notes(res.get("note")),
    )


def _medication_statement(res: dict[str, Any], ctx: MappingContext) -> Medication:
    """A statement is the drug history (what the patient takes, mostly prescribed outside the trust)."""
    status = status_of(res)
    name = _medicine_name(res, ctx)
    period = as_dict(res.get("effectivePeriod"))
    started = partial_date(res.get("effectiveDateTime")) or partial_date(period.get("start"))
    return Medication(
        name=name,
        provenance=ctx.provenance(res),
        status=status,
        dosage=dosage_text(res.get("dosage")),
        started=started or partial_date(res.get("dateAsserted")),
        ended=partial_date(period.get("end")),
        prescriber=ctx.person(res, res.get("informationSource")),
        patient_notes=_patient_instructions(res.get("dosage")),
        prescriber_notes=notes(res.get("note")),
        prescribed_elsewhere=True,
    )


def _problem(res: dict[str, Any], ctx: MappingContext) -> Problem:
    if code_of(res.get("verificationStatus")) == ENTERED_IN_ERROR:
        raise Skip("entered in error")
    condition = concept(res.get("code"))
    if is_empty(condition):
        raise Skip("no condition given")
    severity = concept(res.get("severity"))
    return Problem(
        condition=condition,
        provenance=ctx.provenance(res),
        clinical_status=code_of(res.get("clinicalStatus")),
        significance=severity.label or None,
        onset=first_date(res, "onsetDateTime", "onsetPeriod"),
        abated=_abated(res),
        notes=notes(res.get("note")),
    )


def _abated(res: dict[str, Any]) -> Any:
    period = as_dict(res.get("abatementPeriod"))
    return partial_date(res.get("abatementDateTime")) or partial_date(period.get("end")) or partial_date(
        period.get("start")
    )
