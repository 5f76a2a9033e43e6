"""An Observation's value[x] as a clinician reads it, for every kind R4 allows, components included.

Numbers are written as the source sent them (`5.0` stays `5.0`, never `5e-05`); `number` is only set
when the source sent a number, so a chart never parses display text. A comparator is kept beside the
number, never folded into it, and also written into the text (`<5`), so no screen can show `<5` as `5`.

Components: a blood pressure (systolic and diastolic components) reads as one value `142/94` with the
unit beside it and no `number`, because a ward reads BP as one pair and a chart must not plot either half
as "the" value. Any other components read `Name: value unit; Name: value unit` with no unit or number
of their own. Nothing of the components is dropped.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, NamedTuple

from viewer.domain.coding import Concept
from viewer.domain.dates import PartialDate
from viewer.sources.fhir_common import as_dict, as_list, as_text, concept

COMPARATORS = frozenset({"<", "<=", ">=", ">"})
# Systolic / diastolic codes (LOINC and SNOMED CT, including 24-hour and positional variants).
SYSTOLIC = frozenset({"8480-6", "72313002", "271649006", "314464000", "407554009", "400974009",
                      "163030003", "251070002"})
DIASTOLIC = frozenset({"8462-4", "1091811000000102", "271650006", "314465004", "407555005",
                       "400975005", "163031004", "174255007"})
_OTHER_VALUES = ("valueInteger", "valueBoolean", "valueRange", "valueRatio", "valueDateTime",
                 "valueTime", "valuePeriod", "valueSampledData")


class Value(NamedTuple):
    """A tuple, not a dataclass: one is built per result, and a large record has ten thousand."""

    text: str
    number: float | None = None
    unit: str | None = None
    comparator: str | None = None


def number_text(value: Any) -> str | None:
    """A JSON number as written: ints plain, floats without exponent notation; None for non-numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    return None


def _float(raw: int | float) -> float | None:
    """The number for charts; an integer too large for a float keeps its text and loses only the chart."""
    try:
        return float(raw)
    except OverflowError:
        return None


def _unit(data: dict[str, Any]) -> str | None:
    return as_text(data.get("unit")) or as_text(data.get("code"))


def quantity(value: Any) -> Value | None:
    """A Quantity; None when it carries no number (a unit alone says nothing)."""
    data = as_dict(value)
    raw = data.get("value")
    text = number_text(raw)
    if text is None:
        return None
    comparator = data.get("comparator")
    comparator = comparator if comparator in COMPARATORS else None
    return Value(f"{comparator or ''}{text}", _float(raw), _unit(data), comparator)


def _with_unit(value: Value | None) -> str | None:
    if value is None:
        return None
    return f"{value.text} {value.unit}" if value.unit else value.text


def _range(value: Any) -> str | None:
    data = as_dict(value)
    low, high = quantity(data.get("low")), quantity(data.get("high"))
    if low is None and high is None:
        return None
    if low is not None and high is not None:
        unit = high.unit if low.unit in (None, high.unit) else None
        if unit is not None:
            return f"{low.text} to {high.text} {unit}"
        return f"{_with_unit(low)} to {_with_unit(high)}"
    if low is not None:
        return f">={_with_unit(low)}"
    return f"<={_with_unit(high)}"


def _ratio(value: Any) -> str | None:
    data = as_dict(value)
    top = _with_unit(quantity(data.get("numerator")))
    bottom = _with_unit(quantity(data.get("denominator")))
    if top is None:
        return None
    return f"{top}/{bottom}" if bottom else top


def _period(value: Any) -> str | None:
    data = as_dict(value)
    start = PartialDate.parse(data.get("start")) if isinstance(data.get("start"), str) else None
    end = PartialDate.parse(data.get("end")) if isinstance(data.get("end"), str) else None
    if start is None and end is None:
        return None
    return f"{start.display_with_time() if start else '?'} to {end.display_with_time() if end else '?'}"


def _other(holder: dict[str, Any]) -> Value | None:
    for name in _OTHER_VALUES:
        if name not in holder:
            continue
        raw = holder[name]
        if name == "valueInteger":
            text = number_text(raw) if isinstance(raw, int) else None
            return Value(text, _float(raw)) if text is not None else None
        if name == "valueBoolean":
            return Value("Yes" if raw else "No") if isinstance(raw, bool) else None
        if name == "valueDateTime":
            when = PartialDate.parse(raw) if isinstance(raw, str) else None
            return Value(when.display_with_time()) if when else None
        if name == "valueSampledData":
            return Value("Sampled data (not shown)") if isinstance(raw, dict) else None
        text = {"valueRange": _range, "valueRatio": _ratio, "valuePeriod": _period}.get(name, as_text)(raw)
        return Value(text) if text else None
    return None


def value_of(holder: dict[str, Any]) -> Value | None:
    """The value[x] of an Observation or one of its components; None when there is none."""
    if "valueQuantity" in holder:
        return quantity(holder["valueQuantity"])
    if "valueString" in holder:
        text = as_text(holder["valueString"])
        return Value(text) if text else None
    if "valueCodeableConcept" in holder:
        label = concept(holder["valueCodeableConcept"]).label
        return Value(label) if label else None
    return _other(holder)


def _side(code: Concept) -> str | None:
    for c in code.codings:
        if c.code in SYSTOLIC:
            return "systolic"
        if c.code in DIASTOLIC:
            return "diastolic"
    label = code.label.lower()
    if "systolic" in label:
        return "systolic"
    if "diastolic" in label:
        return "diastolic"
    return None


def components_value(components: Any) -> Value | None:
    """All components as one value: a BP pair, or `Name: value unit` parts joined by `; `."""
    parts: list[tuple[Concept, Value | None]] = []
    for item in as_list(components):
        data = as_dict(item)
        code = concept(data.get("code"))
        value = value_of(data)
        if value is None:
            reason = concept(data.get("dataAbsentReason")).label
            value = Value(f"No value: {reason}") if reason else None
        if value is not None or code.label:
            parts.append((code, value))
    if not parts:
        return None
    if len(parts) == 2:
        sides = {_side(code): value for code, value in parts}
        systolic, diastolic = sides.get("systolic"), sides.get("diastolic")
        if systolic is not None and diastolic is not None and systolic.number is not None \
                and diastolic.number is not None and systolic.unit == diastolic.unit:
            return Value(f"{systolic.text}/{diastolic.text}", None, systolic.unit)
    texts = []
    for code, value in parts:
        shown = _with_unit(value) or "no value"
        texts.append(f"{code.label}: {shown}" if code.label else shown)
    return Value("; ".join(texts))


def observation_value(resource: dict[str, Any]) -> Value | None:
    """The whole reading: own value, components, or the reason the value is absent."""
    own = value_of(resource)
    parts = components_value(resource.get("component")) if "component" in resource else None
    if own is not None and parts is not None:
        return Value(f"{_with_unit(own)}; {parts.text}" if parts.unit is None
                     else f"{_with_unit(own)}; {_with_unit(parts)}")
    if own is not None or parts is not None:
        return own or parts
    reason = concept(resource.get("dataAbsentReason")).label
    return Value(f"No value: {reason}") if reason else None
