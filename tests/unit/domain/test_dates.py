from datetime import UTC, date, datetime

import pytest

from viewer.domain.dates import PartialDate, age_in_years, format_date, format_time


@pytest.mark.parametrize(
    ("text", "shown"),
    [("2026", "2026"), ("2026-03", "Mar-2026"), ("1945-07-14", "14-Jul-1945"),
     ("2026-11-22T23:30:00Z", "22-Nov-2026"), ("2026-07-01T23:30:00Z", "02-Jul-2026")],
)
def test_partial_dates_keep_their_precision(text, shown):
    assert PartialDate.parse(text).display() == shown


@pytest.mark.parametrize("text", [None, "", "yesterday", "2026-13", "2026-02-30", "20260101", 2026])
def test_bad_dates_are_none_never_invented(text):
    assert PartialDate.parse(text) is None


def test_partial_date_has_no_full_date():
    assert PartialDate.parse("2026-03").as_date() is None
    assert PartialDate.parse("2026-03-04").as_date() == date(2026, 3, 4)


def test_instant_is_utc_and_shown_in_london_time():
    value = PartialDate.parse("2026-07-01T09:15:00+00:00")
    assert value.instant == datetime(2026, 7, 1, 9, 15, tzinfo=UTC)
    assert value.display_with_time() == "01-Jul-2026 10:15"


def test_format_helpers():
    assert format_date(None) == ""
    assert format_date(date(2026, 11, 23)) == "23-Nov-2026"
    assert format_time(datetime(2026, 11, 23, 10, 42, tzinfo=UTC)) == "10:42"


def test_age():
    assert age_in_years(date(1945, 7, 14), date(2026, 7, 13)) == 80
    assert age_in_years(date(1945, 7, 14), date(2026, 7, 14)) == 81
