"""The chart's tick arithmetic: round values, calendar dates, never more labels than fit."""

from datetime import UTC, datetime

import pytest

from viewer.domain.dates import format_date
from viewer.ui.chart_axes import date_ticks, nice_range, value_label, value_ticks


@pytest.mark.parametrize(("low", "high", "most", "expected"), [
    (3.1, 5.9, 7, (3.0, 6.0, 0.5)),
    (3.1, 5.9, 6, (3.0, 6.0, 1.0)),
    (98, 171, 6, (80.0, 180.0, 20.0)),
    (0, 1, 11, (0.0, 1.0, 0.1)),
    (5, 5, 5, (4.5, 5.5, 0.25)),
    (0, 0, 5, (-1.0, 1.0, 0.5)),
])
def test_nice_range(low, high, most, expected):
    first, last, step = nice_range(low, high, most)
    assert (first, last, step) == pytest.approx(expected)
    assert len(value_ticks(first, last, step)) <= most


def test_nice_range_refuses_infinite_values():
    with pytest.raises(ValueError, match="finite"):
        nice_range(0, float("inf"), 5)


@pytest.mark.parametrize(("value", "step", "text"), [
    (4.5, 0.5, "4.5"), (4.0, 0.5, "4.0"), (140.0, 20.0, "140"), (0.25, 0.25, "0.25"),
    (-0.0, 0.1, "0"), (1e-17, 0.1, "0"), (2.5, 2.5, "2"),
])
def test_value_label(value, step, text):
    assert value_label(value, step) == text


def labels(start, end, most):
    return [format_date(t) for t in date_ticks(start, end, most)]


def test_years_on_a_long_span():
    start, end = datetime(2010, 3, 5, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)
    assert labels(start, end, 10) == [f"01-Jan-{y}" for y in range(2012, 2027, 2)]
    assert len(date_ticks(start, end, 3)) <= 3


def test_months_on_a_year_and_days_on_a_week():
    assert labels(datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 12, 20, tzinfo=UTC), 6) == [
        "01-Mar-2026", "01-May-2026", "01-Jul-2026", "01-Sep-2026", "01-Nov-2026"]
    assert labels(datetime(2026, 11, 1, 9, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC), 10) == [
        f"{d:02d}-Nov-2026" for d in range(2, 9)]


def test_ticks_are_london_midnights_in_summer_time():
    ticks = date_ticks(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 3, 12, tzinfo=UTC), 5)
    assert ticks[0] == datetime(2026, 6, 1, 23, tzinfo=UTC)  # 02-Jun-2026 00:00 BST
    assert [format_date(t) for t in ticks] == ["02-Jun-2026", "03-Jun-2026"]
