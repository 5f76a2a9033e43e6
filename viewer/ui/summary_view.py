"""The Summary section: what a clinician needs first, on one 1366x768 screen without scrolling the page.

Active allergies, current medicines, active problems, the latest encounters and a warnings line, each
line with its source(s); a line where the records disagree carries the warning sign and the
disagreement in its tooltip. Enter or double-click opens the entries behind a line, as in the sections.

Signals:
    line_activated(str, object): the section name and the MergedItem of the line chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from viewer.domain.provenance import SourceKind
from viewer.record.combined import CombinedRecord
from viewer.record.merge import MergedItem
from viewer.record.status import SourceState
from viewer.ui.models import retrievals_text, sources_text

RECENT_ENCOUNTERS = 5
_FAILED = (SourceState.FAILED, SourceState.WITHHELD, SourceState.NOT_FOUND)


def _sources_short(merged: MergedItem) -> str:
    return " + ".join(dict.fromkeys(s.label for s in merged.sources))


def _allergy_line(m: MergedItem) -> str:
    a = m.item
    reactions = "; ".join(
        ", ".join(x.label for x in r.manifestations) + (f" ({r.severity})" if r.severity else "")
        for r in a.reactions
    ).strip("; ")
    return " - ".join(x for x in (a.substance.label, reactions) if x)


def _medicine_line(m: MergedItem) -> str:
    med = m.item
    return " - ".join(x for x in (med.name.label, med.dosage or "") if x)


def _problem_line(m: MergedItem) -> str:
    p = m.item
    since = f"since {p.onset.display()}" if p.onset else ""
    significance = f"{p.significance} significance" if p.significance else ""
    return " - ".join(x for x in (p.condition.label, significance, since) if x)


def _encounter_line(m: MergedItem) -> str:
    e = m.item
    what = (e.type.label if e.type else "") or (e.kind or "Encounter").capitalize()
    when = e.start.display() if e.start else "date not given"
    return " - ".join(x for x in (when, what, e.location or "") if x)


def _start_key(m: MergedItem) -> tuple[int, int, int]:
    start = m.item.start
    return (start.year, start.month or 0, start.day or 0) if start is not None else (0, 0, 0)


def missing_records_note(record: CombinedRecord) -> str:
    """` - the GP record is not available` when a record failed, was withheld or was not found (and no
    copy stands in for it): an empty list must never read as "none" when a whole record is missing."""
    missing = [status.source.label for status in record.statuses.values()
               if status.source in (SourceKind.GP, SourceKind.HOSPITAL) and status.state in _FAILED
               and not status.shows_copy]
    if not missing:
        return ""
    verb = "is" if len(missing) == 1 else "are"
    return f" - the {' and '.join(missing)} record{'s' if len(missing) > 1 else ''} {verb} not available"


class _Panel(QWidget):
    def __init__(self, title: str, section: str, empty: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title_text, self.section, self.empty = title, section, empty
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(title, objectName="summaryTitle")
        layout.addWidget(self.title)
        self.list = QListWidget(objectName=f"summary{section.capitalize()}")
        self.list.setAccessibleName(title)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout.addWidget(self.list, 1)

    def show_lines(self, items: Sequence[MergedItem], line: Callable[[MergedItem], str],
                   empty: str | None = None) -> None:
        self.list.clear()
        self.title.setText(f"{self.title_text} ({len(items)})")
        if not items:
            placeholder = QListWidgetItem(empty or self.empty)
            placeholder.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(placeholder)
            return
        for merged in items:
            text = f"{line(merged)}   [{_sources_short(merged)}]"
            if merged.conflicts:  # said on the line itself: a tooltip is too easy to miss
                text = "⚠ " + text + "".join(f"\n      ⚠ {c}" for c in merged.conflicts)
            entry = QListWidgetItem(text)
            tip = [f"Source: {sources_text(merged)}", f"Retrieved: {retrievals_text(merged)}",
                   *(f"⚠ {c}" for c in merged.conflicts)]
            entry.setToolTip("\n".join(tip))
            entry.setData(Qt.ItemDataRole.UserRole, merged)
            self.list.addItem(entry)

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]


class SummaryView(QWidget):
    line_activated = Signal(str, object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("summaryView")
        self.setAccessibleName("Summary")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 8, 8, 8)
        self.allergies = _Panel("Allergies", "allergies", "No allergies recorded as active")
        self.medications = _Panel("Current medicines", "medications", "No current medicines")
        self.problems = _Panel("Active problems", "problems", "No active problems")
        self.encounters = _Panel("Latest encounters", "encounters", "No encounters")
        for panel, row, col in ((self.allergies, 0, 0), (self.medications, 0, 1),
                                (self.problems, 1, 0), (self.encounters, 1, 1)):
            grid.addWidget(panel, row, col)
            panel.list.itemActivated.connect(lambda item, p=panel: self._activated(p, item))
        self.warnings = QLabel("", objectName="summaryWarnings")
        self.warnings.setAccessibleName("Record warnings")
        self.warnings.setWordWrap(True)
        grid.addWidget(self.warnings, 2, 0, 1, 2)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)

    def _activated(self, panel: _Panel, item: QListWidgetItem) -> None:
        merged: Any = item.data(Qt.ItemDataRole.UserRole)
        if merged is not None:
            self.line_activated.emit(panel.section, merged)

    def set_record(self, record: CombinedRecord) -> None:
        sections = record.sections
        allergies = [m for m in sections.get("allergies", ())
                     if m.item.is_active and not m.item.no_known_allergies]
        self.allergies.show_lines(allergies, _allergy_line, empty=record.allergy_state.value)
        missing = missing_records_note(record)
        self.medications.show_lines([m for m in sections.get("medications", ()) if m.item.is_current],
                                    _medicine_line, empty=self.medications.empty + missing)
        problems = [m for m in sections.get("problems", ()) if m.item.clinical_status == "active"]
        problems.sort(key=lambda m: m.item.significance != "major")
        self.problems.show_lines(problems, _problem_line, empty=self.problems.empty + missing)
        encounters = sorted(sections.get("encounters", ()), key=_start_key, reverse=True)
        self.encounters.show_lines(encounters[:RECENT_ENCOUNTERS], _encounter_line,
                                   empty=self.encounters.empty + missing)
        self.warnings.setText(self._warning_text(record))

    @staticmethod
    def _warning_text(record: CombinedRecord) -> str:
        conflicts = sum(1 for items in record.sections.values() for m in items if m.conflicts)
        failed = [s.text() for s in record.statuses.values() if s.state in _FAILED or s.shows_copy]
        parts = [*failed]
        if conflicts:
            parts.append(f"{conflicts} line(s) where the records disagree (marked ⚠)")
        if record.unreadable:
            parts.append(f"{len(record.unreadable)} item(s) could not be displayed")
        if record.warnings:
            parts.append(f"{len(record.warnings)} warning(s) from the sources")
        if not parts:
            return "No warnings for this record."
        return "⚠ " + " · ".join(parts) + " - see Record warnings."
