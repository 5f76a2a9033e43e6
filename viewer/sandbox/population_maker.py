"""How a scenario makes its patient: dates that hang off the fixed reference date, and a `Maker` that
draws every item from the scenario's own random stream.

Determinism: each scenario draws from its own `random.Random(f"{seed}:{scenario}")` and all dates
hang off the fixed `REFERENCE_DATE`, never the wall clock, so the world is identical run to run and
adding a scenario does not change the others.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from viewer.sandbox.population_codes import Reason
from viewer.sandbox.population_directory import HOSPITAL_ODS, RIVERSIDE, STAFF_NAMES
from viewer.sandbox.population_lab_tests import U_AND_E, VITALS, Lab, LabTest
from viewer.sandbox.population_medicines import Drug
from viewer.sandbox.world import (
    ClinicalRecord,
    Clinician,
    Code,
    Demographics,
    GpAccess,
    Name,
    Practice,
    SynthAllergy,
    SynthDocument,
    SynthEncounter,
    SynthImmunisation,
    SynthMedication,
    SynthObservation,
    SynthProblem,
    SynthReferral,
)

REFERENCE_DATE = date(2026, 11, 1)

GP_NOTES = (
    "Seen with daughter. Symptoms for 3 days, no red flags. Safety-netting advice given.",
    "Reviewed. Advised fluids and paracetamol. Return if not improving in 1 week.",
    "Medication reviewed with patient; no changes. Bloods requested.",
    "Telephone consultation. Improving. No further action.",
    "BP checked, lifestyle advice given. Review in 6 months.",
    None,
)
ROUTINE_REASONS = (Reason.COUGH, Reason.SORE_THROAT, Reason.TATT, Reason.MED_REVIEW, Reason.URTI)


def ago(days: int) -> date:
    """The day `days` before the reference date: scenarios date everything this way, never by the clock."""
    return REFERENCE_DATE - timedelta(days=days)


def birth_date(years: int, days: int = 0) -> date:
    """A birth date `years` (and `days`) before the reference date, so ages stay as described."""
    return REFERENCE_DATE.replace(year=REFERENCE_DATE.year - years) - timedelta(days=days)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A UTC time of day on `day`: the world's times are zoned, so no consumer has to guess."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def demographics(family: str, given: Iterable[str], prefix: str | None, gender: str, born: date,
                 address: Iterable[str], postcode: str | None, phone: str | None) -> Demographics:
    return Demographics(Name(family, tuple(given), prefix), gender, born, tuple(address), postcode, phone)


def _full_name(name: Name) -> str:
    return " ".join([*([name.prefix] if name.prefix else []), *name.given, name.family])


class Maker:
    """Makes one scenario's items from that scenario's own random stream."""

    def __init__(self, seed: int, scenario: str) -> None:
        self.rng = random.Random(f"{seed}:{scenario}")
        self.practice = RIVERSIDE
        self._staff: dict[str, tuple[Clinician, ...]] = {}

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def staff(self, where: str) -> tuple[Clinician, ...]:
        """A few clinicians of a practice (ODS code) or the hospital, stable within the scenario."""
        if where not in self._staff:
            digits = "".join(ch for ch in where if ch.isdigit()).rjust(5, "0")[-5:]
            self._staff[where] = tuple(
                Clinician(id=self.new_id(), name=name, sds_user_id=f"6{digits}{i:06d}")
                for i, name in enumerate(STAFF_NAMES.get(where, STAFF_NAMES[HOSPITAL_ODS]), start=1)
            )
        return self._staff[where]

    def gp(self, ods: str | None = None) -> Clinician:
        return self.rng.choice(self.staff(ods or self.practice.ods_code))

    def doctor(self) -> Clinician:
        return self.rng.choice(self.staff(HOSPITAL_ODS))

    def allergy(self, substance: Code, category: str, asserted: date, *, reaction: Code | None = None,
                severity: str | None = None, criticality: str | None = None, status: str = "active",
                verification: str = "confirmed", note: str | None = None, end_date: date | None = None,
                end_reason: str | None = None, hospital: bool = False) -> SynthAllergy:
        return SynthAllergy(
            id=self.new_id(), substance=substance, clinical_status=status, verification_status=verification,
            category=category, asserted=asserted, recorder=self.doctor() if hospital else self.gp(),
            onset=asserted - timedelta(days=self.rng.randint(0, 30)), note=note, end_date=end_date,
            end_reason=end_reason, reaction=reaction, severity=severity, criticality=criticality,
        )

    def med(self, drug: Drug, kind: str, started: date, *, status: str = "active", ended: date | None = None,
            last_issued: date | None = None, prescriber: Clinician | None = None,
            patient_notes: str | None = None, prescriber_notes: str | None = None, elsewhere: bool = False,
            dosage: str | None = None) -> SynthMedication:
        if last_issued is None:
            last_issued = max(started, ago(self.rng.randint(3, 27))) if status == "active" else started
        return SynthMedication(
            id=self.new_id(), medicine=drug.code, dosage_text=dosage or drug.dosage, kind=kind,
            started=started, status=status, ended=ended, last_issued=last_issued,
            quantity_value=drug.quantity, quantity_unit=drug.unit,
            repeats_allowed=None if kind == "acute" else (6 if kind == "repeat-dispensing" else 12),
            prescriber=prescriber or self.gp(), patient_notes=patient_notes,
            prescriber_notes=prescriber_notes, prescribed_elsewhere=elsewhere,
        )

    def repeats(self, drugs: Iterable[Drug], since: tuple[int, int] = (200, 3000)) -> list[SynthMedication]:
        return [self.med(d, "repeat", ago(self.rng.randint(*since))) for d in drugs]

    def past_acute(self, drug: Drug, days_ago: int) -> SynthMedication:
        return self.med(drug, "acute", ago(days_ago), status="completed", ended=ago(days_ago - 7))

    def problem(self, condition: Code, onset_days: int, *, active: bool = True, minor: bool = False,
                abated_days: int | None = None, note: str | None = None) -> SynthProblem:
        return SynthProblem(
            id=self.new_id(), condition=condition, active=active, significance="minor" if minor else "major",
            onset=ago(onset_days), abated=None if abated_days is None else ago(abated_days), note=note,
        )

    def consultation(self, day: date, reason: Code | None, note: str | None = None, *,
                     practice: Practice | None = None) -> SynthEncounter:
        where = practice or self.practice
        start = at(day, self.rng.randint(8, 17), self.rng.choice((0, 10, 20, 30, 40, 50)))
        return SynthEncounter(
            id=self.new_id(), kind="consultation", start=start,
            end=start + timedelta(minutes=self.rng.choice((10, 10, 15, 20))), reason=reason,
            clinician=self.gp(where.ods_code), location=where.name, note=note,
        )

    def hospital_visit(self, kind: str, day: date, reason: Code | None, *, days: int = 1,
                       location: str | None = None, note: str | None = None,
                       status: str = "finished") -> SynthEncounter:
        hour = self.rng.randint(0, 23) if kind == "emergency" else self.rng.randint(8, 16)
        start = at(day, hour, self.rng.choice((5, 15, 25, 35, 45, 55)))
        if status == "in-progress":
            end = None
        elif kind == "inpatient":
            end = at(day + timedelta(days=max(days, 1)), self.rng.randint(10, 17))
        else:
            end = start + timedelta(minutes=self.rng.choice((20, 30, 45, 180, 240)))
        default = {"inpatient": "Ward 7B (Acute Medicine)", "outpatient": "Medical Outpatients",
                   "emergency": "Emergency Department"}[kind]
        return SynthEncounter(id=self.new_id(), kind=kind, start=start, end=end, reason=reason,
                              clinician=self.doctor(), location=location or default, note=note, status=status)

    def value(self, test: LabTest, shift: float = 0.0) -> float:
        floor = 0.0 if test.low is None else min(test.low, test.mean) * 0.3
        return float(round(max(self.rng.gauss(test.mean + shift, test.spread), floor), test.decimals))

    def obs(self, test: LabTest, when: datetime, *, hospital: bool = False, value: float | None = None,
            report: tuple[str, str] | None = None, shift: float = 0.0) -> SynthObservation:
        return SynthObservation(
            id=self.new_id(), test=test.hospital_code if hospital else test.gp_code, effective=when,
            value=self.value(test, shift) if value is None else value, unit=test.unit,
            ref_low=test.low, ref_high=test.high,
            report_id=report[0] if report else None, report_name=report[1] if report else None,
        )

    def panel(self, name: str, tests: Iterable[LabTest], when: datetime, *, hospital: bool = False,
              shifts: Mapping[LabTest, float] | None = None) -> list[SynthObservation]:
        report, shifts = (self.new_id(), name), shifts or {}
        return [self.obs(t, when, hospital=hospital, report=report, shift=shifts.get(t, 0.0)) for t in tests]

    def vitals(self, when: datetime) -> list[SynthObservation]:
        return [self.obs(t, when, hospital=True) for t in VITALS]

    def immunisation(self, vaccine: Code, day: date, dose: int | None = None) -> SynthImmunisation:
        return SynthImmunisation(id=self.new_id(), vaccine=vaccine, given=day, dose_number=dose)

    def referral(self, service: str, reason: Code | None, day: date, *, priority: str = "routine",
                 status: str = "active") -> SynthReferral:
        return SynthReferral(id=self.new_id(), to_service=service, reason=reason, authored=day,
                             priority=priority, status=status)

    def document(self, title: str, day: date) -> SynthDocument:
        return SynthDocument(id=self.new_id(), title=title, created=at(day, self.rng.randint(9, 17)),
                             author=_full_name(self.doctor().name))

    def routine_gp(self, record: ClinicalRecord, years: int, visits: int,
                   reasons: tuple[Code, ...] = ROUTINE_REASONS) -> None:
        """Ordinary general practice background: consultations, some BPs, a yearly U&E panel."""
        for _ in range(visits):
            day = ago(self.rng.randint(20, years * 365))
            record.encounters.append(
                self.consultation(day, self.rng.choice(reasons), self.rng.choice(GP_NOTES)))
            if self.rng.random() < 0.5:
                record.observations += [self.obs(Lab.SYSTOLIC, at(day, 11)),
                                        self.obs(Lab.DIASTOLIC, at(day, 11))]
        for year in range(min(years, 5)):
            day = ago(60 + 365 * year + self.rng.randint(0, 40))
            record.observations += self.panel("Urea and electrolytes", U_AND_E, at(day, 9, 30))
        record.encounters.sort(key=lambda e: e.start)


@dataclass(frozen=True, slots=True)
class Draft:
    """A scenario's content before its NHS number is allocated."""

    scenario: str
    summary: str
    pds: Demographics
    practice_ods: str | None
    gp: ClinicalRecord | None
    hospital: ClinicalRecord | None
    gp_access: GpAccess = GpAccess.OK
    deceased: datetime | None = None
    restricted: bool = False
