"""GP Connect results: uncategorised Observations, and investigations as DiagnosticReports of results."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import DIAGNOSTIC_STUDIES_REPORT, as_utc, codeable, fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, coding, concept, day_of, in_period
from viewer.sandbox.world import SNOMED, Area, SynthObservation


def write_uncategorised(ctx: RecordContext, options: dict) -> list[dict]:
    period = options.get("uncategorisedDataSearchPeriod")
    items = [
        _observation(ctx, o)
        for o in ctx.record.observations
        if o.report_id is None and in_period(day_of(o.effective), period)
    ]
    refs = (f"Observation/{o['id']}" for o in items)
    return [ctx.primary_list(Area.UNCATEGORISED, refs, Area.UNCATEGORISED), *items]


def write_investigations(ctx: RecordContext, options: dict) -> list[dict]:
    period = options.get("investigationSearchPeriod")
    reports: dict[str, list[SynthObservation]] = {}
    for obs in ctx.record.observations:
        if obs.report_id is not None:
            reports.setdefault(obs.report_id, []).append(obs)
    out: list[dict] = []
    refs: list[str] = []
    for report_id, results in reports.items():
        issued = max((o.effective for o in results), key=as_utc)
        if not in_period(day_of(issued), period):
            continue
        observations = [_observation(ctx, o) for o in results]
        for observation in observations:
            observation["category"] = [codeable(SNOMED, "394595002", "Pathology")]
        report = {
            "resourceType": "DiagnosticReport",
            "id": ctx.resource_id("report", report_id),
            "meta": ctx.meta("CareConnect-GPC-DiagnosticReport-1"),
            "identifier": ctx.identifier(report_id),
            "status": "final",
            "code": {
                "coding": [coding(DIAGNOSTIC_STUDIES_REPORT)],
                "text": results[0].report_name or DIAGNOSTIC_STUDIES_REPORT.display,
            },
            "subject": {"reference": ctx.patient_ref},
            "issued": fhir_date_time(issued),
            "performer": [{"actor": {"reference": ctx.org_ref}}],
            "result": [{"reference": f"Observation/{o['id']}"} for o in observations],
        }
        refs.append(f"DiagnosticReport/{report['id']}")
        out.append(report)
        out.extend(observations)
    return [ctx.primary_list(Area.INVESTIGATIONS, refs, Area.INVESTIGATIONS), *out]


def _observation(ctx: RecordContext, obs: SynthObservation) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ctx.resource_id("observation", obs.id),
        "meta": ctx.meta("CareConnect-GPC-Observation-1"),
        "identifier": ctx.identifier(obs.id),
        "status": "final",
        "code": concept(obs.test),
        "subject": {"reference": ctx.patient_ref},
        "effectiveDateTime": fhir_date_time(obs.effective),
        "issued": fhir_date_time(obs.effective),
        "performer": [{"reference": ctx.org_ref}],
    }
    if obs.value is not None:
        quantity: dict[str, Any] = {"value": obs.value}
        if obs.unit:
            quantity["unit"] = obs.unit
        resource["valueQuantity"] = quantity
    elif obs.text_value is not None:
        resource["valueString"] = obs.text_value
    if obs.ref_low is not None or obs.ref_high is not None:
        ranges: dict[str, Any] = {}
        for key, bound in (("low", obs.ref_low), ("high", obs.ref_high)):
            if bound is not None:
                ranges[key] = {"value": bound, **({"unit": obs.unit} if obs.unit else {})}
        resource["referenceRange"] = [ranges]
    return resource
