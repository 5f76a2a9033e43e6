"""Tolerant readers for FHIR JSON shared by the STU3 (GP Connect) and R4 (hospital) mappers.

Real suppliers send wrong types (a string where a list is due, a list where an object is due); each
reader returns an empty value instead of raising, so one odd element never costs a clinician the item.
The element shapes used here are identical in STU3 and R4.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from viewer.domain.coding import Coding, Concept
from viewer.domain.dates import PartialDate


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A FHIR array; a lone value where an array is due is read as a one-item array."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def as_text(value: Any) -> str | None:
    """A non-blank string kept exactly as received: free text is never stripped or truncated."""
    if isinstance(value, str) and value.strip():
        return value
    return None


def coding(value: Any) -> Coding | None:
    # Written out by hand: this runs for every code of every resource, so it is on the hot path.
    if not isinstance(value, dict):
        return None
    code = as_text(value.get("code"))
    display = as_text(value.get("display"))
    if code is None and display is None:
        return None
    return Coding(as_text(value.get("system")), code, display)


_NO_CONCEPT = Concept()


def concept(value: Any) -> Concept:
    """A CodeableConcept; an empty Concept() when nothing readable is there (callers decide)."""
    if not isinstance(value, dict):
        return _NO_CONCEPT
    raw = value.get("coding")
    codings: tuple[Coding, ...] = ()
    if isinstance(raw, list):
        codings = tuple(c for c in map(coding, raw) if c is not None)
    elif isinstance(raw, dict):
        single = coding(raw)
        codings = (single,) if single is not None else ()
    return Concept(as_text(value.get("text")), codings)


def label_of(value: Any) -> str:
    """What `concept(value).label` gives, without building the Concept: for text-only uses."""
    if not isinstance(value, dict):
        return ""
    text = as_text(value.get("text"))
    if text:
        return text
    raw = value.get("coding")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    for key in ("display", "code"):
        for item in items:
            if isinstance(item, dict):
                found = as_text(item.get(key))
                if found:
                    return found
    return ""


def code_of(value: Any, system: str | None = None) -> str | None:
    """The first code of a CodeableConcept (optionally from one system)."""
    raw = value.get("coding") if isinstance(value, dict) else None
    for item in raw if isinstance(raw, list) else as_list(raw):
        if isinstance(item, dict):
            code = item.get("code")
            if isinstance(code, str) and code.strip() and (system is None or item.get("system") == system):
                return code
    return None


def partial_date(value: Any) -> PartialDate | None:
    """A FHIR date/dateTime with its precision kept; None when missing or unreadable."""
    return PartialDate.parse(value) if isinstance(value, str) else None


def first_date(resource: dict[str, Any], *names: str) -> PartialDate | None:
    """The first of several choice elements holding a date (onsetDateTime, onsetPeriod, ...)."""
    for name in names:
        value = resource.get(name)
        if isinstance(value, dict):  # a Period: when it began, else when it ended
            found = partial_date(value.get("start")) or partial_date(value.get("end"))
        else:
            found = partial_date(value)
        if found is not None:
            return found
    return None


def notes(value: Any) -> tuple[str, ...]:
    """Annotation texts, untruncated and unaltered."""
    if value is None:  # most items have no notes: skip building the generators
        return ()
    return tuple(t for t in (as_text(as_dict(n).get("text")) for n in as_list(value)) if t)


def human_name(value: Any) -> str | None:
    """A HumanName as one line (`Dr Sandra Gose`), for recorders and prescribers."""
    data = as_dict(value)
    text = as_text(data.get("text"))
    if text:
        return text
    parts = [p for p in as_list(data.get("prefix")) if as_text(p)]
    parts += [g for g in as_list(data.get("given")) if as_text(g)]
    family = as_text(data.get("family"))
    if family:
        parts.append(family)
    return " ".join(parts) or None


def reference_key(value: Any) -> tuple[str | None, str | None]:
    """(`Practitioner`, `abc`) from a Reference to `Practitioner/abc`, an absolute URL or a versioned
    reference; `#x` (contained) gives (None, `#x`); no reference gives (None, None)."""
    return split_reference(value.get("reference") if isinstance(value, dict) else None)


def split_reference(ref: Any) -> tuple[str | None, str | None]:
    """`reference_key` of a Reference's `reference` string itself (the typed path holds only that)."""
    if not isinstance(ref, str) or not ref.strip():
        return None, None
    if ref.startswith("#"):
        return None, ref
    parts = ref.split("/")
    if len(parts) == 2 and parts[0] and parts[1] and "_history" not in parts:
        return parts[0], parts[1]  # `Type/id`, by far the commonest form: no list building below
    parts = [p for p in parts if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None, ref


def extensions(resource: Any, name: str) -> list[dict[str, Any]]:
    """Extensions whose url is `name` or ends with it. Suppliers publish one extension under several
    hosts and schemes (`https://fhir.nhs.uk/...`, `http://fhir.hl7.org.uk/...`), so callers pass the
    distinctive tail (`MedicationStatementLastIssueDate-1`) or, for nested parts, the exact url."""
    raw = resource.get("extension") if isinstance(resource, dict) else None
    if not raw:  # most elements have none: skip building the generator
        return []
    found = (as_dict(x) for x in as_list(raw))
    return [e for e in found if isinstance(e.get("url"), str) and e["url"].endswith(name)]


def extension(resource: Any, name: str) -> dict[str, Any]:
    """The first matching extension, or {} so chained reads stay safe. Stops at the first match rather
    than listing them all: mappers ask for several extensions of every medicine and allergy."""
    raw = resource.get("extension") if isinstance(resource, dict) else None
    if raw:
        for item in as_list(raw):
            if isinstance(item, dict):
                url = item.get("url")
                if isinstance(url, str) and url.endswith(name):
                    return item
    return {}


def identifier_value(resource: Any, system: str) -> str | None:
    for ident in as_list(as_dict(resource).get("identifier")):
        data = as_dict(ident)
        if data.get("system") == system and as_text(data.get("value")):
            return data["value"]
    return None


class ResourceIndex:
    """Resources of a Bundle by (type, id) so references resolve regardless of entry order; a dangling
    reference resolves to None and callers keep the item without the referenced detail.

    Also keyed by the `Type/id` string itself, the form nearly every reference takes, so resolving one
    is a single dict lookup; only ids that could not round-trip through that string (a `/` in them,
    `_history`) are left to the general reader."""

    __slots__ = ("_by_key", "_by_reference")

    def __init__(self, resources: Iterable[dict[str, Any]]):
        self._by_key: dict[tuple[str, str], dict[str, Any]] = {}
        self._by_reference: dict[str, dict[str, Any]] = {}
        for res in resources:
            rtype, rid = res.get("resourceType"), res.get("id")
            if isinstance(rtype, str) and isinstance(rid, str):
                self.add(rtype, rid, res)

    def add(self, rtype: str, rid: str, res: dict[str, Any]) -> None:
        """Index one resource (the first of a type and id wins), for callers that walk a Bundle once
        for several purposes instead of handing over a list."""
        if self._by_key.setdefault((rtype, rid), res) is not res:
            return
        # keyed by its `Type/id` too when reference_key reads that string back as exactly (rtype, rid)
        if (rtype and rid and "/" not in rtype and "/" not in rid and rtype[0] != "#"
                and rtype != "_history" and rid != "_history"):
            self._by_reference.setdefault(f"{rtype}/{rid}", res)

    def get(self, rtype: str, rid: str | None) -> dict[str, Any] | None:
        return self._by_key.get((rtype, rid)) if rid is not None else None

    def target(self, reference: Any) -> dict[str, Any] | None:
        """The resource a typed `Type/id` Reference names, whatever its type; None when the reference is
        untyped, contained, dangling or in any other form (callers then read it with reference_key)."""
        ref = reference.get("reference") if isinstance(reference, dict) else None
        return self._by_reference.get(ref) if isinstance(ref, str) else None

    def resolve(self, reference: Any, expected_type: str | None = None) -> dict[str, Any] | None:
        """The resource a Reference points at, or None when it is not in the Bundle."""
        found = self.target(reference)
        if found is not None:
            return found if expected_type is None or found["resourceType"] == expected_type else None
        rtype, rid = reference_key(reference)
        if rid is None:
            return None
        rtype = rtype or expected_type
        if rtype is None or (expected_type is not None and rtype != expected_type):
            return None
        return self.get(rtype, rid)

