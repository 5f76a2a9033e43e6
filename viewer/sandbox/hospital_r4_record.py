"""One patient's whole hospital record: the UK Core Patient, then every type the server searches,
each written by its own `hospital_r4_<area>` module and put newest first.
"""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import NHS_NUMBER_SYSTEM, ODS_SYSTEM, address, codeable, fhir_instant
from viewer.sandbox.hospital_r4_allergies import write_allergy, write_no_known_allergies
from viewer.sandbox.hospital_r4_conditions import write_condition
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_documents import write_document
from viewer.sandbox.hospital_r4_encounters import write_encounter, write_episode
from viewer.sandbox.hospital_r4_flags import write_flags
from viewer.sandbox.hospital_r4_immunisations import write_immunization
from viewer.sandbox.hospital_r4_index import SEARCH_TYPES, HospitalPatientRecord, Indexed, newest_first
from viewer.sandbox.hospital_r4_medicines import write_medication_request, write_medication_statement
from viewer.sandbox.hospital_r4_results import write_observation, write_reports
from viewer.sandbox.hospital_r4_values import EXTENSION_BASE, UKCORE_CODESYSTEM, hl7, human_name
from viewer.sandbox.world import Demographics, SyntheticPatient, World


def write_record(world: World, patient: SyntheticPatient, base_url: str) -> HospitalPatientRecord:
    """Every resource the hospital holds for a patient it knows (one with a hospital record)."""
    ctx = PatientContext(world, patient, base_url)
    rec = patient.hospital
    assert rec is not None  # callers only write patients the hospital knows
    by_type: dict[str, list[Indexed]] = {t: [] for t in SEARCH_TYPES}
    by_type["AllergyIntolerance"] = [write_allergy(ctx, a) for a in rec.allergies]
    if rec.no_known_allergies:
        first_seen = min((e.start.date() for e in rec.encounters), default=None)
        by_type["AllergyIntolerance"].append(write_no_known_allergies(ctx, first_seen))
    by_type["Condition"] = [write_condition(ctx, c) for c in rec.problems]
    for m in rec.medications:
        if m.prescribed_elsewhere:
            by_type["MedicationStatement"].append(write_medication_statement(ctx, m))
        else:
            by_type["MedicationRequest"].append(write_medication_request(ctx, m))
    for e in rec.encounters:
        episode_id = ctx.rid("eoc", e.id) if e.kind == "inpatient" else None
        by_type["Encounter"].append(write_encounter(ctx, e, episode_id))
        if episode_id is not None:
            by_type["EpisodeOfCare"].append(write_episode(ctx, e, episode_id))
    written: dict[str, str] = {}
    for o in rec.observations:
        item = write_observation(ctx, o)
        written[o.id] = item.resource["id"]
        by_type["Observation"].append(item)
    by_type["DiagnosticReport"] = write_reports(ctx, rec.observations, written)
    by_type["Immunization"] = [write_immunization(ctx, i) for i in rec.immunisations]
    by_type["DocumentReference"] = [write_document(ctx, d) for d in rec.documents]
    by_type["Flag"] = write_flags(ctx, rec.medications, rec.allergies)
    return HospitalPatientRecord(
        patient_id=ctx.key,
        nhs_number=patient.nhs_number,
        mrn=ctx.mrn,
        patient=patient_resource(ctx, rec.demographics),
        resources={t: newest_first(items) for t, items in by_type.items()},
    )


def patient_resource(ctx: PatientContext, demo: Demographics) -> dict[str, Any]:
    """UK Core Patient as the hospital knows them: NHS number and hospital number, its own demographics."""
    p = ctx.patient
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": ctx.key,
        "meta": ctx.meta("Patient"),
        "identifier": [
            {
                "extension": [{
                    "url": EXTENSION_BASE + "NHSNumberVerificationStatus",
                    "valueCodeableConcept": codeable(
                        UKCORE_CODESYSTEM + "NHSNumberVerificationStatusEngland",
                        "01",
                        "Number present and verified",
                    ),
                }],
                "system": NHS_NUMBER_SYSTEM,
                "value": p.nhs_number,
            },
            {
                "use": "usual",
                "type": hl7("v2-0203", "MR", "Medical record number"),
                "system": ctx.mrn_system,
                "value": ctx.mrn,
            },
        ],
        "active": True,
        "name": [human_name(demo.name)],
        "gender": demo.gender,
        "birthDate": demo.birth_date.isoformat(),
        "managingOrganization": ctx.trust,
    }
    if demo.phone:
        res["telecom"] = [{"system": "phone", "value": demo.phone, "use": "home"}]
    home = address(demo.address, demo.postcode, use="home")
    if home is not None:
        res["address"] = [home]
    if p.deceased is not None:
        res["deceasedDateTime"] = fhir_instant(p.deceased)
    if p.practice_ods:
        gp: dict[str, Any] = {"identifier": {"system": ODS_SYSTEM, "value": p.practice_ods}}
        practice = ctx.world.practice(p.practice_ods)
        if practice is not None:
            gp["display"] = practice.name
        res["generalPractitioner"] = [gp]
    return res
