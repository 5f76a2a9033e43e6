"""RecordCache.kept_patient: the cached PDS demographics alone, for lists of patients (recent, reopen)."""

from __future__ import annotations

from tests.unit.store.test_record_cache import NHS, T0, gp_record, patient
from viewer.store.database import Store
from viewer.store.record_cache import RecordCache


def test_the_demographics_without_the_record(store: Store) -> None:
    cache = RecordCache(store)
    assert cache.kept_patient(NHS) is None  # nothing kept
    cache.save_source(NHS, gp_record())
    assert cache.kept_patient(NHS) is None  # a record, but no PDS demographics
    cache.save_demographics(NHS, patient(), T0)
    kept = cache.kept_patient(NHS)
    assert kept == patient() == cache.load(NHS).demographics
    assert kept.name.banner() == "QUILLFEATHER, Zebedee Ann (Mrs)"


def test_a_restricted_patient_is_never_kept(store: Store) -> None:
    cache = RecordCache(store)
    cache.save_demographics(NHS, patient(), T0)
    cache.save_demographics(NHS, patient(restricted=True), T0)
    assert cache.kept_patient(NHS) is None
