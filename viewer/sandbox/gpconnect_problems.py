"""GP Connect problems: Conditions filtered by status and (the 1.5 filter) significance."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import codeable, fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, concept
from viewer.sandbox.gpconnect_profiles import CC_EXT
from viewer.sandbox.world import Area, SynthProblem

_CONDITION_CATEGORIES = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-ConditionCategory-1"


def write_problems(ctx: RecordContext, options: dict) -> list[dict]:
    status = options.get("filterStatus")
    significance = options.get("filterSignificance")
    conditions = [
        _condition(ctx, p)
        for p in ctx.record.problems
        if (status is None or (status == "active") == p.active)
        and (significance is None or p.significance == significance)
    ]
    refs = (f"Condition/{c['id']}" for c in conditions)
    return [ctx.primary_list(Area.PROBLEMS, refs, Area.PROBLEMS), *conditions]


def _condition(ctx: RecordContext, problem: SynthProblem) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": ctx.resource_id("problem", problem.id),
        "meta": ctx.meta("CareConnect-GPC-ProblemHeader-Condition-1"),
        "extension": [
            {"url": CC_EXT + "Extension-CareConnect-ProblemSignificance-1", "valueCode": problem.significance}
        ],
        "identifier": ctx.identifier(problem.id),
        "clinicalStatus": "active" if problem.active else "inactive",
        "category": [codeable(_CONDITION_CATEGORIES, "problem-list-item", "Problem List Item")],
        "code": concept(problem.condition),
        "subject": {"reference": ctx.patient_ref},
        "assertedDate": fhir_date_time(problem.onset or ctx.registered),
        "asserter": {"reference": ctx.clinician_ref(None)},
    }
    if problem.onset:
        resource["onsetDateTime"] = fhir_date_time(problem.onset)
    if problem.abated:
        resource["abatementDateTime"] = fhir_date_time(problem.abated)
    if problem.note:
        resource["note"] = [{"text": problem.note}]
    return resource
