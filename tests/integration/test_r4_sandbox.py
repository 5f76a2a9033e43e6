"""The large-record patient through the real services and the running sandbox: every hospital result the
world holds arrives mapped, and the reports group them as the world does.

The sandbox writes its FHIR from the World without the consumer's code, so equal counts here mean the
client paged everything and the mapper read every result of an independently written record.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.support.sandbox_wiring import make_workspace, patient_number
from viewer.domain.provenance import SourceKind
from viewer.record.status import SourceState


def _open(sandbox, nhs_number: str):
    async def go():
        workspace, http = make_workspace(sandbox)
        try:
            session = await workspace.sign_in("dr.morgan")
            if session.selected_role is None:
                workspace.select_role(session, workspace.role_choices(session)[0][0])
            return await workspace.open_record(nhs_number, session, lambda _update: None)
        finally:
            await http.aclose()

    return asyncio.run(go())


def test_large_record_hospital_results_are_all_mapped_and_grouped(sandbox) -> None:
    number = patient_number(sandbox, "large-record")
    world_record = sandbox.world.patient(number).hospital
    expected = world_record.observations
    assert len(expected) > 10_000

    record = _open(sandbox, number)
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
    hospital = record.hospital
    assert hospital is not None and hospital.unreadable == ()
    assert len(hospital.observations) == len(expected)
    assert len({o.provenance.resource_id for o in hospital.observations}) == len(expected)
    assert all(o.provenance.source is SourceKind.HOSPITAL for o in hospital.observations)

    # reports: one per world report id, each grouping exactly the world's results for it
    world_groups = Counter(o.report_id for o in expected if o.report_id)
    assert len(hospital.reports) == len(world_groups)
    mapped_groups = Counter(o.report_id for o in hospital.observations if o.report_id)
    assert sorted(mapped_groups.values()) == sorted(world_groups.values())
    assert sum(1 for o in hospital.observations if o.report_id is None) == sum(
        1 for o in expected if not o.report_id)
    for report in hospital.reports:
        assert mapped_groups[report.provenance.resource_id] == len(report.result_ids)
    names = Counter(r.name.label for r in hospital.reports)
    world_names = Counter(next(o.report_name for o in expected if o.report_id == rid) or "Laboratory report"
                          for rid in world_groups)
    assert names == world_names

    # numbers reach charts as numbers, text stays text
    with_number = [o for o in expected if o.value is not None]
    assert sum(1 for o in hospital.observations if o.number is not None) == len(with_number)
    assert len(hospital.encounters) == len(world_record.encounters)
    assert len(hospital.documents) == len(world_record.documents)
    assert "Referrals" not in hospital.missing_areas and hospital.missing_areas == ()
