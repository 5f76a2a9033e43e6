"""Observation values as a clinician reads them: GP systems send numbers as JSON numbers or as strings
("123.0000"), text, coded values and multi-part readings (blood pressure as components).

The text keeps the number as sent (`200.0` stays `200.0`); `number` is set only for a real quantity so a
chart never parses display text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from viewer.sources.fhir_common import as_dict, as_list, as_text, concept, label_of, partial_date


@dataclass(frozen=True, slots=True)
class Value:
    text: str | None = None
    number: float | None = None
    unit: str | None = None
    comparator: str | None = None


def number_of(value: Any) -> tuple[str | None, float | None]:
    """(text as sent, float) of a FHIR decimal; suppliers send both numbers and numeric strings."""
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        return str(value), float(value)
    text = as_text(value)
    if text is None:
        return None, None
    try:
        return text, float(text)
    except ValueError:
        return text, None


def quantity(value: Any) -> Value:
    data = as_dict(value)
    text, number = number_of(data.get("value"))
    unit = as_text(data.get("unit")) or as_text(data.get("code"))
    return Value(text, number, unit, as_text(data.get("comparator")))


def shown(value: Value) -> str | None:
    """`< 0.1 10*9/L`: comparator, value and unit on one line, for text that mixes several values."""
    if not value.text:
        return None
    parts = [p for p in (value.comparator, value.text, value.unit) if p]
    return " ".join(parts)


_VALUE_ELEMENTS = frozenset({
    "valueQuantity", "valueString", "valueCodeableConcept", "valueBoolean", "valueInteger",
    "valueDateTime", "valuePeriod", "valueRange", "valueRatio",
})
_NO_VALUE = Value()


def value_of(resource: dict[str, Any]) -> Value:
    """The value[x] of an Observation (or of one of its components)."""
    if _VALUE_ELEMENTS.isdisjoint(resource):
        return _NO_VALUE  # most GP observations are coded entries with no value at all
    if "valueQuantity" in resource:
        return quantity(resource["valueQuantity"])
    text = as_text(resource.get("valueString"))
    if text is not None:
        return Value(text)
    if "valueCodeableConcept" in resource:
        return Value(concept(resource["valueCodeableConcept"]).label or None)
    if isinstance(resource.get("valueBoolean"), bool):
        return Value("Yes" if resource["valueBoolean"] else "No")
    for name in ("valueInteger",):
        text, number = number_of(resource.get(name))
        if text is not None:
            return Value(text, number)
    for name in ("valueDateTime", "valuePeriod"):
        raw = resource.get(name)
        when = partial_date(as_dict(raw).get("start") if isinstance(raw, dict) else raw)
        if when is not None:
            return Value(when.display_with_time())
    if "valueRange" in resource:
        low, high = (shown(quantity(as_dict(resource["valueRange"]).get(k))) for k in ("low", "high"))
        if low or high:
            return Value(f"{low or ''} - {high or ''}".strip())
    if "valueRatio" in resource:
        ratio = as_dict(resource["valueRatio"])
        top, bottom = (shown(quantity(ratio.get(k))) for k in ("numerator", "denominator"))
        if top and bottom:
            return Value(f"{top} / {bottom}")
    return Value()


def components_text(resource: dict[str, Any]) -> str | None:
    """Multi-part readings as one line: `Systolic arterial pressure 120 mm[Hg]; Diastolic ... 80 mm[Hg]`."""
    parts = []
    for component in as_list(resource.get("component")):
        data = as_dict(component)
        text = shown(value_of(data))
        if text is None:
            continue
        label = label_of(data.get("code"))  # concept(...).label, without building the Concept
        parts.append(f"{label} {text}" if label else text)
    return "; ".join(parts) or None


def reference_range(resource: dict[str, Any]) -> tuple[float | None, float | None, str | None]:
    """Low, high and text of the first reference range (the one that applies to the patient)."""
    for item in as_list(resource.get("referenceRange")):
        data = as_dict(item)
        low = number_of(as_dict(data.get("low")).get("value"))[1]
        high = number_of(as_dict(data.get("high")).get("value"))[1]
        text = as_text(data.get("text"))
        if low is not None or high is not None or text is not None:
            return low, high, text
    return None, None, None
