"""The status strip's words: a copy kept on this PC must never read like the live record."""

from datetime import UTC, datetime, timedelta

import pytest

from viewer.domain import SourceKind
from viewer.record.status import SourceState, SourceStatus, age_text

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("ago", "text"), [
    (timedelta(seconds=30), "just now"),
    (timedelta(minutes=25), "25 min old"),
    (timedelta(hours=3, minutes=59), "3 h old"),
    (timedelta(hours=47), "47 h old"),
    (timedelta(days=3, hours=5), "3 days old"),
    (timedelta(minutes=-5), "just now"),  # a clock put back never shows a negative age
])
def test_age_text(ago, text):
    assert age_text(NOW - ago, NOW) == text


def test_loaded_is_the_time_it_arrived_even_with_a_copy_behind_it():
    status = SourceStatus(SourceKind.GP, SourceState.LOADED, NOW, cached_at=NOW - timedelta(hours=1))
    assert not status.shows_copy
    assert status.text(NOW) == "GP: loaded 12:00 23-Nov-2026"


def test_a_copy_while_loading_and_after_a_failure():
    kept = datetime(2026, 11, 22, 10, 42, tzinfo=UTC)
    loading = SourceStatus(SourceKind.HOSPITAL, SourceState.LOADING, cached_at=kept)
    failed = SourceStatus(SourceKind.GP, SourceState.FAILED, reason="GP Connect unavailable (timeout)",
                          cached_at=kept)
    assert loading.text(NOW) == "Hospital: showing copy from 10:42 22-Nov-2026 (25 h old) - refreshing…"
    assert failed.text(NOW) == ("GP: showing copy from 10:42 22-Nov-2026 (25 h old)"
                                " - GP Connect unavailable (timeout)")


def test_withheld_never_reads_as_a_copy():
    status = SourceStatus(SourceKind.GP, SourceState.WITHHELD, cached_at=NOW)
    assert not status.shows_copy and status.text(NOW) == "GP: withheld at the patient's request"
