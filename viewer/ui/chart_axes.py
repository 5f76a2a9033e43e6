"""Tick positions for the trend chart's axes. Plain arithmetic, no Qt, so it is unit-tested on its own.

Ticks fall on round values (1, 2, 5 x 10^n) and on calendar boundaries in Europe/London (a day, a month,
a year...), so every label reads as a date a clinician would write; the caller says how many labels fit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from viewer.domain.dates import LONDON

# (count, unit) steps of the time axis, finest first; approximate lengths in days choose among them
_DATE_STEPS: tuple[tuple[int, str], ...] = (
    (1, "day"), (2, "day"), (7, "day"), (14, "day"), (1, "month"), (2, "month"), (3, "month"),
    (6, "month"), (1, "year"), (2, "year"), (5, "year"), (10, "year"), (20, "year"), (50, "year"),
    (100, "year"),
)
_DAYS = {"day": 1.0, "month": 30.44, "year": 365.25}


def nice_range(low: float, high: float, max_ticks: int) -> tuple[float, float, float]:
    """(first tick, last tick, step) covering low..high with at most `max_ticks` ticks on round values."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("the value range must be finite")
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    max_ticks = max(max_ticks, 2)
    raw = (high - low) / (max_ticks - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        first = math.floor(low / step) * step
        last = math.ceil(high / step) * step
        if round((last - first) / step) + 1 <= max_ticks:
            return first, last, step
    step = 10 * magnitude  # not reached: 10 x magnitude always fits; kept for the type checker
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def value_ticks(first: float, last: float, step: float) -> list[float]:
    count = round((last - first) / step)
    return [first + i * step for i in range(count + 1)]


def value_label(value: float, step: float) -> str:
    """As many decimals as the step needs: 0.5 steps read 3.5, 4.0, 4.5; 20 steps read 120, 140."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if step < 1 and not math.isclose(round(step, decimals), step):
        decimals += 1
    text = f"{value:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text


def _local_midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=LONDON).astimezone(UTC)


def _ticks_of(start: datetime, end: datetime, count: int, unit: str) -> list[datetime]:
    first = start.astimezone(LONDON)
    ticks: list[datetime] = []
    if unit == "day":
        day = first.date() + timedelta(days=0 if first.time() == datetime.min.time() else 1)
        day += timedelta(days=(-day.toordinal()) % count)
        while (t := _local_midnight(day.year, day.month, day.day)) <= end:
            ticks.append(t)
            day += timedelta(days=count)
    elif unit == "month":
        index = first.year * 12 + first.month - 1 + (0 if (first.day, first.hour, first.minute) == (1, 0, 0)
                                                     else 1)
        index += (-index) % count
        while (t := _local_midnight(index // 12, index % 12 + 1, 1)) <= end:
            ticks.append(t)
            index += count
    else:
        year = first.year + (0 if (first.month, first.day, first.hour, first.minute) == (1, 1, 0, 0) else 1)
        year += (-year) % count
        while year <= 9999 and (t := _local_midnight(year, 1, 1)) <= end:
            ticks.append(t)
            year += count
    return ticks


def date_ticks(start: datetime, end: datetime, max_ticks: int) -> list[datetime]:
    """Midnights (Europe/London, as UTC) on calendar boundaries between start and end: the finest step
    that gives at most `max_ticks` of them."""
    days = (end - start).total_seconds() / 86400
    for count, unit in _DATE_STEPS:
        if days / (count * _DAYS[unit]) <= max(max_ticks, 1):
            ticks = _ticks_of(start, end, count, unit)
            if len(ticks) <= max(max_ticks, 1):
                return ticks
    return []
