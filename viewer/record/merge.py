"""Merging the GP and hospital lists of one section into items that each list their originals.

Shape only in this first version: one merged item per original. De-duplication by code and date comes
next; the shape (`MergedItem.item`, `.originals`, `.conflicts`) is what the UI and `inspect` rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from viewer.domain.provenance import Provenance, SourceKind

T = TypeVar("T")

SECTIONS = (
    "allergies", "medications", "problems", "encounters", "observations", "reports", "immunisations",
    "referrals", "documents", "flags",
)


@dataclass(frozen=True, slots=True)
class MergedItem(Generic[T]):
    """One line of a section: the item shown, every source item behind it, and any disagreement."""

    item: T
    originals: tuple[T, ...]
    conflicts: tuple[str, ...] = ()

    @property
    def provenances(self) -> tuple[Provenance, ...]:
        return tuple(o.provenance for o in self.originals)  # type: ignore[attr-defined]

    @property
    def sources(self) -> tuple[SourceKind, ...]:
        seen: list[SourceKind] = []
        for p in self.provenances:
            if p.source not in seen:
                seen.append(p.source)
        return tuple(seen)


def merge_section(name: str, gp: Sequence[Any], hospital: Sequence[Any], **_context: Any) -> tuple[MergedItem, ...]:
    """One merged item per original (de-duplication to follow)."""
    return tuple(MergedItem(item, (item,)) for item in (*gp, *hospital))
