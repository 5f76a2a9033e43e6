"""GP Connect consultations: each Encounter with its consultation -> topic -> category List structure."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import as_utc, codeable, fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, concept, day_of, in_period
from viewer.sandbox.gpconnect_lists import fill_list, list_resource
from viewer.sandbox.world import Area, SynthEncounter

_PARTICIPANT_TYPES = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-ParticipantType-1"


def write_consultations(ctx: RecordContext, options: dict) -> list[dict]:
    period = options.get("consultationSearchPeriod")
    chosen = [e for e in ctx.record.encounters if in_period(day_of(e.start), period)]
    if "includeNumberOfMostRecent" in options:
        chosen = sorted(chosen, key=lambda e: as_utc(e.start), reverse=True)[
            : options["includeNumberOfMostRecent"]
        ]
    out: list[dict] = []
    encounter_refs: list[str] = []
    for encounter in chosen:
        resources = _consultation(ctx, encounter)
        encounter_refs.append(f"Encounter/{resources[0]['id']}")
        out.extend(resources)
    return [ctx.primary_list(Area.CONSULTATIONS, encounter_refs, Area.CONSULTATIONS), *out]


def _consultation(ctx: RecordContext, encounter: SynthEncounter) -> list[dict]:
    """Encounter + consultation List -> topic List -> category List -> note Observation."""
    enc_id = ctx.resource_id("encounter", encounter.id)
    enc_ref = {"reference": f"Encounter/{enc_id}"}
    clinician = ctx.clinician_ref(encounter.clinician)
    period: dict[str, str] = {"start": fhir_date_time(encounter.start)}
    if encounter.end:
        period["end"] = fhir_date_time(encounter.end)
    title = "Surgery Consultation" if encounter.kind == "consultation" else encounter.kind.title()
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": enc_id,
        "meta": ctx.meta("CareConnect-GPC-Encounter-1"),
        "identifier": ctx.identifier(encounter.id),
        "status": encounter.status if encounter.status in ("finished", "in-progress") else "finished",
        "type": [{"text": title}],
        "subject": {"reference": ctx.patient_ref},
        "participant": [
            {
                "type": [codeable(_PARTICIPANT_TYPES, "PPRF", "primary performer")],
                "individual": {"reference": clinician},
            }
        ],
        "period": period,
    }
    if encounter.reason:
        resource["reason"] = [concept(encounter.reason)]
    when = fhir_date_time(encounter.start)

    def structure_list(kind: str, code: str, display: str, list_title: str, refs: list[str]) -> dict:
        head = list_resource(
            ctx.resource_id(kind, encounter.id),
            list_title,
            code,
            display,
            ctx.patient_ref,
            when,
            ("system", "Sorted by System"),
            encounter=enc_ref,
        )
        return fill_list(head, refs, [])

    out = [resource]
    if encounter.note or encounter.reason:
        obs_id = ctx.resource_id("consultation-note", encounter.id)
        note = {
            "resourceType": "Observation",
            "id": obs_id,
            "meta": ctx.meta("CareConnect-GPC-Observation-1"),
            "identifier": ctx.identifier(f"{encounter.id}-note"),
            "status": "final",
            "code": concept(encounter.reason) if encounter.reason else {"text": "Consultation note"},
            "subject": {"reference": ctx.patient_ref},
            "context": enc_ref,
            "effectiveDateTime": when,
            "performer": [{"reference": clinician}],
        }
        if encounter.note:
            note["comment"] = encounter.note
        category = structure_list(
            "consultation-category", "24781000000107", "Category (EHR)", "History", [f"Observation/{obs_id}"]
        )
        topic_title = encounter.reason.display if encounter.reason else title
        topic = structure_list(
            "consultation-topic", "25851000000105", "Topic (EHR)", topic_title, [f"List/{category['id']}"]
        )
        consultation = structure_list(
            "consultation", "325851000000107", "Consultation", title, [f"List/{topic['id']}"]
        )
        out.extend((consultation, topic, category, note))
    else:
        out.append(structure_list("consultation", "325851000000107", "Consultation", title, []))
    return out
