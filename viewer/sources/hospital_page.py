"""One search page of the trust's FHIR server, read into resources grouped by type.

The page is decoded with msgspec into a skeleton whose resources stay raw bytes; each resource is then
decoded on its own, results and reports into typed Structs (r4_structs) and anything else into the dict
orjson gives. A page msgspec cannot read as a Bundle skeleton (an entry that is not an object, say) is
read whole by orjson as before, so the tolerant rules below see the same values either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import msgspec
import orjson

from viewer.sources.errors import UnreadableResponse
from viewer.sources.fhir_common import as_dict, as_list
from viewer.sources.fhir_decode import TypedResource, decode_resource
from viewer.sources.r4_structs import DECODER, TYPED

MSG_UNREADABLE = "The hospital record server sent a reply that could not be read"
_NO_RESOURCE = msgspec.Raw()
_MATCH = MappingProxyType({"mode": "match"})  # the usual `search` of an entry, read-only
_TYPED = frozenset(TYPED)


class _Entry(msgspec.Struct):
    resource: msgspec.Raw = _NO_RESOURCE
    search: Any = None


class _Bundle(msgspec.Struct):
    resourceType: Any = None
    entry: list[_Entry] | None = None
    link: Any = None


_SKELETON = msgspec.json.Decoder(_Bundle)


@dataclass(slots=True)
class SearchPage:
    """A page's resources by type (dicts, or typed resources for the bulk types), the number of
    OperationOutcome entries, and the Bundle's `link` element as sent (for the next page)."""

    resources: dict[str, list[Any]] = field(default_factory=dict)
    outcomes: int = 0
    link: Any = None


def read_search_page(content: bytes, searched: str) -> SearchPage:
    """The page's resources by type. An entry without a readable resource is kept as an empty
    placeholder under `searched`, so the mapper counts it as unreadable instead of dropping it. Raises
    UnreadableResponse when the bytes are not a Bundle."""
    try:
        skeleton = _SKELETON.decode(content)
    except (msgspec.DecodeError, UnicodeDecodeError):  # not JSON (or not UTF-8), not an object, or entries
        # of odd shapes: read it all as dicts
        return _read_dicts(content, searched)
    if skeleton.resourceType != "Bundle":
        raise UnreadableResponse(MSG_UNREADABLE)
    page = SearchPage(link=skeleton.link)
    resources = page.resources
    try:
        for entry in skeleton.entry or ():
            resource = decode_resource(entry.resource, DECODER) if entry.resource else None
            if type(resource) in _TYPED and (entry.search is None or entry.search == _MATCH):
                # the bulk, written out: a typed result or report in a plain match entry
                try:
                    resources[resource.resource_type].append(resource)
                except KeyError:
                    resources[resource.resource_type] = [resource]
                continue
            _take(page, resource, entry.search, searched)
    except (orjson.JSONDecodeError, UnicodeDecodeError):  # a value orjson refuses (a number beyond a
        # double), or bytes that are not UTF-8 inside a resource the skeleton kept raw: as before
        raise UnreadableResponse(MSG_UNREADABLE) from None
    return page


def _read_dicts(content: bytes, searched: str) -> SearchPage:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise UnreadableResponse(MSG_UNREADABLE) from None
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise UnreadableResponse(MSG_UNREADABLE)
    page = SearchPage(link=body.get("link"))
    for entry in as_list(body.get("entry")):
        entry = as_dict(entry)
        _take(page, entry.get("resource"), entry.get("search"), searched)
    return page


def _take(page: SearchPage, resource: Any, search: Any, searched: str) -> None:
    if isinstance(resource, TypedResource):
        rtype: Any = resource.resource_type
    elif isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
        rtype = resource["resourceType"]
    else:
        rtype = None
    if rtype == "OperationOutcome" or as_dict(search).get("mode") == "outcome":
        page.outcomes += 1
    elif rtype is not None:
        page.resources.setdefault(rtype, []).append(resource)
    else:
        page.resources.setdefault(searched, []).append({})
