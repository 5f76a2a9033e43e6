"""Scenarios where a source answers unusually: deceased, restricted, dissent, not registered, no GP
record, a superseded NHS number, partial GP records (data in transit, confidential items, an area not
implemented) and sources that disagree about who the patient is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from viewer.sandbox.population_codes import Problem, Reaction, Reason, Substance
from viewer.sandbox.population_directory import CASTLEGATE, MOORLAND
from viewer.sandbox.population_maker import (
    Draft,
    Maker,
    ago,
    at,
    birth_date,
    demographics,
)
from viewer.sandbox.population_medicines import Med
from viewer.sandbox.world import Area, ClinicalRecord, Demographics, GpAccess, Name, SynthEncounter


def _deceased(m: Maker) -> Draft:
    m.practice = MOORLAND
    died = datetime(2026, 9, 14, 3, 20, tzinfo=UTC)
    demo = demographics("Barnes", ("Edith", "May"), "Mrs", "female", birth_date(91, 45),
                        ("Elmhurst Care Home", "Park Road", "Wardleigh"), "WL6 3BB", "01632 960567")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.ASPIRIN, "medication", ago(8000), reaction=Reaction.WHEEZE))
    gp.problems += [m.problem(Problem.ALZHEIMERS, 2000), m.problem(Problem.HEART_FAILURE, 1500)]
    gp.medications += m.repeats((Med.FUROSEMIDE_40, Med.BISOPROLOL_10, Med.PARACETAMOL_500), (200, 1200))
    m.routine_gp(gp, 4, 10, (Reason.FALL, Reason.BREATHLESS, Reason.MED_REVIEW))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(SynthEncounter(
        id=m.new_id(), kind="inpatient", start=at(died.date() - timedelta(days=5), 16, 40), end=died,
        reason=Problem.PNEUMONIA, clinician=m.doctor(), location="Ward 4 (Care of the Elderly)",
        note="Died peacefully with family present."))
    hosp.documents.append(m.document("Medical certificate of cause of death - copy", died.date()))
    return Draft("deceased",
                 "Deceased on 14-Sep-2026 (PDS deceasedDateTime); GP Connect answers 404 as the spec "
                 "requires, the hospital record is viewable",
                 demo, "Y90003", gp, hosp, deceased=died)


def _restricted(m: Maker) -> Draft:
    demo = demographics("Ellis", ("Jordan",), "Mx", "unknown", birth_date(29, 180),
                        ("4 Safe House Lane", "Wardleigh"), "WL7 0AA", "07700 900999")
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("emergency", ago(15), Reason.FALL))
    hosp.observations += m.vitals(at(ago(15), 23, 10))
    return Draft("restricted", "Restricted (PDS R): no address/phone/GP shown; GP Connect answers 404",
                 demo, "Y90002", None, hosp, gp_access=GpAccess.NOT_REGISTERED, restricted=True)


def _dissent(m: Maker) -> Draft:
    demo = demographics("Reid", ("Thomas", "Alexander"), "Mr", "male", birth_date(63, 222),
                        ("41 Harbour View", "Wardleigh"), "WL8 4DE", "07700 900345")
    gp = ClinicalRecord(demo)
    gp.problems.append(m.problem(Problem.HYPERTENSION, 3000))
    gp.medications += m.repeats((Med.BENDROFLUMETHIAZIDE,))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", ago(45), Reason.KNEE_PAIN,
                                            location="Orthopaedic Clinic"))
    return Draft("gp-dissent", "Dissented from GP record sharing: GP Connect 403 NO_PATIENT_CONSENT",
                 demo, "Y90001", gp, hosp, gp_access=GpAccess.DISSENT)


def _not_registered(m: Maker) -> Draft:
    demo = demographics("Wiśniewska", ("Katarzyna",), "Ms", "female", birth_date(24, 95),
                        ("Room 12", "18 Dock Street", "Wardleigh"), "WL8 1ZZ", "07700 900456")
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("emergency", ago(2), Reason.D_AND_V))
    hosp.observations += m.vitals(at(ago(2), 4, 15))
    return Draft("not-registered", "Not registered with a GP practice: no GP record to fetch",
                 demo, None, None, hosp, gp_access=GpAccess.NOT_REGISTERED)


def _no_gp_record(m: Maker) -> Draft:
    demo = demographics("Fraser", ("Ian",), "Mr", "male", birth_date(47, 12),
                        ("2 Kiln Cottages", "Wardleigh"), "WL9 2HB", "01632 960678")
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", ago(30), Reason.TATT))
    return Draft("no-gp-record", "Registered, but the practice system holds no record: 404 NO_RECORD_FOUND",
                 demo, "Y90003", None, hosp, gp_access=GpAccess.NO_RECORD)


def _superseded(m: Maker) -> Draft:
    demo = demographics("O'Connor", ("Michael", "Sean"), "Mr", "male", birth_date(50, 140),
                        ("The Old Forge", "Bridge Street", "Wardleigh"), "WL2 9FG", "07700 900567")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.CLARITHROMYCIN, "medication", ago(2200),
                                  reaction=Reaction.DIARRHOEA, severity="mild"))
    gp.problems.append(m.problem(Problem.ANXIETY, 1000, minor=True))
    gp.medications += m.repeats((Med.SERTRALINE_100,))
    m.routine_gp(gp, 3, 5)
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", ago(80), Reason.CHEST_PAIN,
                                            location="Rapid Access Chest Pain Clinic"))
    return Draft("superseded-new", "Current NHS number of a merged record (the old number redirects here)",
                 demo, "Y90001", gp, hosp)


def _data_in_transit(m: Maker) -> Draft:
    m.practice = CASTLEGATE
    demo = demographics("Adeyemi", ("Grace", "Oluwaseun"), "Mrs", "female", birth_date(46, 260),
                        ("88 Victoria Road", "Wardleigh"), "WL3 3WR", "07700 900678")
    gp = ClinicalRecord(demo, warnings={Area.MEDICATION: ("data-in-transit",)})
    gp.allergies.append(m.allergy(Substance.PENICILLIN, "medication", ago(40), reaction=Reaction.URTICARIA,
                                  note="Transferred from previous practice - details awaited."))
    gp.medications += m.repeats((Med.LEVOTHYROXINE_100,), (10, 40))
    gp.problems.append(m.problem(Problem.HYPOTHYROIDISM, 4000))
    gp.encounters.append(m.consultation(ago(20), Reason.MED_REVIEW, "New patient check. Notes requested."))
    return Draft("data-in-transit", "Recently moved practice: GP medication list flagged data-in-transit",
                 demo, "Y90002", gp, None)


def _confidential(m: Maker) -> Draft:
    demo = demographics("Cole", ("Hannah",), "Miss", "female", birth_date(33, 55),
                        ("5 Meadow Bank", "Wardleigh"), "WL4 6NB", "07700 900789")
    gp = ClinicalRecord(demo, warnings={Area.PROBLEMS: ("confidential-items",),
                                        Area.CONSULTATIONS: ("confidential-items",)})
    gp.problems.append(m.problem(Problem.ASTHMA, 8000, minor=True))
    gp.medications += m.repeats((Med.SALBUTAMOL,))
    m.routine_gp(gp, 3, 4)
    return Draft("confidential-items", "Some GP problems and consultations withheld (confidential-items)",
                 demo, "Y90001", gp, None)


def _not_implemented(m: Maker) -> Draft:
    m.practice = MOORLAND
    demo = demographics("Evans", ("David", "Rhys"), "Mr", "male", birth_date(55, 33),
                        ("Ty Gwyn", "Hill Road", "Wardleigh"), "WL9 8TG", "01632 960789")
    gp = ClinicalRecord(demo, not_implemented=(Area.IMMUNISATIONS,))
    gp.problems.append(m.problem(Problem.T2DM, 2500))
    gp.medications += m.repeats((Med.METFORMIN_500,))
    m.routine_gp(gp, 4, 6)
    return Draft("area-not-implemented", "GP system cannot supply immunisations (NOT_IMPLEMENTED)",
                 demo, "Y90003", gp, None)


def _mismatch(m: Maker) -> Draft:
    born = date(1979, 3, 12)
    pds = demographics("McCarthy", ("Siobhan",), "Ms", "female", born,
                       ("17 Abbey Gardens", "Wardleigh"), "WL5 5AG", "07700 900890")
    gp = ClinicalRecord(Demographics(pds.name, pds.gender, date(1979, 12, 3), pds.address, pds.postcode,
                                     pds.phone))
    gp.allergies.append(m.allergy(Substance.POLLEN, "environment", ago(6000), reaction=Reaction.ITCHING,
                                  severity="mild"))
    gp.medications += m.repeats((Med.CROMOGLICATE_DROPS,))
    m.routine_gp(gp, 3, 4)
    hosp = ClinicalRecord(Demographics(Name("MacCarthy", ("Siobhan",), "Ms"), pds.gender, born, pds.address,
                                       pds.postcode, pds.phone))
    hosp.encounters.append(m.hospital_visit("outpatient", ago(14), Reason.TATT))
    return Draft("demographic-mismatch",
                 "Sources disagree: GP birth date 03-Dec-1979, hospital spells the family name MacCarthy",
                 pds, "Y90001", gp, hosp)


SCENARIOS: tuple[Callable[[Maker], Draft], ...] = (
    _deceased, _restricted, _dissent, _not_registered, _no_gp_record, _superseded, _data_in_transit,
    _confidential, _not_implemented, _mismatch,
)
