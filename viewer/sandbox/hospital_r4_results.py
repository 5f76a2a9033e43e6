"""UK Core results: laboratory and vital-signs Observations, and the DiagnosticReports grouping them."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from viewer.sandbox.fhir_values import DIAGNOSTIC_STUDIES_REPORT, as_utc, fhir_instant
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys, category_tokens
from viewer.sandbox.hospital_r4_values import PROFILE_BASE, coding, concept, hl7
from viewer.sandbox.world import SynthObservation

UCUM = "http://unitsofmeasure.org"
_LAB_PROFILE = "UKCore-Observation-Lab"
_VITALS_PROFILE = "UKCore-Observation-VitalSigns"

# Observation codes that are vital signs (LOINC vital-signs panel and their SNOMED observables);
# everything else the hospital reports is a laboratory result.
_VITAL_SIGN_CODES = frozenset({
    "85353-1", "9279-1", "8867-4", "2708-6", "59408-5", "8310-5", "8302-2", "9843-4", "29463-7",
    "39156-5", "85354-9", "8480-6", "8462-4", "8478-0",
    "364075005", "78564009", "444981005", "86290005", "431314004", "103228002", "276885007",
    "386725007", "27113001", "50373000", "60621009", "75367002", "271649006", "271650006",
    "72313002", "1091811000000102", "163020007", "1104441000000107",
})
# Units as people write them -> the UCUM code (the display keeps what the record says).
_UCUM_CODES = MappingProxyType({
    "bpm": "/min",
    "beats/min": "/min",
    "breaths/min": "/min",
    "per minute": "/min",
    "mmhg": "mm[Hg]",
    "°c": "Cel",
    "c": "Cel",
    "degc": "Cel",
    "x10^9/l": "10*9/L",
    "10^9/l": "10*9/L",
    "x10^12/l": "10*12/L",
    "10^12/l": "10*12/L",
    "kg/m2": "kg/m2",
    "kg/m^2": "kg/m2",
    "iu/l": "[IU]/L",
    "u/l": "U/L",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m^2": "mL/min/{1.73_m2}",
})


def write_observation(ctx: PatientContext, o: SynthObservation) -> Indexed:
    vital = o.test.code in _VITAL_SIGN_CODES
    category = (
        hl7("observation-category", "vital-signs", "Vital Signs")
        if vital
        else hl7("observation-category", "laboratory", "Laboratory")
    )
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ctx.rid("ob", o.id),
        "meta": {"profile": [PROFILE_BASE + (_VITALS_PROFILE if vital else _LAB_PROFILE)]},
        "status": "final",
        "category": [category],
        "code": concept(o.test),
        "subject": ctx.subject,
        "effectiveDateTime": fhir_instant(o.effective),
        "performer": [ctx.trust],
    }
    if o.value is not None:
        res["valueQuantity"] = _quantity(o.value, o.unit)
    elif o.text_value is not None:
        res["valueString"] = o.text_value
    else:
        res["dataAbsentReason"] = hl7("data-absent-reason", "unknown", "Unknown")
    if o.ref_low is not None or o.ref_high is not None:
        ref: dict[str, Any] = {}
        if o.ref_low is not None:
            ref["low"] = _quantity(o.ref_low, o.unit)
        if o.ref_high is not None:
            ref["high"] = _quantity(o.ref_high, o.unit)
        res["referenceRange"] = [ref]
    return Indexed(res, SearchKeys("final", category_tokens([category]), as_utc(o.effective)))


def write_reports(
    ctx: PatientContext, observations: list[SynthObservation], written: dict[str, str]
) -> list[Indexed]:
    """One DiagnosticReport per report_id, its results pointing at the Observations already written."""
    groups: dict[str, list[SynthObservation]] = {}
    for o in observations:
        if o.report_id:
            groups.setdefault(o.report_id, []).append(o)
    category = hl7("v2-0074", "LAB", "Laboratory")
    tokens = category_tokens([category])
    out = []
    for report_id, members in groups.items():
        name = next((m.report_name for m in members if m.report_name), None) or "Laboratory report"
        effective = min(m.effective for m in members)
        res = {
            "resourceType": "DiagnosticReport",
            "id": ctx.rid("dr", report_id),
            "meta": ctx.meta("DiagnosticReport"),
            "status": "final",
            "category": [category],
            "code": {"coding": [coding(DIAGNOSTIC_STUDIES_REPORT)], "text": name},
            "subject": ctx.subject,
            "effectiveDateTime": fhir_instant(effective),
            "performer": [ctx.trust],
            "result": [{"reference": f"Observation/{written[m.id]}"} for m in members],
        }
        out.append(Indexed(res, SearchKeys("final", tokens, as_utc(effective))))
    return out


def _ucum(unit: str) -> str:
    return _UCUM_CODES.get(unit.strip().lower(), unit)


def _quantity(value: float, unit: str | None) -> dict[str, Any]:
    if unit is None:
        return {"value": value}
    return {"value": value, "unit": unit, "system": UCUM, "code": _ucum(unit)}
