"""GP Connect STU3 clinical resources -> domain items (allergies, medicines, problems).

Consultations, results, immunisations and referrals are in stu3_events.

Each mapper is a pure function of (resource, context) that returns one item or raises Unmappable; the
caller turns Unmappable into a counted Unreadable, so nothing is lost silently. Field values are kept as
given: free text is never trimmed, partial dates stay partial.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from viewer.domain.allergy_negation import negation_scope
from viewer.domain.clinical import Allergy, Medication, Problem, Reaction
from viewer.domain.coding import SNOMED, Concept
from viewer.domain.dates import PartialDate
from viewer.sources.fhir_common import (
    as_dict,
    as_list,
    as_text,
    code_of,
    extension,
    extensions,
    notes,
)
from viewer.sources.stu3_context import Stu3Context, Unmappable, resource_id

TRANSFER_DEGRADED_MEDICATION = "196421000000109"
GP_PRACTICE_AGENCY = "prescribed-at-gp-practice"

EXT_ALLERGY_END = "AllergyIntoleranceEnd-1"
EXT_LAST_ISSUE = "MedicationStatementLastIssueDate-1"
EXT_PRESCRIBING_AGENCY = "PrescribingAgency-1"
EXT_PRESCRIPTION_TYPE = "PrescriptionType-1"
EXT_QUANTITY_TEXT = "MedicationQuantityText-1"
EXT_SIGNIFICANCE = "ProblemSignificance-1"


def status_code(value: Any) -> str | None:
    """STU3 sends statuses as plain codes; some suppliers send an R4-style CodeableConcept."""
    text = as_text(value)
    if text is not None:
        return text.strip()
    return code_of(value)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _substance(resource: dict[str, Any], what: str, ctx: Stu3Context) -> Concept:
    found = ctx.concept(resource.get("code"))
    if not found.label:
        raise Unmappable(f"{what} has no code or text")
    return found


def _reaction(value: Any, ctx: Stu3Context) -> Reaction:
    data = as_dict(value)
    manifestations = tuple(c for c in (ctx.concept(m) for m in as_list(data.get("manifestation"))) if c.label)
    return Reaction(
        manifestations=manifestations,
        severity=as_text(data.get("severity")),
        description=as_text(data.get("description")),
        onset=ctx.date(data.get("onset")),
    )


def map_allergy(resource: dict[str, Any], ctx: Stu3Context, *, ended_list: bool = False) -> Allergy:
    """An AllergyIntolerance. Items in the Ended allergies list are resolved by definition, so a missing
    clinicalStatus there reads as resolved rather than as an unknown (i.e. active) allergy."""
    substance = _substance(resource, "allergy", ctx)
    end = extension(resource, EXT_ALLERGY_END)
    end_date = end_reason = None
    if end:
        end_date = ctx.date(extension(end, "endDate").get("valueDateTime"))
        end_reason = as_text(extension(end, "reasonEnded").get("valueString"))
    clinical_status = status_code(resource.get("clinicalStatus"))
    if clinical_status is None and ended_list:
        clinical_status = "resolved"
    category = tuple(c for c in (as_text(v) for v in as_list(resource.get("category"))) if c)
    rid = resource_id(resource)
    return Allergy(
        substance=substance,
        provenance=ctx.provenance("AllergyIntolerance", rid),
        clinical_status=clinical_status,
        verification_status=status_code(resource.get("verificationStatus")),
        category=category,
        criticality=as_text(resource.get("criticality")),
        asserted=ctx.date(resource.get("assertedDate")),
        onset=ctx.first_date(resource, "onsetDateTime", "onsetPeriod"),
        recorder=ctx.person_name(resource.get("recorder")),
        notes=notes(resource.get("note")),
        end_date=end_date,
        end_reason=end_reason,
        reactions=tuple(_reaction(r, ctx) for r in as_list(resource.get("reaction"))),
        no_known_allergies=negation_scope(substance.code_in(SNOMED)) is not None,
        negation_scope=negation_scope(substance.code_in(SNOMED)),
    )


def map_allergy_recorded_elsewhere(
    resource: dict[str, Any], ctx: Stu3Context, resource_type: str, *, ended_list: bool = False
) -> Allergy:
    """An allergy the practice recorded as a problem or observation, listed in an allergy List: it must
    still read as an allergy (CLINICAL.md)."""
    substance = _substance(resource, "allergy entry", ctx)
    clinical_status = status_code(resource.get("clinicalStatus")) or status_code(resource.get("status"))
    if ended_list and clinical_status is None:
        clinical_status = "resolved"
    return Allergy(
        substance=substance,
        provenance=ctx.provenance(resource_type, resource_id(resource)),
        clinical_status=clinical_status,
        verification_status=status_code(resource.get("verificationStatus")),
        asserted=ctx.date(resource.get("assertedDate")) or ctx.date(resource.get("issued")),
        onset=ctx.first_date(
            resource, "onsetDateTime", "onsetPeriod", "effectiveDateTime", "effectivePeriod"
        ),
        recorder=ctx.person_name(resource.get("asserter") or resource.get("performer")),
        notes=notes(resource.get("note")) or _comment(resource),
        end_date=ctx.first_date(resource, "abatementDateTime", "abatementPeriod"),
        no_known_allergies=negation_scope(substance.code_in(SNOMED)) is not None,
        negation_scope=negation_scope(substance.code_in(SNOMED)),
    )


def _comment(resource: dict[str, Any]) -> tuple[str, ...]:
    text = as_text(resource.get("comment"))
    return (text,) if text else ()


def _quantity(plan: dict[str, Any]) -> str | None:
    """The quantity as the prescriber wrote it (the text extension), else value and unit."""
    quantity = as_dict(as_dict(plan.get("dispenseRequest")).get("quantity"))
    text = as_text(extension(quantity, EXT_QUANTITY_TEXT).get("valueString"))
    if text:
        return text
    number = quantity.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float | str):
        number = None
    elif isinstance(number, float) and number.is_integer():
        number = int(number)
    unit = as_text(quantity.get("unit")) or as_text(quantity.get("code"))
    joined = " ".join(str(p) for p in (number, unit) if p not in (None, ""))
    return joined or None


def _dosage(raw: Any) -> tuple[str | None, list[str]]:
    """(dosage text, patient instructions) of a `dosage`/`dosageInstruction` element as sent."""
    if not raw:  # absent (or an empty value, which as_list would read as one empty dosage)
        return None, []
    texts, patient = [], []
    for item in as_list(raw):
        data = as_dict(item)
        if as_text(data.get("text")):
            texts.append(data["text"])
        if as_text(data.get("patientInstruction")):
            patient.append(data["patientInstruction"])
    return ("; ".join(_unique(texts)) or None), patient


def map_medication(statement: dict[str, Any], ctx: Stu3Context) -> Medication:
    """A MedicationStatement with its authorisation (the MedicationRequest plan in basedOn) and the
    Medication it names. A dangling plan or medication reference keeps what the statement has."""
    index = ctx.index
    plan: dict[str, Any] = {}
    related: list[tuple[str, str]] = []
    based_on = statement.get("basedOn")
    if based_on is not None:
        for ref in as_list(based_on):
            found = index.resolve(ref, "MedicationRequest")
            if found is not None:
                plan = plan or found
                found_id = resource_id(found)
                if found_id:
                    related.append(("MedicationRequest", found_id))
    medication = index.resolve(statement.get("medicationReference"), "Medication")
    if medication is None and plan:
        medication = index.resolve(plan.get("medicationReference"), "Medication")
    if medication is not None:
        medication_id = resource_id(medication)
        if medication_id:
            related.append(("Medication", medication_id))
    name = ctx.concept(medication.get("code") if medication is not None else None)
    if not name.label:
        name = ctx.concept(
            statement.get("medicationCodeableConcept") or plan.get("medicationCodeableConcept")
        )
    if not name.label:
        display = as_dict(statement.get("medicationReference")).get("display")
        name = Concept(as_text(display))
    if not name.label:
        raise Unmappable("medicine has no name (its Medication is missing or uncoded)")

    dosage, patient_notes = _dosage(statement.get("dosage"))
    plan_dosage, plan_patient = _dosage(plan.get("dosageInstruction"))
    kind_ext = extension(plan, EXT_PRESCRIPTION_TYPE) or extension(statement, EXT_PRESCRIPTION_TYPE)
    kind = code_of(kind_ext.get("valueCodeableConcept"))
    agency = code_of(extension(statement, EXT_PRESCRIBING_AGENCY).get("valueCodeableConcept"))
    last_issue = None
    for ext in extensions(statement, EXT_LAST_ISSUE):
        last_issue = ctx.date(ext.get("valueDateTime")) or ctx.date(ext.get("valueDate"))
        if last_issue:
            break
    effective = as_dict(statement.get("effectivePeriod"))
    started = ctx.date(effective.get("start")) or ctx.date(statement.get("effectiveDateTime"))
    prescriber = ctx.person_name(plan.get("recorder")) or ctx.person_name(
        as_dict(plan.get("requester")).get("agent")
    )
    return Medication(
        name=name,
        provenance=ctx.provenance("MedicationStatement", resource_id(statement), tuple(related)),
        status=status_code(statement.get("status")),
        kind=kind.lower() if kind else None,
        dosage=dosage or plan_dosage,
        quantity=_quantity(plan) if plan else None,
        started=started,
        ended=ctx.date(effective.get("end")),
        last_issued=last_issue,
        prescriber=prescriber,
        patient_notes=_unique(patient_notes + plan_patient),
        prescriber_notes=_unique(notes(statement.get("note")) + notes(plan.get("note"))),
        prescribed_elsewhere=agency is not None and agency != GP_PRACTICE_AGENCY,
        transfer_degraded=name.code_in(SNOMED) == TRANSFER_DEGRADED_MEDICATION,
    )


def map_problem(condition: dict[str, Any], ctx: Stu3Context) -> Problem:
    """A Condition (problem header): significance comes from the CareConnect extension."""
    found = ctx.concept(condition.get("code"))
    if not found.label:
        raise Unmappable("problem has no code or text")
    significance = as_text(extension(condition, EXT_SIGNIFICANCE).get("valueCode"))
    return Problem(
        condition=found,
        provenance=ctx.provenance("Condition", resource_id(condition)),
        clinical_status=status_code(condition.get("clinicalStatus")),
        significance=significance,
        onset=ctx.first_date(condition, "onsetDateTime", "onsetPeriod"),
        abated=ctx.first_date(condition, "abatementDateTime", "abatementPeriod"),
        notes=notes(condition.get("note")),
    )


def _issue_date(order: dict[str, Any], ctx: Stu3Context) -> PartialDate | None:
    validity = as_dict(as_dict(order.get("dispenseRequest")).get("validityPeriod"))
    return ctx.date(validity.get("start")) or ctx.date(order.get("authoredOn"))


def map_medication_plan(
    plan: dict[str, Any], ctx: Stu3Context, orders: tuple[dict[str, Any], ...] = ()
) -> Medication:
    """An authorisation (MedicationRequest, intent plan) that no MedicationStatement summarises, as in the
    spec's split-plan example: shown from the plan itself, with its latest issue from its orders, so the
    medicine is not lost for want of its summary."""
    medication = ctx.index.resolve(plan.get("medicationReference"), "Medication")
    name = ctx.concept(as_dict(medication).get("code"))
    if not name.label:
        name = ctx.concept(plan.get("medicationCodeableConcept"))
    if not name.label:
        name = Concept(as_text(as_dict(plan.get("medicationReference")).get("display")))
    if not name.label:
        raise Unmappable("medicine has no name (its Medication is missing or uncoded)")
    dosage, patient_notes = _dosage(plan.get("dosageInstruction"))
    kind = code_of(extension(plan, EXT_PRESCRIPTION_TYPE).get("valueCodeableConcept"))
    validity = as_dict(as_dict(plan.get("dispenseRequest")).get("validityPeriod"))
    issues = [d for d in (_issue_date(o, ctx) for o in orders) if d is not None]
    return Medication(
        name=name,
        provenance=ctx.provenance("MedicationRequest", resource_id(plan)),
        status=status_code(plan.get("status")),
        kind=kind.lower() if kind else None,
        dosage=dosage,
        quantity=_quantity(plan),
        started=ctx.date(validity.get("start")) or ctx.date(plan.get("authoredOn")),
        ended=ctx.date(validity.get("end")),
        last_issued=max(issues, key=_date_order) if issues else None,
        prescriber=ctx.person_name(plan.get("recorder"))
        or ctx.person_name(as_dict(plan.get("requester")).get("agent")),
        patient_notes=_unique(patient_notes),
        prescriber_notes=notes(plan.get("note")),
        transfer_degraded=name.code_in(SNOMED) == TRANSFER_DEGRADED_MEDICATION,
    )


def _date_order(value: PartialDate) -> tuple[int, int, int]:
    return (value.year, value.month or 0, value.day or 0)
