"""The typed decoding of hospital results and reports gives the same record as the tolerant dict path.

Two readings of the same bytes are compared whole (items, reports, unreadable): the app's reading
(hospital_page: typed Structs for results and reports, dicts for the rest) and the plain one (orjson
dicts only). The inputs are every sandbox patient's hospital record, then the same records with odd
elements planted at random (wrong types, nulls, components, rarer values), then hand-written cases.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from viewer.domain.source_record import SourceRecord
from viewer.sandbox.hospital_r4 import HospitalRecords
from viewer.sandbox.population import build_world
from viewer.sources.errors import UnreadableResponse
from viewer.sources.fhir_decode import TypedResource, decode_resource
from viewer.sources.hospital_page import read_search_page
from viewer.sources.r4_context import MappingContext
from viewer.sources.r4_mapping import map_hospital_record
from viewer.sources.r4_structs import DECODER, R4DiagnosticReport, R4Observation
from viewer.sources.r4_typed import map_typed_report, typed_observation_mapper

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def bundle(resources: list[dict[str, Any]]) -> bytes:
    """The json module, not orjson: it writes integers beyond 64 bits, which a server may send."""
    entries = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    return json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries}).encode()


def as_app_reads(body: bytes) -> SourceRecord:
    resources = read_search_page(body, "Observation").resources
    patients = resources.pop("Patient", [])
    return map_hospital_record(patients[0] if patients else None, resources, retrieved_at=NOW,
                               org_ods="RX1", org_name="Test Trust")


def as_dicts(body: bytes) -> SourceRecord:
    """The reading before typed decoding: orjson dicts grouped by type."""
    resources: dict[str, list[Any]] = {}
    for entry in orjson.loads(body)["entry"]:
        resource = entry.get("resource")
        key = resource.get("resourceType") if isinstance(resource, dict) else None
        resources.setdefault(key if isinstance(key, str) else "Observation", []).append(
            resource if isinstance(key, str) else {})
    patients = resources.pop("Patient", [])
    return map_hospital_record(patients[0] if patients else None, resources, retrieved_at=NOW,
                               org_ods="RX1", org_name="Test Trust")


def assert_same(body: bytes) -> SourceRecord:
    typed, plain = as_app_reads(body), as_dicts(body)
    assert typed == plain
    return typed


@pytest.fixture(scope="module")
def records() -> list[list[dict[str, Any]]]:
    world = build_world(2026)
    hospital = HospitalRecords(world, "https://127.0.0.1:9")
    found = []
    for patient in world.patients:
        record = hospital.record_for_nhs(patient.nhs_number)
        if record is not None:
            resources = (i.resource for items in record.resources.values() for i in items)
            found.append([record.patient, *resources])
    assert sum(1 for r in found for x in r if x["resourceType"] == "Observation") > 10_000
    return found


def test_every_sandbox_record_reads_the_same_typed_and_as_dicts(records) -> None:
    for resources in records:
        assert_same(bundle(resources))


def test_sandbox_results_and_reports_take_the_typed_path(records) -> None:
    """The fast path is really used: each sandbox result and report decodes typed and its typed mapper
    returns the dict mapper's item itself, without declining."""
    ctx = MappingContext(NOW, "RX1", "Test Trust", {})
    mappers = {R4Observation: typed_observation_mapper({}), R4DiagnosticReport: map_typed_report}
    typed = 0
    for resources in records:
        for resource in resources:
            if resource["resourceType"] not in ("Observation", "DiagnosticReport") or "component" in resource:
                continue
            item = decode_resource(orjson.dumps(resource), DECODER)
            assert isinstance(item, TypedResource)
            assert mappers[type(item)](item, ctx).provenance.resource_id == resource["id"]
            typed += 1
    assert typed > 10_000


# Odd elements a supplier might send, each planted in one result or report.
MUTATIONS = [
    ("code", [{"text": "code as an array"}]),
    ("code", None),
    ("code", "Haemoglobin"),
    ("code", {"coding": {"code": "718-7", "display": "a lone coding"}}),
    ("id", 12345),
    ("id", None),
    ("status", 7),
    ("status", "entered-in-error"),
    ("valueQuantity", None),
    ("valueQuantity", {"value": "5.1", "unit": "mmol/L"}),
    ("valueQuantity", {"value": True}),
    ("valueQuantity", {"value": 123456789012345678901234567890, "unit": "x"}),
    ("valueQuantity", {"value": 1e-7, "comparator": "<"}),
    ("valueQuantity", {"value": 5, "comparator": ["<"]}),
    ("valueQuantity", [{"value": 5}]),
    ("valueString", None),
    ("valueString", "  "),
    ("valueString", "Positive & <confirmed>"),
    ("valueCodeableConcept", {"text": "Detected"}),
    ("valueCodeableConcept", None),
    ("valueBoolean", True),
    ("valueInteger", 4),
    ("valueRange", {"low": {"value": 1}, "high": {"value": 2, "unit": "mg"}}),
    ("component", [{"code": {"text": "Systolic"}, "valueQuantity": {"value": 120, "unit": "mmHg"}},
                   {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 80, "unit": "mmHg"}}]),
    ("dataAbsentReason", {"text": "Sample haemolysed"}),
    ("referenceRange", {"low": {"value": 1}}),
    ("referenceRange", None),
    ("referenceRange", [{"text": "adult"}, {"low": {"value": "x"}}]),
    ("interpretation", [{"coding": [{"code": "H", "display": "High"}]}]),
    ("interpretation", "H"),
    ("note", [{"text": "Repeat & check"}]),
    ("note", {"text": "a lone note"}),
    ("effectiveDateTime", {"start": "2026-01-02"}),
    ("effectiveDateTime", "not a date"),
    ("effectiveDateTime", None),
    ("effectivePeriod", {"start": 5}),
    ("effectivePeriod", {"end": "2025-03"}),
    ("issued", "2026-02-03T04:05:06Z"),
    ("hasMember", [{"reference": "Observation/missing"}]),
    ("hasMember", "Observation/x"),
    ("result", [{"reference": "Observation/x"}, "junk"]),
    ("result", {"reference": "Observation/x"}),
    ("result", [{"reference": 5}]),
    ("conclusion", "Normal & <fine>"),
    ("conclusionCode", [{"text": "Anaemia"}]),
    ("resourceType", "Observatio"),
    ("extra", {"anything": [1, 2, 3]}),
]


