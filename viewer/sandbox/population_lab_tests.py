"""Laboratory tests and vital signs of the synthetic population: how the GP codes each (SNOMED CT), how
the hospital laboratory codes it (LOINC), its UCUM unit, adult reference range and typical values.
"""

from __future__ import annotations

from dataclasses import dataclass

from viewer.sandbox.population_codes import snomed
from viewer.sandbox.world import LOINC, Code


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
    return LabTest(snomed(sct, sct_display), Code(LOINC, loinc, loinc_display), unit, normal[0], normal[1],
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
