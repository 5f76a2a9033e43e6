"""UK Core Flag: the alerts a ward expects on the banner, derived from the hospital's own record."""

from __future__ import annotations

from datetime import date

from viewer.sandbox.fhir_values import as_utc, coding
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys, category_tokens
from viewer.sandbox.hospital_r4_values import hl7
from viewer.sandbox.world import SNOMED, SynthAllergy, SynthMedication

_ANTICOAGULANTS = ("warfarin", "apixaban", "rivaroxaban", "edoxaban", "dabigatran", "phenindione")


def write_flags(
    ctx: PatientContext, meds: list[SynthMedication], allergies: list[SynthAllergy]
) -> list[Indexed]:
    """Alerts a ward expects on the banner: anticoagulation, and each severe active allergy."""
    out = []
    for m in meds:
        name = m.medicine.display.lower()
        if m.status != "active" or not any(drug in name for drug in _ANTICOAGULANTS):
            continue
        text = f"Anticoagulant: {m.medicine.display}. Check bleeding risk before procedures."
        out.append(_flag(ctx, ("anticoag", m.id), ("182764009", "Anticoagulant therapy"), text, m.started))
    for a in allergies:
        severe = a.criticality == "high" or a.severity == "severe"
        if a.clinical_status != "active" or a.verification_status == "entered-in-error" or not severe:
            continue
        text = f"Severe allergy: {a.substance.display}"
        out.append(_flag(ctx, ("allergy", a.id), ("609328004", "Allergic disposition"), text, a.asserted))
    return out


def _flag(
    ctx: PatientContext, id_parts: tuple[str, str], code: tuple[str, str], text: str, start: date
) -> Indexed:
    """An active clinical Flag coded in SNOMED CT, its text saying what to watch for."""
    category = hl7("flag-category", "clinical", "Clinical")
    res = {
        "resourceType": "Flag",
        "id": ctx.rid("fl", *id_parts),
        "meta": ctx.meta("Flag"),
        "status": "active",
        "category": [category],
        "code": {"coding": [coding(SNOMED, *code)], "text": text},
        "subject": ctx.subject,
        "period": {"start": start.isoformat()},
        "author": ctx.trust,
    }
    return Indexed(res, SearchKeys("active", category_tokens([category]), as_utc(start)))
