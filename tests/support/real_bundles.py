"""Real-shaped Bundles of a sandbox patient, as the GP Connect provider and the trust's FHIR server send
them: the starting points the fuzz tests damage and the findings' regression tests reproduce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewer.sandbox.gpconnect_stu3 import structured_record
from viewer.sandbox.hospital_r4 import HospitalRecords
from viewer.sandbox.world import Area, SyntheticPatient, World


def gp_bundle(world: World, patient: SyntheticPatient, now: datetime) -> dict[str, Any] | None:
    """The whole structured record (resolved allergies included); None when the provider refuses."""
    parts: list[dict[str, Any]] = [{"name": a.value} for a in Area if a is not Area.ALLERGIES]
    parts.append({"name": Area.ALLERGIES.value,
                  "part": [{"name": "includeResolvedAllergies", "valueBoolean": True}]})
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "patientNHSNumber",
         "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": patient.nhs_number}},
        *parts,
    ]}
    status, body = structured_record(world, parameters, patient.practice_ods or "", now=now)
    return body if status == 200 else None


def hospital_bundle(world: World, patient: SyntheticPatient) -> dict[str, Any] | None:
    """One searchset page: the Patient included, every clinical resource a match; None without a record."""
    record = HospitalRecords(world, "https://127.0.0.1:9").record_for_nhs(patient.nhs_number)
    if record is None:
        return None
    entries = [{"resource": record.patient, "search": {"mode": "include"}}]
    entries += [{"resource": i.resource, "search": {"mode": "match"}}
                for items in record.resources.values() for i in items]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
