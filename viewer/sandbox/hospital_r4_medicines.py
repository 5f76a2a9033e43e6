"""UK Core medicines: the trust's own prescriptions as MedicationRequests, medicines prescribed
elsewhere (drug history) as MedicationStatements.
"""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import as_utc, codeable
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys, category_tokens
from viewer.sandbox.hospital_r4_values import EXTENSION_BASE, UKCORE_CODESYSTEM, concept, hl7, period
from viewer.sandbox.world import SynthMedication


def write_medication_request(ctx: PatientContext, m: SynthMedication) -> Indexed:
    if m.kind == "acute":
        course = hl7("medicationrequest-course-of-therapy", "acute", "Short course (acute) therapy")
        category = hl7("medicationrequest-category", "inpatient", "Inpatient")
    else:
        course = hl7("medicationrequest-course-of-therapy", "continuous", "Continuous long term therapy")
        category = hl7("medicationrequest-category", "outpatient", "Outpatient")
    if m.kind == "repeat-dispensing":
        course = codeable(
            UKCORE_CODESYSTEM + "MedicationRequestCourseOfTherapy",
            "continuous-repeat-dispensing",
            "Continuous long term (repeat dispensing)",
        )
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": ctx.rid("mr", m.id),
        "meta": ctx.meta("MedicationRequest"),
        "status": m.status,
        "intent": "order",
        "category": [category],
        **_medicine_common(ctx, m),
        "authoredOn": m.started.isoformat(),
        "courseOfTherapyType": course,
        "dosageInstruction": [_dosage(m)],
    }
    requester = ctx.person(m.prescriber)
    if requester:
        res["requester"] = requester
    if m.prescriber_notes:
        res["note"] = [{"text": m.prescriber_notes}]
    dispense: dict[str, Any] = {"validityPeriod": period(m.started, m.ended)}
    if m.quantity_value is not None:
        dispense["quantity"] = {"value": m.quantity_value}
        if m.quantity_unit:
            dispense["quantity"]["unit"] = m.quantity_unit
    if m.repeats_allowed is not None:
        dispense["numberOfRepeatsAllowed"] = m.repeats_allowed
    res["dispenseRequest"] = dispense
    return Indexed(res, SearchKeys(m.status, category_tokens([category]), as_utc(m.started)))


def write_medication_statement(ctx: PatientContext, m: SynthMedication) -> Indexed:
    """Drug history: a medicine prescribed outside the trust (by the GP, say) that the patient takes."""
    category = hl7("medication-statement-category", "community", "Community")
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": ctx.rid("ms", m.id),
        "meta": ctx.meta("MedicationStatement"),
        "extension": [{
            "url": EXTENSION_BASE + "MedicationPrescribingOrganizationType",
            "valueCodeableConcept": codeable(
                UKCORE_CODESYSTEM + "MedicationPrescribingOrganizationType",
                "prescribed-by-another-organisation",
                "Prescribed by another organisation",
            ),
        }],
        "status": m.status,
        "category": category,
        **_medicine_common(ctx, m),
        "effectivePeriod": period(m.started, m.ended),
        "dateAsserted": m.started.isoformat(),
        "dosage": [_dosage(m)],
    }
    if m.last_issued is not None:
        res["extension"].append({
            "url": EXTENSION_BASE + "MedicationStatementLastIssueDate",
            "valueDateTime": m.last_issued.isoformat(),
        })
    source = ctx.person(m.prescriber)
    if source:
        res["informationSource"] = source
    notes = [n for n in (m.prescriber_notes,) if n]
    if m.quantity_value is not None:
        unit = f" {m.quantity_unit}" if m.quantity_unit else ""
        notes.append(f"Quantity: {m.quantity_value:g}{unit}")
    if notes:
        res["note"] = [{"text": n} for n in notes]
    return Indexed(res, SearchKeys(m.status, category_tokens([category]), as_utc(m.started)))


def _medicine_common(ctx: PatientContext, m: SynthMedication) -> dict[str, Any]:
    return {"medicationCodeableConcept": concept(m.medicine), "subject": ctx.subject}


def _dosage(m: SynthMedication) -> dict[str, Any]:
    dosage: dict[str, Any] = {"text": m.dosage_text}
    if m.patient_notes:
        dosage["patientInstruction"] = m.patient_notes
    return dosage
