"""The base of every domain value: an immutable msgspec Struct the cyclic garbage collector never tracks.

A large patient is ~100,000 of these values (results, their provenance, codes, dates). As frozen
dataclasses each one was tracked by the collector: building or decoding them set off full collections
that walked the whole heap while holding the GIL (40-60 ms freezes of the ward UI, measured), and each
frozen dataclass paid one `object.__setattr__` per field to be built. A Struct with `gc=False` is built
in C and is invisible to the collector. That is safe only because a domain value can never be part of a
reference cycle: it is frozen, and it holds only strings, numbers, dates, enums, tuples and other domain
values, built bottom-up.

`array_like`: the record cache stores values as msgpack arrays rather than maps, so a cached record does
not repeat every field name in every item (about half the size, and quicker to read back).
"""

from __future__ import annotations

import msgspec


class RecordValue(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """Subclasses declare fields as a dataclass would (required ones first); values compare and hash by
    their fields, and `msgspec.structs.replace` makes a changed copy."""
