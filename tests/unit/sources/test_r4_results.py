"""Hospital results: every kind of Observation value, reference ranges, components, report grouping,
entered-in-error and malformed results, and the speed of a ten-thousand-result record."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from viewer.domain.coding import LOINC, SNOMED
from viewer.domain.dates import PartialDate
from viewer.sources.r4_mapping import map_hospital_record
from viewer.sources.r4_values import number_text

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def cc(code: str, display: str, system: str = SNOMED) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def obs(rid: str = "o1", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"resourceType": "Observation", "id": rid, "status": "final",
                            "code": cc("1000661000000107", "Serum potassium level"),
                            "effectiveDateTime": "2026-11-19T08:15:00+00:00"}
    base.update(fields)
    return base


def map_(**resources: list[dict]):
    return map_hospital_record(None, resources, retrieved_at=NOW, org_ods="RWV99", org_name="Trust")


def one(resource: dict[str, Any]):
    result = map_(Observation=[resource])
    assert result.unreadable == ()
    (item,) = result.observations
    return item


def test_quantity_result_with_range_interpretation_and_note() -> None:
    item = one(obs(
        valueQuantity={"value": 5.9, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                       "code": "mmol/L"},
        referenceRange=[{"low": {"value": 3.5, "unit": "mmol/L"}, "high": {"value": 5.3, "unit": "mmol/L"},
                         "text": "3.5 - 5.3"}],
        interpretation=[cc("H", "High", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation")],
        note=[{"text": "Haemolysed <sample>; repeat"}],
    ))
    assert item.test.label == "Serum potassium level" and item.test.code_in(SNOMED) == "1000661000000107"
    assert (item.value, item.number, item.unit, item.comparator) == ("5.9", 5.9, "mmol/L", None)
    assert (item.range_low, item.range_high, item.range_text) == (3.5, 5.3, "3.5 - 5.3")
    assert item.interpretation == "High" and item.status == "final"
    assert item.effective == PartialDate.parse("2026-11-19T08:15:00+00:00")
    assert item.notes == ("Haemolysed <sample>; repeat",) and item.report_id is None
    prov = item.provenance
    assert (prov.resource_type, prov.resource_id, prov.org_ods, prov.retrieved_at) == (
        "Observation", "o1", "RWV99", NOW)


def test_comparator_is_kept_beside_the_number_and_in_the_text() -> None:
    item = one(obs(valueQuantity={"value": 5, "comparator": "<", "code": "mg/L"}))
    assert (item.value, item.number, item.comparator, item.unit) == ("<5", 5.0, "<", "mg/L")


@pytest.mark.parametrize(("fields", "expected"), [
    ({"valueString": "No growth after 48 hours"}, "No growth after 48 hours"),
    ({"valueCodeableConcept": cc("260385009", "Negative")}, "Negative"),
    ({"valueBoolean": True}, "Yes"),
    ({"valueBoolean": False}, "No"),
    ({"valueInteger": 7}, "7"),
    ({"valueRange": {"low": {"value": 2, "unit": "h"}, "high": {"value": 4, "unit": "h"}}}, "2 to 4 h"),
    ({"valueRange": {"high": {"value": 4, "unit": "h"}}}, "<=4 h"),
    ({"valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 128}}}, "1/128"),
    ({"valueDateTime": "2026-03"}, "Mar-2026"),
    ({"valueTime": "08:30:00"}, "08:30:00"),
    ({"valuePeriod": {"start": "2026-01-02", "end": "2026-01-05"}}, "02-Jan-2026 to 05-Jan-2026"),
    ({"valueSampledData": {"data": "1 2 3"}}, "Sampled data (not shown)"),
    ({"dataAbsentReason": cc("unknown", "Unknown", "http://terminology.hl7.org/CodeSystem/data-absent-reason")},
     "No value: Unknown"),
    ({}, None),  # a finding coded in `code` itself: shown with no value
])
def test_every_value_kind_reads_as_text(fields: dict, expected: str | None) -> None:
    item = one(obs(**fields))
    assert item.value == expected
    assert item.number == (7.0 if "valueInteger" in fields else None)


def test_numbers_are_written_as_sent() -> None:
    assert [number_text(v) for v in (5, 5.0, 0.00001, 1e22, True, "5", float("nan"))] == [
        "5", "5.0", "0.00001", "10000000000000000000000", None, None, None]


BP = obs(
    "bp", code=cc("75367002", "Blood pressure"),
    component=[
        {"code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}]},
         "valueQuantity": {"value": 142, "unit": "mmHg", "code": "mm[Hg]"}},
        {"code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}]},
         "valueQuantity": {"value": 94, "unit": "mmHg", "code": "mm[Hg]"}},
    ],
)


def test_blood_pressure_components_read_as_one_pair_without_a_number() -> None:
    item = one(BP)
    assert (item.value, item.unit, item.number) == ("142/94", "mmHg", None)


def test_blood_pressure_pair_in_either_order_and_by_label() -> None:
    first, second = BP["component"]
    swapped = one(dict(BP, component=[second, first]))
    assert swapped.value == "142/94"
    by_label = [dict(c, code={"text": t}) for c, t in ((first, "Systolic BP"), (second, "Diastolic BP"))]
    assert one(dict(BP, component=by_label)).value == "142/94"


def test_other_components_are_all_kept_by_name() -> None:
    item = one(obs("apgar", code={"text": "Apgar"}, component=[
        {"code": {"text": "Heart rate"}, "valueInteger": 2},
        {"code": {"text": "Colour"}, "valueCodeableConcept": {"text": "Pink"}},
        {"code": {"text": "Tone"}, "dataAbsentReason": {"text": "Not assessed"}},
        {"code": {"text": "Reflex"}},
    ]))
    assert item.value == "Heart rate: 2; Colour: Pink; Tone: No value: Not assessed; Reflex: no value"
    assert item.number is None and item.unit is None


def test_only_one_bp_half_is_not_a_pair() -> None:
    item = one(dict(BP, component=BP["component"][:1]))
    assert item.value == "Systolic blood pressure: 142 mmHg" and item.number is None


def test_own_value_and_components_are_both_kept() -> None:
    item = one(dict(BP, valueQuantity={"value": 110, "unit": "mmHg"}))
    assert item.value == "110 mmHg; 142/94 mmHg" and item.number is None and item.unit is None


def test_effective_falls_back_through_period_instant_and_issued() -> None:
    base = obs()
    del base["effectiveDateTime"]
    assert one(dict(base, effectivePeriod={"start": "2026-01-02"})).effective == PartialDate(2026, 1, 2)
    assert one(dict(base, effectiveInstant="2026-01-03T10:00:00Z")).effective.as_date().day == 3
    assert one(dict(base, issued="2026-01-04T10:00:00Z")).effective.as_date().day == 4
    assert one(base).effective is None


def test_several_reference_ranges_keep_every_text_and_the_first_numbers() -> None:
    item = one(obs(valueQuantity={"value": 12}, referenceRange=[
        {"text": "Adult male", "low": {"value": 13}, "high": {"value": 17}},
        {"text": "Adult female", "low": {"value": 12}, "high": {"value": 15}},
    ]))
    assert (item.range_low, item.range_high, item.range_text) == (13.0, 17.0, "Adult male; Adult female")


def report(rid: str, *results: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
                            "code": {"coding": [{"system": SNOMED, "code": "721981007",
                                                 "display": "Diagnostic studies report"}],
                                     "text": "Urea and electrolytes"},
                            "effectiveDateTime": "2026-11-19T08:00:00+00:00",
                            "result": [{"reference": f"Observation/{r}"} for r in results]}
    base.update(fields)
    return base


def test_report_groups_its_results_and_maps_its_fields() -> None:
    result = map_(
        DiagnosticReport=[report("dr1", "na", "k", issued="2026-11-19T11:00:00Z",
                                 conclusion="Mild hyperkalaemia")],
        Observation=[obs("na"), obs("k"), obs("lonely")],
    )
    (rep,) = result.reports
    assert rep.name.label == "Urea and electrolytes" and rep.status == "final"
    assert rep.result_ids == ("na", "k") and rep.conclusion == "Mild hyperkalaemia"
    assert rep.issued == PartialDate.parse("2026-11-19T11:00:00Z")
    assert rep.provenance.resource_type == "DiagnosticReport" and rep.provenance.resource_id == "dr1"
    assert {o.provenance.resource_id: o.report_id for o in result.observations} == {
        "na": "dr1", "k": "dr1", "lonely": None}


def test_report_reaches_results_through_panel_members() -> None:
    panel = obs("fbc", code=cc("26604007", "Full blood count"),
                hasMember=[{"reference": "Observation/wcc"}, {"reference": "Observation/rcc"}])
    looped = obs("loop", hasMember=[{"reference": "Observation/loop"}])
    result = map_(DiagnosticReport=[report("dr1", "fbc", "loop")],
                  Observation=[obs("wcc"), obs("rcc"), panel, looped])
    assert {o.provenance.resource_id: o.report_id for o in result.observations} == {
        "wcc": "dr1", "rcc": "dr1", "fbc": "dr1", "loop": "dr1"}


def test_report_without_issued_uses_effective_and_conclusion_codes() -> None:
    rep = report("dr1", conclusionCode=[cc("1", "Normal"), {"text": "No action"}])
    (mapped,) = map_(DiagnosticReport=[rep]).reports
    assert mapped.issued == PartialDate.parse("2026-11-19T08:00:00+00:00")
    assert mapped.conclusion == "Normal; No action"


def test_entered_in_error_report_groups_nothing_and_is_counted() -> None:
    result = map_(DiagnosticReport=[report("bad", "k", status="entered-in-error"), report("good", "na")],
                  Observation=[obs("k"), obs("na"), obs("oops", status="entered-in-error")])
    assert [r.provenance.resource_id for r in result.reports] == ["good"]
    assert {o.provenance.resource_id: o.report_id for o in result.observations} == {"k": None, "na": "good"}
    assert sorted((u.resource_type, u.resource_id, u.reason) for u in result.unreadable) == [
        ("DiagnosticReport", "bad", "entered in error"), ("Observation", "oops", "entered in error")]


def test_malformed_results_and_reports_are_counted_with_reasons() -> None:
    result = map_(
        Observation=[
            obs("no-code", code=None),
            obs("code-string", code="Potassium"),
            obs("junk", valueQuantity="5", referenceRange="high", interpretation=5, note=3,
                effectiveDateTime=["x"], component="nope", status=["final"]),
            {"resourceType": "Observation"},
            {},
            "garbage",
        ],
        DiagnosticReport=[report("no-name", code={"coding": "x"}), {"resourceType": "Encounter", "id": "w"}],
    )
    reasons = sorted((u.resource_type, u.resource_id or "", u.reason) for u in result.unreadable)
    assert reasons == [
        ("DiagnosticReport", "no-name", "no report name given"),
        ("DiagnosticReport", "w", "wrong or missing resource type"),
        ("Observation", "", "entry has no resource"),
        ("Observation", "", "entry has no resource"),
        ("Observation", "", "no test name given"),
        ("Observation", "code-string", "no test name given"),
        ("Observation", "no-code", "no test name given"),
    ]
    (junk,) = result.observations  # odd fields are left empty, the readable name still shows
    assert junk.value is None and junk.effective is None and junk.notes == () and junk.status is None


def test_large_record_maps_quickly_and_entirely() -> None:
    """Not a timing test: the bound is many times what the mapping needs, so it only catches a mapper
    that has become quadratic."""
    observations = [obs(f"o{i}", valueQuantity={"value": i / 10, "unit": "mmol/L"},
                        referenceRange=[{"low": {"value": 1}, "high": {"value": 9}}])
                    for i in range(10_000)]
    reports = [report(f"r{i}", *(f"o{j}" for j in range(i * 4, i * 4 + 4))) for i in range(2_500)]
    began = time.perf_counter()
    result = map_(Observation=observations, DiagnosticReport=reports)
    elapsed = time.perf_counter() - began
    assert len(result.observations) == 10_000 and len(result.reports) == 2_500 and result.unreadable == ()
    assert all(o.report_id == f"r{int(o.provenance.resource_id[1:]) // 4}" for o in result.observations)
    assert elapsed < 10
