"""Fuzzing the mappers and the merge with damaged real-shaped Bundles (issue 8, point 3).

Inputs are sandbox patients of several scenarios (GP Connect STU3 structured records and hospital R4
searchset pages) and, when ../shared/reference is beside the repository, the suppliers' own GP Connect
test patients. Each example damages one of them (tests/support/bundle_mutation.py) and feeds the bytes
through what the app runs: `map_structured_record` for GP Connect, `read_search_page` then
`map_hospital_record` for the hospital, then `combine`. Properties:

(a) neither mapper raises anything but UnreadableResponse, and that only when the whole input cannot be
    read (not a Bundle, or JSON that orjson refuses: a number beyond a double);
(b) the merge does not raise, and every item of both source records is behind some merged line;
(c) every clinical resource the damaged Bundle still holds (tests/support/accounting.py, which walks the
    JSON without the mappers) is an item's provenance or an `unreadable` with a reason;
(d) every item and every unreadable carries the source it came from.

The quick run (default) draws ~150 examples per test; `pytest -m fuzz_long tests/fuzz` runs the same
properties on 10,000 examples each (tests/bench/README.md).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.accounting import SECTIONS, account, logical_resources, r4_resources
from tests.support.bundle_mutation import dump, has_raw_number, mutated
from tests.support.real_bundles import gp_bundle, hospital_bundle
from viewer.domain.provenance import SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.record.combined import combine
from viewer.record.status import SourceState, SourceStatus
from viewer.sandbox.population import build_world, patient_for
from viewer.sources.errors import UnreadableResponse
from viewer.sources.hospital_page import read_search_page
from viewer.sources.r4_mapping import map_hospital_record
from viewer.sources.stu3_mapping import map_structured_record

SUPPLIERS = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "gpconnect" / \
    "vendor-test-patients"
NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
GP_SCENARIOS = ("ordinary-adult", "child", "resolved-allergy", "confidential-items", "free-text",
                "same-medicine", "no-known-allergies")
HOSPITAL_SCENARIOS = ("same-medicine", "warfarin-inpatient", "ordinary-adult", "child")
# The quick run is derandomized: CI sees the same 150 examples every time, so a red build is a change in
# the product, not a new draw. The long run draws afresh each time to explore.
QUICK = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LONG = settings(QUICK, max_examples=10_000, derandomize=False)
fuzz_long = pytest.mark.fuzz_long


# ---- inputs ----------------------------------------------------------------------------------------


@functools.cache
def _world():
    return build_world(2026)


@functools.cache
def gp_bundles() -> tuple[dict[str, Any], ...]:
    """GP Connect Bundles: sandbox patients of several scenarios, then the supplier files if present."""
    found = [gp_bundle(_world(), patient_for(_world(), scenario), NOW) for scenario in GP_SCENARIOS]
    if SUPPLIERS.is_dir():
        found += [orjson.loads(p.read_bytes()) for p in sorted(SUPPLIERS.glob("*/*.json"))]
    return tuple(b for b in found if b is not None)


@functools.cache
def hospital_bundles() -> tuple[dict[str, Any], ...]:
    """Hospital searchset pages of sandbox patients of several scenarios."""
    found = [hospital_bundle(_world(), patient_for(_world(), scenario)) for scenario in HOSPITAL_SCENARIOS]
    return tuple(b for b in found if b is not None)


def test_inputs_are_real_shaped():
    """The fuzz starts from Bundles that hold clinical resources, else it proves nothing."""
    assert len(gp_bundles()) >= len(GP_SCENARIOS) - 1
    assert len(hospital_bundles()) >= 2
    assert all(logical_resources(b) for b in gp_bundles())
    assert all(r4_resources(b) for b in hospital_bundles())


# ---- the pipeline, as the app runs it --------------------------------------------------------------


def map_gp(body: bytes) -> SourceRecord:
    return map_structured_record(body, retrieved_at=NOW)


def map_hospital(body: bytes) -> SourceRecord:
    by_type = read_search_page(body, "Observation").resources  # the searched type only names placeholders
    patients = by_type.pop("Patient", [])
    return map_hospital_record(patients[0] if patients else None, by_type, retrieved_at=NOW,
                               org_ods="RX1", org_name="Fuzz Trust")


@functools.cache
def clean_records() -> tuple[SourceRecord, SourceRecord]:
    """An undamaged record of each source, for the merge to meet the damaged one."""
    return map_gp(dump(gp_bundles()[0])), map_hospital(dump(hospital_bundles()[0]))


def _not_a_bundle(document: Any) -> bool:
    return not isinstance(document, dict) or document.get("resourceType") != "Bundle"


def _entry_resources(document: dict[str, Any]) -> list[dict[str, Any]]:
    entries = document.get("entry") if isinstance(document.get("entry"), list) else []
    resources = [e.get("resource") for e in entries if isinstance(e, dict)]
    return [r for r in resources if isinstance(r, dict)]


def _copies_sent_twice(document: Any, keys: list, missing: list) -> set[tuple[str, str | None]]:
    """Keys whose entries are all the very same resource, of which one is accounted for: the same
    resource sent twice (a duplicated entry) is one fact, and showing it once is right."""
    resources = _entry_resources(document)
    copies = set()
    for key in set(missing):
        same = [r for r in resources if r.get("resourceType") == key[0] and r.get("id") == key[1]]
        if key[1] is not None and keys.count(key) > missing.count(key) and all(r == same[0] for r in same):
            copies.add(key)
    return copies


def check_record(record: SourceRecord, source: SourceKind, document: Any, keys: list) -> None:
    """(c) and (d) for one source record."""
    _, _, missing = account(document, record, keys)
    excused = _copies_sent_twice(document, keys, missing)
    missing = [key for key in missing if key not in excused]
    assert missing == [], f"clinical resources neither shown nor counted unreadable: {missing}"
    for section in SECTIONS:
        for item in getattr(record, section):
            assert item.provenance.source is source
    for lost in record.unreadable:
        assert lost.reason and lost.source == source.value


def check_merge(gp: SourceRecord | None, hospital: SourceRecord | None) -> None:
    """(b): the merge does not raise and every source item is behind some merged line."""
    statuses = {kind: SourceStatus(kind, SourceState.LOADED, NOW)
                for kind in (SourceKind.GP, SourceKind.HOSPITAL)}
    combined = combine(None, statuses, gp, hospital)
    for section, merged in combined.sections.items():
        behind = {id(o) for line in merged for o in line.originals}
        for record in (gp, hospital):
            if record is not None:
                assert all(id(item) in behind for item in getattr(record, section)), section


def as_sent(document: Any, body: bytes) -> Any:
    """The document as its bytes read back (a raw 1e-400 is 0.0, not its placeholder), for the walk."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return document


