"""R4 readers the shared `fhir_common` does not hold: emptiness of a concept and Quantity text.

Tolerant like fhir_common: odd input gives an empty value, never an exception.
"""

from __future__ import annotations

from typing import Any

from viewer.domain.coding import Concept
from viewer.sources.fhir_common import as_dict, as_text


def is_empty(value: Concept) -> bool:
    """Nothing a clinician could read (no text, no display, no code)."""
    return not value.label


def quantity_text(value: Any) -> str | None:
    """`28 tablet`: a Quantity as a clinician reads it; whole numbers lose their `.0`."""
    data = as_dict(value)
    number = data.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float):
        number = None
    elif isinstance(number, float) and number.is_integer():
        number = int(number)
    unit = as_text(data.get("unit")) or as_text(data.get("code"))
    text = " ".join(p for p in (str(number) if number is not None else None, unit) if p)
    return text or None
