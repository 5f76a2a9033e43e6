from datetime import UTC, datetime

import pytest

from viewer.domain import Coding, Concept, Observation, PartialDate, Provenance, SourceKind
from viewer.domain.coding import LOINC, SNOMED
from viewer.record.merge import MergedItem, merge_section
from viewer.record.trends import (
    NotPlottedReason,
    RangeStatus,
    ResultTrends,
    build_test,
    range_status,
    range_text,
    value_text,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GP, HOSP = SourceKind.GP, SourceKind.HOSPITAL
K_SCT = Coding(SNOMED, "1000651000000109", "Serum potassium level")
K_LOINC = Coding(LOINC, "2823-3", "Potassium [Moles/volume] in Serum or Plasma")


def result(when="2026-11-01T09:30:00Z", number=4.4, *, codings=(K_SCT,), label="Serum potassium",
           unit="mmol/L", source=GP, rid="r", value=None, comparator=None, low=3.5, high=5.3):
    text = value if value is not None else (None if number is None else f"{number:g}")
    return Observation(Concept(label, tuple(codings)), Provenance(source, "Observation", rid, NOW),
                       PartialDate.parse(when), text, number, unit, comparator, low, high)


def lines(*observations):
    return [MergedItem(o, (o,)) for o in observations]


def test_same_code_in_same_system_is_one_test_whatever_the_label():
    items = lines(result(label="K+"), result(label="Serum potassium", when="2026-10-01"),
                  result(label="Potassium", codings=(K_LOINC,), source=HOSP))
    trends = ResultTrends(items)
    assert len(trends) == 2  # SNOMED CT and LOINC codes are not matched by a mapping table
    gp = trends.test_of(items[0])
    assert gp is trends.test_of(items[1])
    assert len(gp.series[0].points) == 2
    assert (gp.name, gp.other_names) == ("K+", ("Serum potassium",))  # ties: the newest line names it
    assert trends.test_of(items[2]).name == "Potassium"


def test_a_result_carrying_both_codes_joins_the_two_series():
    items = lines(result(source=GP), result(codings=(K_LOINC,), source=HOSP, when="2026-10-01"),
                  result(codings=(K_LOINC, K_SCT), source=HOSP, when="2026-09-01"))
    trends = ResultTrends(items)
    assert len(trends) == 1
    test = trends.test_of(items[0])
    assert {p.sources for p in test.series[0].points} == {(GP,), (HOSP,)}


def test_local_codes_match_within_their_system_and_systemless_codes_within_their_source():
    local = Coding("https://fhir.example-trust.nhs.uk/lab-codes", "K", "K")
    bare = Coding(None, "K", "K")
    items = lines(result(codings=(local,), source=HOSP),
                  result(codings=(local,), source=HOSP, when="2026-01"),
                  result(codings=(bare,), source=GP), result(codings=(bare,), source=HOSP))
    trends = ResultTrends(items)
    assert trends.test_of(items[0]) is trends.test_of(items[1])
    assert trends.test_of(items[2]) is not trends.test_of(items[3])
    assert len(trends) == 3


def test_uncoded_results_match_by_name_only():
    items = lines(result(codings=(), label="Serum  Potassium"), result(codings=(), label="serum potassium"),
                  result(codings=(), label="Sodium"), result(label="serum potassium"))
    trends = ResultTrends(items)
    assert trends.test_of(items[0]) is trends.test_of(items[1])
    assert len(trends) == 3  # the coded one stays apart from the uncoded name


def test_units_are_never_mixed_and_the_split_is_said():
    glucose = Coding(LOINC, "2345-7", "Glucose")
    items = lines(result(number=5.4, unit="mmol/L", codings=(glucose,), label="Glucose"),
                  result(number=97, unit="mg/dL", codings=(glucose,), label="Glucose", when="2026-10-01"),
                  result(number=6.1, unit="mmol/L", codings=(glucose,), label="Glucose", when="2026-09-01"),
                  result(number=5.0, unit=None, codings=(glucose,), label="Glucose", when="2026-08-01"))
    test = ResultTrends(items).test_of(items[0])
    assert test.split_by_unit
    by_unit = {s.unit: s for s in test.series}
    assert set(by_unit) == {"mmol/L", "mg/dL", None}
    assert [p.number for p in by_unit["mmol/L"].points] == [6.1, 5.4]  # oldest first
    assert {p.unit for p in by_unit["mmol/L"].points} == {"mmol/L"}
    assert by_unit["mg/dL"].name == "Glucose (mg/dL)"
    assert by_unit[None].name == "Glucose (no unit given)"
    assert test.series[0].unit == "mmol/L"  # the series with most points first
    assert any("3 units (mmol/L, mg/dL, no unit given)" in n and "never drawn on one axis" in n
               for n in test.notices())


def test_units_are_compared_as_given():
    test = build_test(lines(result(unit="mmol/L"), result(unit="mmol/l", when="2026-01-01"),
                            result(unit=" mmol/L ", when="2025-01-01")))
    assert sorted(s.unit for s in test.series) == ["mmol/L", "mmol/l"]


def test_text_and_undated_results_are_counted_and_listed_not_plotted():
    items = lines(result(), result(number=None, value="Haemolysed", rid="t"), result(when=None, rid="u"))
    test = build_test(items)
    assert len(test.series[0].points) == 1
    assert [(x.item.item.provenance.resource_id, x.reason) for x in test.not_plotted] == [
        ("t", NotPlottedReason.TEXT), ("u", NotPlottedReason.UNDATED)]
    assert test.count == 3
    notices = test.notices()
    assert "1 result with no numeric value not charted (listed in the table)." in notices
    assert "1 result with no date not charted (listed in the table)." in notices


def test_a_number_that_is_not_finite_is_not_plotted():
    test = build_test(lines(result(), result(number=float("nan"), value="NaN", when="2026-01-01")))
    assert len(test.series[0].points) == 1
    assert [x.reason for x in test.not_plotted] == [NotPlottedReason.TEXT]


def test_a_test_of_text_only_has_no_series():
    test = build_test(lines(result(number=None, value="Positive"), result(number=None, value="Negative")))
    assert test.series == () and len(test.not_plotted) == 2


@pytest.mark.parametrize(("when", "start", "end", "shown"), [
    ("2024", datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC),
     "2024 (date known to the year only)"),
    ("2024-07", datetime(2024, 6, 30, 23, tzinfo=UTC), datetime(2024, 7, 31, 23, tzinfo=UTC),
     "Jul-2024 (date known to the month only)"),
    ("2024-12", datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC),
     "Dec-2024 (date known to the month only)"),
])
def test_partial_dates_sit_at_the_start_of_their_period_and_are_marked(when, start, end, shown):
    point = build_test(lines(result(when=when))).series[0].points[0]
    assert point.partial
    assert (point.at, point.until) == (start, end)  # Europe/London midnight, held in UTC
    assert point.date_text == shown


