"""The sandbox's synthetic population: one patient per situation a ward clinician must be shown right.

Every patient exists to exercise one scenario (a `scenario` key and a one-line `summary` for the
README table). The data is generated, never copied: codes are real SNOMED CT / dm+d / LOINC codes
with UK displays, values are plausible, and every name, address and number is invented (NHS numbers
from the never-issued 999 range, phone numbers from Ofcom's drama ranges).

Determinism: each scenario draws from its own `random.Random(f"{seed}:{scenario}")` and all dates
hang off the fixed `REFERENCE_DATE`, never the wall clock, so the world is identical run to run and
adding a scenario does not change the others.

Conventions the servers rely on (documented here because the World model cannot say them):
- Restricted (PDS `R`) patients keep `practice_ods` (PDS withholds it) but have `gp=None` and
  `GpAccess.NOT_REGISTERED`: GP Connect answers 404 PATIENT_NOT_FOUND for sensitive patients.
- The deceased patient keeps a GP record; GP Connect's rule (404 for deceased) is the GP server's.
- A superseded number has its own `SyntheticPatient` (no records, `GpAccess.NOT_REGISTERED`) with
  `superseded_by` set; the new number is a separate, full patient.
- Date-times are timezone-aware UTC. Ids of items are random (seeded) UUIDs.
- Role codes use the CIS2 `Sxxxx:Gxxxx:Rxxxx` form, as CIS2 sends them. Activity codes are plausible
  values, not checked against the national RBAC database: B0264 = perform patient administration
  (the only code of the admin role), B0360/B0370/B0380 = clinical record access activities.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

from viewer.sandbox.nhs_numbers import FIRST_SYNTHETIC_STEM, LAST_SYNTHETIC_STEM, check_digit
from viewer.sandbox.world import (
    DMD,
    LOINC,
    SNOMED,
    Area,
    ClinicalRecord,
    Clinician,
    Code,
    Demographics,
    DemoUser,
    GpAccess,
    Name,
    Practice,
    Role,
    SynthAllergy,
    SynthDocument,
    SynthEncounter,
    SyntheticPatient,
    SynthImmunisation,
    SynthMedication,
    SynthObservation,
    SynthProblem,
    SynthReferral,
    World,
)

REFERENCE_DATE = date(2026, 11, 1)
HOSPITAL_ODS = "RWV99"
HOSPITAL_NAME = "Wardview Sandbox Hospital NHS Trust"

# Text a viewer must reproduce exactly: every character HTML, JSON and Qt rich text treat specially.
SPECIAL_TEXT = 'Patient says "can\'t take it" & reacts <badly> > once; paid £12.50 at C:\\pharmacy\\ (sic)'


def _sct(code: str, display: str) -> Code:
    return Code(SNOMED, code, display)


def _dmd(code: str, display: str) -> Code:
    return Code(DMD, code, display)


class Substance:
    """Allergen substances (SNOMED CT substance concepts) for AllergyIntolerance.code."""

    PENICILLIN = _sct("764146007", "Penicillin")
    AMOXICILLIN = _sct("372687004", "Amoxicillin")
    CASHEW = _sct("227493005", "Cashew nut")
    POLLEN = _sct("256259004", "Pollen")
    IBUPROFEN = _sct("387207008", "Ibuprofen")
    LATEX = _sct("111088007", "Latex")
    ASPIRIN = _sct("387458008", "Aspirin")
    CODEINE = _sct("387494007", "Codeine")
    PEANUT = _sct("762952008", "Peanut")
    TRIMETHOPRIM = _sct("387170002", "Trimethoprim")
    CAT_DANDER = _sct("260147004", "Cat dander")
    CLARITHROMYCIN = _sct("387487009", "Clarithromycin")


class Reaction:
    """Reaction manifestations (SNOMED CT clinical findings)."""

    RASH = _sct("271807003", "Skin rash")
    ANAPHYLAXIS = _sct("39579001", "Anaphylaxis")
    DYSPNOEA = _sct("267036007", "Dyspnoea")
    ITCHING = _sct("418363000", "Itching of skin")
    URTICARIA = _sct("126485001", "Urticaria")
    NAUSEA = _sct("422587007", "Nausea")
    ANGIOEDEMA = _sct("41291007", "Angioedema")
    DIARRHOEA = _sct("62315008", "Diarrhoea")
    WHEEZE = _sct("56018004", "Wheezing")


class Problem:
    """Problems / diagnoses (SNOMED CT)."""

    HYPERTENSION = _sct("38341003", "Hypertension")
    T2DM = _sct("44054006", "Type 2 diabetes mellitus")
    ASTHMA = _sct("195967001", "Asthma")
    IHD = _sct("414545008", "Ischaemic heart disease")
    MI = _sct("22298006", "Myocardial infarction")
    AF = _sct("49436004", "Atrial fibrillation")
    HEART_FAILURE = _sct("84114007", "Heart failure")
    COPD = _sct("13645005", "Chronic obstructive lung disease")
    DEPRESSION = _sct("35489007", "Depressive disorder")
    ANXIETY = _sct("197480006", "Anxiety disorder")
    HYPOTHYROIDISM = _sct("40930008", "Hypothyroidism")
    CKD3 = _sct("433144002", "Chronic kidney disease stage 3")
    OA_KNEE = _sct("239873007", "Osteoarthritis of knee")
    PNEUMONIA = _sct("233604007", "Pneumonia")
    GLAUCOMA = _sct("23986001", "Glaucoma")
    STROKE = _sct("230690007", "Cerebrovascular accident")
    PCOS = _sct("69878008", "Polycystic ovaries")
    PLANTAR_FASCIITIS = _sct("202882003", "Plantar fasciitis")
    ECZEMA = _sct("43116000", "Eczema")
    ALZHEIMERS = _sct("26929004", "Alzheimer's disease")
    HIP_REPLACEMENT = _sct("265157000", "Total prosthetic replacement of hip joint using cement")
    GORD = _sct("235595009", "Gastro-oesophageal reflux disease")


class Reason:
    """Reasons for consultations and encounters (SNOMED CT findings and procedures)."""

    COUGH = _sct("49727002", "Cough")
    CHEST_PAIN = _sct("29857009", "Chest pain")
    KNEE_PAIN = _sct("30989003", "Knee pain")
    SORE_THROAT = _sct("162397003", "Pain in throat")
    TATT = _sct("267032009", "Tired all the time")
    NECK_PAIN = _sct("81680005", "Neck pain")
    MED_REVIEW = _sct("314530002", "Medication review done")
    URTI = _sct("54150009", "Upper respiratory infection")
    LRTI = _sct("50417007", "Lower respiratory tract infection")
    DIZZINESS = _sct("961911000006108", "Syncopal episodes (fainting)/dizziness")
    FALL = _sct("217082002", "Accidental fall")
    ASTHMA_CHECK = _sct("270442000", "Asthma monitoring check done")
    D_AND_V = _sct("249519007", "Diarrhoea and vomiting")
    BREATHLESS = _sct("161939006", "Breathless - moderate exertion")
    LEG_SWELLING = _sct("449614009", "Swelling of lower limb")


class Vaccine:
    """Vaccine products (dm+d)."""

    FLU = _dmd("11278411000001109", "Influenza vaccine (split virion, inactivated) suspension for "
               "injection 0.5ml pre-filled syringes (Pfizer Ltd)")
    FLU_NASAL = _dmd("27114211000001105",
                     "Fluenz Tetra vaccine nasal suspension 0.2ml unit dose (AstraZeneca UK Ltd)")
    COVID_PFIZER = _dmd("39115611000001103", "Comirnaty COVID-19 mRNA Vaccine 30micrograms/0.3ml dose "
                        "concentrate for dispersion for injection multidose vials (Pfizer Ltd)")
    COVID_AZ = _dmd("39114911000001105", "COVID-19 Vaccine Vaxzevria (ChAdOx1 S [recombinant]) not less "
                    "than 2.5x100,000,000 infectious units/0.5ml dose suspension for injection multidose "
                    "vials (AstraZeneca UK Ltd)")
    SIX_IN_ONE = _dmd("10795711000001100", "Diphtheria / Tetanus / Pertussis (acellular component) / "
                      "Poliomyelitis (inactivated) / Haemophilus type b conjugate vaccine (adsorbed) powder "
                      "and suspension for suspension for injection 0.5ml pre-filled syringes")
    FOUR_IN_ONE = _dmd("8153411000001106", "Diphtheria / Tetanus / Pertussis (acellular component) / "
                       "Poliomyelitis (inactivated) vaccine (adsorbed) suspension for injection 0.5ml "
                       "pre-filled syringes")
    ROTAVIRUS = _dmd("10353511000001102", "Rotavirus vaccine live oral suspension 1ml vials")


@dataclass(frozen=True, slots=True)
class Drug:
    """A dm+d medicine with the way it is usually prescribed."""

    code: Code
    dosage: str
    quantity: float
    unit: str


def _drug(code: str, display: str, dosage: str, quantity: float, unit: str) -> Drug:
    return Drug(_dmd(code, display), dosage, quantity, unit)


_DAILY = "One tablet once a day"
_AS_DIRECTED_INR = "Take as directed by the anticoagulation clinic; dose varies with INR"


class Med:
    """Medicines: dm+d codes with their UK displays, as seen in GP Connect supplier test records."""

    AMLODIPINE_5 = _drug("319283006", "Amlodipine 5mg tablets", _DAILY, 28, "tablet")
    AMLODIPINE_10 = _drug("319284000", "Amlodipine 10mg tablets", _DAILY, 28, "tablet")
    RAMIPRIL_10 = _drug("408052000", "Ramipril 10mg tablets", _DAILY, 28, "tablet")
    RAMIPRIL_2_5 = _drug("318901006", "Ramipril 2.5mg capsules", "One capsule once a day", 28, "capsule")
    BISOPROLOL_10 = _drug("318591005", "Bisoprolol 10mg tablets", "One tablet each morning", 28, "tablet")
    FUROSEMIDE_40 = _drug("317972000", "Furosemide 40mg tablets", "One tablet each morning", 28, "tablet")
    BENDROFLUMETHIAZIDE = _drug("317919004", "Bendroflumethiazide 2.5mg tablets", "One tablet each morning",
                                28, "tablet")
    ATORVASTATIN_20 = _drug("39733011000001106", "Atorvastatin 20mg tablets", "One tablet at night", 28,
                            "tablet")
    SIMVASTATIN_40 = _drug("320000009", "Simvastatin 40mg tablets", "One tablet at night", 28, "tablet")
    ASPIRIN_75 = _drug("319773006", "Aspirin 75mg dispersible tablets", _DAILY, 28, "tablet")
    METFORMIN_500 = _drug("325278007", "Metformin 500mg tablets", "Two tablets twice a day with food", 112,
                          "tablet")
    GLICLAZIDE_80 = _drug("325242002", "Gliclazide 80mg tablets",
                          "One tablet twice a day with breakfast and evening meal", 56, "tablet")
    INSULIN_GLARGINE = _drug(
        "38897011000001107",
        "Insulin glargine 100units/ml solution for injection 3ml pre-filled disposable devices",
        "Inject 18 units at bedtime; adjust as advised by the diabetes nurse", 5,
        "pre-filled disposable injection")
    TEST_STRIPS = _drug("28090611000001101", "Contour TS testing strips (Ascensia Diabetes Care UK Ltd)",
                        "Use as directed to test blood glucose", 50, "strip")
    LEVOTHYROXINE_100 = _drug("374296008", "Levothyroxine sodium 100microgram tablets",
                              "One tablet each morning before breakfast", 28, "tablet")
    OMEPRAZOLE_20 = _drug("317291008", "Omeprazole 20mg gastro-resistant capsules",
                          "One capsule once a day", 28, "capsule")
    PARACETAMOL_500 = _drug("322236009", "Paracetamol 500mg tablets", "One or two tablets up to four times "
                            "a day when required; maximum 8 tablets in 24 hours", 100, "tablet")
    SALBUTAMOL = _drug("39113611000001102", "Salbutamol 100micrograms/dose inhaler CFC free",
                       "Two puffs when required for breathlessness or wheeze", 1, "inhaler")
    CITALOPRAM_20 = _drug("321987003", "Citalopram 20mg tablets", _DAILY, 28, "tablet")
    SERTRALINE_100 = _drug("9751511000001104", "Sertraline 100mg tablets", _DAILY, 28, "tablet")
    DOXAZOSIN_4 = _drug("318783003", "Doxazosin 4mg tablets", _DAILY, 28, "tablet")
    TIMOLOL_DROPS = _drug("1122411000001107", "Timolol 0.25% eye drops 5 ml",
                          "One drop into both eyes twice a day", 1, "bottle")
    GAVISCON = _drug("3028011000001101",
                     "Gaviscon Advance oral suspension aniseed (Reckitt Benckiser Healthcare (UK) Ltd)",
                     "5ml to 10ml after meals and at bedtime", 500, "ml")
    CETIRIZINE_10 = _drug("320818006", "Cetirizine 10mg tablets", _DAILY, 30, "tablet")
    ASCORBIC_ACID = _drug("329316006", "Ascorbic acid 100mg tablets", _DAILY, 28, "tablet")
    PREDNISOLONE_5 = _drug("325443009", "Prednisolone 5mg gastro-resistant tablets",
                           "One tablet each morning with food", 28, "tablet")
    CHLORAMPHENICOL_DROPS = _drug("330286001", "Chloramphenicol 0.5% eye drops", "One drop into the "
                                  "affected eye every two hours for two days, then four times a day", 1,
                                  "bottle")
    CROMOGLICATE_DROPS = _drug("330507008", "Sodium cromoglicate 2% eye drops",
                               "One drop into both eyes four times a day", 1, "bottle")
    AMOXICILLIN_500 = _drug("39732411000001106", "Amoxicillin 500mg capsules",
                            "One capsule three times a day for 5 days", 15, "capsule")
    CLARITHROMYCIN_250 = _drug("324238009", "Clarithromycin 250mg tablets",
                               "One tablet twice a day for 7 days", 14, "tablet")
    LORATADINE_SOLUTION = _drug("320824000", "Loratadine 5mg/5ml oral solution", "10ml once a day", 100,
                                "ml")
    WARFARIN_1 = _drug("319733000", "Warfarin 1mg tablets", _AS_DIRECTED_INR, 112, "tablet")
    WARFARIN_3 = _drug("319734006", "Warfarin 3mg tablets", _AS_DIRECTED_INR, 56, "tablet")
    ROSUVASTATIN_20 = _drug("408037007", "Rosuvastatin 20mg tablets", "One tablet at night", 28, "tablet")
    FLUOXETINE_20 = _drug("321949006", "Fluoxetine 20mg capsules", "One capsule once a day", 30, "capsule")
    CO_CODAMOL = _drug("3805611000001109", "Co-codamol 15mg/500mg tablets",
                       "One or two tablets up to four times a day when required", 100, "tablet")
    CIPROFLOXACIN_500 = _drug("18460411000001105", "Ciprofloxacin 500mg tablets (Accord-UK Ltd)",
                              "One tablet twice a day for 7 days", 14, "tablet")
    ATENOLOL_50 = _drug("318420003", "Atenolol 50mg tablets", _DAILY, 28, "tablet")


@dataclass(frozen=True, slots=True)
class LabTest:
    """One result type: the GP codes it in SNOMED CT, the hospital laboratory in LOINC."""

    gp_code: Code
    hospital_code: Code
    unit: str
    low: float | None
    high: float | None
    mean: float
    spread: float
    decimals: int = 0


def _lab(sct: str, sct_display: str, loinc: str, loinc_display: str, unit: str,
         normal: tuple[float | None, float | None], mean: float, spread: float, decimals: int = 0) -> LabTest:
    return LabTest(_sct(sct, sct_display), Code(LOINC, loinc, loinc_display), unit, normal[0], normal[1],
                   mean, spread, decimals)


class Lab:
    """Laboratory tests and vital signs with UK (UCUM) units and adult reference ranges."""

    HB = _lab("1022431000000105", "Haemoglobin estimation", "718-7", "Hemoglobin [Mass/volume] in Blood",
              "g/L", (130, 170), 138, 12)
    WCC = _lab("1022541000000102", "Total white cell count", "6690-2",
               "Leukocytes [#/volume] in Blood by Automated count", "10*9/L", (4.0, 11.0), 7.2, 2.0, 1)
    PLT = _lab("1022651000000100", "Platelet count", "777-3",
               "Platelets [#/volume] in Blood by Automated count", "10*9/L", (150, 400), 260, 60)
    SODIUM = _lab("1000661000000107", "Serum sodium level", "2951-2",
                  "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", (133, 146), 139, 3)
    POTASSIUM = _lab("1000651000000109", "Serum potassium level", "2823-3",
                     "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", (3.5, 5.3), 4.4, 0.4, 1)
    UREA = _lab("1000981000000109", "Serum urea level", "22664-7", "Urea [Moles/volume] in Serum or Plasma",
                "mmol/L", (2.5, 7.8), 6.1, 1.8, 1)
    CREATININE = _lab("1000731000000107", "Serum creatinine level", "14682-9",
                      "Creatinine [Moles/volume] in Serum or Plasma", "umol/L", (59, 104), 92, 18)
    EGFR = _lab("1011481000000105", "eGFR (estimated glomerular filtration rate) using creatinine Chronic "
                "Kidney Disease Epidemiology Collaboration equation per 1.73 square metres", "62238-1",
                "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or "
                "Blood by Creatinine-based formula (CKD-EPI)", "mL/min/{1.73_m2}", (90, None), 68, 14)
    CRP = _lab("999651000000107", "Plasma C reactive protein", "1988-5",
               "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", (0, 5), 6, 8)
    ALT = _lab("1013211000000103", "Plasma alanine aminotransferase level", "1742-6",
               "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", (0, 40),
               24, 8)
    ALBUMIN = _lab("1013361000000105", "Plasma albumin level", "1751-7",
                   "Albumin [Mass/volume] in Serum or Plasma", "g/L", (35, 50), 40, 4)
    HBA1C = _lab("999791000000106", "Haemoglobin A1c level - International Federation of Clinical "
                 "Chemistry and Laboratory Medicine standardised", "59261-8",
                 "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol", "mmol/mol", (20, 41), 56, 9)
    CHOLESTEROL = _lab("1005671000000105", "Serum cholesterol level", "14647-2",
                       "Cholesterol [Moles/volume] in Serum or Plasma", "mmol/L", (None, 5.0), 4.8, 0.8, 1)
    INR = _lab("165581004", "INR - international normalised ratio", "6301-6",
               "INR in Platelet poor plasma by Coagulation assay", "{INR}", (2.0, 3.0), 2.6, 0.5, 1)
    SYSTOLIC = _lab("163030003", "O/E - Systolic BP reading", "8480-6", "Systolic blood pressure",
                    "mm[Hg]", (90, 140), 136, 14)
    DIASTOLIC = _lab("163031004", "O/E - Diastolic BP reading", "8462-4", "Diastolic blood pressure",
                     "mm[Hg]", (60, 90), 82, 8)
    PULSE = _lab("78564009", "Pulse rate", "8867-4", "Heart rate", "/min", (60, 100), 76, 10)
    RESP_RATE = _lab("86290005", "Respiratory rate", "9279-1", "Respiratory rate", "/min", (12, 20), 16, 2)
    TEMPERATURE = _lab("703421000", "Temperature", "8310-5", "Body temperature", "Cel", (36.0, 37.5), 36.8,
                       0.4, 1)
    SPO2 = _lab("442476006", "Arterial oxygen saturation", "59408-5",
                "Oxygen saturation in Arterial blood by Pulse oximetry", "%", (94, 98), 96, 1.5)
    WEIGHT = _lab("27113001", "Body weight", "29463-7", "Body weight", "kg", (None, None), 78, 12, 1)
    BMI = _lab("60621009", "Body mass index", "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2",
               (18.5, 25), 27, 4, 1)
    PEAK_FLOW = _lab("18491006", "Peak expiratory flow rate", "19935-6", "Maximum expiratory gas flow "
                     "Respiratory system airway by Peak flow meter", "L/min", (None, None), 420, 60)


PANELS: tuple[tuple[str, tuple[LabTest, ...]], ...] = (
    ("Full blood count", (Lab.HB, Lab.WCC, Lab.PLT)),
    ("Urea and electrolytes", (Lab.SODIUM, Lab.POTASSIUM, Lab.UREA, Lab.CREATININE, Lab.EGFR)),
    ("Liver function tests", (Lab.ALT, Lab.ALBUMIN)),
    ("C-reactive protein", (Lab.CRP,)),
)
U_AND_E = PANELS[1][1]
VITALS: tuple[LabTest, ...] = (Lab.SYSTOLIC, Lab.DIASTOLIC, Lab.PULSE, Lab.RESP_RATE, Lab.TEMPERATURE,
                               Lab.SPO2)

PRACTICES: tuple[Practice, ...] = (
    Practice("Y90001", "Riverside Medical Practice", "200000090001", "Y90001-9990001",
             ("Riverside Health Centre", "1 Mill Lane", "Wardleigh"), "WL1 2AB"),
    Practice("Y90002", "Castlegate Surgery", "200000090002", "Y90002-9990002",
             ("14 Castlegate", "Wardleigh"), "WL3 7HD"),
    Practice("Y90003", "Moorland Health Centre", "200000090003", "Y90003-9990003",
             ("Moor Road", "Easton Moor", "Wardleigh"), "WL9 4EF"),
)
RIVERSIDE, CASTLEGATE, MOORLAND = PRACTICES

CLINICAL_ACTIVITY_CODES = ("B0360", "B0370", "B0380")
ADMIN_ACTIVITY_CODES = ("B0264",)


def _role(role_id: str, name: str, code: str, activities: tuple[str, ...] = CLINICAL_ACTIVITY_CODES) -> Role:
    return Role(role_id, HOSPITAL_ODS, HOSPITAL_NAME, name, code, activities)


USERS: tuple[DemoUser, ...] = (
    DemoUser("555000000001", "dr.morgan", Name("Morgan", ("Alice",), "Dr"), (
        _role("555000000101", "Clinical Practitioner Access Role", "S8000:G8000:R8000"),)),
    DemoUser("555000000002", "nurse.adebayo", Name("Adebayo", ("Ben",), "Mr"), (
        _role("555000000201", "Nurse Access Role", "S8000:G8001:R8001"),
        _role("555000000202", "Clinical Practitioner Access Role", "S8000:G8000:R8000"))),
    DemoUser("555000000003", "pharm.ng", Name("Ng", ("Chloe",), "Ms"), (
        _role("555000000301", "Health Professional Access Role", "S8000:G8003:R8003"),)),
    DemoUser("555000000004", "admin.price", Name("Price", ("Daniel",), "Mr"), (
        _role("555000000401", "Admin or Clinical Support Access Role", "S8002:G8008:R8008",
              ADMIN_ACTIVITY_CODES),)),
    DemoUser("555000000005", "student.patel", Name("Patel", ("Ravi",)), (
        _role("555000000501", "Healthcare Student Access Role", "S8000:G8004:R8004"),),
             acr="AAL2_OR_AAL3_ANY"),
)

_STAFF_NAMES: Mapping[str, tuple[Name, ...]] = MappingProxyType({
    "Y90001": (Name("Okafor", ("Adaeze",), "Dr"), Name("Lindqvist", ("Erik",), "Dr"),
               Name("Marsh", ("Helen",), "Mrs")),
    "Y90002": (Name("Bhatt", ("Sanjay",), "Dr"), Name("Hughes", ("Carys",), "Dr"),
               Name("O'Neill", ("Roisin",), "Ms")),
    "Y90003": (Name("Fairbairn", ("Duncan",), "Dr"), Name("Achterberg", ("Nina",), "Dr")),
    HOSPITAL_ODS: (Name("Kowalczyk", ("Marek",), "Dr"), Name("Aziz", ("Layla",), "Dr"),
                   Name("Pennington", ("James",), "Mr"), Name("Osei", ("Abena",), "Dr")),
})

_GP_NOTES = (
    "Seen with daughter. Symptoms for 3 days, no red flags. Safety-netting advice given.",
    "Reviewed. Advised fluids and paracetamol. Return if not improving in 1 week.",
    "Medication reviewed with patient; no changes. Bloods requested.",
    "Telephone consultation. Improving. No further action.",
    "BP checked, lifestyle advice given. Review in 6 months.",
    None,
)
_ROUTINE_REASONS = (Reason.COUGH, Reason.SORE_THROAT, Reason.TATT, Reason.MED_REVIEW, Reason.URTI)


def _ago(days: int) -> date:
    return REFERENCE_DATE - timedelta(days=days)


def _born(years: int, days: int = 0) -> date:
    """A birth date `years` (and `days`) before the reference date, so ages stay as described."""
    return REFERENCE_DATE.replace(year=REFERENCE_DATE.year - years) - timedelta(days=days)


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _demo(family: str, given: Iterable[str], prefix: str | None, gender: str, born: date,
          address: Iterable[str], postcode: str | None, phone: str | None) -> Demographics:
    return Demographics(Name(family, tuple(given), prefix), gender, born, tuple(address), postcode, phone)


def _full_name(name: Name) -> str:
    return " ".join([*([name.prefix] if name.prefix else []), *name.given, name.family])


class _Maker:
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
                for i, name in enumerate(_STAFF_NAMES.get(where, _STAFF_NAMES[HOSPITAL_ODS]), start=1)
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
            last_issued = max(started, _ago(self.rng.randint(3, 27))) if status == "active" else started
        return SynthMedication(
            id=self.new_id(), medicine=drug.code, dosage_text=dosage or drug.dosage, kind=kind,
            started=started, status=status, ended=ended, last_issued=last_issued,
            quantity_value=drug.quantity, quantity_unit=drug.unit,
            repeats_allowed=None if kind == "acute" else (6 if kind == "repeat-dispensing" else 12),
            prescriber=prescriber or self.gp(), patient_notes=patient_notes,
            prescriber_notes=prescriber_notes, prescribed_elsewhere=elsewhere,
        )

    def repeats(self, drugs: Iterable[Drug], since: tuple[int, int] = (200, 3000)) -> list[SynthMedication]:
        return [self.med(d, "repeat", _ago(self.rng.randint(*since))) for d in drugs]

    def past_acute(self, drug: Drug, days_ago: int) -> SynthMedication:
        return self.med(drug, "acute", _ago(days_ago), status="completed", ended=_ago(days_ago - 7))

    def problem(self, condition: Code, onset_days: int, *, active: bool = True, minor: bool = False,
                abated_days: int | None = None, note: str | None = None) -> SynthProblem:
        return SynthProblem(
            id=self.new_id(), condition=condition, active=active, significance="minor" if minor else "major",
            onset=_ago(onset_days), abated=None if abated_days is None else _ago(abated_days), note=note,
        )

    def consultation(self, day: date, reason: Code | None, note: str | None = None, *,
                     practice: Practice | None = None) -> SynthEncounter:
        where = practice or self.practice
        start = _at(day, self.rng.randint(8, 17), self.rng.choice((0, 10, 20, 30, 40, 50)))
        return SynthEncounter(
            id=self.new_id(), kind="consultation", start=start,
            end=start + timedelta(minutes=self.rng.choice((10, 10, 15, 20))), reason=reason,
            clinician=self.gp(where.ods_code), location=where.name, note=note,
        )

    def hospital_visit(self, kind: str, day: date, reason: Code | None, *, days: int = 1,
                       location: str | None = None, note: str | None = None,
                       status: str = "finished") -> SynthEncounter:
        hour = self.rng.randint(0, 23) if kind == "emergency" else self.rng.randint(8, 16)
        start = _at(day, hour, self.rng.choice((5, 15, 25, 35, 45, 55)))
        if status == "in-progress":
            end = None
        elif kind == "inpatient":
            end = _at(day + timedelta(days=max(days, 1)), self.rng.randint(10, 17))
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
        return SynthDocument(id=self.new_id(), title=title, created=_at(day, self.rng.randint(9, 17)),
                             author=_full_name(self.doctor().name))

    def routine_gp(self, record: ClinicalRecord, years: int, visits: int,
                   reasons: tuple[Code, ...] = _ROUTINE_REASONS) -> None:
        """Ordinary general practice background: consultations, some BPs, a yearly U&E panel."""
        for _ in range(visits):
            day = _ago(self.rng.randint(20, years * 365))
            record.encounters.append(
                self.consultation(day, self.rng.choice(reasons), self.rng.choice(_GP_NOTES)))
            if self.rng.random() < 0.5:
                record.observations += [self.obs(Lab.SYSTOLIC, _at(day, 11)),
                                        self.obs(Lab.DIASTOLIC, _at(day, 11))]
        for year in range(min(years, 5)):
            day = _ago(60 + 365 * year + self.rng.randint(0, 40))
            record.observations += self.panel("Urea and electrolytes", U_AND_E, _at(day, 9, 30))
        record.encounters.sort(key=lambda e: e.start)


@dataclass(frozen=True, slots=True)
class _Draft:
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


# ------------------------------------------------------------------------------------------- scenarios


def _ordinary_adult(m: _Maker) -> _Draft:
    demo = _demo("Sharma", ("Priya", "Anjali"), "Mrs", "female", _born(42, 113),
                 ("27 Orchard Close", "Wardleigh"), "WL2 5HX", "07700 900101")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.PENICILLIN, "medication", _ago(4000), reaction=Reaction.RASH,
                                  severity="moderate", criticality="low"))
    gp.problems += [m.problem(Problem.HYPERTENSION, 1800), m.problem(Problem.ASTHMA, 9000, minor=True)]
    gp.medications += m.repeats((Med.AMLODIPINE_5, Med.SALBUTAMOL))
    gp.medications.append(m.past_acute(Med.CLARITHROMYCIN_250, 400))
    m.routine_gp(gp, 6, 10)
    gp.immunisations += [m.immunisation(Vaccine.FLU, _ago(30 + 365 * y)) for y in range(4)]
    gp.referrals.append(m.referral("Physiotherapy", Reason.NECK_PAIN, _ago(210), status="completed"))
    hosp = ClinicalRecord(demo)
    hosp.allergies.append(m.allergy(Substance.PENICILLIN, "medication", _ago(900), reaction=Reaction.RASH,
                                    severity="moderate", hospital=True))
    hosp.encounters.append(m.hospital_visit("outpatient", _ago(120), Problem.ASTHMA,
                                            location="Respiratory Clinic"))
    hosp.observations += m.panel("Full blood count", PANELS[0][1], _at(_ago(120), 10, 5), hospital=True)
    hosp.documents.append(m.document("Outpatient letter - Respiratory", _ago(118)))
    return _Draft("ordinary-adult", "Ordinary adult: hypertension, asthma; penicillin allergy in both",
                  demo, "Y90001", gp, hosp)


def _child(m: _Maker) -> _Draft:
    m.practice = CASTLEGATE
    born = _born(7, 41)
    demo = _demo("Brown", ("Oliver", "James"), None, "male", born, ("3 Kestrel Way", "Wardleigh"), "WL3 9JQ",
                 "01632 960211")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.PEANUT, "food", born + timedelta(days=700),
                                  reaction=Reaction.ANAPHYLAXIS, severity="severe", criticality="high",
                                  note="Carries two adrenaline auto-injectors. School informed."))
    gp.problems += [m.problem(Problem.ASTHMA, 1500), m.problem(Problem.ECZEMA, 2400, minor=True)]
    gp.medications += [m.med(Med.SALBUTAMOL, "repeat", _ago(1400), dosage="Two puffs when required, spacer"),
                       m.med(Med.LORATADINE_SOLUTION, "repeat", _ago(400), dosage="5ml once a day")]
    schedule = ((Vaccine.SIX_IN_ONE, 56, 1), (Vaccine.ROTAVIRUS, 56, 1), (Vaccine.SIX_IN_ONE, 84, 2),
                (Vaccine.ROTAVIRUS, 84, 2), (Vaccine.SIX_IN_ONE, 112, 3), (Vaccine.FOUR_IN_ONE, 1220, None),
                (Vaccine.FLU_NASAL, 2200, None), (Vaccine.FLU_NASAL, 2560, None))
    gp.immunisations += [m.immunisation(v, born + timedelta(days=d), dose) for v, d, dose in schedule]
    for day in (_ago(700), _ago(300), _ago(40)):
        gp.encounters.append(m.consultation(day, Reason.ASTHMA_CHECK, "Asthma review with mum. All well."))
        gp.observations.append(m.obs(Lab.PEAK_FLOW, _at(day, 11), value=float(m.rng.randint(200, 260))))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("emergency", _ago(500), Reason.BREATHLESS,
                                            location="Paediatric Emergency Department",
                                            note="Moderate acute asthma. Settled with nebulised salbutamol."))
    hosp.allergies.append(m.allergy(Substance.PEANUT, "food", _ago(500), reaction=Reaction.ANAPHYLAXIS,
                                    severity="severe", criticality="high", hospital=True))
    hosp.observations += m.vitals(_at(_ago(500), 19, 40))
    return _Draft("child", "Child (7 years): asthma, peanut anaphylaxis, routine childhood immunisations",
                  demo, "Y90002", gp, hosp)


def _polypharmacy(m: _Maker) -> _Draft:
    demo = _demo("Whittaker", ("Margaret", "Rose"), "Mrs", "female", _born(84, 200),
                 ("Flat 6, Beech Court", "Station Road", "Wardleigh"), "WL1 8PL", "01632 960345")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.CODEINE, "medication", _ago(3000), reaction=Reaction.NAUSEA,
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
        m.med(Med.PREDNISOLONE_5, "acute", _ago(6), dosage="Six tablets each morning for 5 days"),
        m.med(Med.AMOXICILLIN_500, "acute", _ago(6)),
        m.med(Med.CHLORAMPHENICOL_DROPS, "acute", _ago(12)),
        m.med(Med.SIMVASTATIN_40, "repeat", _ago(4000), status="stopped", ended=_ago(1500),
              last_issued=_ago(1510), prescriber_notes="Switched to atorvastatin (myalgia)."),
    ]
    m.routine_gp(gp, 8, 40, (Reason.MED_REVIEW, Reason.BREATHLESS, Reason.LEG_SWELLING, Reason.FALL))
    gp.observations += [m.obs(Lab.HBA1C, _at(_ago(90 + 180 * n), 9), shift=6) for n in range(6)]
    gp.immunisations += [m.immunisation(Vaccine.FLU, _ago(25 + 365 * y)) for y in range(6)]
    gp.immunisations += [m.immunisation(Vaccine.COVID_PFIZER, _ago(40 + 180 * d), 4 - d) for d in range(4)]
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("inpatient", _ago(200), Problem.HEART_FAILURE, days=6,
                                            location="Ward 9 (Cardiology)"))
    hosp.documents.append(m.document("Discharge summary", _ago(194)))
    hosp.observations += m.panel("Urea and electrolytes", U_AND_E, _at(_ago(200), 8, 15), hospital=True,
                                 shifts={Lab.EGFR: -22, Lab.CREATININE: 40})
    return _Draft("polypharmacy-elderly", "Elderly (84) on 20 repeat medicines plus 3 current acutes",
                  demo, "Y90001", gp, hosp)


def _large_record(m: _Maker) -> _Draft:
    m.practice = MOORLAND
    rng = m.rng
    demo = _demo("Fielding", ("Raymond", "Arthur"), "Mr", "male", _born(71, 77),
                 ("Hollins Farm", "Moor Lane", "Easton Moor", "Wardleigh"), "WL9 6RT", "01632 960412")
    gp = ClinicalRecord(demo)
    gp.allergies += [
        m.allergy(Substance.TRIMETHOPRIM, "medication", _ago(5000), reaction=Reaction.RASH, severity="mild"),
        m.allergy(Substance.LATEX, "environment", _ago(7000), reaction=Reaction.URTICARIA),
        m.allergy(Substance.CAT_DANDER, "environment", _ago(9000), reaction=Reaction.ITCHING),
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
    gp.encounters += [m.consultation(_ago(rng.randint(10, 15000)), rng.choice(reasons), rng.choice(_GP_NOTES))
                      for _ in range(500)]
    gp.encounters.sort(key=lambda e: e.start)
    gp_tests = (Lab.SYSTOLIC, Lab.DIASTOLIC, Lab.WEIGHT, Lab.BMI, Lab.HBA1C, Lab.CHOLESTEROL, Lab.SODIUM,
                Lab.POTASSIUM, Lab.CREATININE, Lab.EGFR, Lab.HB, Lab.PULSE)
    gp.observations += [m.obs(rng.choice(gp_tests), _at(_ago(rng.randint(10, 15000)), 9))
                        for _ in range(1300)]
    gp.immunisations += [m.immunisation(Vaccine.FLU, _ago(20 + 365 * y)) for y in range(30)]
    gp.immunisations += [m.immunisation(Vaccine.COVID_AZ, _ago(1800 + 84 * d), d + 1) for d in range(2)]
    gp.immunisations += [m.immunisation(Vaccine.COVID_PFIZER, _ago(100 + 180 * d), 10 - d) for d in range(8)]
    services = ("Cardiology", "Respiratory Medicine", "Orthopaedics", "Diabetes and Endocrinology",
                "Ophthalmology", "Podiatry", "Physiotherapy")
    gp.referrals += [m.referral(services[i % len(services)], rng.choice(conditions),
                                _ago(rng.randint(30, 12000)), status="completed" if i else "active")
                     for i in range(25)]
    hosp = ClinicalRecord(demo)
    hosp.allergies.append(m.allergy(Substance.LATEX, "environment", _ago(3000), reaction=Reaction.URTICARIA,
                                    hospital=True))
    hosp.medications += [m.med(Med.ATORVASTATIN_20, "repeat", _ago(700), prescriber=m.doctor()),
                         m.med(Med.METFORMIN_500, "repeat", _ago(700), prescriber=m.doctor())]
    hosp.problems += [m.problem(Problem.COPD, 4000),
                      m.problem(Problem.MI, 3000, active=False, abated_days=2900)]
    day = 30
    while len(hosp.observations) < 10_500:
        when = _at(_ago(day), rng.randint(6, 22), rng.randint(0, 59))
        for name, tests in PANELS:
            hosp.observations += m.panel(name, tests, when, hospital=True)
        hosp.observations += m.vitals(when)
        if day % 9 == 0:
            kind = rng.choice(("inpatient", "outpatient", "outpatient", "emergency"))
            hosp.encounters.append(m.hospital_visit(kind, _ago(day), rng.choice(conditions),
                                                    days=rng.randint(1, 9)))
        day += 3
    titles = ("Discharge summary", "Outpatient letter - Respiratory", "Outpatient letter - Cardiology",
              "Radiology report")
    hosp.documents += [m.document(rng.choice(titles), _ago(40 + 50 * i)) for i in range(40)]
    return _Draft("large-record", "Large record: about 2,000 GP entries and over 10,000 hospital results",
                  demo, "Y90003", gp, hosp)


def _gp_only_allergy(m: _Maker) -> _Draft:
    m.practice = CASTLEGATE
    demo = _demo("Hassan", ("Amira",), "Ms", "female", _born(35, 10), ("52 Wellington Street", "Wardleigh"),
                 "WL4 2NN", "07700 900177")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.IBUPROFEN, "medication", _ago(1500), reaction=Reaction.ANGIOEDEMA,
                                  severity="severe", criticality="high",
                                  note="Facial swelling within an hour of ibuprofen 400mg. Avoid NSAIDs."))
    gp.problems.append(m.problem(Problem.PCOS, 3000, minor=True))
    gp.medications += m.repeats((Med.CETIRIZINE_10,))
    m.routine_gp(gp, 4, 6)
    hosp = ClinicalRecord(demo)
    hosp.allergies.append(m.allergy(Substance.LATEX, "environment", _ago(60), reaction=Reaction.URTICARIA,
                                    severity="mild", hospital=True))
    hosp.encounters.append(m.hospital_visit("emergency", _ago(60), Reason.CHEST_PAIN,
                                            note="Musculoskeletal chest pain. Discharged with advice."))
    hosp.observations += m.vitals(_at(_ago(60), 2, 30))
    return _Draft("gp-only-allergy",
                  "Ibuprofen angioedema recorded only at the GP; the hospital knows only a latex allergy",
                  demo, "Y90002", gp, hosp)


def _same_medicine(m: _Maker) -> _Draft:
    demo = _demo("Nowak", ("Piotr",), "Mr", "male", _born(58, 300), ("9 Chapel Row", "Wardleigh"), "WL5 1QS",
                 "07700 900233")
    gp = ClinicalRecord(demo, no_known_allergies=True)
    gp.problems += [m.problem(Problem.IHD, 1400), m.problem(Problem.HYPERTENSION, 2000)]
    gp.medications += m.repeats((Med.ATORVASTATIN_20, Med.ASPIRIN_75, Med.RAMIPRIL_2_5))
    m.routine_gp(gp, 5, 8)
    hosp = ClinicalRecord(demo)
    hosp.medications += [
        m.med(Med.ATORVASTATIN_20, "repeat", _ago(1400), prescriber=m.doctor(), last_issued=_ago(1400),
              prescriber_notes="Started after NSTEMI; continue on discharge."),
        m.med(Med.CLARITHROMYCIN_250, "acute", _ago(3), prescriber=m.doctor(), last_issued=_ago(3)),
    ]
    hosp.encounters.append(m.hospital_visit("outpatient", _ago(3), Reason.LRTI,
                                            location="Cardiology Outpatients"))
    return _Draft("same-medicine", "Atorvastatin 20mg in both GP and hospital records (same dm+d code)",
                  demo, "Y90001", gp, hosp)


def _deceased(m: _Maker) -> _Draft:
    m.practice = MOORLAND
    died = datetime(2026, 9, 14, 3, 20, tzinfo=UTC)
    demo = _demo("Barnes", ("Edith", "May"), "Mrs", "female", _born(91, 45),
                 ("Elmhurst Care Home", "Park Road", "Wardleigh"), "WL6 3BB", "01632 960567")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.ASPIRIN, "medication", _ago(8000), reaction=Reaction.WHEEZE))
    gp.problems += [m.problem(Problem.ALZHEIMERS, 2000), m.problem(Problem.HEART_FAILURE, 1500)]
    gp.medications += m.repeats((Med.FUROSEMIDE_40, Med.BISOPROLOL_10, Med.PARACETAMOL_500), (200, 1200))
    m.routine_gp(gp, 4, 10, (Reason.FALL, Reason.BREATHLESS, Reason.MED_REVIEW))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(SynthEncounter(
        id=m.new_id(), kind="inpatient", start=_at(died.date() - timedelta(days=5), 16, 40), end=died,
        reason=Problem.PNEUMONIA, clinician=m.doctor(), location="Ward 4 (Care of the Elderly)",
        note="Died peacefully with family present."))
    hosp.documents.append(m.document("Medical certificate of cause of death - copy", died.date()))
    return _Draft("deceased",
                  "Deceased on 14-Sep-2026 (PDS deceasedDateTime); GP Connect answers 404 as the spec "
                  "requires, the hospital record is viewable",
                  demo, "Y90003", gp, hosp, deceased=died)


def _restricted(m: _Maker) -> _Draft:
    demo = _demo("Ellis", ("Jordan",), "Mx", "unknown", _born(29, 180), ("4 Safe House Lane", "Wardleigh"),
                 "WL7 0AA", "07700 900999")
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("emergency", _ago(15), Reason.FALL))
    hosp.observations += m.vitals(_at(_ago(15), 23, 10))
    return _Draft("restricted", "Restricted (PDS R): no address/phone/GP shown; GP Connect answers 404",
                  demo, "Y90002", None, hosp, gp_access=GpAccess.NOT_REGISTERED, restricted=True)


def _dissent(m: _Maker) -> _Draft:
    demo = _demo("Reid", ("Thomas", "Alexander"), "Mr", "male", _born(63, 222),
                 ("41 Harbour View", "Wardleigh"), "WL8 4DE", "07700 900345")
    gp = ClinicalRecord(demo)
    gp.problems.append(m.problem(Problem.HYPERTENSION, 3000))
    gp.medications += m.repeats((Med.BENDROFLUMETHIAZIDE,))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", _ago(45), Reason.KNEE_PAIN,
                                            location="Orthopaedic Clinic"))
    return _Draft("gp-dissent", "Dissented from GP record sharing: GP Connect 403 NO_PATIENT_CONSENT",
                  demo, "Y90001", gp, hosp, gp_access=GpAccess.DISSENT)


def _not_registered(m: _Maker) -> _Draft:
    demo = _demo("Wiśniewska", ("Katarzyna",), "Ms", "female", _born(24, 95),
                 ("Room 12", "18 Dock Street", "Wardleigh"), "WL8 1ZZ", "07700 900456")
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("emergency", _ago(2), Reason.D_AND_V))
    hosp.observations += m.vitals(_at(_ago(2), 4, 15))
    return _Draft("not-registered", "Not registered with a GP practice: no GP record to fetch",
                  demo, None, None, hosp, gp_access=GpAccess.NOT_REGISTERED)


def _no_gp_record(m: _Maker) -> _Draft:
    demo = _demo("Fraser", ("Ian",), "Mr", "male", _born(47, 12), ("2 Kiln Cottages", "Wardleigh"), "WL9 2HB",
                 "01632 960678")
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", _ago(30), Reason.TATT))
    return _Draft("no-gp-record", "Registered, but the practice system holds no record: 404 NO_RECORD_FOUND",
                  demo, "Y90003", None, hosp, gp_access=GpAccess.NO_RECORD)


def _superseded(m: _Maker) -> _Draft:
    demo = _demo("O'Connor", ("Michael", "Sean"), "Mr", "male", _born(50, 140),
                 ("The Old Forge", "Bridge Street", "Wardleigh"), "WL2 9FG", "07700 900567")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.CLARITHROMYCIN, "medication", _ago(2200),
                                  reaction=Reaction.DIARRHOEA, severity="mild"))
    gp.problems.append(m.problem(Problem.ANXIETY, 1000, minor=True))
    gp.medications += m.repeats((Med.SERTRALINE_100,))
    m.routine_gp(gp, 3, 5)
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", _ago(80), Reason.CHEST_PAIN,
                                            location="Rapid Access Chest Pain Clinic"))
    return _Draft("superseded-new", "Current NHS number of a merged record (the old number redirects here)",
                  demo, "Y90001", gp, hosp)


def _data_in_transit(m: _Maker) -> _Draft:
    m.practice = CASTLEGATE
    demo = _demo("Adeyemi", ("Grace", "Oluwaseun"), "Mrs", "female", _born(46, 260),
                 ("88 Victoria Road", "Wardleigh"), "WL3 3WR", "07700 900678")
    gp = ClinicalRecord(demo, warnings={Area.MEDICATION: ("data-in-transit",)})
    gp.allergies.append(m.allergy(Substance.PENICILLIN, "medication", _ago(40), reaction=Reaction.URTICARIA,
                                  note="Transferred from previous practice - details awaited."))
    gp.medications += m.repeats((Med.LEVOTHYROXINE_100,), (10, 40))
    gp.problems.append(m.problem(Problem.HYPOTHYROIDISM, 4000))
    gp.encounters.append(m.consultation(_ago(20), Reason.MED_REVIEW, "New patient check. Notes requested."))
    return _Draft("data-in-transit", "Recently moved practice: GP medication list flagged data-in-transit",
                  demo, "Y90002", gp, None)


def _confidential(m: _Maker) -> _Draft:
    demo = _demo("Cole", ("Hannah",), "Miss", "female", _born(33, 55), ("5 Meadow Bank", "Wardleigh"),
                 "WL4 6NB", "07700 900789")
    gp = ClinicalRecord(demo, warnings={Area.PROBLEMS: ("confidential-items",),
                                        Area.CONSULTATIONS: ("confidential-items",)})
    gp.problems.append(m.problem(Problem.ASTHMA, 8000, minor=True))
    gp.medications += m.repeats((Med.SALBUTAMOL,))
    m.routine_gp(gp, 3, 4)
    return _Draft("confidential-items", "Some GP problems and consultations withheld (confidential-items)",
                  demo, "Y90001", gp, None)


def _not_implemented(m: _Maker) -> _Draft:
    m.practice = MOORLAND
    demo = _demo("Evans", ("David", "Rhys"), "Mr", "male", _born(55, 33),
                 ("Ty Gwyn", "Hill Road", "Wardleigh"), "WL9 8TG", "01632 960789")
    gp = ClinicalRecord(demo, not_implemented=(Area.IMMUNISATIONS,))
    gp.problems.append(m.problem(Problem.T2DM, 2500))
    gp.medications += m.repeats((Med.METFORMIN_500,))
    m.routine_gp(gp, 4, 6)
    return _Draft("area-not-implemented", "GP system cannot supply immunisations (NOT_IMPLEMENTED)",
                  demo, "Y90003", gp, None)


def _mismatch(m: _Maker) -> _Draft:
    born = date(1979, 3, 12)
    pds = _demo("McCarthy", ("Siobhan",), "Ms", "female", born, ("17 Abbey Gardens", "Wardleigh"), "WL5 5AG",
                "07700 900890")
    gp = ClinicalRecord(Demographics(pds.name, pds.gender, date(1979, 12, 3), pds.address, pds.postcode,
                                     pds.phone))
    gp.allergies.append(m.allergy(Substance.POLLEN, "environment", _ago(6000), reaction=Reaction.ITCHING,
                                  severity="mild"))
    gp.medications += m.repeats((Med.CROMOGLICATE_DROPS,))
    m.routine_gp(gp, 3, 4)
    hosp = ClinicalRecord(Demographics(Name("MacCarthy", ("Siobhan",), "Ms"), pds.gender, born, pds.address,
                                       pds.postcode, pds.phone))
    hosp.encounters.append(m.hospital_visit("outpatient", _ago(14), Reason.TATT))
    return _Draft("demographic-mismatch",
                  "Sources disagree: GP birth date 03-Dec-1979, hospital spells the family name MacCarthy",
                  pds, "Y90001", gp, hosp)


def _no_known_allergies(m: _Maker) -> _Draft:
    m.practice = CASTLEGATE
    demo = _demo("Taylor", ("Lucy", "Jane"), "Miss", "female", _born(27, 301),
                 ("6 Primrose Hill", "Wardleigh"), "WL2 7PH", "07700 900901")
    gp = ClinicalRecord(demo, no_known_allergies=True)
    gp.medications.append(m.past_acute(Med.AMOXICILLIN_500, 500))
    m.routine_gp(gp, 2, 3)
    return _Draft("no-known-allergies", "GP records 'No known allergies' (a coded entry)", demo, "Y90002", gp,
                  ClinicalRecord(demo))


def _allergies_not_recorded(m: _Maker) -> _Draft:
    m.practice = MOORLAND
    demo = _demo("Khan", ("Ahmed",), "Mr", "male", _born(39, 18), ("30 Albert Terrace", "Wardleigh"),
                 "WL6 9AT", "07700 900912")
    gp = ClinicalRecord(demo)
    gp.problems.append(m.problem(Problem.PLANTAR_FASCIITIS, 300, minor=True))
    m.routine_gp(gp, 2, 3)
    return _Draft("allergies-not-recorded", "No allergy information anywhere: not 'no known allergies'",
                  demo, "Y90003", gp, ClinicalRecord(demo))


def _resolved_allergy(m: _Maker) -> _Draft:
    demo = _demo("MacLeod", ("Fiona",), "Dr", "female", _born(52, 150),
                 ("Lochside", "4 Glen Road", "Wardleigh"), "WL7 3LG", "01632 960890")
    gp = ClinicalRecord(demo)
    gp.allergies += [
        m.allergy(Substance.AMOXICILLIN, "medication", _ago(5000), reaction=Reaction.RASH,
                  severity="moderate"),
        m.allergy(Substance.CASHEW, "food", _ago(3000), reaction=Reaction.ANAPHYLAXIS, severity="severe",
                  criticality="high"),
        m.allergy(Substance.ASPIRIN, "medication", _ago(6000), reaction=Reaction.URTICARIA, status="resolved",
                  end_date=_ago(400), end_reason="Tolerated an aspirin challenge in the allergy clinic"),
    ]
    gp.medications += m.repeats((Med.ASPIRIN_75,), (300, 390))
    m.routine_gp(gp, 3, 4)
    return _Draft("resolved-allergy", "Resolved aspirin allergy alongside active amoxicillin and cashew ones",
                  demo, "Y90001", gp, None)


def _warfarin_inpatient(m: _Maker) -> _Draft:
    m.practice = CASTLEGATE
    demo = _demo("Pemberton", ("Harold", "George"), "Mr", "male", _born(86, 12),
                 ("Sunnyside", "12 Church Lane", "Wardleigh"), "WL3 1EL", "01632 960901")
    gp = ClinicalRecord(demo, no_known_allergies=True)
    gp.problems += [m.problem(Problem.AF, 2500), m.problem(Problem.HYPERTENSION, 7000),
                    m.problem(Problem.STROKE, 2600, active=False, abated_days=2500)]
    gp.medications += m.repeats((Med.WARFARIN_1, Med.WARFARIN_3, Med.BISOPROLOL_10, Med.RAMIPRIL_2_5))
    gp.observations += [m.obs(Lab.INR, _at(_ago(14 + 21 * n), 9, 30)) for n in range(16)]
    m.routine_gp(gp, 5, 10, (Reason.MED_REVIEW, Reason.DIZZINESS, Reason.FALL))
    hosp = ClinicalRecord(demo)
    admitted = _ago(3)
    hosp.encounters.append(m.hospital_visit("inpatient", admitted, Reason.FALL, status="in-progress",
                                            location="Ward 7B (Acute Medicine)",
                                            note="Fall at home; on warfarin. CT head: no bleed."))
    hosp.medications.append(m.med(Med.WARFARIN_3, "acute", admitted, prescriber=m.doctor(),
                                  last_issued=admitted, elsewhere=True,
                                  dosage="Dose as per inpatient anticoagulation chart; check INR daily"))
    for n in range(3):
        when = _at(admitted + timedelta(days=n), 7, 30)
        hosp.observations.append(m.obs(Lab.INR, when, hospital=True, value=round(3.8 - 0.5 * n, 1),
                                       report=(m.new_id(), "Coagulation screen")))
        hosp.observations += m.vitals(when)
    return _Draft("warfarin-inpatient", "Elderly on warfarin, currently an inpatient (Encounter in-progress)",
                  demo, "Y90002", gp, hosp)


def _several_practices(m: _Maker) -> _Draft:
    m.practice = CASTLEGATE
    demo = _demo("Stone", ("Rebecca",), "Mrs", "female", _born(41, 70), ("21 Quarry Road", "Wardleigh"),
                 "WL3 5QR", "07700 900923")
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.TRIMETHOPRIM, "medication", _ago(5000), reaction=Reaction.RASH,
                                  severity="mild", note="Recorded at Riverside Medical Practice."))
    for practice, start, end in ((RIVERSIDE, 6500, 4200), (MOORLAND, 4200, 1500), (CASTLEGATE, 1500, 10)):
        gp.encounters += [
            m.consultation(_ago(m.rng.randint(end, start)), m.rng.choice(_ROUTINE_REASONS),
                           f"Seen at {practice.name}.", practice=practice)
            for _ in range(5)
        ]
    gp.encounters.sort(key=lambda e: e.start)
    gp.medications.append(m.med(Med.FLUOXETINE_20, "repeat", _ago(4000), status="stopped", ended=_ago(1600),
                                last_issued=_ago(1620), prescriber=m.gp(MOORLAND.ods_code)))
    gp.medications += m.repeats((Med.SERTRALINE_100,), (200, 1400))
    gp.problems.append(m.problem(Problem.DEPRESSION, 4100, note="Diagnosed at Moorland Health Centre."))
    return _Draft("several-practices", "History from three GP practices: Riverside, Moorland, now Castlegate",
                  demo, "Y90002", gp, None)


def _free_text(m: _Maker) -> _Draft:
    demo = _demo("D'Arcy-Smythe", ("Zoë", "Ann-Marie"), "Mrs", "female", _born(66, 222),
                 ("Flat 2/1", '"The Willows"', "Wardleigh"), "WL1 1WW", "01632 960123")
    long_note = " ".join(
        f"Paragraph {i}: patient describes intermittent symptoms since the last review; discussed risks, "
        f"benefits & alternatives; agreed plan <A> then <B>; cost of travel £{i}.50 noted."
        for i in range(1, 31)
    )
    gp = ClinicalRecord(demo)
    gp.allergies.append(m.allergy(Substance.CODEINE, "medication", _ago(900), reaction=Reaction.NAUSEA,
                                  note=SPECIAL_TEXT))
    gp.medications.append(m.med(Med.CO_CODAMOL, "repeat", _ago(600), prescriber_notes=SPECIAL_TEXT,
                                patient_notes="Don't exceed 8 tablets/day — \"as needed\" only <strictly>"))
    gp.problems.append(m.problem(Problem.OA_KNEE, 3000, note=long_note))
    gp.encounters.append(m.consultation(_ago(30), Reason.KNEE_PAIN, long_note))
    gp.referrals.append(m.referral("Orthopaedics & Trauma <Knee> Clinic", Problem.OA_KNEE, _ago(30),
                                   priority="urgent"))
    hosp = ClinicalRecord(demo)
    hosp.encounters.append(m.hospital_visit("outpatient", _ago(5), Problem.OA_KNEE, note=SPECIAL_TEXT,
                                            location="Orthopaedics & Trauma"))
    return _Draft("free-text", "Special characters (& < > \" ' £ \\) in names and notes; a very long note",
                  demo, "Y90001", gp, hosp)


_NAMESAKE_BORN = date(1968, 5, 17)


def _namesake(m: _Maker, which: str) -> _Draft:
    """Two John Smiths born the same day: a search that must never pick one silently."""
    first = which == "a"
    demo = _demo("Smith", ("John", "Paul" if first else "Edward"), "Mr", "male", _NAMESAKE_BORN,
                 ("7 Mill Street" if first else "31 Orchard Rise", "Wardleigh"),
                 "WL2 4HS" if first else "WL8 3DR", "07700 900314" if first else "07700 900315")
    gp = ClinicalRecord(demo)
    gp.problems.append(m.problem(Problem.HYPERTENSION if first else Problem.ASTHMA, 2000))
    gp.medications += m.repeats((Med.AMLODIPINE_5,) if first else (Med.SALBUTAMOL,))
    m.routine_gp(gp, 2, 3)
    summary = f"John Smith born 17-May-1968, as is John {'Edward' if first else 'Paul'} Smith: same-name risk"
    return _Draft(f"namesake-{which}", summary, demo, "Y90001" if first else "Y90003", gp, None)


def _namesake_a(m: _Maker) -> _Draft:
    return _namesake(m, "a")


def _namesake_b(m: _Maker) -> _Draft:
    return _namesake(m, "b")


SCENARIOS: tuple[Callable[[_Maker], _Draft], ...] = (
    _ordinary_adult, _child, _polypharmacy, _large_record, _gp_only_allergy, _same_medicine, _deceased,
    _restricted, _dissent, _not_registered, _no_gp_record, _superseded, _data_in_transit, _confidential,
    _not_implemented, _mismatch, _no_known_allergies, _allergies_not_recorded, _resolved_allergy,
    _warfarin_inpatient, _several_practices, _free_text, _namesake_a, _namesake_b,
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
    drafts = [make(_Maker(seed, make.__name__)) for make in SCENARIOS]
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
