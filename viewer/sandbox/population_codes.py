"""The coded clinical vocabulary of the synthetic population: SNOMED CT allergens, reactions, problems
and reasons, and dm+d vaccines, each with its UK display.

Real codes, so that a consumer's code handling is exercised as it would be by a live record.
"""

from __future__ import annotations

from viewer.sandbox.world import DMD, SNOMED, Code


def snomed(code: str, display: str) -> Code:
    return Code(SNOMED, code, display)


def dmd(code: str, display: str) -> Code:
    return Code(DMD, code, display)


class Substance:
    """Allergen substances (SNOMED CT substance concepts) for AllergyIntolerance.code."""

    PENICILLIN = snomed("764146007", "Penicillin")
    AMOXICILLIN = snomed("372687004", "Amoxicillin")
    CASHEW = snomed("227493005", "Cashew nut")
    POLLEN = snomed("256259004", "Pollen")
    IBUPROFEN = snomed("387207008", "Ibuprofen")
    LATEX = snomed("111088007", "Latex")
    ASPIRIN = snomed("387458008", "Aspirin")
    CODEINE = snomed("387494007", "Codeine")
    PEANUT = snomed("762952008", "Peanut")
    TRIMETHOPRIM = snomed("387170002", "Trimethoprim")
    CAT_DANDER = snomed("260147004", "Cat dander")
    CLARITHROMYCIN = snomed("387487009", "Clarithromycin")


class Reaction:
    """Reaction manifestations (SNOMED CT clinical findings)."""

    RASH = snomed("271807003", "Skin rash")
    ANAPHYLAXIS = snomed("39579001", "Anaphylaxis")
    DYSPNOEA = snomed("267036007", "Dyspnoea")
    ITCHING = snomed("418363000", "Itching of skin")
    URTICARIA = snomed("126485001", "Urticaria")
    NAUSEA = snomed("422587007", "Nausea")
    ANGIOEDEMA = snomed("41291007", "Angioedema")
    DIARRHOEA = snomed("62315008", "Diarrhoea")
    WHEEZE = snomed("56018004", "Wheezing")


class Problem:
    """Problems / diagnoses (SNOMED CT)."""

    HYPERTENSION = snomed("38341003", "Hypertension")
    T2DM = snomed("44054006", "Type 2 diabetes mellitus")
    ASTHMA = snomed("195967001", "Asthma")
    IHD = snomed("414545008", "Ischaemic heart disease")
    MI = snomed("22298006", "Myocardial infarction")
    AF = snomed("49436004", "Atrial fibrillation")
    HEART_FAILURE = snomed("84114007", "Heart failure")
    COPD = snomed("13645005", "Chronic obstructive lung disease")
    DEPRESSION = snomed("35489007", "Depressive disorder")
    ANXIETY = snomed("197480006", "Anxiety disorder")
    HYPOTHYROIDISM = snomed("40930008", "Hypothyroidism")
    CKD3 = snomed("433144002", "Chronic kidney disease stage 3")
    OA_KNEE = snomed("239873007", "Osteoarthritis of knee")
    PNEUMONIA = snomed("233604007", "Pneumonia")
    GLAUCOMA = snomed("23986001", "Glaucoma")
    STROKE = snomed("230690007", "Cerebrovascular accident")
    PCOS = snomed("69878008", "Polycystic ovaries")
    PLANTAR_FASCIITIS = snomed("202882003", "Plantar fasciitis")
    ECZEMA = snomed("43116000", "Eczema")
    ALZHEIMERS = snomed("26929004", "Alzheimer's disease")
    HIP_REPLACEMENT = snomed("265157000", "Total prosthetic replacement of hip joint using cement")
    GORD = snomed("235595009", "Gastro-oesophageal reflux disease")


class Reason:
    """Reasons for consultations and encounters (SNOMED CT findings and procedures)."""

    COUGH = snomed("49727002", "Cough")
    CHEST_PAIN = snomed("29857009", "Chest pain")
    KNEE_PAIN = snomed("30989003", "Knee pain")
    SORE_THROAT = snomed("162397003", "Pain in throat")
    TATT = snomed("267032009", "Tired all the time")
    NECK_PAIN = snomed("81680005", "Neck pain")
    MED_REVIEW = snomed("314530002", "Medication review done")
    URTI = snomed("54150009", "Upper respiratory infection")
    LRTI = snomed("50417007", "Lower respiratory tract infection")
    DIZZINESS = snomed("961911000006108", "Syncopal episodes (fainting)/dizziness")
    FALL = snomed("217082002", "Accidental fall")
    ASTHMA_CHECK = snomed("270442000", "Asthma monitoring check done")
    D_AND_V = snomed("249519007", "Diarrhoea and vomiting")
    BREATHLESS = snomed("161939006", "Breathless - moderate exertion")
    LEG_SWELLING = snomed("449614009", "Swelling of lower limb")


class Vaccine:
    """Vaccine products (dm+d)."""

    FLU = dmd("11278411000001109", "Influenza vaccine (split virion, inactivated) suspension for "
              "injection 0.5ml pre-filled syringes (Pfizer Ltd)")
    FLU_NASAL = dmd("27114211000001105",
                    "Fluenz Tetra vaccine nasal suspension 0.2ml unit dose (AstraZeneca UK Ltd)")
    COVID_PFIZER = dmd("39115611000001103", "Comirnaty COVID-19 mRNA Vaccine 30micrograms/0.3ml dose "
                       "concentrate for dispersion for injection multidose vials (Pfizer Ltd)")
    COVID_AZ = dmd("39114911000001105", "COVID-19 Vaccine Vaxzevria (ChAdOx1 S [recombinant]) not less "
                   "than 2.5x100,000,000 infectious units/0.5ml dose suspension for injection multidose "
                   "vials (AstraZeneca UK Ltd)")
    SIX_IN_ONE = dmd("10795711000001100", "Diphtheria / Tetanus / Pertussis (acellular component) / "
                     "Poliomyelitis (inactivated) / Haemophilus type b conjugate vaccine (adsorbed) powder "
                     "and suspension for suspension for injection 0.5ml pre-filled syringes")
    FOUR_IN_ONE = dmd("8153411000001106", "Diphtheria / Tetanus / Pertussis (acellular component) / "
                      "Poliomyelitis (inactivated) vaccine (adsorbed) suspension for injection 0.5ml "
                      "pre-filled syringes")
    ROTAVIRUS = dmd("10353511000001102", "Rotavirus vaccine live oral suspension 1ml vials")
