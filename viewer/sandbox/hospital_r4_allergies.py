"""UK Core AllergyIntolerance: recorded allergies and the coded 'no known allergy' statement."""

from __future__ import annotations

from datetime import date
from typing import Any

from viewer.sandbox.fhir_values import NO_KNOWN_ALLERGY, as_utc
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys
from viewer.sandbox.hospital_r4_values import EXTENSION_BASE, concept, hl7
from viewer.sandbox.world import SynthAllergy


def write_allergy(ctx: PatientContext, a: SynthAllergy) -> Indexed:
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": ctx.rid("al", a.id),
        "meta": ctx.meta("AllergyIntolerance"),
        "clinicalStatus": hl7(
            "allergyintolerance-clinical", a.clinical_status, a.clinical_status.capitalize()
        ),
        "verificationStatus": hl7(
            "allergyintolerance-verification", a.verification_status, a.verification_status.capitalize()
        ),
        "category": [a.category],
        "code": concept(a.substance),
        "patient": ctx.subject,
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
    recorder = ctx.person(a.recorder)
    if recorder:
        res["recorder"] = recorder
    if a.note:
        res["note"] = [{"text": a.note}]
    if a.reaction is not None or a.severity:
        manifestation = concept(a.reaction) if a.reaction else {"text": "Reaction not specified"}
        reaction: dict[str, Any] = {"manifestation": [manifestation]}
        if a.severity:
            reaction["severity"] = a.severity
        res["reaction"] = [reaction]
    return Indexed(res, SearchKeys(
        status=a.clinical_status,
        categories=frozenset({a.category}),
        when=as_utc(a.asserted),
    ))


def write_no_known_allergies(ctx: PatientContext, recorded: date | None) -> Indexed:
    """A coded 'no known allergy' entry: a statement, unlike an empty list, which says nothing."""
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": ctx.rid("nka"),
        "meta": ctx.meta("AllergyIntolerance"),
        "clinicalStatus": hl7("allergyintolerance-clinical", "active", "Active"),
        "verificationStatus": hl7("allergyintolerance-verification", "confirmed", "Confirmed"),
        "code": concept(NO_KNOWN_ALLERGY),
        "patient": ctx.subject,
    }
    if recorded is not None:
        res["recordedDate"] = recorded.isoformat()
    return Indexed(res, SearchKeys(status="active", when=as_utc(recorded) if recorded else None))