def test_odd_elements_planted_at_random_read_the_same(records) -> None:
    rng = random.Random(3)
    bulk = [r for r in max(records, key=len) if r["resourceType"] in ("Observation", "DiagnosticReport")]
    for round_ in range(40):
        resources = [dict(r) for r in rng.sample(bulk, 60)]
        for resource in rng.sample(resources, 20):
            name, value = rng.choice(MUTATIONS)
            resource[name] = value
            if rng.random() < 0.3:
                resource.pop(rng.choice(sorted(resource)), None)
        assert_same(bundle(resources)), round_


@pytest.mark.parametrize(("name", "value"), MUTATIONS)
def test_a_wrong_typed_element_is_mapped_or_counted_never_lost(name: str, value: Any) -> None:
    result = {"resourceType": "Observation", "id": "r1", "status": "final",
              "code": {"coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hb"}]},
              "valueQuantity": {"value": 131, "unit": "g/L"}, "effectiveDateTime": "2026-01-02T09:00:00Z"}
    report = {"resourceType": "DiagnosticReport", "id": "d1", "status": "final", "code": {"text": "FBC"},
              "result": [{"reference": "Observation/r1"}]}
    for target in (result, report):
        planted = dict(target, **{name: value})
        other = report if target is result else result
        record = assert_same(bundle([planted, other]))
        shown = [i.provenance for i in (*record.observations, *record.reports)]
        if name != "resourceType":  # a resource of another (unknown) type is not a result or report
            assert len(shown) + len(record.unreadable) == 2


def test_a_number_beyond_a_double_costs_one_result_not_the_page() -> None:
    """orjson refuses 1e400; the dict reading refused the whole page. A result or report is decoded typed
    before orjson sees it, so only that resource is lost (counted); other types keep the old rule."""
    body = (b'{"resourceType":"Bundle","entry":['
            b'{"resource":{"resourceType":"Observation","id":"a","code":{"text":"Hb"},'
            b'"valueQuantity":{"value":1e400}}},'
            b'{"resource":{"resourceType":"Observation","id":"b","code":{"text":"Hb"}}}]}')
    record = as_app_reads(body)
    assert [o.provenance.resource_id for o in record.observations] == ["b"]
    assert [(u.resource_type, u.resource_id) for u in record.unreadable] == [("Observation", "a")]
    with pytest.raises(UnreadableResponse):
        read_search_page(b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Flag",'
                         b'"id":"f","x":1e400}}]}', "Flag")


def test_entries_of_odd_shapes_are_kept_as_placeholders() -> None:
    body = orjson.dumps({"resourceType": "Bundle", "entry": [
        "junk", {"resource": None}, {"resource": {"id": "no-type"}},
        {"resource": {"resourceType": "OperationOutcome"}}, {"search": {"mode": "outcome"}},
        {"resource": {"resourceType": "Observation", "id": "o1", "code": {"text": "Hb"}}},
    ]})
    page = read_search_page(body, "Observation")
    assert page.outcomes == 2
    assert page.resources["Observation"][:3] == [{}, {}, {}] and len(page.resources["Observation"]) == 4
    flag = {"resourceType": "Flag", "id": "f"}
    body = orjson.dumps({"resourceType": "Bundle", "entry": {"resource": flag}})
    assert read_search_page(body, "Flag").resources == {"Flag": [flag]}


def test_a_typed_resource_reads_like_its_dict() -> None:
    resource = {"resourceType": "Observation", "id": "o1", "meta": {"versionId": "2"}, "code": {"text": "Hb"}}
    item = decode_resource(orjson.dumps(resource), DECODER)
    assert isinstance(item, R4Observation) and item.resource_type == "Observation"
    assert item["id"] == "o1" and item.get("meta") == {"versionId": "2"} and "code" in item
    assert item.as_dict() == resource


@pytest.mark.parametrize("body", [b"[]", b"{}", b'{"resourceType":"Patient"}', b"not json"])
def test_a_reply_that_is_not_a_bundle_is_unreadable(body: bytes) -> None:
    with pytest.raises(UnreadableResponse):
        read_search_page(body, "Observation")
