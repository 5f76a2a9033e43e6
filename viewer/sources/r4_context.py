"""What every R4 mapper shares: the provenance of one fetch, reference resolution, and the tolerant loop.

Kept apart from `r4_mapping` so the per-area mappers (`r4_results`, `r4_events`) can use it without an
import cycle. The loop is the one place that turns a failure into an `Unreadable`: a mapper either
returns an item, raises `Skip` with a reason a clinician may read (no patient data), or fails and is
counted under the exception's class name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import msgspec
import orjson

from viewer.domain.clinical import Unreadable
from viewer.domain.coding import Concept
from viewer.domain.dates import PartialDate
from viewer.domain.provenance import Provenance, SourceKind
from viewer.sources.fhir_common import as_dict, as_list, as_text, concept, human_name, reference_key
from viewer.sources.fhir_decode import TypedResource, load

log = logging.getLogger(__name__)

T = TypeVar("T")
_MISSING: Any = object()
SOURCE = SourceKind.HOSPITAL
ENTERED_IN_ERROR = "entered-in-error"


class Skip(Exception):
    """A resource that must not be shown; its message is the Unreadable reason (no patient data)."""


@dataclass(slots=True)
class MappingContext:
    """One fetch: who supplied it, when, and every resource by (type, id) for resolving references.
    `dates` and `concepts` cache what this mapping has read: a large record repeats the same instants
    (every result of a panel shares its time) and the same few test names thousands of times."""

    retrieved_at: datetime
    org_ods: str
    org_name: str
    index: dict[tuple[str, str], dict[str, Any]]
    dates: dict[str, PartialDate | None] = field(default_factory=dict)
    concepts: dict[tuple[Any, ...], Concept] = field(default_factory=dict)
    # what the typed path read from raw elements, by their bytes (see from_raw)
    raw_concepts: dict[bytes, Concept] = field(default_factory=dict)
    raw_quantities: dict[bytes, Any] = field(default_factory=dict)
    raw_ranges: dict[bytes, Any] = field(default_factory=dict)
    raw_interpretations: dict[bytes, Any] = field(default_factory=dict)

    def provenance(self, resource: dict[str, Any]) -> Provenance:
        return Provenance(
            SOURCE,
            str(resource.get("resourceType")),
            as_text(resource.get("id")),
            self.retrieved_at,
            self.org_ods,
            self.org_name,
            narrative=narrative_of(resource),
        )

    @staticmethod
    def from_raw(cache: dict[bytes, T], raw: msgspec.Raw, read: Callable[[Any], T]) -> T:
        """`read` (a dict path reader) of an element the typed path kept raw, worked out once per distinct
        text in `cache` (one per kind of element): a large record repeats a test's code and reference
        range thousands of times, and looking the bytes up costs less than reading them again."""
        key = bytes(raw)
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            found = cache[key] = read(load(raw))
        return found  # type: ignore[return-value]

    def concept(self, value: Any) -> Concept:
        """`fhir_common.concept`, shared between equal one-coding concepts (a large record names the same
        few tests thousands of times). Only text, system, code and display shape a Concept, so equal keys
        give equal Concepts; anything unusual takes the plain reader."""
        if isinstance(value, dict):
            codings = value.get("coding")
            if isinstance(codings, list) and len(codings) == 1 and isinstance(codings[0], dict):
                first = codings[0]
                key = (value.get("text"), first.get("system"), first.get("code"), first.get("display"))
                try:
                    return self.concepts[key]
                except KeyError:
                    found = self.concepts[key] = concept(value)
                    return found
                except TypeError:  # an unhashable (malformed) part: read it the plain way
                    pass
        return concept(value)

    def date(self, value: Any) -> PartialDate | None:
        """A FHIR date/dateTime with its precision kept; None when missing or unreadable."""
        if not isinstance(value, str):
            return None
        try:
            return self.dates[value]
        except KeyError:
            parsed = self.dates[value] = PartialDate.parse(value)
            return parsed

    def first_date(self, resource: dict[str, Any], *names: str) -> PartialDate | None:
        """The first of several choice elements holding a date; a Period gives its start, else end."""
        for name in names:
            value = resource.get(name)
            if isinstance(value, dict):
                found = self.date(value.get("start")) or self.date(value.get("end"))
            else:
                found = self.date(value)
            if found is not None:
                return found
        return None

    def resolve(self, owner: dict[str, Any], ref: Any) -> dict[str, Any] | None:
        """A referenced resource: contained (`#id`) or fetched alongside (`Type/id`)."""
        rtype, rid = reference_key(ref)
        if rid is None:
            return None
        if rid.startswith("#"):
            for item in as_list(owner.get("contained")):
                if isinstance(item, dict) and f"#{item.get('id')}" == rid:
                    return item
            return None
        found = self.index.get((rtype or "", rid))
        return found.as_dict() if isinstance(found, TypedResource) else found

    def person(self, owner: dict[str, Any], ref: Any) -> str | None:
        """A recorder/requester as a name: the reference's display, else the resolved resource's name."""
        display = as_text(as_dict(ref).get("display"))
        if display:
            return display
        target = self.resolve(owner, ref)
        if target is not None and target.get("resourceType") == "PractitionerRole":
            role = as_dict(target.get("practitioner"))
            display = as_text(role.get("display"))
            if display:
                return display
            target = self.resolve(target, role)
        if target is None:
            return None
        name = target.get("name")
        if isinstance(name, str):  # Organization, Location, HealthcareService
            return as_text(name)
        for item in as_list(name):
            text = human_name(item)
            if text:
                return text
        return None

    def people(self, owner: dict[str, Any], refs: Any) -> str | None:
        """Several references as one line (`Dr A, Ward 9`), each name once, in the order given."""
        names: list[str] = []
        for ref in as_list(refs):
            name = self.person(owner, ref)
            if name and name not in names:
                names.append(name)
        return ", ".join(names) or None


def status_of(resource: dict[str, Any]) -> str | None:
    """The resource's status code; an entered-in-error resource is not a clinical fact and is skipped."""
    status = resource.get("status")
    if status == ENTERED_IN_ERROR:
        raise Skip("entered in error")
    return status if isinstance(status, str) else None


