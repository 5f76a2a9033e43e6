import gc
from datetime import timedelta

import pytest

from tests.support.record_fakes import (
    NHS,
    NOW,
    FakeGp,
    FakeHospital,
    FakePds,
    FakeSds,
    Trace,
    make_patient,
    map_gp,
    map_hosp,
    run,
    service,
)
from viewer.domain import SourceKind
from viewer.record.status import SourceState
from viewer.services.open_record import InvalidNhsNumber, RecordSources
from viewer.sources.errors import (
    ConsentWithheld,
    PatientNotFound,
    ReauthenticationRequired,
    SourceUnavailable,
)


def test_both_sources_loaded_and_progress_reported():
    record, updates = run(service())
    assert record.statuses[SourceKind.GP].state is SourceState.LOADED
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
    assert record.gp is not None and record.hospital is not None
    assert updates[0].statuses[SourceKind.PDS].state is SourceState.LOADING
    assert len(updates) >= 4


def test_invalid_number_sends_nothing():
    pds = FakePds()
    with pytest.raises(InvalidNhsNumber):
        run(service(pds=pds), "9990000019")
    assert pds.calls == []


def test_dissent_is_withheld_and_hospital_still_shown():
    record, _ = run(service(gp=FakeGp(error=ConsentWithheld("dissent"))))
    assert record.statuses[SourceKind.GP].state is SourceState.WITHHELD
    assert record.hospital is not None


def test_gp_failure_keeps_hospital():
    record, _ = run(service(gp=FakeGp(error=SourceUnavailable("GP Connect did not answer in time"))))
    gp = record.statuses[SourceKind.GP]
    assert gp.state is SourceState.FAILED and "did not answer" in gp.reason
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED


def test_unexpected_mapping_defect_fails_only_that_source():
    def broken(body, *, retrieved_at):
        raise KeyError("boom")

    svc = service()
    svc._s = RecordSources(FakePds(), FakeSds(), FakeGp(), FakeHospital(), broken, map_hosp,
                           lambda t, n: True)
    record, _ = run(svc)
    assert record.statuses[SourceKind.GP].state is SourceState.FAILED
    assert record.hospital is not None


def test_not_registered_with_gp():
    pds = FakePds(result=Trace(make_patient(ods=None)))
    gp = FakeGp()
    record, _ = run(service(pds=pds, gp=gp))
    assert record.statuses[SourceKind.GP].state is SourceState.NOT_FOUND
    assert gp.calls == []


def test_restricted_patient_gp_not_called():
    gp = FakeGp()
    record, _ = run(service(pds=FakePds(result=Trace(make_patient(), restricted=True)), gp=gp))
    assert gp.calls == []
    assert record.statuses[SourceKind.GP].state is SourceState.NOT_FOUND


def test_stale_trace_blocks_gp():
    gp = FakeGp()
    record, _ = run(service(gp=gp, fresh=False))
    assert gp.calls == []
    assert "24 hours" in record.statuses[SourceKind.GP].reason


def test_superseded_number_followed_and_announced():
    new = "9990000026"
    pds = FakePds(result=Trace(make_patient(new), superseded_from=NHS))
    gp = FakeGp()
    record, _ = run(service(pds=pds, gp=gp))
    assert gp.calls == [new]
    assert any("replaced" in n for n in record.notices)


def test_pds_failure_still_shows_hospital():
    record, _ = run(service(pds=FakePds(error=SourceUnavailable("PDS unavailable"))))
    assert record.statuses[SourceKind.PDS].state is SourceState.FAILED
    assert record.statuses[SourceKind.GP].state is SourceState.FAILED
    assert record.hospital is not None


def test_patient_unknown_to_hospital():
    record, _ = run(service(hospital=FakeHospital(patient=None)))
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.NOT_FOUND


def test_reauthentication_propagates():
    with pytest.raises(ReauthenticationRequired):
        run(service(hospital=FakeHospital(error=ReauthenticationRequired("sign in"))))


def test_pds_not_found():
    record, _ = run(service(pds=FakePds(error=PatientNotFound("No patient"))))
    assert record.statuses[SourceKind.PDS].state is SourceState.NOT_FOUND


def test_sources_run_concurrently():
    # The hospital answers while the GP is still waiting: the update stream shows hospital loaded, GP loading.
    record, updates = run(service(gp=FakeGp(delay=0.05)))
    assert any(u.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
               and u.statuses[SourceKind.GP].state is SourceState.LOADING for u in updates)
    assert record.statuses[SourceKind.GP].at - NOW < timedelta(seconds=1)


def test_the_collector_waits_while_a_record_is_mapped_and_never_across_a_wait():
    """A full pass of the collector holds the GIL for 40-70 ms with a large record in memory: it must not
    start while the sources' answers are mapped (on worker threads). It is never paused across a wait for
    the network either, so an open that never finishes cannot leave it off."""
    seen = []

    def mapping_gp(body, *, retrieved_at):
        seen.append(("gp map", gc.isenabled()))
        return map_gp(body, retrieved_at=retrieved_at)

    def mapping_hospital(patient, resources, **kwargs):
        seen.append(("hospital map", gc.isenabled()))
        return map_hosp(patient, resources, **kwargs)

    class WatchedGp(FakeGp):
        async def get_structured_record(self, nhs, endpoint, ctx):
            seen.append(("gp fetch", gc.isenabled()))
            return await super().get_structured_record(nhs, endpoint, ctx)

    svc = service()
    svc._s = RecordSources(FakePds(), FakeSds(), WatchedGp(), FakeHospital(), mapping_gp, mapping_hospital,
                           lambda t, n: True)
    assert gc.isenabled()
    record, _ = run(svc)
    assert sorted(seen) == [("gp fetch", True), ("gp map", False), ("hospital map", False)]
    assert gc.isenabled()
    assert record.gp is not None and record.hospital is not None
