"""Hospital encounters, immunisations, referrals (ServiceRequest), document metadata and flags."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from viewer.domain.coding import DMD, SNOMED
from viewer.domain.dates import PartialDate
from viewer.sources.r4_mapping import map_hospital_record

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
V3 = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def cc(code: str, display: str, system: str = SNOMED) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def map_(**resources: list[dict]):
    return map_hospital_record(None, resources, retrieved_at=NOW, org_ods="RWV99", org_name="Trust")


def reasons(result) -> list[tuple[str, str, str]]:
    return sorted((u.resource_type, u.resource_id or "", u.reason) for u in result.unreadable)


SANDRA = {"resourceType": "Practitioner", "id": "sg", "name": [{"family": "Gose", "given": ["Sandra"],
                                                                   "prefix": ["Dr"]}]}
WARD = {"resourceType": "Location", "id": "w9", "name": "Ward 9 (Cardiology)"}
HEART_FAILURE = {"resourceType": "Condition", "id": "hf", "code": cc("84114007", "Heart failure")}

ADMISSION = {
    "resourceType": "Encounter", "id": "en1", "status": "finished",
    "class": {"system": V3, "code": "IMP", "display": "inpatient encounter"},
    "type": [cc("185212007", "Seen in hospital ward")],
    "period": {"start": "2026-05-01T10:00:00+01:00", "end": "2026-05-07"},
    "reasonCode": [cc("7922000", "General treatment")],
    "reasonReference": [{"reference": "Condition/hf"}, {"display": "Breathless on exertion"}],
    "participant": [{"individual": {"reference": "Practitioner/sg"}},
                    {"individual": {"display": "Nurse Ann Lee"}},
                    {"individual": {"reference": "Practitioner/sg"}}],
    "location": [{"location": {"reference": "Location/w9"}}],
    "text": {"status": "additional", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><b>x</b></div>"},
}


def test_encounter_maps_every_field_and_resolves_references() -> None:
    result = map_(Encounter=[ADMISSION], Practitioner=[SANDRA], Location=[WARD], Condition=[HEART_FAILURE])
    (enc,) = result.encounters
    assert enc.kind == "inpatient" and enc.type.label == "Seen in hospital ward" and enc.status == "finished"
    assert enc.start == PartialDate.parse("2026-05-01T10:00:00+01:00") and enc.end == PartialDate(2026, 5, 7)
    assert [r.label for r in enc.reasons] == ["General treatment", "Heart failure", "Breathless on exertion"]
    assert enc.reasons[1].code_in(SNOMED) == "84114007"
    assert enc.clinician == "Dr Sandra Gose, Nurse Ann Lee" and enc.location == "Ward 9 (Cardiology)"
    assert enc.notes == ()  # the XHTML narrative is never taken as a note
    assert (enc.provenance.resource_type, enc.provenance.resource_id) == ("Encounter", "en1")


@pytest.mark.parametrize(("klass", "kind"), [
    ({"system": V3, "code": "AMB", "display": "ambulatory"}, "outpatient"),
    ({"system": V3, "code": "EMER", "display": "emergency"}, "emergency"),
    ({"system": V3, "code": "HH", "display": "home health"}, "home health"),
    ({"system": V3, "code": "VR"}, "VR"),
    ([{"coding": [{"system": V3, "code": "IMP"}]}], "inpatient"),  # R5-style CodeableConcept list
    ({"text": "Day case"}, "Day case"),
])
def test_encounter_class_is_named_as_the_ward_says_else_as_given(klass: Any, kind: str) -> None:
    (enc,) = map_(Encounter=[{"resourceType": "Encounter", "id": "e", "class": klass}]).encounters
    assert enc.kind == kind


def test_encounter_through_practitioner_role_and_with_nothing_readable() -> None:
    role = {"resourceType": "PractitionerRole", "id": "r1", "practitioner": {"reference": "Practitioner/sg"}}
    enc = dict(ADMISSION, participant=[{"individual": {"reference": "PractitionerRole/r1"}}])
    result = map_(Encounter=[enc, {"resourceType": "Encounter", "id": "empty", "status": "finished"},
                             dict(ADMISSION, id="eie", status="entered-in-error")],
                  PractitionerRole=[role], Practitioner=[SANDRA])
    assert [e.clinician for e in result.encounters] == ["Dr Sandra Gose"]
    assert reasons(result) == [("Encounter", "eie", "entered in error"),
                               ("Encounter", "empty", "no date, class or type given")]


FLU = {
    "resourceType": "Immunization", "id": "im1", "status": "completed",
    "vaccineCode": cc("11278411000001109", "Influenza vaccine 0.5ml pre-filled syringes", DMD),
    "occurrenceDateTime": "2025-10-10",
    "protocolApplied": [{"doseNumberPositiveInt": 2, "seriesDosesPositiveInt": 3}],
    "site": cc("368208006", "Left upper arm structure"),
    "route": cc("78421000", "Intramuscular route"),
    "lotNumber": "AB1234",
    "performer": [{"actor": {"display": "HOLDING, Rafferty"}},
                  {"actor": {"display": "ELLAND ROAD COVID VACCINATION CENTRE"}}],
    "note": [{"text": "Given in clinic"}],
}


def test_immunisation_maps_every_field() -> None:
    (imm,) = map_(Immunization=[FLU]).immunisations
    assert imm.vaccine.code_in(DMD) == "11278411000001109" and imm.given == PartialDate(2025, 10, 10)
    assert (imm.status, imm.dose, imm.batch) == ("completed", "2 of 3", "AB1234")
    assert (imm.site, imm.route) == ("Left upper arm structure", "Intramuscular route")
    assert imm.performer == "HOLDING, Rafferty, ELLAND ROAD COVID VACCINATION CENTRE"
    assert imm.notes == ("Given in clinic",)
    assert imm.provenance.resource_type == "Immunization"


def test_not_done_immunisation_says_why_and_text_date_is_kept() -> None:
    not_done = {"resourceType": "Immunization", "id": "nd", "status": "not-done",
                "vaccineCode": {"text": "MMR"}, "occurrenceString": "Autumn term 2024",
                "statusReason": cc("591000119102", "Vaccine refused by patient"),
                "protocolApplied": [{"doseNumberString": "booster"}]}
    (imm,) = map_(Immunization=[not_done]).immunisations
    assert imm.status == "not-done" and imm.given is None and imm.dose == "booster"
    assert imm.notes == ("Not given: Vaccine refused by patient", "Given: Autumn term 2024")


def test_malformed_and_entered_in_error_immunisations_are_counted() -> None:
    result = map_(Immunization=[dict(FLU, id="eie", status="entered-in-error"),
                                dict(FLU, id="no-vaccine", vaccineCode={"coding": [{"system": DMD}]}),
                                dict(FLU, id="junk", protocolApplied="x", performer=3, site=[1],
                                     occurrenceDateTime="last week")])
    assert reasons(result) == [("Immunization", "eie", "entered in error"),
                               ("Immunization", "no-vaccine", "no vaccine given")]
    (junk,) = result.immunisations
    assert junk.given is None and junk.dose is None and junk.performer is None and junk.site is None


REFERRAL = {
    "resourceType": "ServiceRequest", "id": "sr1", "status": "active", "intent": "order",
    "category": [cc("3457005", "Patient referral")],
    "code": cc("73761001", "Colonoscopy"),
    "performerType": [cc("419192003", "Gastroenterologist")],
    "reasonCode": [{"coding": [{"system": SNOMED, "code": "271835004"}], "text": "Swollen abdomen"}],
    "reasonReference": [{"reference": "DiagnosticReport/x", "display": "Blood results warrant it"}],
    "authoredOn": "2021-10-13T16:28:00+07:00",
    "priority": "urgent",
    "requester": {"reference": "Practitioner/sg"},
    "performer": [{"reference": "Practitioner/sg"}, {"display": "St James's University Hospital"}],
    "note": [{"text": "Patient anxious"}],
    "patientInstruction": "Contact your GP if worse",
}


def test_referral_maps_every_field() -> None:
    (ref,) = map_(ServiceRequest=[REFERRAL], Practitioner=[SANDRA]).referrals
    assert ref.service == "Colonoscopy (Gastroenterologist)"
    assert [r.label for r in ref.reasons] == ["Swollen abdomen", "Blood results warrant it"]
    assert ref.authored == PartialDate.parse("2021-10-13T16:28:00+07:00")
    assert (ref.status, ref.priority, ref.requester) == ("active", "urgent", "Dr Sandra Gose")
    assert ref.recipient == "Dr Sandra Gose, St James's University Hospital"
    assert ref.notes == ("Patient anxious", "Patient instruction: Contact your GP if worse")
    assert ref.provenance.resource_type == "ServiceRequest"


def test_referral_service_falls_back_to_performer_type_then_category() -> None:
    only_type = {k: v for k, v in REFERRAL.items() if k != "code"}
    only_category = {k: v for k, v in only_type.items() if k != "performerType"}
    nothing = {k: v for k, v in only_category.items() if k != "category"}
    result = map_(ServiceRequest=[dict(only_type, id="a"), dict(only_category, id="b"), dict(nothing, id="c"),
                                  dict(REFERRAL, id="eie", status="entered-in-error")])
    assert [r.service for r in result.referrals] == ["Gastroenterologist", "Patient referral"]
    assert reasons(result) == [("ServiceRequest", "c", "no service given"),
                               ("ServiceRequest", "eie", "entered in error")]


LETTER = {
    "resourceType": "DocumentReference", "id": "doc1", "status": "current",
    "type": cc("734163000", "Care plan"),
    "date": "2016-03-08T15:26:00+01:00",
    "author": [{"reference": "Practitioner/sg"}, {"reference": "Organization/o1"}],
    "description": "Respiratory clinic letter",
    "content": [{"attachment": {"contentType": "text/plain", "title": "Plain copy"}},
                {"attachment": {"contentType": "application/pdf", "url": "https://h.invalid/Binary/1",
                                "title": "Care Plan Report", "creation": "2016-03-07"}}],
}


def test_document_metadata_maps_every_field() -> None:
    org = {"resourceType": "Organization", "id": "o1", "name": "Leeds Teaching Hospitals"}
    (doc,) = map_(DocumentReference=[LETTER], Practitioner=[SANDRA], Organization=[org]).documents
    assert doc.title == "Respiratory clinic letter" and doc.type.code_in(SNOMED) == "734163000"
    assert doc.created == PartialDate.parse("2016-03-08T15:26:00+01:00")
    assert doc.author == "Dr Sandra Gose, Leeds Teaching Hospitals" and doc.status == "current"
    assert (doc.content_type, doc.url) == ("application/pdf", "https://h.invalid/Binary/1")


def test_document_title_and_date_fallbacks_and_unreadable_ones() -> None:
    no_description = {k: v for k, v in LETTER.items() if k not in ("description", "date")}
    type_only = {"resourceType": "DocumentReference", "id": "t", "type": cc("1", "Discharge summary"),
                 "context": {"period": {"start": "2026-01-02"}}}
    result = map_(DocumentReference=[
        no_description, type_only,
        {"resourceType": "DocumentReference", "id": "blank", "content": [{"attachment": {"url": "x"}}]},
        dict(LETTER, id="eie", status="entered-in-error"),
    ])
    first, second = result.documents
    assert (first.title, first.created) == ("Care Plan Report", PartialDate(2016, 3, 7))
    assert (second.title, second.created, second.url) == ("Discharge summary", PartialDate(2026, 1, 2), None)
    assert reasons(result) == [("DocumentReference", "blank", "no title or type given"),
                               ("DocumentReference", "eie", "entered in error")]


FLAG = {
    "resourceType": "Flag", "id": "fl1", "status": "active",
    "category": [{"coding": [{"code": "diet", "display": "Diet"}], "text": "Diet"},
                 cc("clinical", "Clinical", "http://terminology.hl7.org/CodeSystem/flag-category")],
    "code": {"coding": [{"system": SNOMED, "code": "226201008", "display": "Peanut-free diet"}],
             "text": "Patient has a severe peanut allergy."},
    "period": {"start": "2019-12-10T13:00:00+00:00", "end": "2027"},
}


def test_flag_maps_every_field_and_bad_ones_are_counted() -> None:
    result = map_(Flag=[FLAG, dict(FLAG, id="eie", status="entered-in-error"),
                        dict(FLAG, id="no-text", code={"coding": []})])
    (flag,) = result.flags
    assert flag.text.label == "Patient has a severe peanut allergy."
    assert flag.text.code_in(SNOMED) == "226201008"
    assert (flag.status, flag.category) == ("active", "Diet, Clinical")
    assert flag.start == PartialDate.parse("2019-12-10T13:00:00+00:00") and flag.end == PartialDate(2027)
    assert reasons(result) == [("Flag", "eie", "entered in error"), ("Flag", "no-text", "no flag text given")]


def test_each_new_area_missing_from_the_fetch_reads_not_supplied() -> None:
    supplied = {t: [] for t in ("AllergyIntolerance", "Condition", "MedicationRequest", "MedicationStatement",
                                "Observation", "DocumentReference")}
    result = map_hospital_record(None, supplied, retrieved_at=NOW, org_ods="RWV99", org_name="Trust")
    assert result.missing_areas == ("Encounters", "Immunisations", "Flags")
    assert all(w.code == "area-not-supplied" for w in result.warnings)
    # referrals and report grouping are optional searches: their absence is not a warning
    assert "Referrals" not in result.missing_areas


GARBAGE_FIELDS = ["status", "class", "type", "period", "reasonCode", "reasonReference", "participant",
                  "location", "vaccineCode", "occurrenceDateTime", "protocolApplied", "performer", "site",
                  "route", "lotNumber", "code", "performerType", "category", "authoredOn", "priority",
                  "requester", "description", "content", "date", "author", "valueQuantity", "component",
                  "referenceRange", "interpretation", "result", "hasMember", "effectiveDateTime",
                  "issued", "conclusion", "note", "contained", "statusReason", "dataAbsentReason",
                  "valueRange", "valueRatio", "valuePeriod", "valueInteger", "valueBoolean", "context"]
TYPES = {"Encounter": "encounters", "Observation": "observations", "DiagnosticReport": "reports",
         "Immunization": "immunisations", "ServiceRequest": "referrals", "DocumentReference": "documents",
         "Flag": "flags"}

READABLE = {"Encounter": {"period": {"start": "2026"}}, "Observation": {"code": {"text": "Na"}},
            "DiagnosticReport": {"code": {"text": "U&E"}}, "Immunization": {"vaccineCode": {"text": "Flu"}},
            "ServiceRequest": {"code": {"text": "Cardiology"}},
            "DocumentReference": {"description": "Letter"}, "Flag": {"code": {"text": "Anticoagulated"}}}


def _garbage(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(14 if depth < 3 else 12)
    if kind == 12:
        return [_garbage(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == 13:
        keys = ["coding", "text", "value", "unit", "low", "high", "reference", "display", "start", "end",
                "code", "system", "attachment", "individual", "actor", "url", "comparator",
                "doseNumberPositiveInt", "numerator", "denominator"]
        return {k: _garbage(rng, depth + 1) for k in rng.sample(keys, rng.randint(0, 5))}
    return (None, True, 3, -1.5, "", "x", "Observation/o1", "#c", "2026-13-45", "2026-01-02", float("inf"),
            10**400)[kind]


def test_garbage_in_every_new_type_never_raises_and_nothing_is_lost() -> None:
    rng = random.Random(2026)
    seen_shown = seen_lost = 0
    for _ in range(300):
        resources: dict[str, Any] = {}
        total = 0
        for rtype in TYPES:
            items = []
            for n in range(rng.randint(0, 4)):
                if rng.random() < 0.1:
                    items.append(_garbage(rng))
                else:
                    # half start readable, so junk beside a good name is exercised too
                    res = dict(READABLE[rtype]) if rng.random() < 0.5 else {}
                    res.update({f: _garbage(rng) for f in rng.sample(GARBAGE_FIELDS, rng.randint(0, 12))})
                    res.update(resourceType=rtype, id=f"{rtype}-{n}")
                    items.append(res)
            resources[rtype] = items
            total += len(items)
        result = map_(**resources)
        shown = sum(len(getattr(result, field)) for field in TYPES.values())
        assert shown + len(result.unreadable) == total
        seen_shown += shown
        seen_lost += len(result.unreadable)
    assert seen_shown > 100 and seen_lost > 100  # the garbage reached both outcomes