def unreadable(rtype: str, resource: Any, reason: str) -> Unreadable:
    rid = as_text(resource.get("id")) if isinstance(resource, dict) else None
    return Unreadable(SOURCE.value, rtype, rid, reason)


def map_all(
    resources: dict[str, list[Any]],
    rtype: str,
    mapper: Callable[[dict[str, Any], MappingContext], Any],
    ctx: MappingContext,
    lost: list[Unreadable],
    typed: Callable[[Any, MappingContext], Any] | None = None,
) -> list[Any]:
    """Every resource of one type mapped on its own; what cannot be shown is appended to `lost`.
    A typed resource (fhir_decode) goes to `typed`; when `typed` is not given or does not return an item
    (NotPlain, Skip, any failure), `mapper` reads its dict and decides, so both paths count a resource
    the same way. (One difference: a typed resource whose bytes orjson refuses is counted here, where a
    page of dicts would have been refused whole.)"""
    out: list[Any] = []
    for resource in as_list(resources.get(rtype)):
        if isinstance(resource, TypedResource):
            if typed is not None:
                try:
                    out.append(typed(resource, ctx))
                    continue
                except Exception:  # noqa: S110 (NotPlain, Skip, anything: the dict mapper decides)
                    pass
            try:
                resource = resource.as_dict()
            except orjson.JSONDecodeError:  # a number beyond a double, in an element msgspec kept raw
                lost.append(Unreadable(SOURCE.value, rtype, as_text(resource.id), "could not be read"))
                continue
        if not isinstance(resource, dict) or not resource:
            lost.append(unreadable(rtype, resource, "entry has no resource"))
            continue
        if resource.get("resourceType") != rtype:
            lost.append(unreadable(rtype, resource, "wrong or missing resource type"))
            continue
        try:
            out.append(mapper(resource, ctx))
        except Skip as skip:
            lost.append(unreadable(rtype, resource, str(skip)))
        except Exception as exc:  # tolerant: never let one resource hide the record
            log.warning("Unreadable hospital %s (%s)", rtype, type(exc).__name__)
            lost.append(unreadable(rtype, resource, f"could not be read ({type(exc).__name__})"))
    return out


def narrative_of(resource: dict[str, Any]) -> str | None:
    """`text.div` as sent (a string of XHTML), else None; never sanitised here: the domain keeps what the
    source said and the display makes it safe (viewer.record.narrative)."""
    text = resource.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    return div if isinstance(div, str) and div.strip() else None
