"""The record cache: what goes in comes back equal, what this build cannot read is 'not cached', retention
removes what was not opened, and a full disk is a typed error that changes nothing."""

from __future__ import annotations

import logging
import secrets
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.domain.clinical import Allergy, Medication, Reaction, RecordWarning, Unreadable
from viewer.domain.coding import DMD, SNOMED, Coding, Concept
from viewer.domain.dates import PartialDate
from viewer.domain.events import Observation
from viewer.domain.patient import HumanName, Patient
from viewer.domain.provenance import Provenance, SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.store.database import Store
from viewer.store.errors import StoreError, StoreFull
from viewer.store.keys import SERVICE
from viewer.store.record_cache import PAYLOAD_FORMAT, CachedSource, RecordCache, shape_of
from viewer.store.session_journal import SessionJournal

NHS = "9990000018"
OTHER = "9990000026"
T0 = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def provenance(source: SourceKind, rid: str) -> Provenance:
    return Provenance(source, "AllergyIntolerance", rid, T0, "A12345", "Lime Tree Surgery",
                      warnings=("confidential-items",), related=(("Medication", "med-1"),))


def patient(source: SourceKind = SourceKind.PDS, **changes: object) -> Patient:
    made = Patient(NHS, HumanName("QUILLFEATHER", ("Zebedee", "Ann"), ("Mrs",)), "female",
                   PartialDate(1945, 7, 14), provenance(source, "p1"), address=("1 Lane", "Leeds"),
                   postcode="LS1 1AA", gp_practice_ods="A12345")
    return msgspec.structs.replace(made, **changes)  # type: ignore[arg-type]


