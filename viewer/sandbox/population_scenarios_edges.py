"""Scenarios at the edges of what a record holds: allergy statements (none known, not recorded,
resolved), an anticoagulated inpatient, history from several practices, text full of special
characters, and two namesakes a search must never confuse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from viewer.sandbox.population_codes import Problem, Reaction, Reason, Substance
from viewer.sandbox.population_directory import CASTLEGATE, MOORLAND, RIVERSIDE
from viewer.sandbox.population_lab_tests import Lab
from viewer.sandbox.population_maker import (
    ROUTINE_REASONS,
    Draft,
    Maker,
    ago,
    at,
    birth_date,
    demographics,
)
from viewer.sandbox.population_medicines import Med
from viewer.sandbox.world import ClinicalRecord

# Text a viewer must reproduce exactly: every character HTML, JSON and Qt rich text treat specially.
SPECIAL_TEXT = 'Patient says "can\'t take it" & reacts <badly> > once; paid £12.50 at C:\\pharmacy\\ (sic)'


def _no_known_allergies(m: Maker) -> Draft:
    m.practice = CASTLEGATE
    demo = demographics("Taylor", ("Lucy", "Jane"), "Miss", "female", birth_date(27, 301),
                        ("6 Primrose Hill", "Wardleigh"), "WL2 7PH", "07700 900901")
    gp = ClinicalRecord(demo, no_known_allergies=True)
    gp.medications.append(m.past_acute(Med.AMOXICILLIN_500, 500))
    m.routine_gp(gp, 2, 3)
    return Draft("no-known-allergies", "GP records 'No known allergies' (a coded entry)", demo, "Y90002", gp,
                 ClinicalRecord(demo))


def _allergies_not_recorded(m: Maker) -> Draft:
    m.practice = MOORLAND
    demo = demographics("Khan", ("Ahmed",), "Mr", "male", birth_date(39, 18),
                        ("30 Albert Terrace", "Wardleigh"), "WL6 9AT", "07700 900912")
    gp = ClinicalRecord(demo)
    gp.problems.append(m.problem(Problem.PLANTAR_FASCIITIS, 300, minor=True))
    m.routine_gp(gp, 2, 3)
    return Draft("allergies-not-recorded", "No allergy information anywhere: not 'no known allergies'",
                 demo, "Y90003", gp, ClinicalRecord(demo))


def _resolved_allergy(m: Maker) -> Draft:
    demo = demographics("MacLeod", ("Fiona",), "Dr", "female", birth_date(52, 150),
                        ("Lochside", "4 Glen Road", "Wardleigh"), "WL7 3LG", "01632 960890")
    gp = ClinicalRecord(demo)
    gp.allergies += [
        m.allergy(Substance.AMOXICILLIN, "medication", ago(5000), reaction=Reaction.RASH,
                  severity="moderate"),
        m.allergy(Substance.CASHEW, "food", ago(3000), reaction=Reaction.ANAPHYLAXIS, severity="severe",
                  criticality="high"),
        m.allergy(Substance.ASPIRIN, "medication", ago(6000), reaction=Reaction.URTICARIA, status="resolved",
                  end_date=ago(400), end_reason="Tolerated an aspirin challenge in the allergy clinic"),
    ]
    gp.medications += m.repeats((Med.ASPIRIN_75,), (300, 390))
    m.routine_gp(gp, 3, 4)
    return Draft("resolved-allergy", "Resolved aspirin allergy alongside active amoxicillin and cashew ones",
                 demo, "Y90001", gp, None)


def _warfarin_inpatient(m: Maker) -> Draft:
    m.practice = CASTLEGATE
    demo = demographics("Pemberton", ("Harold", "George"), "Mr", "male", birth_date(86, 12),
                        ("Sunnyside", "12 Church Lane", "Wardleigh"), "WL3 1EL", "01632 960901")
    gp = ClinicalRecord(demo, no_known_allergies=True)
    gp.problems += [m.problem(Problem.AF, 2500), m.problem(Problem.HYPERTENSION, 7000),
                    m.problem(Problem.STROKE, 2600, active=False, abated_days=2500)]
    gp.medications += m.repeats((Med.WARFARIN_1, Med.WARFARIN_3, Med.BISOPROLOL_10, Med.RAMIPRIL_2_5))
    gp.observations += [m.obs(Lab.INR, at(ago(14 + 21 * n), 9, 30)) for n in range(16)]
    m.routine_gp(gp, 5, 10, (Reason.MED_REVIEW, Reason.DIZZINESS, Reason.FALL))
    hosp = ClinicalRecord(demo)
    admitted = ago(3)
    hosp.encounters.append(m.hospital_visit("inpatient", admitted, Reason.FALL, status="in-progress",
                                            location="Ward 7B (Acute Medicine)",
                                            note="Fall at home; on warfarin. CT head: no bleed."))
    hosp.medications.append(m.med(Med.WARFARIN_3, "acute", admitted, prescriber=m.doctor(),
                                  last_issued=admitted, elsewhere=True,
                                  dosage="Dose as per inpatient anticoagulation chart; check INR daily"))
    for n in range(3):
        when = at(admitted + timedelta(days=n), 7, 30)
        hosp.observations.append(m.obs(Lab.INR, when, hospital=True, value=round(3.8 - 0.5 * n, 1),
                                       report=(m.new_id(), "Coagulation screen")))
        hosp.observations += m.vitals(when)
    return Draft("warfarin-inpatient", "Elderly on warfarin, currently an inpatient (Encounter in-progress)",
                 demo, "Y90002", gp, hosp)


def _several_practices(m: Maker) -> Draft:
    m.practice = CASTLEGATE
    demo = demographics("Stone", ("Rebecca",), "Mrs", "female", birth_date(41, 70),
                        ("21 Quarry Road", "Wardleigh"), "WL3 5QR", "07700 900923")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.TRIMETHOPRIM, "medication", ago(5000), reaction=Reaction.RASH,
                                  severity="mild", note="Recorded at Riverside Medical Practice."))
    for practice, start, end in ((RIVERSIDE, 6500, 4200), (MOORLAND, 4200, 1500), (CASTLEGATE, 1500, 10)):
        gp.encounters += [
            m.consultation(ago(m.rng.randint(end, start)), m.rng.choice(ROUTINE_REASONS),
                           f"Seen at {practice.name}.", practice=practice)
            for _ in range(5)
        ]
    gp.encounters.sort(key=lambda e: e.start)
    gp.medications.append(m.med(Med.FLUOXETINE_20, "repeat", ago(4000), status="stopped", ended=ago(1600),
                                last_issued=ago(1620), prescriber=m.gp(MOORLAND.ods_code)))
    gp.medications += m.repeats((Med.SERTRALINE_100,), (200, 1400))
    gp.problems.append(m.problem(Problem.DEPRESSION, 4100, note="Diagnosed at Moorland Health Centre."))
    return Draft("several-practices", "History from three GP practices: Riverside, Moorland, now Castlegate",
                 demo, "Y90002", gp, None)


def _free_text(m: Maker) -> Draft:
    demo = demographics("D'Arcy-Smythe", ("Zoë", "Ann-Marie"), "Mrs", "female", birth_date(66, 222),
                        ("Flat 2/1", '"The Willows"', "Wardleigh"), "WL1 1WW", "01632 960123")
    long_note = " ".join(
        f"Paragraph {i}: patient describes intermittent symptoms since the last review; discussed risks, "
        f"benefits & alternatives; agreed plan <A> then <B>; cost of travel £{i}.50 noted."
        for i in range(1, 31)
    )
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.CODEINE, "medication", ago(900), reaction=Reaction.NAUSEA,
                                  note=SPECIAL_TEXT))
    gp.medications.append(m.med(Med.CO_CODAMOL, "repeat", ago(600), prescriber_notes=SPECIAL_TEXT,
                                patient_notes="Don't exceed 8 tablets/day — \"as needed\" only <strictly>"))
    gp.problems.append(m.problem(Problem.OA_KNEE, 3000, note=long_note))
    gp.encounters.append(m.consultation(ago(30), Reason.KNEE_PAIN, long_note))
    gp.referrals.append(m.referral("Orthopaedics & Trauma <Knee> Clinic", Problem.OA_KNEE, ago(30),
                                   priority="urgent"))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", ago(5), Problem.OA_KNEE, note=SPECIAL_TEXT,
                                            location="Orthopaedics & Trauma"))
    return Draft("free-text", "Special characters (& < > \" ' £ \\) in names and notes; a very long note",
                 demo, "Y90001", gp, hosp)


_NAMESAKE_BORN = date(1968, 5, 17)


def _namesake(m: Maker, which: str) -> Draft:
    """Two John Smiths born the same day: a search that must never pick one silently."""
    first = which == "a"
    demo = demographics("Smith", ("John", "Paul" if first else "Edward"), "Mr", "male", _NAMESAKE_BORN,
                        ("7 Mill Street" if first else "31 Orchard Rise", "Wardleigh"),
                        "WL2 4HS" if first else "WL8 3DR", "07700 900314" if first else "07700 900315")
    gp = ClinicalRecord(demo)
    gp.problems.append(m.problem(Problem.HYPERTENSION if first else Problem.ASTHMA, 2000))
    gp.medications += m.repeats((Med.AMLODIPINE_5,) if first else (Med.SALBUTAMOL,))
    m.routine_gp(gp, 2, 3)
    summary = f"John Smith born 17-May-1968, as is John {'Edward' if first else 'Paul'} Smith: same-name risk"
    return Draft(f"namesake-{which}", summary, demo, "Y90001" if first else "Y90003", gp, None)


def _namesake_a(m: Maker) -> Draft:
    return _namesake(m, "a")


def _namesake_b(m: Maker) -> Draft:
    return _namesake(m, "b")


SCENARIOS: tuple[Callable[[Maker], Draft], ...] = (
    _no_known_allergies, _allergies_not_recorded, _resolved_allergy, _warfarin_inpatient, _several_practices,
    _free_text, _namesake_a, _namesake_b,
)
