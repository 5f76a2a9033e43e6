"""Partial clinical dates: GP records give `2026`, `2026-03` or a full instant, and a viewer must never invent
the missing part (CLINICAL.md: partial dates stay partial, missing dates stay empty)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from viewer.domain.record_value import RecordValue

LONDON = ZoneInfo("Europe/London")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FHIR_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?:T(?P<time>[0-9:.]+)(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class PartialDate(RecordValue, order=True):
    """A FHIR date or dateTime with its precision kept. `instant` is set (UTC) only when a time was given."""

    year: int
    month: int | None = None
    day: int | None = None
    instant: datetime | None = None

    @classmethod
    def parse(cls, text: str | None) -> PartialDate | None:
        """Parse a FHIR date/dateTime; None for missing or unparseable text (callers count the latter)."""
        if not text or not isinstance(text, str):
            return None
        m = _FHIR_DATE.match(text.strip())
        if not m:
            return None
        year = int(m["y"])
        month = int(m["m"]) if m["m"] else None
        day = int(m["d"]) if m["d"] else None
        try:
            if month is not None and not 1 <= month <= 12:
                return None
            if day is not None:
                date(year, month or 1, day)
            instant = None
            if m["time"]:
                instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
                if instant.tzinfo is None:
                    instant = instant.replace(tzinfo=LONDON)
                instant = instant.astimezone(UTC)
        except ValueError:
            return None
        return cls(year, month, day, instant)

    @classmethod
    def of(cls, value: date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    def as_date(self) -> date | None:
        """The full calendar date, or None when only a year or month is known."""
        if self.month is None or self.day is None:
            return None
        if self.instant is not None:
            return self.instant.astimezone(LONDON).date()
        return date(self.year, self.month, self.day)

    def display(self) -> str:
        """`14-Jul-1945`, `Mar-2026` or `2026`: on screen as DD-Mmm-YYYY with the precision received."""
        if self.month is None:
            return f"{self.year:04d}"
        full = self.as_date()
        if full is None:
            return f"{_MONTHS[self.month - 1]}-{self.year:04d}"
        return f"{full.day:02d}-{_MONTHS[full.month - 1]}-{full.year:04d}"

    def display_with_time(self) -> str:
        """Date plus HH:MM in Europe/London when a time was recorded."""
        if self.instant is None:
            return self.display()
        local = self.instant.astimezone(LONDON)
        return f"{self.display()} {local:%H:%M}"


def format_date(value: date | datetime | None) -> str:
    """DD-Mmm-YYYY (Europe/London for instants); empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date() if value.tzinfo else value.date()
    return f"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year:04d}"


def format_time(value: datetime) -> str:
    """HH:MM in Europe/London, for 'loaded 10:42'."""
    return value.astimezone(LONDON).strftime("%H:%M")


def age_in_years(born: date, on: date) -> int:
    """Whole years, the way a clinician counts them."""
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years
