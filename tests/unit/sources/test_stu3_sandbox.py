"""Every synthetic patient's full GP record, as the sandbox's GP Connect provider writes it, through the
STU3 mapper: nothing unreadable, every clinical resource accounted for, and the counts of the World.

The sandbox writes its FHIR from the World without any of the consumer's code, so agreement here means
the two sides read the specification the same way, not that one misreading was made twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conformance.test_gpconnect_conformance import account
from viewer.sandbox.gpconnect_stu3 import structured_record
from viewer.sandbox.population import build_world
from viewer.sandbox.world import Area
from viewer.sources.stu3_mapping import map_structured_record

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def full_record_request(nhs_number: str) -> dict:
    areas = [{"name": a} for a in Area if a != Area.ALLERGIES]
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "patientNHSNumber", "valueIdentifier": {"system": NHS_SYSTEM, "value": nhs_number}},
            {"name": "includeAllergies",
             "part": [{"name": "includeResolvedAllergies", "valueBoolean": True}]},
            *areas,
        ],
    }


@pytest.fixture(scope="module")
def answered():
    world = build_world()
    found = []
    for patient in world.patients:
        if patient.gp is None:
            continue
        status, bundle = structured_record(world, full_record_request(patient.nhs_number),
                                           patient.practice_ods, now=NOW)
        if status == 200:
            found.append((patient, bundle, map_structured_record(bundle, retrieved_at=NOW)))
    assert len(found) >= 5  # the population has several GP records to compare
    return found


def test_every_sandbox_resource_is_mapped(answered):
    for patient, bundle, record in answered:
        found, accounted, missing = account(bundle, record)
        assert missing == [] and accounted == found, patient.scenario
        assert record.unreadable == (), patient.scenario


def test_sandbox_counts_match_the_world(answered):
    for patient, _bundle, record in answered:
        gp = patient.gp
        assert len(record.encounters) == len(gp.encounters), patient.scenario
        assert len(record.referrals) == len(gp.referrals), patient.scenario
        given = [i for i in gp.immunisations if i.status == "completed"]  # not-given ones are not asked for
        assert len(record.immunisations) == len(given), patient.scenario
        assert len(record.reports) == len({o.report_id for o in gp.observations if o.report_id})
        grouped = {o.report_id for o in record.observations if o.report_id}
        assert grouped == {r.provenance.resource_id for r in record.reports}, patient.scenario
