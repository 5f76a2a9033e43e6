"""The combined GP + hospital record: every item keeps its provenance; nothing is dropped in the merge.

The merge is deliberately conservative for this first version: items from both sources are shown side by
side with their source, and the allergy state of the banner is worked out from what every source said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from viewer.domain.clinical import Allergy, Medication, Problem, RecordWarning, Unreadable
from viewer.domain.dates import PartialDate
from viewer.domain.patient import Patient
from viewer.domain.provenance import SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.record.merge import SECTIONS, MergedItem, merge_section
from viewer.record.status import SourceState, SourceStatus


class AllergyState(StrEnum):
    """The four labels the NHS CUI banner allows."""

    KNOWN = "Known allergies"
    NO_KNOWN = "No known allergies"
    NOT_RECORDED = "Allergies not recorded"
    UNAVAILABLE = "Allergies unavailable"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Two sources disagree about who the patient is (CLINICAL.md: alert on any mismatch)."""

    field: str
    values: tuple[tuple[SourceKind, str], ...]

    def text(self) -> str:
        parts = ", ".join(f"{source.label}: {value or 'Not Known'}" for source, value in self.values)
        return f"{self.field} differs - {parts}"


@dataclass(frozen=True, slots=True)
class CombinedRecord:
    patient: Patient | None
    statuses: dict[SourceKind, SourceStatus]
    gp: SourceRecord | None = None
    hospital: SourceRecord | None = None
    mismatches: tuple[Mismatch, ...] = ()
    notices: tuple[str, ...] = field(default=())
    sections: dict[str, tuple[MergedItem, ...]] = field(default_factory=dict)

    def _sources(self) -> tuple[SourceRecord, ...]:
        return tuple(r for r in (self.gp, self.hospital) if r is not None)

    @property
    def allergies(self) -> tuple[Allergy, ...]:
        """Active allergies of every source first, then resolved ones; NKA entries are not allergies."""
        items = [a for r in self._sources() for a in r.allergies if not a.no_known_allergies]
        return tuple(sorted(items, key=lambda a: (not a.is_active, a.substance.label.lower())))

    @property
    def medications(self) -> tuple[Medication, ...]:
        items = [m for r in self._sources() for m in r.medications]
        return tuple(sorted(items, key=lambda m: (not m.is_current, m.name.label.lower())))

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for r in self._sources() for p in r.problems)

    @property
    def warnings(self) -> tuple[RecordWarning, ...]:
        return tuple(w for r in self._sources() for w in r.warnings)

    @property
    def unreadable(self) -> tuple[Unreadable, ...]:
        return tuple(u for r in self._sources() for u in r.unreadable)

    @property
    def allergy_state(self) -> AllergyState:
        """Known if any source has an active allergy. Otherwise every configured clinical source must have
        answered with its allergy area: a GP record that failed, was withheld at the patient's request or was
        not found must never read as 'no known allergies' or 'not recorded' - we do not know."""
        if any(a.is_active for a in self.allergies):
            return AllergyState.KNOWN
        clinical = [s for s in self.statuses.values() if s.source is not SourceKind.PDS]
        answered = [r for r in self._sources() if r.allergies_supplied]
        incomplete = any(s.state not in (SourceState.LOADED, SourceState.NOT_CONFIGURED) for s in clinical)
        if not answered or incomplete or any(not r.allergies_supplied for r in self._sources()):
            return AllergyState.UNAVAILABLE
        if any(a.covers_all_allergies for r in answered for a in r.allergies):
            return AllergyState.NO_KNOWN
        return AllergyState.NOT_RECORDED

    @property
    def allergy_gaps(self) -> tuple[str, ...]:
        """Why the allergies on screen may not be all there are, when the label says "Known allergies":
        one known allergy from the hospital must not read as the whole story while the GP's allergies
        are missing or only a copy. Empty in every other state (the label itself says unavailable)."""
        if self.allergy_state is not AllergyState.KNOWN:
            return ()
        gaps = []
        for source, record in ((SourceKind.GP, self.gp), (SourceKind.HOSPITAL, self.hospital)):
            status = self.statuses.get(source)
            if status is None or status.state is SourceState.NOT_CONFIGURED:
                continue
            label = source.label
            if status.shows_copy:
                gaps.append(f"{label} allergies are from the copy kept on this PC, not the live record "
                            f"({status.text()})")
            elif status.state is not SourceState.LOADED:
                gaps.append(f"{label} allergies are not available ({status.text()}): others may be recorded")
            elif record is not None and not record.allergies_supplied:
                gaps.append(f"The {label} record did not include allergies: others may be recorded there")
        return tuple(gaps)

    @property
    def partial_negations(self) -> tuple[str, ...]:
        """'No known drug allergy' and the like: said on the banner, because the state label cannot."""
        if self.allergy_state is not AllergyState.NOT_RECORDED:
            return ()
        return tuple(dict.fromkeys(
            f"{a.substance.label} recorded ({a.provenance.source.label}): other allergies not stated"
            for r in self._sources() for a in r.allergies
            if a.no_known_allergies and not a.covers_all_allergies
        ))


