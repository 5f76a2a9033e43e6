"""Values as the cache and journal tables hold them, written one way so SQL can compare them.

Timestamps are UTC ISO text with a fixed precision, so `last_opened < ?` orders them as instants without
any date functions; NHS numbers are the ten digits only, so `943 476 5919` and `9434765919` are one row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from viewer.domain.nhs_number import is_valid, normalise


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """Sortable UTC text; a naive datetime is refused (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("store timestamps must carry a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def nhs_key(nhs_number: str) -> str:
    """The row key of a patient; the message of a refused number never repeats it."""
    number = normalise(nhs_number)
    if not is_valid(number):
        raise ValueError("not a valid NHS number")
    return number
