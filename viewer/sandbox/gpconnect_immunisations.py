"""GP Connect immunisations: given ones always, not-given ones only when asked for."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import codeable, fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, concept
from viewer.sandbox.gpconnect_profiles import CC_EXT
from viewer.sandbox.world import Area, SynthImmunisation

_DOSE_STATUSES = "http://hl7.org/fhir/vaccination-protocol-dose-status"


def write_immunisations(ctx: RecordContext, options: dict) -> list[dict]:
    include_not_given = options.get("includeNotGiven", False)
    items = [
        _immunisation(ctx, i)
        for i in ctx.record.immunisations
        if include_not_given or i.status == "completed"
    ]
    refs = (f"Immunization/{i['id']}" for i in items)
    return [ctx.primary_list(Area.IMMUNISATIONS, refs, Area.IMMUNISATIONS), *items]


def _immunisation(ctx: RecordContext, item: SynthImmunisation) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": ctx.resource_id("immunisation", item.id),
        "meta": ctx.meta("CareConnect-GPC-Immunization-1"),
        "extension": [
            {
                "url": CC_EXT + "Extension-CareConnect-DateRecorded-1",
                "valueDateTime": fhir_date_time(item.given),
            }
        ],
        "identifier": ctx.identifier(item.id),
        "status": "completed",
        "notGiven": item.status != "completed",
        "vaccineCode": concept(item.vaccine),
        "patient": {"reference": ctx.patient_ref},
        "date": fhir_date_time(item.given),
        "primarySource": True,
        "practitioner": [{"actor": {"reference": ctx.clinician_ref(None)}}],
    }
    if item.dose_number:
        resource["vaccinationProtocol"] = [
            {
                "doseSequence": item.dose_number,
                "targetDisease": [{"text": item.vaccine.display}],
                "doseStatus": codeable(_DOSE_STATUSES, "count", "Counts"),
            }
        ]
    return resource
