"""UK Core Condition: problem-list items, with significance written as severity."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from viewer.sandbox.fhir_values import as_utc
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys, category_tokens
from viewer.sandbox.hospital_r4_values import concept, hl7
from viewer.sandbox.world import SNOMED, Code, SynthProblem

_SEVERITY = MappingProxyType({
    "major": Code(SNOMED, "24484000", "Severe"),
    "minor": Code(SNOMED, "255604002", "Mild"),
})


def write_condition(ctx: PatientContext, c: SynthProblem) -> Indexed:
    clinical = "active" if c.active else ("resolved" if c.abated else "inactive")
    category = hl7("condition-category", "problem-list-item", "Problem List Item")
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": ctx.rid("co", c.id),
        "meta": ctx.meta("Condition"),
        "clinicalStatus": hl7("condition-clinical", clinical, clinical.capitalize()),
        "verificationStatus": hl7("condition-ver-status", "confirmed", "Confirmed"),
        "category": [category],
        "code": concept(c.condition),
        "subject": ctx.subject,
    }
    severity = _SEVERITY.get(c.significance)
    if severity is not None:
        res["severity"] = concept(severity)
    if c.onset is not None:
        res["onsetDateTime"] = c.onset.isoformat()
    if c.abated is not None:
        res["abatementDateTime"] = c.abated.isoformat()
    if c.note:
        res["note"] = [{"text": c.note}]
    when = as_utc(c.onset) if c.onset else None
    return Indexed(res, SearchKeys(clinical, category_tokens([category]), when))
