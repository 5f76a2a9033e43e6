"""Medicines reconciliation: where the GP's current list and the hospital's differ.

On admission and at discharge a clinician compares the two lists line by line; the merged Medications
table shows both, this says where they part: a medicine in one list only, one active in one and stopped
in the other, a different dose. It is only as good as the two lists behind it, so it refuses to compare
when either record is not on screen, and says when one of them is a copy kept on this PC.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from viewer.domain.clinical import Medication
from viewer.domain.provenance import SourceKind
from viewer.record.combined import CombinedRecord
from viewer.record.merge import MergedItem
from viewer.record.status import SourceState


class Difference(StrEnum):
    DIFFERS = "In both lists, but they differ"
    GP_ONLY = "In the GP list only"
    HOSPITAL_ONLY = "In the hospital list only"
    SAME = "The same in both lists"


ORDER = (Difference.DIFFERS, Difference.GP_ONLY, Difference.HOSPITAL_ONLY, Difference.SAME)


@dataclass(frozen=True, slots=True)
class ReconciliationLine:
    difference: Difference
    merged: MergedItem[Medication]
    detail: str  # what differs, in words; empty for SAME


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """`possible` False with `reason` when the two lists cannot be compared; `caveats` when they can but
    one of them is a copy kept on this PC."""

    possible: bool
    reason: str = ""
    lines: tuple[ReconciliationLine, ...] = ()
    caveats: tuple[str, ...] = ()

    def of(self, difference: Difference) -> tuple[ReconciliationLine, ...]:
        return tuple(line for line in self.lines if line.difference is difference)

    @property
    def differences(self) -> int:
        return sum(1 for line in self.lines if line.difference is not Difference.SAME)


def reconcile(record: CombinedRecord) -> Reconciliation:
    for source, present in ((SourceKind.GP, record.gp), (SourceKind.HOSPITAL, record.hospital)):
        status = record.statuses.get(source)
        if present is None or status is None:
            why = status.text() if status is not None else f"{source.label}: not available"
            return Reconciliation(False, f"The lists cannot be compared: {why}.")
    caveats = tuple(status.text() for source in (SourceKind.GP, SourceKind.HOSPITAL)
                    if (status := record.statuses[source]).state is not SourceState.LOADED)
    lines = []
    for merged in record.sections.get("medications", ()):
        if not merged.item.is_current:
            continue
        sources = set(merged.sources)
        detail = "; ".join(merged.conflicts)
        if len(sources) > 1:
            difference = Difference.DIFFERS if merged.conflicts else Difference.SAME
        elif merged.conflicts:  # active here, stopped or cancelled in the other list
            difference = Difference.DIFFERS
        elif SourceKind.GP in sources:
            difference = Difference.GP_ONLY
        else:
            difference = Difference.HOSPITAL_ONLY
        lines.append(ReconciliationLine(difference, merged, detail))
    lines.sort(key=lambda line: (ORDER.index(line.difference), line.merged.item.name.label.lower()))
    return Reconciliation(True, lines=tuple(lines), caveats=caveats)
