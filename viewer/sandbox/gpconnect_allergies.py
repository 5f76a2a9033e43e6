"""GP Connect allergies: active ones in the primary List, resolved ones only inside their own List."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import NO_KNOWN_ALLERGY, fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, concept
from viewer.sandbox.gpconnect_profiles import SD
from viewer.sandbox.world import Area, SynthAllergy


def write_allergies(ctx: RecordContext, options: dict) -> list[dict]:
    record = ctx.record
    active = [a for a in record.allergies if a.clinical_status != "resolved"]
    resources = [_allergy(ctx, a) for a in active]
    if record.no_known_allergies and not active:
        resources.append(_no_known_allergies(ctx))
    out = [
        ctx.primary_list(
            Area.ALLERGIES, (f"AllergyIntolerance/{r['id']}" for r in resources), Area.ALLERGIES
        )
    ]
    out.extend(resources)
    if options["includeResolvedAllergies"]:
        # Resolved allergies live only inside their List, so none can pass for an active one.
        ended = [_allergy(ctx, a) for a in record.allergies if a.clinical_status == "resolved"]
        out.append(
            ctx.primary_list(
                "ended-allergies",
                (f"#{r['id']}" for r in ended),
                Area.ALLERGIES,
                contained=ended,
            )
        )
    return out


def _allergy(ctx: RecordContext, allergy: SynthAllergy) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": ctx.resource_id("allergy", allergy.id),
        "meta": ctx.meta("CareConnect-GPC-AllergyIntolerance-1"),
        "identifier": ctx.identifier(allergy.id),
        "clinicalStatus": "resolved" if allergy.clinical_status == "resolved" else "active",
        "verificationStatus": allergy.verification_status,
        "category": [allergy.category],
        "code": concept(allergy.substance),
        "patient": {"reference": ctx.patient_ref},
        "assertedDate": fhir_date_time(allergy.asserted),
        "recorder": {"reference": ctx.clinician_ref(allergy.recorder)},
    }
    if allergy.criticality:
        resource["criticality"] = allergy.criticality
    if allergy.onset:
        resource["onsetDateTime"] = fhir_date_time(allergy.onset)
    if allergy.note:
        resource["note"] = [{"text": allergy.note}]
    if allergy.reaction or allergy.severity:
        reaction: dict[str, Any] = {
            "manifestation": [
                concept(allergy.reaction) if allergy.reaction else {"text": "Unknown reaction"}
            ]
        }
        if allergy.severity:
            reaction["severity"] = allergy.severity
        resource["reaction"] = [reaction]
    if allergy.clinical_status == "resolved":
        ended: list[dict] = []
        if allergy.end_date:
            ended.append({"url": "endDate", "valueDateTime": fhir_date_time(allergy.end_date)})
        ended.append(
            {"url": "reasonEnded", "valueString": allergy.end_reason or "No reason recorded"}
        )
        resource["extension"] = [
            {
                "url": SD + "Extension-CareConnect-GPC-AllergyIntoleranceEnd-1",
                "extension": ended,
            }
        ]
    return resource


def _no_known_allergies(ctx: RecordContext) -> dict:
    """'No known allergies' is a coded AllergyIntolerance (716186003), not an empty List."""
    return {
        "resourceType": "AllergyIntolerance",
        "id": ctx.resource_id("allergy", "no-known-allergies"),
        "meta": ctx.meta("CareConnect-GPC-AllergyIntolerance-1"),
        "identifier": ctx.identifier("no-known-allergies"),
        "clinicalStatus": "active",
        "verificationStatus": "confirmed",
        "category": ["medication"],
        "code": concept(NO_KNOWN_ALLERGY),
        "patient": {"reference": ctx.patient_ref},
        "assertedDate": fhir_date_time(ctx.registered),
        "recorder": {"reference": ctx.clinician_ref(None)},
    }