def test_full_dates_and_instants_are_not_partial():
    test = build_test(lines(result(when="2024-07-03"), result(when="2024-07-04T08:15:00Z")))
    day, instant = test.series[0].points
    assert not day.partial and day.at == datetime(2024, 7, 2, 23, tzinfo=UTC)
    assert not instant.partial and instant.at == datetime(2024, 7, 4, 8, 15, tzinfo=UTC)
    assert instant.date_text == "04-Jul-2024 09:15"


@pytest.mark.parametrize(("number", "comparator", "low", "high", "status"), [
    (4.4, None, 3.5, 5.3, RangeStatus.WITHIN),
    (5.3, None, 3.5, 5.3, RangeStatus.WITHIN),
    (5.9, None, 3.5, 5.3, RangeStatus.ABOVE),
    (3.1, None, 3.5, 5.3, RangeStatus.BELOW),
    (95, None, 90, None, RangeStatus.WITHIN),
    (60, None, 90, None, RangeStatus.BELOW),
    (4.4, None, None, None, RangeStatus.UNKNOWN),
    (5, "<", 0, 5, RangeStatus.UNKNOWN),  # <5 against 0 - 5: somewhere below 5, perhaps in range
    (5, "<", 5, 10, RangeStatus.BELOW),
    (5, "<=", 5, 10, RangeStatus.UNKNOWN),
    (3, "<", 5, 10, RangeStatus.BELOW),
    (90, ">", 60, None, RangeStatus.WITHIN),
    (90, ">", 60, 90, RangeStatus.ABOVE),
    (90, ">=", 60, 90, RangeStatus.UNKNOWN),
    (100, ">", 60, 90, RangeStatus.ABOVE),
])
def test_range_status(number, comparator, low, high, status):
    assert range_status(number, comparator, low, high) is status


def test_point_describes_value_date_source_and_range():
    o = result(number=5.9, when="2026-11-01T09:30:00Z", source=HOSP)
    point = build_test(lines(o)).series[0].points[0]
    assert point.describe() == ("5.9 mmol/L - 01-Nov-2026 09:30 - Hospital - range 3.5 - 5.3, "
                                "above the reference range")


def test_comparator_kept_in_the_value_text():
    assert value_text(result(number=5, value="5", comparator="<", unit="mg/L")) == "<5 mg/L"
    assert value_text(result(number=5, value="<5", comparator="<", unit="mg/L")) == "<5 mg/L"
    assert range_text(90, None) == ">= 90" and range_text(None, 5.0) == "<= 5"
    assert range_text(None, None) == ""


def test_merged_line_of_both_sources_is_one_point_of_both():
    gp = result(codings=(K_LOINC,), source=GP, rid="g")
    hosp = result(codings=(K_LOINC,), source=HOSP, rid="h")
    items = merge_section("observations", [gp], [hosp])
    assert len(items) == 1
    test = ResultTrends(items).test_of(items[0])
    assert [p.sources for p in test.series[0].points] == [(GP, HOSP)]


def test_summary_for_screen_readers():
    series = build_test(lines(
        result(number=5.9, when="2026-11-01"), result(number=3.1, when="2026-06-01"),
        result(number=4.0, when="2026-01-01", high=5.0),
    )).series[0]
    assert series.ranges_vary
    assert series.notices() == ("The reference range changed over time: each stretch is shaded with the "
                                "range its results were reported with.",)
    assert series.summary() == (
        "Serum potassium, mmol/L: 3 results from 01-Jan-2026 to 01-Nov-2026. "
        "Latest 5.9 mmol/L on 01-Nov-2026 (GP), above the reference range. "
        "Reference range 3.5 - 5.3 (latest; the range changed over time). 1 above and 1 below the range.")
    bare = build_test(lines(result(low=None, high=None))).series[0]
    assert bare.summary().endswith("No reference range given.")


def test_an_equal_line_from_a_new_copy_finds_its_test_and_unknown_tests_find_none():
    trends = ResultTrends(lines(result(), result(when="2026-01-01")))
    assert trends.test_of(lines(result(rid="copy"))[0]).count == 2
    assert trends.test_of(lines(result(codings=(K_LOINC,)))[0]) is None
    assert ResultTrends([]).busiest() is None


def test_busiest_test():
    items = lines(result(), result(when="2026-01-01"), result(codings=(K_LOINC,), label="Other"))
    assert ResultTrends(items).busiest().count == 2
