"""The sandbox's large-record patient mapped from both sources, as the cache tests and bench store it.

Built from the sandbox's own FHIR output (GP Connect STU3 bundle, hospital R4 resources) through the
product's mappers, so what is cached is exactly what a real open would cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from viewer.domain.coding import Concept
from viewer.domain.source_record import SourceRecord
from viewer.sandbox.gpconnect_stu3 import structured_record
from viewer.sandbox.hospital_r4 import HospitalRecords
from viewer.sandbox.population import build_world, patient_for
from viewer.sandbox.world import Area
from viewer.sources.r4_mapping import map_hospital_record
from viewer.sources.stu3_mapping import map_structured_record

RETRIEVED = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LargeRecord:
    nhs_number: str
    gp: SourceRecord
    hospital: SourceRecord

    def secrets(self, *, min_code_length: int = 10) -> set[str]:
        """Text that must never be in clear on disk: the NHS number (plain and spaced), names, drug
        names, and the SNOMED / dm+d codes of allergies, medicines and problems. Codes shorter than
        `min_code_length` digits are left out: random ciphertext of a few MB holds a given 6-digit
        string by chance often enough to make a test flaky; 10 digits, about once in 10 million runs."""
        n = self.nhs_number
        found = {n, f"{n[:3]} {n[3:6]} {n[6:]}"}
        concepts: list[Concept] = []
        for record in (self.gp, self.hospital):
            if record.patient is not None:
                found.add(record.patient.name.family or "")
                found.update(record.patient.name.given)
            found.update(m.name.label for m in record.medications)
            concepts += [m.name for m in record.medications]
            concepts += [a.substance for a in record.allergies] + [p.condition for p in record.problems]
        for concept in concepts:
            found.update(c.code for c in concept.codings if c.code and len(c.code) >= min_code_length)
        return {text for text in found if len(text) >= 4}


def large_record(seed: int = 2026) -> LargeRecord:
    world = build_world(seed)
    patient = patient_for(world, "large-record")
    gp = map_structured_record(_gp_bundle(world, patient.nhs_number, patient.practice_ods),
                               retrieved_at=RETRIEVED)
    hospital = HospitalRecords(world, "https://127.0.0.1:9").record_for_nhs(patient.nhs_number)
    assert hospital is not None
    by_type: dict[str, list[dict[str, Any]]] = {}
    for items in hospital.resources.values():
        for item in items:
            by_type.setdefault(item.resource["resourceType"], []).append(item.resource)
    mapped = map_hospital_record(hospital.patient, by_type, retrieved_at=RETRIEVED,
                                 org_ods=world.hospital_ods, org_name=world.hospital_name)
    return LargeRecord(patient.nhs_number, gp, mapped)


def _gp_bundle(world: Any, nhs_number: str, practice_ods: str | None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"name": a.value} for a in Area if a is not Area.ALLERGIES]
    parts.append({"name": Area.ALLERGIES.value,
                  "part": [{"name": "includeResolvedAllergies", "valueBoolean": True}]})
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "patientNHSNumber",
         "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}},
        *parts,
    ]}
    assert practice_ods is not None
    status, body = structured_record(world, parameters, practice_ods, now=RETRIEVED)
    assert status == 200, body
    return body
