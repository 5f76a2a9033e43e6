"""UK Core Encounter, and an EpisodeOfCare for each inpatient admission."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from viewer.sandbox.fhir_values import as_utc
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys
from viewer.sandbox.hospital_r4_values import HL7_CODESYSTEM, concept, hl7, period, xhtml
from viewer.sandbox.world import SynthEncounter

_ENCOUNTER_CLASS = MappingProxyType({
    "consultation": ("AMB", "ambulatory"),
    "outpatient": ("AMB", "ambulatory"),
    "inpatient": ("IMP", "inpatient encounter"),
    "emergency": ("EMER", "emergency"),
})


def write_encounter(ctx: PatientContext, e: SynthEncounter, episode_id: str | None) -> Indexed:
    code, display = _ENCOUNTER_CLASS.get(e.kind, ("AMB", "ambulatory"))
    res: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": ctx.rid("en", e.id),
        "meta": ctx.meta("Encounter"),
        "status": e.status,
        "class": {"system": HL7_CODESYSTEM + "v3-ActCode", "code": code, "display": display},
        "subject": ctx.subject,
        "period": period(e.start, e.end),
        "serviceProvider": ctx.trust,
    }
    if episode_id is not None:
        res["episodeOfCare"] = [{"reference": f"EpisodeOfCare/{episode_id}"}]
    clinician = ctx.person(e.clinician)
    if clinician:
        res["participant"] = [{
            "type": [hl7("v3-ParticipationType", "ATND", "attender")],
            "individual": clinician,
        }]
    if e.reason is not None:
        res["reasonCode"] = [concept(e.reason)]
    if e.location:
        res["location"] = [{"location": {"display": e.location}}]
    if e.note:
        # R4 Encounter has no note element; the narrative keeps the free text rather than lose it.
        res["text"] = {"status": "additional", "div": xhtml(e.note)}
    return Indexed(res, SearchKeys(e.status, frozenset({code}), as_utc(e.start)))


def write_episode(ctx: PatientContext, e: SynthEncounter, episode_id: str) -> Indexed:
    status = "active" if e.status == "in-progress" else "finished"
    res: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "id": episode_id,
        "meta": ctx.meta("EpisodeOfCare"),
        "status": status,
        "type": [{"text": "Inpatient admission"}],
        "patient": ctx.subject,
        "managingOrganization": ctx.trust,
        "period": period(e.start, e.end),
    }
    return Indexed(res, SearchKeys(status, frozenset(), as_utc(e.start)))
