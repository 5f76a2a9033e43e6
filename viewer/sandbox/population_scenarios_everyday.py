"""Scenarios of everyday ward patients: an ordinary adult, a child, polypharmacy, a very large record,
and the two merge cases (an allergy only the GP knows, the same medicine in both records).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from viewer.sandbox.population_codes import Problem, Reaction, Reason, Substance, Vaccine
from viewer.sandbox.population_directory import CASTLEGATE, MOORLAND
from viewer.sandbox.population_lab_tests import PANELS, U_AND_E, Lab
from viewer.sandbox.population_maker import (
    GP_NOTES,
    Draft,
    Maker,
    ago,
    at,
    birth_date,
    demographics,
)
from viewer.sandbox.population_medicines import Drug, Med
from viewer.sandbox.world import ClinicalRecord, Code


def _ordinary_adult(m: Maker) -> Draft:
    demo = demographics("Sharma", ("Priya", "Anjali"), "Mrs", "female", birth_date(42, 113),
                        ("27 Orchard Close", "Wardleigh"), "WL2 5HX", "07700 900101")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.PENICILLIN, "medication", ago(4000), reaction=Reaction.RASH,
                                  severity="moderate", criticality="low"))
    gp.problems += [m.problem(Problem.HYPERTENSION, 1800), m.problem(Problem.ASTHMA, 9000, minor=True)]
    gp.medications += m.repeats((Med.AMLODIPINE_5, Med.SALBUTAMOL))
    gp.medications.append(m.past_acute(Med.CLARITHROMYCIN_250, 400))
    m.routine_gp(gp, 6, 10)
    gp.immunisations += [m.immunisation(Vaccine.FLU, ago(30 + 365 * y)) for y in range(4)]
    gp.referrals.append(m.referral("Physiotherapy", Reason.NECK_PAIN, ago(210), status="completed"))
    hosp = ClinicalRecord(demo)
    hosp.allergies.append(m.allergy(Substance.PENICILLIN, "medication", ago(900), reaction=Reaction.RASH,
                                    severity="moderate", hospital=True))
    hosp.encounters.append(m.hospital_visit("outpatient", ago(120), Problem.ASTHMA,
                                            location="Respiratory Clinic"))
    hosp.observations += m.panel("Full blood count", PANELS[0][1], at(ago(120), 10, 5), hospital=True)
    hosp.documents.append(m.document("Outpatient letter - Respiratory", ago(118)))
    return Draft("ordinary-adult", "Ordinary adult: hypertension, asthma; penicillin allergy in both",
                 demo, "Y90001", gp, hosp)


def _child(m: Maker) -> Draft:
    m.practice = CASTLEGATE
    born = birth_date(7, 41)
    demo = demographics("Brown", ("Oliver", "James"), None, "male", born,
                        ("3 Kestrel Way", "Wardleigh"), "WL3 9JQ", "01632 960211")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.PEANUT, "food", born + timedelta(days=700),
                                  reaction=Reaction.ANAPHYLAXIS, severity="severe", criticality="high",
                                  note="Carries two adrenaline auto-injectors. School informed."))
    gp.problems += [m.problem(Problem.ASTHMA, 1500), m.problem(Problem.ECZEMA, 2400, minor=True)]
    gp.medications += [m.med(Med.SALBUTAMOL, "repeat", ago(1400), dosage="Two puffs when required, spacer"),
                       m.med(Med.LORATADINE_SOLUTION, "repeat", ago(400), dosage="5ml once a day")]
    schedule = ((Vaccine.SIX_IN_ONE, 56, 1), (Vaccine.ROTAVIRUS, 56, 1), (Vaccine.SIX_IN_ONE, 84, 2),
                (Vaccine.ROTAVIRUS, 84, 2), (Vaccine.SIX_IN_ONE, 112, 3), (Vaccine.FOUR_IN_ONE, 1220, None),
                (Vaccine.FLU_NASAL, 2200, None), (Vaccine.FLU_NASAL, 2560, None))
    gp.immunisations += [m.immunisation(v, born + timedelta(days=d), dose) for v, d, dose in schedule]
    for day in (ago(700), ago(300), ago(40)):
        gp.encounters.append(m.consultation(day, Reason.ASTHMA_CHECK, "Asthma review with mum. All well."))
        gp.observations.append(m.obs(Lab.PEAK_FLOW, at(day, 11), value=float(m.rng.randint(200, 260))))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("emergency", ago(500), Reason.BREATHLESS,
                                            location="Paediatric Emergency Department",
                                            note="Moderate acute asthma. Settled with nebulised salbutamol."))
    hosp.allergies.append(m.allergy(Substance.PEANUT, "food", ago(500), reaction=Reaction.ANAPHYLAXIS,
                                    severity="severe", criticality="high", hospital=True))
    hosp.observations += m.vitals(at(ago(500), 19, 40))
    return Draft("child", "Child (7 years): asthma, peanut anaphylaxis, routine childhood immunisations",
                 demo, "Y90002", gp, hosp)


def _polypharmacy(m: Maker) -> Draft:
    demo = demographics("Whittaker", ("Margaret", "Rose"), "Mrs", "female", birth_date(84, 200),
                        ("Flat 6, Beech Court", "Station Road", "Wardleigh"), "WL1 8PL", "01632 960345")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.CODEINE, "medication", ago(3000), reaction=Reaction.NAUSEA,
                                  severity="mild", criticality="low", verification="unconfirmed"))
    gp.problems += [m.problem(c, d) for c, d in ((Problem.HYPERTENSION, 9000), (Problem.T2DM, 6000),
                                                (Problem.IHD, 4000), (Problem.HEART_FAILURE, 1200),
                                                (Problem.HYPOTHYROIDISM, 7000), (Problem.CKD3, 900))]
    gp.problems += [m.problem(c, d, minor=True) for c, d in (
        (Problem.GLAUCOMA, 2500), (Problem.GORD, 3000), (Problem.DEPRESSION, 2000), (Problem.OA_KNEE, 5000))]
    gp.medications += m.repeats((
        Med.AMLODIPINE_10, Med.RAMIPRIL_10, Med.BISOPROLOL_10, Med.FUROSEMIDE_40, Med.ATORVASTATIN_20,
        Med.ASPIRIN_75, Med.METFORMIN_500, Med.GLICLAZIDE_80, Med.INSULIN_GLARGINE, Med.TEST_STRIPS,
        Med.LEVOTHYROXINE_100, Med.OMEPRAZOLE_20, Med.PARACETAMOL_500, Med.SALBUTAMOL, Med.DOXAZOSIN_4,
        Med.TIMOLOL_DROPS, Med.CITALOPRAM_20, Med.GAVISCON, Med.CETIRIZINE_10, Med.ASCORBIC_ACID))
    gp.medications += [
        m.med(Med.PREDNISOLONE_5, "acute", ago(6), dosage="Six tablets each morning for 5 days"),
        m.med(Med.AMOXICILLIN_500, "acute", ago(6)),
        m.med(Med.CHLORAMPHENICOL_DROPS, "acute", ago(12)),
        m.med(Med.SIMVASTATIN_40, "repeat", ago(4000), status="stopped", ended=ago(1500),
              last_issued=ago(1510), prescriber_notes="Switched to atorvastatin (myalgia)."),
    ]
    m.routine_gp(gp, 8, 40, (Reason.MED_REVIEW, Reason.BREATHLESS, Reason.LEG_SWELLING, Reason.FALL))
    gp.observations += [m.obs(Lab.HBA1C, at(ago(90 + 180 * n), 9), shift=6) for n in range(6)]
    gp.immunisations += [m.immunisation(Vaccine.FLU, ago(25 + 365 * y)) for y in range(6)]
    gp.immunisations += [m.immunisation(Vaccine.COVID_PFIZER, ago(40 + 180 * d), 4 - d) for d in range(4)]
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("inpatient", ago(200), Problem.HEART_FAILURE, days=6,
                                            location="Ward 9 (Cardiology)"))
    hosp.documents.append(m.document("Discharge summary", ago(194)))
    hosp.observations += m.panel("Urea and electrolytes", U_AND_E, at(ago(200), 8, 15), hospital=True,
                                 shifts={Lab.EGFR: -22, Lab.CREATININE: 40})
    return Draft("polypharmacy-elderly", "Elderly (84) on 20 repeat medicines plus 3 current acutes",
                 demo, "Y90001", gp, hosp)


def _large_record(m: Maker) -> Draft:
    m.practice = MOORLAND
    rng = m.rng
    demo = demographics("Fielding", ("Raymond", "Arthur"), "Mr", "male", birth_date(71, 77),
                        ("Hollins Farm", "Moor Lane", "Easton Moor", "Wardleigh"), "WL9 6RT", "01632 960412")
    gp = ClinicalRecord(demo)
    gp.allergies += [
        m.allergy(Substance.TRIMETHOPRIM, "medication", ago(5000), reaction=Reaction.RASH, severity="mild"),
        m.allergy(Substance.LATEX, "environment", ago(7000), reaction=Reaction.URTICARIA),
        m.allergy(Substance.CAT_DANDER, "environment", ago(9000), reaction=Reaction.ITCHING),
    ]
    conditions = tuple(v for v in vars(Problem).values() if isinstance(v, Code))
    for i in range(40):
        onset = rng.randint(200, 15000)
        active = i < 12
        gp.problems.append(m.problem(conditions[i % len(conditions)], onset, active=active, minor=i % 3 > 0,
                                     abated_days=None if active else rng.randint(10, onset)))
    drugs = [v for k, v in vars(Med).items() if isinstance(v, Drug) and "WARFARIN" not in k]
    gp.medications += m.repeats((Med.AMLODIPINE_10, Med.METFORMIN_500, Med.ATORVASTATIN_20, Med.SALBUTAMOL,
                                 Med.OMEPRAZOLE_20, Med.ASPIRIN_75, Med.RAMIPRIL_10, Med.TEST_STRIPS))
    gp.medications += [m.past_acute(rng.choice(drugs), rng.randint(60, 12000)) for _ in range(142)]
    reasons = tuple(v for v in vars(Reason).values() if isinstance(v, Code))
    gp.encounters += [m.consultation(ago(rng.randint(10, 15000)), rng.choice(reasons), rng.choice(GP_NOTES))
                      for _ in range(500)]
    gp.encounters.sort(key=lambda e: e.start)
    gp_tests = (Lab.SYSTOLIC, Lab.DIASTOLIC, Lab.WEIGHT, Lab.BMI, Lab.HBA1C, Lab.CHOLESTEROL, Lab.SODIUM,
                Lab.POTASSIUM, Lab.CREATININE, Lab.EGFR, Lab.HB, Lab.PULSE)
    gp.observations += [m.obs(rng.choice(gp_tests), at(ago(rng.randint(10, 15000)), 9))
                        for _ in range(1300)]
    gp.immunisations += [m.immunisation(Vaccine.FLU, ago(20 + 365 * y)) for y in range(30)]
    gp.immunisations += [m.immunisation(Vaccine.COVID_AZ, ago(1800 + 84 * d), d + 1) for d in range(2)]
    gp.immunisations += [m.immunisation(Vaccine.COVID_PFIZER, ago(100 + 180 * d), 10 - d) for d in range(8)]
    services = ("Cardiology", "Respiratory Medicine", "Orthopaedics", "Diabetes and Endocrinology",
                "Ophthalmology", "Podiatry", "Physiotherapy")
    gp.referrals += [m.referral(services[i % len(services)], rng.choice(conditions),
                                ago(rng.randint(30, 12000)), status="completed" if i else "active")
                     for i in range(25)]
    hosp = ClinicalRecord(demo)
    hosp.allergies.append(m.allergy(Substance.LATEX, "environment", ago(3000), reaction=Reaction.URTICARIA,
                                    hospital=True))
    hosp.medications += [m.med(Med.ATORVASTATIN_20, "repeat", ago(700), prescriber=m.doctor()),
                         m.med(Med.METFORMIN_500, "repeat", ago(700), prescriber=m.doctor())]
    hosp.problems += [m.problem(Problem.COPD, 4000),
                      m.problem(Problem.MI, 3000, active=False, abated_days=2900)]
    day = 30
    while len(hosp.observations) < 10_500:
        when = at(ago(day), rng.randint(6, 22), rng.randint(0, 59))
        for name, tests in PANELS:
            hosp.observations += m.panel(name, tests, when, hospital=True)
        hosp.observations += m.vitals(when)
        if day % 9 == 0:
            kind = rng.choice(("inpatient", "outpatient", "outpatient", "emergency"))
            hosp.encounters.append(m.hospital_visit(kind, ago(day), rng.choice(conditions),
                                                    days=rng.randint(1, 9)))
        day += 3
    titles = ("Discharge summary", "Outpatient letter - Respiratory", "Outpatient letter - Cardiology",
              "Radiology report")
    hosp.documents += [m.document(rng.choice(titles), ago(40 + 50 * i)) for i in range(40)]
    return Draft("large-record", "Large record: about 2,000 GP entries and over 10,000 hospital results",
                 demo, "Y90003", gp, hosp)


def _gp_only_allergy(m: Maker) -> Draft:
    m.practice = CASTLEGATE
    demo = demographics("Hassan", ("Amira",), "Ms", "female", birth_date(35, 10),
                        ("52 Wellington Street", "Wardleigh"), "WL4 2NN", "07700 900177")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.IBUPROFEN, "medication", ago(1500), reaction=Reaction.ANGIOEDEMA,
                                  severity="severe", criticality="high",
                                  note="Facial swelling within an hour of ibuprofen 400mg. Avoid NSAIDs."))
    gp.problems.append(m.problem(Problem.PCOS, 3000, minor=True))
    gp.medications += m.repeats((Med.CETIRIZINE_10,))
    m.routine_gp(gp, 4, 6)
    hosp = ClinicalRecord(demo)
    hosp.allergies.append(m.allergy(Substance.LATEX, "environment", ago(60), reaction=Reaction.URTICARIA,
                                    severity="mild", hospital=True))
    hosp.encounters.append(m.hospital_visit("emergency", ago(60), Reason.CHEST_PAIN,
                                            note="Musculoskeletal chest pain. Discharged with advice."))
    hosp.observations += m.vitals(at(ago(60), 2, 30))
    return Draft("gp-only-allergy",
                 "Ibuprofen angioedema recorded only at the GP; the hospital knows only a latex allergy",
                 demo, "Y90002", gp, hosp)


def _same_medicine(m: Maker) -> Draft:
    demo = demographics("Nowak", ("Piotr",), "Mr", "male", birth_date(58, 300),
                        ("9 Chapel Row", "Wardleigh"), "WL5 1QS", "07700 900233")
    gp = ClinicalRecord(demo, no_known_allergies=True)
    gp.problems += [m.problem(Problem.IHD, 1400), m.problem(Problem.HYPERTENSION, 2000)]
    gp.medications += m.repeats((Med.ATORVASTATIN_20, Med.ASPIRIN_75, Med.RAMIPRIL_2_5))
    m.routine_gp(gp, 5, 8)
    hosp = ClinicalRecord(demo)
    hosp.medications += [
        m.med(Med.ATORVASTATIN_20, "repeat", ago(1400), prescriber=m.doctor(), last_issued=ago(1400),
              prescriber_notes="Started after NSTEMI; continue on discharge."),
        m.med(Med.CLARITHROMYCIN_250, "acute", ago(3), prescriber=m.doctor(), last_issued=ago(3)),
    ]
    hosp.encounters.append(m.hospital_visit("outpatient", ago(3), Reason.LRTI,
                                            location="Cardiology Outpatients"))
    return Draft("same-medicine", "Atorvastatin 20mg in both GP and hospital records (same dm+d code)",
                 demo, "Y90001", gp, hosp)


SCENARIOS: tuple[Callable[[Maker], Draft], ...] = (
    _ordinary_adult, _child, _polypharmacy, _large_record, _gp_only_allergy, _same_medicine,
)
