"""The sandbox's synthetic population: one patient per situation a ward clinician must be shown right.

Every patient exists to exercise one scenario (a `scenario` key and a one-line `summary` for the
README table). The data is generated, never copied: codes are real SNOMED CT / dm+d / LOINC codes
with UK displays, values are plausible, and every name, address and number is invented (NHS numbers
from the never-issued 999 range, phone numbers from Ofcom's drama ranges).

Determinism: each scenario draws from its own `random.Random(f"{seed}:{scenario}")`, keyed by the name
of the function that makes it, and all dates hang off the fixed `REFERENCE_DATE`, never the wall
clock, so the world is identical run to run and adding a scenario does not change the others.

Conventions the servers rely on (documented here because the World model cannot say them):
- Restricted (PDS `R`) patients keep `practice_ods` (PDS withholds it) but have `gp=None` and
  `GpAccess.NOT_REGISTERED`: GP Connect answers 404 PATIENT_NOT_FOUND for sensitive patients.
- The deceased patient keeps a GP record; GP Connect's rule (404 for deceased) is the GP server's.
- A superseded number has its own `SyntheticPatient` (no records, `GpAccess.NOT_REGISTERED`) with
  `superseded_by` set; the new number is a separate, full patient.
- Date-times are timezone-aware UTC. Ids of items are random (seeded) UUIDs.

This module assembles the world; the vocabulary lives in `population_codes`, `population_medicines` and
`population_lab_tests`, the practices and users in `population_directory`, the item makers in
`population_maker` and the scenarios in `population_scenarios_*`. Their public names are re-exported here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from viewer.sandbox import (
    population_scenarios_access,
    population_scenarios_edges,
    population_scenarios_everyday,
)
from viewer.sandbox.nhs_numbers import FIRST_SYNTHETIC_STEM, LAST_SYNTHETIC_STEM, check_digit
from viewer.sandbox.population_codes import Problem, Reaction, Reason, Substance, Vaccine
from viewer.sandbox.population_directory import (
    ADMIN_ACTIVITY_CODES,
    CASTLEGATE,
    CLINICAL_ACTIVITY_CODES,
    HOSPITAL_NAME,
    HOSPITAL_ODS,
    MOORLAND,
    PRACTICES,
    RIVERSIDE,
    USERS,
)
from viewer.sandbox.population_lab_tests import PANELS, U_AND_E, VITALS, Lab, LabTest
from viewer.sandbox.population_maker import REFERENCE_DATE, Draft, Maker
from viewer.sandbox.population_medicines import Drug, Med
from viewer.sandbox.population_scenarios_edges import SPECIAL_TEXT
from viewer.sandbox.world import GpAccess, SyntheticPatient, World

# In the order NHS numbers are handed out: keep it, and the world (and the README table) stay the same.
SCENARIOS: tuple[Callable[[Maker], Draft], ...] = (
    *population_scenarios_everyday.SCENARIOS,
    *population_scenarios_access.SCENARIOS,
    *population_scenarios_edges.SCENARIOS,
)


def _nhs_numbers(seed: int, count: int) -> list[str]:
    """`count` distinct valid synthetic numbers, scattered over the 999 range like real ones."""
    rng = random.Random(f"{seed}:nhs-numbers")
    numbers: list[str] = []
    while len(numbers) < count:
        stem = rng.randint(FIRST_SYNTHETIC_STEM, LAST_SYNTHETIC_STEM)
        digit = check_digit(str(stem))
        if digit is not None and f"{stem}{digit}" not in numbers:
            numbers.append(f"{stem}{digit}")
    return numbers


def build_world(seed: int = 2026) -> World:
    """Build the whole synthetic world: the same seed gives an equal world (callers cache it)."""
    drafts = [make(Maker(seed, make.__name__)) for make in SCENARIOS]
    numbers = _nhs_numbers(seed, len(drafts) + 1)
    patients = [
        SyntheticPatient(nhs_number=number, scenario=d.scenario, summary=d.summary, pds=d.pds,
                         practice_ods=d.practice_ods, gp=d.gp, hospital=d.hospital, gp_access=d.gp_access,
                         deceased=d.deceased, restricted=d.restricted)
        for number, d in zip(numbers, drafts, strict=False)
    ]
    new = _by_scenario(patients, "superseded-new")
    patients.append(SyntheticPatient(
        nhs_number=numbers[-1], scenario="superseded-old",
        summary=f"Old NHS number: PDS answers with the record of {_spaced(new.nhs_number)}",
        pds=new.pds, practice_ods=new.practice_ods, gp=None, hospital=None, gp_access=GpAccess.NOT_REGISTERED,
        superseded_by=new.nhs_number,
    ))
    return World(patients=patients, practices=list(PRACTICES), users=list(USERS), hospital_ods=HOSPITAL_ODS,
                 hospital_name=HOSPITAL_NAME, seed=seed)


def _spaced(nhs_number: str) -> str:
    return f"{nhs_number[:3]} {nhs_number[3:6]} {nhs_number[6:]}"


def _by_scenario(patients: Iterable[SyntheticPatient], scenario: str) -> SyntheticPatient:
    for p in patients:
        if p.scenario == scenario:
            return p
    raise KeyError(scenario)


def patient_for(world: World, scenario: str) -> SyntheticPatient:
    """The patient made for a scenario key (tests and demos find patients this way, not by number)."""
    return _by_scenario(world.patients, scenario)


def describe_patients(world: World) -> list[tuple[str, str, str]]:
    """(NHS number, banner-style name, summary) per patient, for the README's table of demo patients."""
    rows = []
    for p in world.patients:
        n = p.pds.name
        name = f"{n.family.upper()}, {' '.join(n.given)}" + (f" ({n.prefix})" if n.prefix else "")
        rows.append((p.nhs_number, name, p.summary))
    return rows


__all__ = [
    "ADMIN_ACTIVITY_CODES",
    "CASTLEGATE",
    "CLINICAL_ACTIVITY_CODES",
    "HOSPITAL_NAME",
    "HOSPITAL_ODS",
    "MOORLAND",
    "PANELS",
    "PRACTICES",
    "REFERENCE_DATE",
    "RIVERSIDE",
    "SCENARIOS",
    "SPECIAL_TEXT",
    "USERS",
    "U_AND_E",
    "VITALS",
    "Drug",
    "Lab",
    "LabTest",
    "Med",
    "Problem",
    "Reaction",
    "Reason",
    "Substance",
    "Vaccine",
    "build_world",
    "describe_patients",
    "patient_for",
]
