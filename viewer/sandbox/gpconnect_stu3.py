"""The sandbox GP practice's answer to `$gpc.getstructuredrecord`, as GP Connect 1.6 FHIR STU3 JSON.

Written from the specification pages (retrieve, lists, clinical-area config, version compatibility,
error handling), never from the viewer's own mapping code, so that a misreading of the spec cannot
hide by being made twice. Resources are built as plain dicts: the large synthetic record has
thousands of entries and must come back well inside GP Connect's one-second target.

This module checks who may be answered and assembles the Bundle; the request is read in
`gpconnect_parameters`, refusals are written in `gpconnect_errors`, and each clinical area has its own
`gpconnect_<area>` writer sharing one `gpconnect_context.RecordContext`. The names other code imports
from here are re-exported below.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from viewer.sandbox.fhir_values import NHS_NUMBER_SYSTEM, NO_KNOWN_ALLERGY, ODS_SYSTEM, SDS_USER_SYSTEM
from viewer.sandbox.gpconnect_allergies import write_allergies
from viewer.sandbox.gpconnect_consultations import write_consultations
from viewer.sandbox.gpconnect_context import RecordContext
from viewer.sandbox.gpconnect_errors import (
    SPINE_ERRORS,
    GpcError,
    error_response,
    not_implemented_warnings,
    operation_outcome,
)
from viewer.sandbox.gpconnect_immunisations import write_immunisations
from viewer.sandbox.gpconnect_lists import EMPTY_NOTE, PRIMARY_LISTS, WARNING_TEXT
from viewer.sandbox.gpconnect_medication import write_medication
from viewer.sandbox.gpconnect_observations import write_investigations, write_uncategorised
from viewer.sandbox.gpconnect_parameters import DIARY_ENTRIES, PART_TYPES, RecordRequest, parse_parameters
from viewer.sandbox.gpconnect_patient import organization_resource, patient_resource
from viewer.sandbox.gpconnect_problems import write_problems
from viewer.sandbox.gpconnect_profiles import (
    BUNDLE_PROFILE,
    EMPTY_REASON_SYSTEM,
    LIST_WARNING_URL,
    OPERATION_OUTCOME_PROFILE,
    SD,
    SPINE_CODES,
)
from viewer.sandbox.gpconnect_referrals import write_diary_entries, write_referrals
from viewer.sandbox.world import Area, GpAccess, Practice, SyntheticPatient, World

# Clinical areas in the order their resources stand in the Bundle.
_SECTIONS: tuple[tuple[str, Callable[[RecordContext, dict], list[dict]]], ...] = (
    (Area.ALLERGIES, write_allergies),
    (Area.MEDICATION, write_medication),
    (Area.CONSULTATIONS, write_consultations),
    (Area.PROBLEMS, write_problems),
    (Area.IMMUNISATIONS, write_immunisations),
    (Area.UNCATEGORISED, write_uncategorised),
    (Area.INVESTIGATIONS, write_investigations),
    (Area.REFERRALS, write_referrals),
    (DIARY_ENTRIES, write_diary_entries),
)


def structured_record(
    world: World, parameters: dict, practice_ods: str, now: datetime | None = None
) -> tuple[int, dict]:
    """Answer `$gpc.getstructuredrecord` at practice `practice_ods`: (HTTP status, FHIR JSON)."""
    now = now or datetime.now(UTC)
    practice = world.practice(practice_ods)
    if practice is None:
        return error_response("ORGANISATION_NOT_FOUND", "no GP Connect provider at this ODS code")
    try:
        request = parse_parameters(parameters, now.date())
        patient = _registered_patient(world, request.nhs_number, practice)
    except GpcError as exc:
        return error_response(exc.code, exc.diagnostics)
    assert patient.gp is not None
    return 200, _bundle(RecordContext(patient, patient.gp, practice, now), request)


def _registered_patient(world: World, nhs_number: str, practice: Practice) -> SyntheticPatient:
    patient = world.patient(nhs_number)
    if (
        patient is None
        or patient.restricted
        or patient.superseded_by is not None
        or patient.deceased is not None
        or patient.practice_ods != practice.ods_code
        or patient.gp_access is GpAccess.NOT_REGISTERED
    ):
        # Sensitive, deceased and elsewhere-registered patients answer as not found (retrieve page).
        raise GpcError("PATIENT_NOT_FOUND")
    if patient.gp_access is GpAccess.DISSENT:
        raise GpcError("NO_PATIENT_CONSENT")
    if patient.gp_access is GpAccess.NO_RECORD or patient.gp is None:
        raise GpcError("NO_RECORD_FOUND")
    return patient


def _bundle(ctx: RecordContext, request: RecordRequest) -> dict:
    """Patient, Organization and Practitioners first, then the areas asked for, then any warnings."""
    areas = request.areas
    disabled = [a for a in areas if a in ctx.record.not_implemented]
    body: list[dict] = []
    for area, write in _SECTIONS:
        if area in areas and area not in disabled:
            body.extend(write(ctx, areas[area]))
    # The head is written after the body: only then are all the Practitioners referred to known.
    head = [patient_resource(ctx), organization_resource(ctx), *ctx.practitioners()]
    resources = head + body
    outcome = not_implemented_warnings(disabled, request.unrecognised)
    if outcome is not None:
        resources.append(outcome)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [BUNDLE_PROFILE]},
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


__all__ = [
    "BUNDLE_PROFILE",
    "DIARY_ENTRIES",
    "EMPTY_NOTE",
    "EMPTY_REASON_SYSTEM",
    "LIST_WARNING_URL",
    "NHS_NUMBER_SYSTEM",
    "NO_KNOWN_ALLERGY",
    "ODS_SYSTEM",
    "OPERATION_OUTCOME_PROFILE",
    "PART_TYPES",
    "PRIMARY_LISTS",
    "SD",
    "SDS_USER_SYSTEM",
    "SPINE_CODES",
    "SPINE_ERRORS",
    "WARNING_TEXT",
    "GpcError",
    "RecordRequest",
    "error_response",
    "operation_outcome",
    "parse_parameters",
    "structured_record",
]
