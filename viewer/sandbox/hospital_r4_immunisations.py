"""UK Core Immunization."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import as_utc
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys
from viewer.sandbox.hospital_r4_values import concept
from viewer.sandbox.world import SynthImmunisation


def write_immunization(ctx: PatientContext, i: SynthImmunisation) -> Indexed:
    res: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": ctx.rid("im", i.id),
        "meta": ctx.meta("Immunization"),
        "status": i.status,
        "vaccineCode": concept(i.vaccine),
        "patient": ctx.subject,
        "occurrenceDateTime": i.given.isoformat(),
        "primarySource": True,
    }
    if i.dose_number is not None:
        res["protocolApplied"] = [{"doseNumberPositiveInt": i.dose_number}]
    return Indexed(res, SearchKeys(i.status, frozenset(), as_utc(i.given)))
