"""Reading a JSON document that holds a number no double can (1e400, an integer beyond 64 bits).

orjson and msgspec refuse such a document outright, and with it a patient's whole GP record: one odd
number in one Observation must not cost the clinician everything else. Python's own parser reads it;
decimals are kept as the text sent (the mappers read numeric text, as many suppliers send it), so 1e400
is shown as sent and never charted. Only a document orjson refused comes here: the common path stays fast.
"""

from __future__ import annotations

import json
from typing import Any


class NotJson(ValueError):
    """The bytes are not JSON even to a tolerant reader."""


def _refuse_constant(name: str) -> Any:
    raise NotJson(f"{name} is not JSON")


def loads_wide(body: bytes) -> Any:
    """The document, its decimals as their text; raises NotJson when the bytes are not JSON at all."""
    try:
        return json.loads(body, parse_float=str, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise NotJson("not a JSON document") from None