def _name_key(patient: Patient) -> str:
    return patient.name.banner()


def _birth(patient: Patient) -> str:
    return patient.birth_date.display() if isinstance(patient.birth_date, PartialDate) else ""


def find_mismatches(
    pds: Patient | None, gp: Patient | None, hospital: Patient | None
) -> tuple[Mismatch, ...]:
    """Compare family name, given name, gender, birth date and GP practice across the sources."""
    present = [(SourceKind.PDS, pds), (SourceKind.GP, gp), (SourceKind.HOSPITAL, hospital)]
    people = [(kind, p) for kind, p in present if p is not None]
    checks = (
        ("Family name", lambda p: (p.name.family or "").strip().upper()),
        ("Given name", lambda p: " ".join(p.name.given).strip().upper()),
        ("Gender", lambda p: (p.gender or "").lower()),
        ("Date of birth", _birth),
        ("GP practice", lambda p: (p.gp_practice_ods or "").upper()),
    )
    found: list[Mismatch] = []
    for label, getter in checks:
        values = [(kind, getter(p)) for kind, p in people]
        if label == "GP practice":
            # The hospital often does not record the practice; and a restricted PDS record hides it.
            values = [(k, v) for k, v in values if v]
        if len({v for _, v in values}) > 1:
            found.append(Mismatch(label, tuple(values)))
    return tuple(found)


def combine(
    pds: Patient | None,
    statuses: dict[SourceKind, SourceStatus],
    gp: SourceRecord | None,
    hospital: SourceRecord | None,
    notices: tuple[str, ...] = (),
    previous: CombinedRecord | None = None,
) -> CombinedRecord:
    """Build the combined record; PDS leads the banner, else the GP's patient, else the hospital's.

    `previous` is the record this one follows (OpenRecord emits one per status change): the sections of
    source records that have not changed are taken from it rather than merged again (ten thousand results
    cost ~50 ms a merge); only the sections whose conflict flags depend on which sources are loaded are
    merged again when that changed.
    """
    patient = pds or (gp.patient if gp else None) or (hospital.patient if hospital else None)
    mismatches = find_mismatches(
        pds, gp.patient if gp else None, hospital.patient if hospital else None
    )
    loaded = _loaded(statuses)
    reusable: dict[str, tuple[MergedItem, ...]] = {}
    if previous is not None and previous.gp is gp and previous.hospital is hospital:
        same_loaded = _loaded(previous.statuses) == loaded
        reusable = {name: items for name, items in previous.sections.items()
                    if same_loaded or name not in LOADED_DEPENDENT}
    sections = {
        name: reusable[name] if name in reusable else merge_section(
            name,
            getattr(gp, name) if gp else (),
            getattr(hospital, name) if hospital else (),
            gp_loaded=SourceKind.GP in loaded,
            hospital_loaded=SourceKind.HOSPITAL in loaded,
        )
        for name in SECTIONS
    }
    return CombinedRecord(patient, dict(statuses), gp, hospital, mismatches, notices, sections)


# The sections whose conflicts ("recorded in the GP record only", "stopped in the other") depend on which
# sources are loaded (viewer.record.merge.merge_section).
LOADED_DEPENDENT = frozenset({"allergies", "medications"})


def _loaded(statuses: dict[SourceKind, SourceStatus]) -> frozenset[SourceKind]:
    return frozenset(k for k, st in statuses.items() if st.state is SourceState.LOADED)
