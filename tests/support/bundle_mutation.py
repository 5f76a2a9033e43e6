"""Hypothesis strategies that damage real-shaped FHIR Bundles the way misbehaving systems do.

A mutation picks a random place in the JSON (most often inside one entry, since that is where the
clinical content is) and deletes it, nulls it, gives it a value of another JSON type, duplicates or
drops a list element, renames a resourceType, breaks a reference or swaps two resources' ids. Values that
JSON itself cannot hold as Python objects (1e400, integers beyond 64 bits) are written as raw text by
`dump`, which swaps their placeholder strings for the raw number after serialising.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import strategies as st

# Placeholder string -> the raw JSON number text that replaces it in `dump`.
RAW_NUMBERS = {
    "\x00raw:1e400": b"1e400",
    "\x00raw:-1e400": b"-1e400",
    "\x00raw:1e-400": b"1e-400",
    "\x00raw:bigint": b"123456789012345678901234567890",
    "\x00raw:-0": b"-0",
}
RESOURCE_TYPES = (
    "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Medication", "Condition",
    "Immunization", "Encounter", "Observation", "DiagnosticReport", "List", "Patient", "Practitioner",
    "Organization", "OperationOutcome", "Bundle", "Flag", "DocumentReference", "ServiceRequest", "",
    "observation", "Unknown",
)
OPERATIONS = ("delete", "null", "replace", "duplicate", "drop", "resource_type", "reference", "swap_ids")

Path = tuple[Any, ...]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(("NaN", "Infinity", "-Infinity", "1e400", "", " ", "null", "true", "0", "-1",
                     "2026-13-45", "9999-12-31T25:61:61Z", "\u202eevil", "\ufeff", "\U0001f489",
                     "<script>alert(1)</script>", "Patient/", "#", "urn:uuid:")),
    st.sampled_from(tuple(RAW_NUMBERS)),
    st.integers(min_value=10_000, max_value=200_000).map(lambda n: "x" * n),  # a huge string
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


json_values = st.one_of(
    _scalars,
    st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                 max_leaves=6),
    st.integers(min_value=20, max_value=200).map(_nested),
)


def dump(document: Any) -> bytes:
    """The document as JSON bytes, raw-number placeholders written as the raw numbers."""
    body = orjson.dumps(document)
    for placeholder, raw in RAW_NUMBERS.items():
        body = body.replace(orjson.dumps(placeholder), raw)
    return body


def has_raw_number(body: bytes) -> bool:
    return any(raw in body for raw in (b"1e400", b"1e-400", b"123456789012345678901234567890"))


def _paths(node: Any, prefix: Path = ()) -> list[Path]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _get(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def _resources(document: Any) -> list[dict[str, Any]]:
    entries = document.get("entry") if isinstance(document, dict) else None
    found = []
    for entry in entries if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            found.append(resource)
            contained = resource.get("contained")
            found += [c for c in contained if isinstance(c, dict)] if isinstance(contained, list) else []
    return found


@st.composite
def _place(draw: st.DrawFn, document: Any) -> Path:
    """A path: nine times in ten inside one entry, else anywhere in the Bundle's own elements."""
    entries = document.get("entry") if isinstance(document, dict) else None
    if isinstance(entries, list) and entries and draw(st.integers(0, 9)) > 0:
        index = draw(st.integers(0, len(entries) - 1))
        return draw(st.sampled_from(_paths(entries[index], ("entry", index))))
    shallow = [p for p in _paths(document) if len(p) <= 3 and not (len(p) == 3 and p[0] == "entry")]
    return draw(st.sampled_from(shallow))


@st.composite
def _mutate_once(draw: st.DrawFn, document: Any) -> tuple[Any, str]:
    """Apply one mutation in place (the root itself may be replaced); returns (document, what was done)."""
    operation = draw(st.sampled_from(OPERATIONS))
    if operation == "resource_type":
        resources = _resources(document)
        if resources:
            resource = draw(st.sampled_from(resources))
            resource["resourceType"] = draw(st.sampled_from(RESOURCE_TYPES))
            return document, operation
        operation = "replace"
    if operation == "reference":
        references = [p for p in _paths(document) if p and p[-1] == "reference"]
        if references:
            path = draw(st.sampled_from(references))
            _get(document, path[:-1])["reference"] = draw(st.sampled_from(
                ("Patient/missing", "#missing", "urn:uuid:00000000-0000-0000-0000-000000000000", "", "/",
                 "Observation/", "http://elsewhere.invalid/fhir/Medication/1")) | st.text(max_size=12))
            return document, operation
        operation = "null"
    if operation == "swap_ids":
        resources = [r for r in _resources(document) if "id" in r]
        if len(resources) >= 2:
            first, second = draw(st.lists(st.sampled_from(resources), min_size=2, max_size=2))
            if draw(st.booleans()):
                first["id"], second["id"] = second["id"], first["id"]
            else:
                first["id"] = second["id"]  # two resources, one id
            return document, operation
        operation = "delete"
    path = draw(_place(document))
    if not path:  # the root: only a whole replacement makes sense
        return (draw(json_values) if operation == "replace" else document), operation
    parent, step = _get(document, path[:-1]), path[-1]
    if operation in ("duplicate", "drop"):
        # the nearest list above the chosen place: an entry, a coding, a contained resource ...
        lists = [i for i in range(len(path), 0, -1) if isinstance(_get(document, path[: i - 1]), list)]
        if lists:
            holder, index = _get(document, path[: lists[0] - 1]), path[lists[0] - 1]
            if operation == "duplicate":
                holder.insert(index, copy.deepcopy(holder[index]))
            else:
                del holder[index]
            return document, operation
        operation = "delete"
    if operation == "delete":
        del parent[step]
    elif operation == "null":
        parent[step] = None
    else:
        parent[step] = draw(json_values)
    return document, operation


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any], max_mutations: int = 4) -> tuple[Any, list[str]]:
    """One of `documents` (deep-copied) after 1..max_mutations mutations; returns (document, operations)."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    done = []
    for _ in range(draw(st.integers(1, max_mutations))):
        document, operation = draw(_mutate_once(document))
        done.append(operation)
    return document, done
