"""Merging the GP and hospital lists of one section into items that each list their originals.

Items are grouped by code (SNOMED CT, dm+d) and, where repeating events are normal, by date; each merged
item keeps every original behind it, so nothing is lost and the originals are one click away. The merge
also flags what a clinician must reconcile: an allergy recorded in one source only, a medicine active in
one source and stopped in the other. Sections of events that belong to one system (encounters, reports,
referrals, documents, flags) are never merged across sources.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

import msgspec

from viewer.domain.clinical import Allergy, Medication, Problem
from viewer.domain.coding import DMD, LOINC, SNOMED, Concept
from viewer.domain.dates import PartialDate
from viewer.domain.events import Immunisation, Observation
from viewer.domain.provenance import Provenance, SourceKind

T = TypeVar("T")

SECTIONS = (
    "allergies", "medications", "problems", "encounters", "observations", "reports", "immunisations",
    "referrals", "documents", "flags",
)


class MergedItem(msgspec.Struct, Generic[T], frozen=True, gc=False):
    """One line of a section: the item shown, every source item behind it, and any disagreement.

    A Struct the collector does not track, like the domain values it holds (viewer.domain.record_value):
    a large record merges into ten thousand of these at every update, and none can be part of a cycle."""

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


def concept_key(concept: Concept, *systems: str) -> Hashable:
    """The code in the first of `systems` the concept carries, else its label folded: two entries match
    only when they name the same thing."""
    for system in systems:
        code = concept.code_in(system)
        if code:
            return (system, code)
    return ("text", " ".join(concept.label.lower().split()))


def _date_key(value: PartialDate | None) -> Hashable:
    if value is None:
        return None
    day = value.as_date()
    return day.isoformat() if day else (value.year, value.month)


def _sort_date(value: PartialDate | None) -> tuple[int, int, int]:
    if value is None:
        return (0, 0, 0)
    return (value.year, value.month or 0, value.day or 0)


def _medicine_key(m: Medication) -> Hashable:
    # GP Connect sends dm+d concepts under the SNOMED CT system; the hospital may use the dm+d system.
    key = concept_key(m.name, DMD, SNOMED)
    return ("code", key[1]) if key[0] != "text" else key


def _group(items: Sequence[T], key: Callable[[T], Hashable]) -> list[list[T]]:
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


def _where(sources: set[SourceKind]) -> str:
    return " and ".join(f"the {s.label} record" for s in sorted(sources, key=lambda s: s.value))


def _only_in(group: Sequence[Any], loaded: set[SourceKind], noun: str) -> tuple[str, ...]:
    present = {o.provenance.source for o in group}
    missing = loaded - present
    if missing and present:
        return (f"{noun} recorded in {_where(present)} only, not in {_where(missing)}",)
    return ()


def _folded(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def _differs(group: Sequence[Any], label: str, value: Callable[[Any], str | None]) -> tuple[str, ...]:
    """A conflict line when the sources behind one merged line disagree on a field a clinician acts on
    (a dose, a severity): the merged line shows one value, so the disagreement must be said."""
    by_source: dict[SourceKind, list[str]] = {}
    for original in group:
        text = value(original)
        if text:
            values = by_source.setdefault(original.provenance.source, [])
            if text not in values:
                values.append(text)
    distinct = {_folded(t) for texts in by_source.values() for t in texts}
    if len(by_source) < 2 or len(distinct) < 2:
        return ()
    parts = "; ".join(f"{s.label}: {' / '.join(texts)}" for s, texts in by_source.items())
    return (f"{label} differs between the records - {parts}",)


def _severity(a: Allergy) -> str | None:
    return ", ".join(dict.fromkeys(r.severity for r in a.reactions if r.severity)) or None


def merge_allergies(items: Sequence[Allergy], loaded: set[SourceKind]) -> tuple[MergedItem[Allergy], ...]:
    """Grouped by substance code; an active allergy missing from another loaded source is flagged."""
    merged = []
    def key(a: Allergy) -> Hashable:
        return (a.no_known_allergies, a.is_active, concept_key(a.substance, SNOMED))

    for group in _group(items, key):
        group.sort(key=lambda a: (a.provenance.source is not SourceKind.GP, not a.is_active))
        first = group[0]
        conflicts: tuple[str, ...] = ()
        if first.is_active and not first.no_known_allergies:
            conflicts = _only_in(group, loaded, "Allergy")
            same = concept_key(first.substance, SNOMED)
            resolved_elsewhere = [a for a in items if not a.is_active and not a.no_known_allergies
                                  and concept_key(a.substance, SNOMED) == same]
            if resolved_elsewhere:
                where = _where({a.provenance.source for a in resolved_elsewhere})
                conflicts += (f"Also recorded as resolved in {where}",)
            conflicts += _differs(group, "Reaction severity", _severity)
        merged.append(MergedItem(first, tuple(group), conflicts))
    merged.sort(key=lambda m: (m.item.no_known_allergies, not m.item.is_active,
                               m.item.substance.label.lower()))
    return tuple(merged)


def merge_medications(
    items: Sequence[Medication], loaded: set[SourceKind]
) -> tuple[MergedItem[Medication], ...]:
    """Current medicines grouped by code; past ones by code and start date. A medicine current in one
    source and stopped in another is flagged on the current line."""
    current = [m for m in items if m.is_current]
    past = [m for m in items if not m.is_current]
    stopped_by_key: dict[Hashable, list[Medication]] = {}
    for m in past:
        stopped_by_key.setdefault(_medicine_key(m), []).append(m)
    merged: list[MergedItem[Medication]] = []
    for group in _group(current, _medicine_key):
        group.sort(key=lambda m: m.provenance.source is not SourceKind.GP)
        present = {m.provenance.source for m in group}
        conflicts = []
        stopped = [m for m in stopped_by_key.get(_medicine_key(group[0]), ())
                   if m.provenance.source not in present
                   and m.status in ("stopped", "cancelled", "completed")]
        if stopped:
            latest = max(stopped, key=lambda m: _sort_date(m.ended or m.started))
            when = latest.ended or latest.started
            conflicts.append(
                f"Active in {_where(present)}, {latest.status} in {_where({latest.provenance.source})}"
                + (f" ({when.display()})" if when else "")
            )
        conflicts.extend(_differs(group, "Dosage", lambda m: m.dosage))
        merged.append(MergedItem(group[0], tuple(group), tuple(conflicts)))
    merged.sort(key=lambda m: m.item.name.label.lower())
    history = [
        MergedItem(g[0], tuple(g))
        for g in _group(past, lambda m: (_medicine_key(m), _date_key(m.started)))
    ]
    history.sort(key=lambda m: (_sort_date(m.item.started), m.item.name.label.lower()), reverse=True)
    return (*merged, *history)


def _merge_by(
    items: Sequence[T], key: Callable[[T], Hashable], order: Callable[[MergedItem[T]], Any], reverse: bool
) -> tuple[MergedItem[T], ...]:
    merged = []
    for group in _group(items, key):
        if len(group) > 1:
            group.sort(key=lambda o: o.provenance.source is not SourceKind.GP)  # type: ignore[attr-defined]
        merged.append(MergedItem(group[0], tuple(group)))
    merged.sort(key=order, reverse=reverse)
    return tuple(merged)


def merge_problems(items: Sequence[Problem]) -> tuple[MergedItem[Problem], ...]:
    return _merge_by(
        items,
        lambda p: (concept_key(p.condition, SNOMED), _date_key(p.onset), p.clinical_status == "active"),
        lambda m: (m.item.clinical_status == "active", _sort_date(m.item.onset)),
        reverse=True,
    )


def merge_immunisations(items: Sequence[Immunisation]) -> tuple[MergedItem[Immunisation], ...]:
    return _merge_by(
        items,
        lambda i: (concept_key(i.vaccine, SNOMED), _date_key(i.given)),
        lambda m: _sort_date(m.item.given),
        reverse=True,
    )


def _observation_key(o: Observation) -> Hashable:
    # the instant itself, not its text: equal instants in two time zones are one result, and a large
    # record has ten thousand of these (isoformat() was half the merge's time)
    effective = o.effective
    when = effective.instant if effective is not None and effective.instant else _date_key(effective)
    return (concept_key(o.test, LOINC, SNOMED), when, o.value, o.unit)


def _observation_order(m: MergedItem[Observation]) -> tuple[tuple[int, int, int], float]:
    effective = m.item.effective
    instant = effective.instant if effective is not None else None
    return (_sort_date(effective), instant.timestamp() if instant is not None else 0.0)


def merge_observations(items: Sequence[Observation]) -> tuple[MergedItem[Observation], ...]:
    return _merge_by(items, _observation_key, _observation_order, reverse=True)


def _start_of(item: Any) -> tuple[int, int, int]:
    for name in ("start", "issued", "authored", "created"):
        value = getattr(item, name, None)
        if isinstance(value, PartialDate):
            return _sort_date(value)
    return (0, 0, 0)


def merge_section(
    name: str,
    gp: Sequence[Any],
    hospital: Sequence[Any],
    *,
    gp_loaded: bool = True,
    hospital_loaded: bool = True,
) -> tuple[MergedItem, ...]:
    """Merge one section. `*_loaded` say which sources answered: only those can disagree."""
    items = (*gp, *hospital)
    loaded = {s for s, ok in ((SourceKind.GP, gp_loaded), (SourceKind.HOSPITAL, hospital_loaded)) if ok}
    if name == "allergies":
        return merge_allergies(items, loaded)
    if name == "medications":
        return merge_medications(items, loaded)
    if name == "problems":
        return merge_problems(items)
    if name == "immunisations":
        return merge_immunisations(items)
    if name == "observations":
        return merge_observations(items)
    merged = [MergedItem(item, (item,)) for item in items]
    merged.sort(key=lambda m: _start_of(m.item), reverse=True)
    return tuple(merged)
