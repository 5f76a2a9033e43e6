"""The dm+d medicines the synthetic population takes, each with the way it is usually prescribed."""

from __future__ import annotations

from dataclasses import dataclass

from viewer.sandbox.population_codes import dmd
from viewer.sandbox.world import Code


@dataclass(frozen=True, slots=True)
class Drug:
    """A dm+d medicine with the way it is usually prescribed."""

    code: Code
    dosage: str
    quantity: float
    unit: str


def _drug(code: str, display: str, dosage: str, quantity: float, unit: str) -> Drug:
    return Drug(dmd(code, display), dosage, quantity, unit)


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
