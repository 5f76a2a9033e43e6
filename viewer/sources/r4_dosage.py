"""Dosage instructions as a clinician reads them.

The prescriber's own text always wins (kept exactly as given). Only when a server sends structured
timing and dose without text is a line built, so a coded-only prescription never shows as blank.
"""

from __future__ import annotations

from typing import Any

from viewer.sources.fhir_common import as_dict, as_list, as_text, concept
from viewer.sources.r4_fields import quantity_text

_UNITS = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week", "mo": "month",
          "a": "year"}
_TIMES = {1: "once", 2: "twice"}


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def _frequency(repeat: dict[str, Any]) -> str | None:
    """`3 times a day`, `every 8 hours`, `once a week`."""
    freq = repeat.get("frequency")
    period = _number(repeat.get("period"))
    unit = _UNITS.get(str(repeat.get("periodUnit")))
    if period is None or unit is None:
        return None
    if freq in (None, 1):
        if period == "1":
            return f"once a {unit}" if freq == 1 else f"every {unit}"
        return f"every {period} {unit}s"
    count = _number(freq)
    if count is None:
        return None
    times = _TIMES.get(int(freq), f"{count} times") if isinstance(freq, int) else f"{count} times"
    return f"{times} a {unit}" if period == "1" else f"{times} every {period} {unit}s"


def _dose(dose_and_rate: Any) -> str | None:
    for item in as_list(dose_and_rate):
        data = as_dict(item)
        text = quantity_text(data.get("doseQuantity"))
        if text:
            return text
        rng = as_dict(data.get("doseRange"))
        low, high = quantity_text(rng.get("low")), quantity_text(rng.get("high"))
        if low or high:
            return f"{low or '?'} to {high or '?'}"
    return None


def _built(dosage: dict[str, Any]) -> str | None:
    timing = as_dict(dosage.get("timing"))
    parts = [
        _dose(dosage.get("doseAndRate")),
        concept(dosage.get("route")).label or None,
        _frequency(as_dict(timing.get("repeat"))) or concept(timing.get("code")).label or None,
    ]
    if dosage.get("asNeededBoolean") is True:
        parts.append("when required")
    elif as_dict(dosage.get("asNeededCodeableConcept")):
        reason = concept(dosage.get("asNeededCodeableConcept")).label
        parts.append(f"when required for {reason}" if reason else "when required")
    text = " ".join(p for p in parts if p)
    return text or None


def dosage_text(dosages: Any) -> str | None:
    """All dosage lines of one medicine, joined; None when there is nothing to say."""
    lines = []
    for dosage in as_list(dosages):
        data = as_dict(dosage)
        line = as_text(data.get("text")) or _built(data)
        if line:
            lines.append(line)
    return "; ".join(lines) or None