def gp_record(version: int = 1, source: SourceKind = SourceKind.GP) -> SourceRecord:
    """Every kind of value the domain holds: enums, partial and full dates, instants, tuples, floats."""
    prov = provenance(source, f"a{version}")
    return SourceRecord(
        source=source,
        retrieved_at=T0 + timedelta(minutes=version),
        patient=patient(source),
        org_ods="A12345",
        org_name=f"Lime Tree Surgery v{version}",
        allergies=(Allergy(
            Concept("Penicillin", (Coding(SNOMED, "91936005", "Allergy to penicillin"),)), prov,
            clinical_status="active", category=("medication",), asserted=PartialDate(2026, 3),
            onset=PartialDate(2019), reactions=(Reaction((Concept("Rash"),), "severe", "hives",
                                                         PartialDate.parse("2019-05-01T10:00:00Z")),),
            notes=("& < > \" ' £ \\",),
        ),),
        allergies_supplied=True,
        medications=(Medication(Concept(None, (Coding(DMD, "39732411000001106", "Amlodipine 5mg"),)), prov,
                                status="active", kind="repeat", dosage="One daily",
                                last_issued=PartialDate.parse("2026-11-01")),),
        observations=(Observation(Concept("Potassium"), prov, PartialDate.parse("2026-11-20T09:15:00+01:00"),
                                  value="4.1", number=4.1, unit="mmol/L", range_low=3.5, range_high=5.3),),
        warnings=(RecordWarning("data-in-transit", "Data in transit", prov, area="medication"),),
        unreadable=(Unreadable("gp", "Condition", "c9", "no code"),),
        missing_areas=("immunisations",),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(store: Store, clock: Clock) -> RecordCache:
    return RecordCache(store, clock=clock)


def test_msgspec_round_trips_every_domain_value() -> None:
    record = gp_record()
    back = msgspec.msgpack.Decoder(SourceRecord).decode(msgspec.msgpack.encode(record))
    assert back == record
    assert back.source is SourceKind.GP and back.allergies[0].provenance.source is SourceKind.GP
    assert back.allergies[0].asserted == PartialDate(2026, 3)
    assert back.observations[0].effective is not None
    assert back.observations[0].effective.instant == datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    assert isinstance(back.allergies, tuple) and isinstance(back.allergies[0].provenance.related[0], tuple)


def test_a_saved_record_loads_back_equal(cache: RecordCache, clock: Clock) -> None:
    assert cache.load(NHS) is None
    cache.save_demographics(NHS, patient(), T0 - timedelta(hours=1))
    cache.save_source(NHS, gp_record(), etag='W/"7"')
    hospital = gp_record(2, SourceKind.HOSPITAL)
    clock.now = T0 + timedelta(minutes=5)
    cache.save_source("999 000 0018", hospital)  # spaced: the same patient
    loaded = cache.load(NHS)
    assert loaded is not None
    assert loaded.nhs_number == NHS
    assert loaded.demographics == patient()
    assert loaded.demographics_at == T0 - timedelta(hours=1)
    assert loaded.sources == {
        SourceKind.GP: CachedSource(gp_record(), gp_record().retrieved_at, 'W/"7"'),
        SourceKind.HOSPITAL: CachedSource(hospital, hospital.retrieved_at, None),
    }
    assert loaded.last_opened == T0 + timedelta(minutes=5)  # saving counts as opening
    assert cache.load(OTHER) is None


def test_a_new_save_replaces_only_its_own_source(cache: RecordCache) -> None:
    cache.save_source(NHS, gp_record(1))
    cache.save_source(NHS, gp_record(1, SourceKind.HOSPITAL))
    cache.save_source(NHS, gp_record(2), etag="2")
    loaded = cache.load(NHS)
    assert loaded is not None
    assert loaded.sources[SourceKind.GP].record == gp_record(2)
    assert loaded.sources[SourceKind.GP].etag == "2"
    assert loaded.sources[SourceKind.HOSPITAL].record == gp_record(1, SourceKind.HOSPITAL)
    assert loaded.demographics is None


def test_the_pds_version_is_kept_with_the_demographics(store: Store, cache: RecordCache) -> None:
    cache.save_demographics(NHS, patient(), T0, etag="3")
    with store.reading() as db:
        rows = db.execute("SELECT source, etag FROM cached_source").fetchall()
    assert rows == [("pds", "3")]


def test_forget_source_drops_that_source_only(cache: RecordCache) -> None:
    cache.save_source(NHS, gp_record(1))
    cache.save_source(NHS, gp_record(1, SourceKind.HOSPITAL))
    assert cache.forget_source(NHS, SourceKind.GP)
    assert not cache.forget_source(NHS, SourceKind.GP)
    loaded = cache.load(NHS)
    assert loaded is not None and set(loaded.sources) == {SourceKind.HOSPITAL}


def test_only_gp_and_hospital_records_are_source_records(cache: RecordCache) -> None:
    with pytest.raises(ValueError):
        cache.save_source(NHS, gp_record(1, SourceKind.PDS))
    with pytest.raises(ValueError, match="not a valid NHS number"):
        cache.save_source("9990000019", gp_record())
    with pytest.raises(ValueError):
        cache.save_demographics(NHS, patient(), datetime(2026, 11, 23, 10, 42))  # naive


def test_a_restricted_patient_is_never_cached_and_their_old_copy_goes(cache: RecordCache) -> None:
    cache.save_demographics(NHS, patient(), T0)
    cache.save_source(NHS, gp_record())
    cache.save_demographics(NHS, patient(restricted=True, address=(), postcode=None), T0)
    assert cache.load(NHS) is None
    with cache.store.reading() as db:
        assert db.execute("SELECT count(*) FROM cached_source").fetchone()[0] == 0


@pytest.mark.parametrize("column, value", [("format", PAYLOAD_FORMAT + 1), ("format", 0),
                                           ("shape", "0123456789abcdef")])
def test_a_payload_of_another_format_is_not_cached(cache: RecordCache, column: str, value: object,
                                                   caplog) -> None:
    cache.save_source(NHS, gp_record())
    cache.save_demographics(NHS, patient(), T0)
    with cache.store.transaction() as db:
        db.execute(f"UPDATE cached_source SET {column} = ? WHERE source = 'gp'", (value,))
    with caplog.at_level(logging.DEBUG):
        loaded = cache.load(NHS)
    assert loaded is not None and loaded.sources == {} and loaded.demographics == patient()
    with cache.store.transaction() as db:
        db.execute(f"UPDATE cached_source SET {column} = ?", (value,))
    assert cache.load(NHS) is None
    assert NHS not in caplog.text and "QUILLFEATHER" not in caplog.text


@pytest.mark.parametrize("payload", [
    b"", b"\xc1", zlib.compress(b"\xc1"), msgspec.msgpack.encode(gp_record()),  # not compressed
    zlib.compress(msgspec.msgpack.encode({"source": "gp"})),
    zlib.compress(msgspec.msgpack.encode(gp_record(1, SourceKind.HOSPITAL))),
])
def test_a_payload_that_does_not_decode_is_not_cached(cache: RecordCache, payload: bytes, caplog) -> None:
    cache.save_source(NHS, gp_record())
    with cache.store.transaction() as db:
        db.execute("UPDATE cached_source SET payload = ?", (payload,))
    with caplog.at_level(logging.DEBUG):
        assert cache.load(NHS) is None
    assert "could not be read" in caplog.text or "another source" in caplog.text
    assert NHS not in caplog.text


def test_the_shape_follows_the_domain_types() -> None:
    assert shape_of(SourceRecord) == shape_of(SourceRecord)
    assert shape_of(SourceRecord) != shape_of(Patient)


def test_touch_restarts_the_retention_clock(cache: RecordCache, clock: Clock) -> None:
    cache.save_source(NHS, gp_record())
    clock.now = T0 + timedelta(hours=70)
    cache.touch(NHS)
    cache.touch(OTHER)  # nothing cached: nothing happens
    clock.now = T0 + timedelta(hours=100)
    assert cache.purge(older_than=timedelta(hours=72)) == 0
    loaded = cache.load(NHS)
    assert loaded is not None and loaded.last_opened == T0 + timedelta(hours=70)
    assert cache.load(OTHER) is None


def test_purge_by_age_removes_records_and_journal_rows(store: Store, cache: RecordCache,
                                                       clock: Clock) -> None:
    journal = SessionJournal(store, clock=clock)
    cache.save_source(NHS, gp_record())
    cache.save_demographics(NHS, patient(), T0)
    journal.opened("user-a", NHS)
    clock.now = T0 + timedelta(hours=48)
    cache.save_source(OTHER, gp_record())
    journal.opened("user-a", OTHER)
    clock.now = T0 + timedelta(hours=72)
    assert cache.purge(older_than=timedelta(hours=72)) == 0  # exactly 72 h is not older than 72 h
    clock.now = T0 + timedelta(hours=73)
    assert cache.purge(older_than=timedelta(hours=72)) == 1
    assert cache.load(NHS) is None
    assert cache.load(OTHER) is not None
    assert journal.left_open("user-a") == [OTHER]
    with store.reading() as db:
        left = db.execute("SELECT count(*) FROM cached_source WHERE nhs_number = ?", (NHS,)).fetchone()
    assert left == (0,)


def test_purge_by_patient(store: Store, cache: RecordCache, clock: Clock) -> None:
    journal = SessionJournal(store, clock=clock)
    cache.save_source(NHS, gp_record())
    cache.save_source(OTHER, gp_record())
    journal.opened("user-a", NHS)
    assert cache.purge(nhs_number="999 000 0018") == 1
    assert cache.load(NHS) is None and cache.load(OTHER) is not None
    assert journal.left_open("user-a") == []
    assert cache.purge(nhs_number=NHS) == 0
    # both: that patient only when not opened for that long
    assert cache.purge(older_than=timedelta(hours=1), nhs_number=OTHER) == 0
    clock.now = T0 + timedelta(hours=2)
    assert cache.purge(older_than=timedelta(hours=1), nhs_number=OTHER) == 1
    with pytest.raises(ValueError):
        cache.purge()
    with pytest.raises(ValueError, match="positive"):
        cache.purge(older_than=timedelta(0))


def test_forget_drops_the_patient_but_not_their_open_tab(store: Store, cache: RecordCache) -> None:
    journal = SessionJournal(store)
    journal.opened("user-a", NHS)
    cache.save_source(NHS, gp_record())
    assert cache.forget(NHS) is True
    assert cache.forget(NHS) is False
    assert cache.load(NHS) is None
    assert journal.left_open("user-a") == [NHS]


def test_purged_records_leave_no_old_log_frames(store: Store, store_path: Path, cache: RecordCache,
                                                clock: Clock) -> None:
    cache.save_source(NHS, gp_record())
    with store.reading() as db:
        assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    clock.now = T0 + timedelta(days=4)
    assert cache.purge(older_than=timedelta(hours=72)) == 1
    wal = store_path.with_name(store_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_info_counts_and_names_the_keyring_entry_not_the_key(
    store: Store, store_path: Path, cache: RecordCache, backend: MemoryKeyring
) -> None:
    empty = cache.info()
    assert (empty.patients, empty.source_records, empty.demographics) == (0, 0, 0)
    assert empty.oldest_retrieval is None
    cache.save_source(NHS, gp_record(3))
    cache.save_source(NHS, gp_record(2, SourceKind.HOSPITAL))
    cache.save_demographics(NHS, patient(), T0 - timedelta(days=1))
    cache.save_source(OTHER, gp_record(1))
    info = cache.info()
    assert info.path == store_path
    assert info.patients == 2 and info.source_records == 3 and info.demographics == 1
    assert info.oldest_retrieval == T0 - timedelta(days=1)
    assert info.size_bytes >= store_path.stat().st_size > 0
    assert (info.keyring_service, info.keyring_entry) == (SERVICE, "store-key:ward")
    key_hex = backend.get_password(SERVICE, "store-key:ward")
    assert key_hex is not None
    as_json = info.as_json()
    assert key_hex not in str(as_json) and as_json["patients"] == 2
    assert as_json["oldest_retrieval"] == "2026-11-22T10:42:00+00:00"


def test_a_full_disk_is_store_full_and_keeps_the_old_copy(store: Store, cache: RecordCache) -> None:
    cache.save_source(NHS, gp_record(1))
    big = msgspec.structs.replace(gp_record(2), unreadable=tuple(
        Unreadable("gp", "Observation", f"o{i}", secrets.token_hex(100)) for i in range(2000)))
    with store.reading() as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + 5}")
    with pytest.raises(StoreFull) as caught:
        cache.save_source(NHS, big)
    assert isinstance(caught.value, StoreError)
    assert "disk" in caught.value.user_message and "on screen" in caught.value.user_message
    loaded = cache.load(NHS)
    assert loaded is not None and loaded.sources[SourceKind.GP].record == gp_record(1)
    cache.touch(NHS)  # the store still works for small writes
