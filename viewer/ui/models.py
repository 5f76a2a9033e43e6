"""Item models over the merged sections. Each row shows every source behind it and when each was retrieved
(GP Connect STR02/03), and any disagreement between the sources."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from viewer.domain.clinical import Allergy, Medication, Problem
from viewer.domain.dates import PartialDate, format_date, format_time
from viewer.domain.events import Document, Encounter, Immunisation, Observation, Referral
from viewer.domain.provenance import Provenance
from viewer.record.merge import MergedItem

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex
_EMPTY = QModelIndex()


def source_text(p: Provenance) -> str:
    """`GP - Y90001 The Sandbox Surgery` / `Hospital - Wardview Sandbox Hospital`."""
    org = " ".join(x for x in (p.org_ods, p.org_name) if x)
    return f"{p.source.label} - {org}" if org else p.source.label


def retrieved_text(p: Provenance) -> str:
    return f"{format_time(p.retrieved_at)} {format_date(p.retrieved_at)}"


def _unique(texts: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def sources_text(merged: MergedItem) -> str:
    """Every source behind a line, e.g. `GP - Y90001 Riverside + Hospital - RWV99 Trust`."""
    return " + ".join(_unique([source_text(p) for p in merged.provenances]))


def retrievals_text(merged: MergedItem) -> str:
    return " / ".join(_unique([retrieved_text(p) for p in merged.provenances]))


def _date(value: PartialDate | None) -> str:
    return value.display() if value is not None else ""


class DomainTableModel(QAbstractTableModel, Generic[T]):
    """A read-only table of merged items; `columns` are (header, getter of the shown item) pairs, followed
    by the sources, the retrieval times and the alerts (conflicts) of each line."""

    SourceRole = Qt.ItemDataRole.UserRole + 1
    ItemRole = Qt.ItemDataRole.UserRole + 2

    columns: Sequence[tuple[str, Callable[[Any], str]]] = ()
    _trailing: Sequence[tuple[str, Callable[[MergedItem], str]]] = (
        ("Retrieved", retrievals_text),
        ("Alerts", lambda m: "; ".join(m.conflicts)),
    )

    def __init__(self, items: Sequence[MergedItem[T]] = (), parent: Any = None):
        super().__init__(parent)
        self._items: list[MergedItem[T]] = list(items)
        first, *rest = self.columns
        self._all: list[tuple[str, Callable[[MergedItem], str]]] = [
            (first[0], lambda m, get=first[1]: get(m.item)),
            ("Source", sources_text),
            *[(name, lambda m, get=get: get(m.item)) for name, get in rest],
            *self._trailing,
        ]

    def set_items(self, items: Sequence[MergedItem[T]]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def item(self, row: int) -> MergedItem[T]:
        return self._items[row]

    def rowCount(self, parent: Index = _EMPTY) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = _EMPTY) -> int:
        return 0 if parent.isValid() else len(self._all)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self._all):
            return self._all[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._items)):
            return None
        if not (0 <= index.column() < len(self._all)):
            return None
        merged = self._items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._all[index.column()][1](merged)
        if role == self.SourceRole:
            return ",".join(s.value for s in merged.sources)
        if role == self.ItemRole:
            return merged
        return None


def _reactions(a: Allergy) -> str:
    parts = []
    for r in a.reactions:
        text = ", ".join(m.label for m in r.manifestations) or (r.description or "")
        if r.severity:
            text = f"{text} ({r.severity})" if text else r.severity
        if text:
            parts.append(text)
    return "; ".join(parts)


def _allergy_status(a: Allergy) -> str:
    if a.no_known_allergies:
        return "Statement (no allergy)"
    status = a.clinical_status or "status not given"
    if not a.is_active:
        ended = f" {a.end_date.display()}" if a.end_date else ""
        reason = f" - {a.end_reason}" if a.end_reason else ""
        word = "Resolved" if status in ("resolved", "inactive") else status
        return f"{word}{ended}{reason}"
    return status.capitalize()


class AllergyTableModel(DomainTableModel[Allergy]):
    columns = (
        ("Allergy / adverse reaction", lambda a: a.substance.label),
        ("Status", _allergy_status),
        ("Verification", lambda a: a.verification_status or ""),
        ("Category", lambda a: ", ".join(a.category)),
        ("Reaction", _reactions),
        ("Recorded", lambda a: _date(a.asserted)),
        ("Recorded by", lambda a: a.recorder or ""),
        ("Notes", lambda a: " / ".join(a.notes)),
    )


def _med_kind(m: Medication) -> str:
    kind = (m.kind or "").replace("-", " ").capitalize()
    flags = []
    if m.prescribed_elsewhere:
        flags.append("prescribed elsewhere")
    if m.transfer_degraded:
        flags.append("transfer-degraded")
    return ", ".join(x for x in (kind, *flags) if x)


class MedicationTableModel(DomainTableModel[Medication]):
    columns = (
        ("Medicine", lambda m: m.name.label),
        ("Dosage", lambda m: m.dosage or ""),
        ("Quantity", lambda m: m.quantity or ""),
        ("Type", _med_kind),
        ("Status", lambda m: m.status or ""),
        ("Last issued", lambda m: _date(m.last_issued)),
        ("Started", lambda m: _date(m.started)),
        ("Prescriber", lambda m: m.prescriber or ""),
        ("Notes", lambda m: " / ".join((*m.patient_notes, *m.prescriber_notes))),
    )


class ProblemTableModel(DomainTableModel[Problem]):
    columns = (
        ("Problem", lambda p: p.condition.label),
        ("Status", lambda p: p.clinical_status or ""),
        ("Significance", lambda p: p.significance or ""),
        ("Onset", lambda p: _date(p.onset)),
        ("Ended", lambda p: _date(p.abated)),
    )


def _range(o: Observation) -> str:
    if o.range_text:
        return o.range_text
    if o.range_low is not None or o.range_high is not None:
        low = "" if o.range_low is None else f"{o.range_low:g}"
        high = "" if o.range_high is None else f"{o.range_high:g}"
        return f"{low} - {high}".strip()
    return ""


def _value(o: Observation) -> str:
    value = o.value or ""
    if o.comparator and not value.startswith(o.comparator):
        value = f"{o.comparator}{value}"
    return " ".join(x for x in (value, o.unit or "") if x)


def _when(value: PartialDate | None) -> str:
    return value.display_with_time() if value is not None else ""


class EncounterTableModel(DomainTableModel[Encounter]):
    columns = (
        ("Encounter", lambda e: (e.type.label if e.type else "") or (e.kind or "").capitalize()),
        ("Kind", lambda e: e.kind or ""),
        ("Status", lambda e: e.status or ""),
        ("Start", lambda e: _when(e.start)),
        ("End", lambda e: _when(e.end)),
        ("Reason", lambda e: "; ".join(r.label for r in e.reasons)),
        ("Clinician", lambda e: e.clinician or ""),
        ("Location", lambda e: e.location or ""),
        ("Notes", lambda e: " / ".join(e.notes)),
    )


class ObservationTableModel(DomainTableModel[Observation]):
    columns = (
        ("Result", lambda o: o.test.label),
        ("Value", _value),
        ("Reference range", _range),
        ("Interpretation", lambda o: o.interpretation or ""),
        ("Taken", lambda o: _when(o.effective)),
        ("Status", lambda o: o.status or ""),
        ("Notes", lambda o: " / ".join(o.notes)),
    )


class ImmunisationTableModel(DomainTableModel[Immunisation]):
    columns = (
        ("Vaccine", lambda i: i.vaccine.label),
        ("Given", lambda i: _date(i.given)),
        ("Dose", lambda i: i.dose or ""),
        ("Status", lambda i: i.status or ""),
        ("Site / route", lambda i: " / ".join(x for x in (i.site, i.route) if x)),
        ("Batch", lambda i: i.batch or ""),
        ("Given by", lambda i: i.performer or ""),
        ("Notes", lambda i: " / ".join(i.notes)),
    )


class ReferralTableModel(DomainTableModel[Referral]):
    columns = (
        ("Referred to", lambda r: r.service or r.recipient or ""),
        ("Reason", lambda r: "; ".join(c.label for c in r.reasons)),
        ("Date", lambda r: _date(r.authored)),
        ("Status", lambda r: r.status or ""),
        ("Priority", lambda r: r.priority or ""),
        ("Referrer", lambda r: r.requester or ""),
        ("Recipient", lambda r: r.recipient or ""),
        ("Notes", lambda r: " / ".join(r.notes)),
    )


class DocumentTableModel(DomainTableModel[Document]):
    columns = (
        ("Document", lambda d: d.title),
        ("Type", lambda d: d.type.label if d.type else ""),
        ("Date", lambda d: _when(d.created)),
        ("Author", lambda d: d.author or ""),
        ("Status", lambda d: d.status or ""),
        ("Format", lambda d: d.content_type or ""),
    )