def run_gp(document: Any) -> None:
    body = dump(document)
    try:
        record = map_gp(body)
    except UnreadableResponse:
        assert _not_a_bundle(document)  # a number beyond a double's range no longer costs the record
        return
    document = as_sent(document, body)
    check_record(record, SourceKind.GP, document, logical_resources(document))
    check_merge(record, clean_records()[1])


def run_hospital(document: Any) -> None:
    body = dump(document)
    try:
        record = map_hospital(body)
    except UnreadableResponse:
        assert _not_a_bundle(document) or has_raw_number(body)
        return
    document = as_sent(document, body)
    check_record(record, SourceKind.HOSPITAL, document, r4_resources(document))
    check_merge(clean_records()[0], record)


def run_bytes(body: bytes, mapper) -> None:
    """The 'whole input unreadable' path: a record, or UnreadableResponse (a clear message, no data)."""
    try:
        record = mapper(body)
    except UnreadableResponse as exc:
        assert str(exc) and not any(ch.isdigit() for ch in str(exc))  # no NHS number, no value echoed
        return
    assert isinstance(record, SourceRecord)


@st.composite
def damaged_bytes(draw: st.DrawFn, documents: tuple[dict[str, Any], ...]) -> bytes:
    body = bytearray(dump(draw(st.sampled_from(documents))))
    if draw(st.booleans()):
        return bytes(body[: draw(st.integers(0, len(body) - 1))])
    for _ in range(draw(st.integers(1, 8))):
        body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    return bytes(body)


# ---- quick run (default) ---------------------------------------------------------------------------


@QUICK
@given(st.data())
def test_gp_connect_mutations(data):
    document, _ = data.draw(mutated(list(gp_bundles())))
    run_gp(document)


@QUICK
@given(st.data())
def test_hospital_mutations(data):
    document, _ = data.draw(mutated(list(hospital_bundles())))
    run_hospital(document)


@QUICK
@given(st.data())
def test_gp_connect_damaged_bytes(data):
    run_bytes(data.draw(damaged_bytes(gp_bundles())), map_gp)


@QUICK
@given(st.data())
def test_hospital_damaged_bytes(data):
    run_bytes(data.draw(damaged_bytes(hospital_bundles())), map_hospital)


# ---- long run: pytest -m fuzz_long tests/fuzz ------------------------------------------------------


@fuzz_long
@LONG
@given(st.data())
def test_gp_connect_mutations_long(data):
    document, _ = data.draw(mutated(list(gp_bundles())))
    run_gp(document)


@fuzz_long
@LONG
@given(st.data())
def test_hospital_mutations_long(data):
    document, _ = data.draw(mutated(list(hospital_bundles())))
    run_hospital(document)


@fuzz_long
@LONG
@given(st.data())
def test_damaged_bytes_long(data):
    if data.draw(st.booleans()):
        run_bytes(data.draw(damaged_bytes(gp_bundles())), map_gp)
    else:
        run_bytes(data.draw(damaged_bytes(hospital_bundles())), map_hospital)
