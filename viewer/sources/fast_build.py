"""Building many frozen domain items cheaply, for the mappers' bulk paths.

A frozen dataclass's `__init__` sets every field through `object.__setattr__`, one call per field, and a
large hospital record builds ten thousand results, each with its Provenance: that alone was a sixth of
mapping it. `builder(cls)` gives a function with the same keyword arguments and defaults that fills the
slots directly, with no per-field call, and gives an object equal to `cls(...)`.

Only plain frozen slotted dataclasses qualify: a class with `__post_init__` (validation the domain may add
one day) or without slots gets its own constructor back, so a builder never skips the domain's checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def builder(cls: type[T]) -> Callable[..., T]:
    """A constructor of `cls` taking its fields by keyword (defaults as declared)."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__") or "__slots__" not in vars(cls):
        return cls
    fields = dataclasses.fields(cls)
    if any(f.default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING for f in fields):
        return cls  # a default built per call: leave it to the dataclass
    names = [f.name for f in fields]
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params = []
    for i, f in enumerate(fields):
        scope[f"_set{i}"] = vars(cls)[f.name].__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            scope[f"_default{i}"] = f.default
            params.append(f"{f.name}=_default{i}")
    body = "".join(f"    _set{i}(o, {name})\n" for i, name in enumerate(names))
    source = f"def build(*, {', '.join(params)}):\n    o = _new(_cls)\n{body}    return o\n"
    exec(source, scope)  # noqa: S102 (generated from the class's own field names, as dataclasses does)
    return scope["build"]  # type: ignore[no-any-return]
