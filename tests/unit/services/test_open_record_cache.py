"""OpenRecord with the record cache: paint the kept copy first, refresh, keep what came back, and never
show a copy of what a source no longer shares."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from msgspec.structs import replace as replace_value

from tests.support.record_fakes import (
    NHS,
    NOW,
    FakeGp,
    FakeHospital,
    FakePds,
    Trace,
    make_patient,
    run,
    service,
)
from viewer.domain import SourceKind, SourceRecord
from viewer.record.status import SourceState
from viewer.services.open_record import CACHE_PROBLEM
from viewer.sources.errors import ConsentWithheld, PatientNotFound, SourceUnavailable

KEPT_AT = NOW - timedelta(hours=3)


@dataclass(frozen=True)
class Kept:
    record: SourceRecord
    retrieved_at: datetime
    etag: str | None = None


@dataclass(frozen=True)
class KeptRecord:
    demographics: object
    demographics_at: datetime | None
    sources: dict


class StoreFullish(Exception):
    user_message = "The disk of this PC is full."


@dataclass
class FakeCache:
    """In memory, with a log of every call, so a test can say what was kept, touched and forgotten."""

    kept: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    fail_writes: bool = False
    fail_reads: bool = False

    def load(self, nhs):
        self.calls.append(("load", nhs))
        if self.fail_reads:
            raise RuntimeError("unreadable")
        return self.kept.get(nhs)

    def _write(self, *call):
        self.calls.append(call)
        if self.fail_writes:
            raise StoreFullish()

    def save_source(self, nhs, record, *, etag=None):
        self._write("save_source", nhs, record.source)

    def save_demographics(self, nhs, patient, retrieved_at, *, etag=None):
        self._write("save_demographics", nhs)

    def forget(self, nhs):
        self._write("forget", nhs)
        return True

    def forget_source(self, nhs, source):
        self._write("forget_source", nhs, source)
        return True

    def touch(self, nhs):
        self.calls.append(("touch", nhs))

    def writes(self):
        return [c for c in self.calls if c[0] not in ("load", "touch")]


def cached_record(nhs=NHS, *, gp=True, hospital=True, demographics=True):
    sources = {}
    if gp:
        sources[SourceKind.GP] = Kept(SourceRecord(SourceKind.GP, KEPT_AT, make_patient(nhs, SourceKind.GP),
                                                   org_ods="Y90001"), KEPT_AT)
    if hospital:
        sources[SourceKind.HOSPITAL] = Kept(
            SourceRecord(SourceKind.HOSPITAL, KEPT_AT, make_patient(nhs, SourceKind.HOSPITAL)), KEPT_AT)
    patient = make_patient(nhs) if demographics else None
    return KeptRecord(patient, KEPT_AT if demographics else None, sources)


def cache_with(**kwargs):
    return FakeCache(kept={NHS: cached_record(**kwargs)})


def test_the_first_paint_is_the_kept_copy_labelled_with_its_age_then_the_live_record_replaces_it():
    cache = cache_with()
    record, updates = run(service(cache=cache))
    first = updates[0]
    assert first.patient is not None and first.gp is not None and first.hospital is not None
    assert first.gp.retrieved_at == KEPT_AT
    for source in (SourceKind.PDS, SourceKind.GP, SourceKind.HOSPITAL):
        status = first.statuses[source]
        assert status.state is SourceState.LOADING and status.cached_at == KEPT_AT
        expected = f"{source.label}: showing copy from 07:00 23-Nov-2026 (3 h old) - refreshing…"
        assert status.text(NOW) == expected
    assert record.gp.retrieved_at == NOW and record.hospital.retrieved_at == NOW
    assert all(not s.shows_copy for s in record.statuses.values())
    assert ("touch", NHS) in cache.calls
    assert cache.writes()[0] == ("save_demographics", NHS)
    assert sorted(cache.writes()[1:]) == [("save_source", NHS, SourceKind.GP),
                                          ("save_source", NHS, SourceKind.HOSPITAL)]


def test_a_failing_source_leaves_its_copy_on_screen_with_the_reason():
    cache = cache_with()
    down = FakeGp(error=SourceUnavailable("GP Connect unavailable (timeout)"))
    record, _ = run(service(cache=cache, gp=down))
    gp = record.statuses[SourceKind.GP]
    assert gp.state is SourceState.FAILED and gp.shows_copy
    assert record.gp is not None and record.gp.retrieved_at == KEPT_AT
    assert gp.text(NOW) == ("GP: showing copy from 07:00 23-Nov-2026 (3 h old)"
                            " - GP Connect unavailable (timeout)")
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
    assert ("save_source", NHS, SourceKind.GP) not in cache.writes()


def test_without_a_copy_a_failing_source_shows_nothing_and_says_failed():
    record, _ = run(service(cache=FakeCache(), gp=FakeGp(error=SourceUnavailable("down"))))
    assert record.gp is None
    assert record.statuses[SourceKind.GP].text(NOW) == "GP: failed - down"


def test_pds_down_shows_the_kept_demographics_and_the_gp_copy():
    cache = cache_with()
    record, _ = run(service(cache=cache, pds=FakePds(error=SourceUnavailable("PDS is not answering"))))
    assert record.patient is not None and record.patient.nhs_number == NHS
    assert record.statuses[SourceKind.PDS].shows_copy
    gp = record.statuses[SourceKind.GP]
    assert gp.shows_copy and gp.reason == "needs a PDS trace, which failed" and record.gp is not None
    assert ("save_demographics", NHS) not in cache.writes()


def test_dissent_now_takes_the_gp_copy_off_the_screen_and_the_pc():
    cache = cache_with()
    record, _ = run(service(cache=cache, gp=FakeGp(error=ConsentWithheld("dissent"))))
    assert record.gp is None
    assert record.statuses[SourceKind.GP].state is SourceState.WITHHELD
    assert ("forget_source", NHS, SourceKind.GP) in cache.writes()
    assert record.hospital is not None


def test_no_longer_known_to_the_gp_takes_the_copy_away():
    cache = cache_with()
    record, _ = run(service(cache=cache, gp=FakeGp(error=PatientNotFound("not at this practice"))))
    assert record.gp is None and ("forget_source", NHS, SourceKind.GP) in cache.writes()


def test_hospital_without_the_patient_takes_the_hospital_copy_away():
    cache = cache_with()
    record, _ = run(service(cache=cache, hospital=FakeHospital(patient=None)))
    assert record.hospital is None and ("forget_source", NHS, SourceKind.HOSPITAL) in cache.writes()


def test_restricted_patient_nothing_kept_and_no_copy_shown():
    cache = cache_with()
    pds = FakePds(result=Trace(replace_value(make_patient(), restricted=True), restricted=True))
    record, _ = run(service(cache=cache, pds=pds))
    assert record.gp is None
    assert record.hospital is not None and record.hospital.retrieved_at == NOW  # live, shown, not kept
    assert ("forget", NHS) in cache.writes()
    assert not [c for c in cache.writes() if c[0].startswith("save")]


def test_superseded_number_kept_under_the_new_number_and_the_old_forgotten():
    new = "9990000026"
    cache = cache_with()
    record, _ = run(service(cache=cache, pds=FakePds(result=Trace(make_patient(new), superseded_from=NHS))))
    assert ("forget", NHS) in cache.writes()
    assert ("save_source", new, SourceKind.GP) in cache.writes()
    assert record.patient.nhs_number == new


def test_a_cache_that_cannot_write_is_said_once_and_the_record_stays():
    cache = cache_with()
    cache.fail_writes = True
    record, _ = run(service(cache=cache))
    assert record.statuses[SourceKind.GP].state is SourceState.LOADED and record.gp is not None
    assert record.notices.count(f"{CACHE_PROBLEM}: The disk of this PC is full.") == 1


def test_a_cache_that_cannot_be_read_is_as_if_empty():
    cache = cache_with()
    cache.fail_reads = True
    record, updates = run(service(cache=cache))
    assert updates[0].gp is None
    assert record.gp is not None and record.statuses[SourceKind.GP].state is SourceState.LOADED


def test_a_source_not_configured_here_never_shows_a_copy():
    sources_service = service(cache=cache_with())
    sources_service._s = replace(sources_service._s, hospital=None)
    record, updates = run(sources_service)
    assert all(u.hospital is None for u in updates)
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.NOT_CONFIGURED
