"""Typed decoding of bulk FHIR JSON with msgspec, with the tolerant dict reading as its safety net.

A large hospital record is ten thousand results, each carrying elements the viewer never shows (meta,
category, performer, subject). Decoding a resource into a Struct that declares only the elements its
mapper reads skips the rest without allocating it, and repeated elements kept as `msgspec.Raw` (a test's
code, its reference range) are read once per distinct text instead of once per result.

Strictness is the point, not a risk: a Struct field is typed for the shape the FHIR specification gives,
so a resource with any surprise in it (a wrong type, an explicit null where presence matters, an element
the typed mapper does not handle) fails its typed decode or raises `NotPlain`, and is read by the
tolerant dict mapper exactly as before. One odd resource never fails the Bundle, and the typed path never
has to be tolerant itself.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, Union

import msgspec
import orjson

# What a typed resource keeps of its own bytes; a name no FHIR element can have (no spaces in FHIR names).
_RAW_KEY = " raw"
_PARSED_KEY = " parsed"


class NotPlain(Exception):
    """A typed resource its typed mapper does not handle: map it from its dict instead."""


class TypedResource(msgspec.Struct, tag_field="resourceType", kw_only=True, gc=False):
    """A resource decoded into only the elements its mapper reads. It keeps its own bytes, so anyone who
    needs the whole resource (a reference resolved to it, the dict mapper when the typed one declines,
    code that reads it by key) gets the same dict the tolerant path would have read.

    Not tracked by the garbage collector (gc=False), like the domain values: a large record's ten
    thousand results wait here between the search pages and the mapping, and the collector walking them
    at every pass cost the ward UI its smoothness. Safe because nothing it holds (its bytes, strings, the
    dict parsed from its own bytes) can refer back to it."""

    resource_type: ClassVar[str]  # the tag as a plain class attribute (see `typed_resource`)
    raw: Any = msgspec.field(default=None, name=_RAW_KEY)
    parsed: Any = msgspec.field(default=None, name=_PARSED_KEY)

    def as_dict(self) -> dict[str, Any]:
        """The resource as the dict path reads it (parsed once, on first need)."""
        if self.parsed is None:
            self.parsed = orjson.loads(memoryview(self.raw))
        return self.parsed

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.as_dict()[key]

    def __contains__(self, key: object) -> bool:
        return key in self.as_dict()


R = TypeVar("R", bound=type[TypedResource])


def typed_resource(cls: R) -> R:
    """Class decorator for each TypedResource: its tag as `resource_type`, a plain class attribute, since
    code that groups and indexes ten thousand resources reads it once for each."""
    cls.resource_type = cls.__struct_config__.tag  # type: ignore[assignment]
    return cls


class Period(msgspec.Struct, gc=False):
    start: str | None = None
    end: str | None = None


class Reference(msgspec.Struct, gc=False):
    reference: str | None = None


def resource_decoder(*types: type[TypedResource]) -> msgspec.json.Decoder:
    """One decoder for several typed resources, chosen by `resourceType`."""
    return msgspec.json.Decoder(Union[types])  # noqa: UP007 (a Union of a tuple built at run time)


def decode_resource(raw: msgspec.Raw, decoder: msgspec.json.Decoder) -> Any:
    """A typed resource when its type is typed and its elements have the expected shapes; otherwise the
    plain JSON value, exactly as orjson reads it (raises orjson.JSONDecodeError when orjson cannot)."""
    try:
        item = decoder.decode(raw)
    except msgspec.ValidationError:  # an untyped resource type, or a surprise in this resource
        return orjson.loads(memoryview(raw))
    item.raw = raw
    return item


def load(raw: msgspec.Raw) -> Any:
    """An element kept raw, as the dict path reads it; None when it was absent."""
    return orjson.loads(memoryview(raw)) if raw else None
