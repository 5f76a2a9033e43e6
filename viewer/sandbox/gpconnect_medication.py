"""GP Connect medication: per medicine a MedicationStatement, its plan (MedicationRequest), the
Medication, and the last issue when asked for.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from viewer.sandbox.fhir_values import codeable, fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, concept
from viewer.sandbox.gpconnect_profiles import SD
from viewer.sandbox.world import Area, SynthMedication

_PRESCRIPTION_TYPES = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescriptionType-1"
_PRESCRIPTION_TYPE_DISPLAY = {"acute": "Acute", "repeat": "Repeat", "repeat-dispensing": "Repeat dispensing"}
_PRESCRIBING_AGENCIES = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescribingAgency-1"


def write_medication(ctx: RecordContext, options: dict) -> list[dict]:
    since: date | None = options.get("medicationSearchFromDate")
    kinds: set[str] | None = options.get("filterPrescriptionType")
    issues = options.get("includePrescriptionIssues", True)
    statements: list[dict] = []
    others: list[dict] = []
    for med in ctx.record.medications:
        if since is not None and med.ended is not None and med.ended < since:
            continue
        kind = "acute" if med.kind == "acute" else "repeat"
        if kinds is not None and kind not in kinds:
            continue
        statement, rest = _medicine(ctx, med, issues)
        statements.append(statement)
        others.extend(rest)
    refs = (f"MedicationStatement/{s['id']}" for s in statements)
    return [ctx.primary_list(Area.MEDICATION, refs, Area.MEDICATION), *statements, *others]


def _period(med: SynthMedication) -> dict[str, str]:
    out = {"start": fhir_date_time(med.started)}
    if med.ended:
        out["end"] = fhir_date_time(med.ended)
    return out


def _prescription_type(med: SynthMedication) -> dict:
    kind = med.kind if med.kind in _PRESCRIPTION_TYPE_DISPLAY else "acute"
    return {
        "url": SD + "Extension-CareConnect-GPC-PrescriptionType-1",
        "valueCodeableConcept": codeable(_PRESCRIPTION_TYPES, kind, _PRESCRIPTION_TYPE_DISPLAY[kind]),
    }


def _dispense(med: SynthMedication) -> dict[str, Any]:
    dispense: dict[str, Any] = {"validityPeriod": _period(med)}
    if med.quantity_value is not None:
        text = f"{med.quantity_value:g} {med.quantity_unit or ''}".strip()
        dispense["quantity"] = {
            "value": med.quantity_value,
            "extension": [
                {"url": SD + "Extension-CareConnect-GPC-MedicationQuantityText-1", "valueString": text}
            ],
        }
        if med.quantity_unit:
            dispense["quantity"]["unit"] = med.quantity_unit
    return dispense


def _medicine(ctx: RecordContext, med: SynthMedication, with_issues: bool) -> tuple[dict, list[dict]]:
    """(MedicationStatement, [plan, Medication, last issue]): the statement is what the List points at."""
    medication_ref = "Medication/" + ctx.resource_id("medication", med.id)
    plan_id = ctx.resource_id("medication-plan", med.id)
    prescriber = ctx.clinician_ref(med.prescriber)
    status = med.status if med.status in ("active", "completed", "stopped") else "active"
    dosage: dict[str, Any] = {"text": med.dosage_text}
    if med.patient_notes:
        dosage["patientInstruction"] = med.patient_notes
    notes = [{"text": med.prescriber_notes}] if med.prescriber_notes else []
    prescription_type = _prescription_type(med)
    dispense = _dispense(med)
    plan: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": plan_id,
        "meta": ctx.meta("CareConnect-GPC-MedicationRequest-1"),
        "extension": [prescription_type],
        "identifier": ctx.identifier(med.id),
        "status": status,
        "intent": "plan",
        "medicationReference": {"reference": medication_ref},
        "subject": {"reference": ctx.patient_ref},
        "authoredOn": fhir_date_time(med.started),
        "recorder": {"reference": prescriber},
        "dosageInstruction": [dosage],
        "dispenseRequest": dispense,
    }
    if notes:
        plan["note"] = notes
    if med.kind != "acute" and med.repeats_allowed:
        plan["extension"].append(
            {
                "url": SD + "Extension-CareConnect-GPC-MedicationRepeatInformation-1",
                "extension": [
                    {"url": "numberOfRepeatPrescriptionsAllowed", "valuePositiveInt": med.repeats_allowed}
                ],
            }
        )
    if status == "stopped":
        plan["extension"].append(
            {
                "url": SD + "Extension-CareConnect-GPC-MedicationStatusReason-1",
                "extension": [
                    {"url": "statusChangeDate", "valueDateTime": fhir_date_time(med.ended or med.started)},
                    {"url": "statusReason", "valueCodeableConcept": {"text": "Stopped by prescriber"}},
                ],
            }
        )
    statement: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": ctx.resource_id("medication-statement", med.id),
        "meta": ctx.meta("CareConnect-GPC-MedicationStatement-1"),
        "extension": _statement_extensions(med),
        "identifier": ctx.identifier(med.id),
        "basedOn": [{"reference": f"MedicationRequest/{plan_id}"}],
        "status": status,
        "medicationReference": {"reference": medication_ref},
        "effectivePeriod": _period(med),
        "dateAsserted": fhir_date_time(med.started),
        "subject": {"reference": ctx.patient_ref},
        "taken": "unk",
        "dosage": [dosage],
    }
    if notes:
        statement["note"] = notes
    medication = {
        "resourceType": "Medication",
        "id": medication_ref.split("/")[1],
        "meta": ctx.meta("CareConnect-GPC-Medication-1"),
        "code": concept(med.medicine),
    }
    rest = [plan, medication]
    if with_issues and med.last_issued and not med.prescribed_elsewhere:
        issue = {key: value for key, value in plan.items() if key != "note"}
        issue.update(
            {
                "id": ctx.resource_id("medication-issue", med.id),
                "intent": "order",
                "identifier": ctx.identifier(f"{med.id}-issue"),
                "basedOn": [{"reference": f"MedicationRequest/{plan_id}"}],
                "authoredOn": fhir_date_time(med.last_issued),
                "status": "completed",
                "extension": [prescription_type],
                "dispenseRequest": {
                    **dispense,
                    "validityPeriod": {"start": fhir_date_time(med.last_issued)},
                },
            }
        )
        rest.append(issue)
    return statement, rest


def _statement_extensions(med: SynthMedication) -> list[dict]:
    agency = (
        ("prescribed-by-another-organisation", "Prescribed by another organisation")
        if med.prescribed_elsewhere
        else ("prescribed-at-gp-practice", "Prescribed at GP practice")
    )
    out: list[dict] = []
    if med.last_issued:
        out.append(
            {
                "url": SD + "Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1",
                "valueDateTime": fhir_date_time(med.last_issued),
            }
        )
    out.append(
        {
            "url": SD + "Extension-CareConnect-GPC-PrescribingAgency-1",
            "valueCodeableConcept": codeable(_PRESCRIBING_AGENCIES, *agency),
        }
    )
    return out
