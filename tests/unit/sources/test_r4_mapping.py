"""R4 (UK Core) hospital resources -> domain: every kind, malformed ones, and garbage."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from viewer.domain.coding import DMD, SNOMED
from viewer.domain.dates import PartialDate
from viewer.domain.provenance import SourceKind
from viewer.sources.r4_dosage import dosage_text
from viewer.sources.r4_mapping import map_hospital_record

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ODS = "RWV99"
ORG = "Wardview Sandbox Hospital NHS Trust"
ALL_TYPES = ("AllergyIntolerance", "Condition", "MedicationRequest", "MedicationStatement", "Encounter",
             "Observation", "Immunization", "DocumentReference", "Flag")


def cc(code: str, display: str, system: str = SNOMED) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def status(code: str, kind: str) -> dict:
    return cc(code, code.title(), f"http://terminology.hl7.org/CodeSystem/{kind}")


def record(**resources: list[dict]) -> dict[str, list[dict]]:
    """Every default type supplied (empty unless given), as HospitalClient returns it."""
    out: dict[str, list[dict]] = {t: [] for t in ALL_TYPES}
    out.update(resources)
    return out


def map_(resources: dict[str, list[dict]], patient: dict | None = None):
    return map_hospital_record(patient, resources, retrieved_at=NOW, org_ods=ODS, org_name=ORG)


PENICILLIN = {
    "resourceType": "AllergyIntolerance",
    "id": "allergy-1",
    "clinicalStatus": status("active", "allergyintolerance-clinical"),
    "verificationStatus": status("confirmed", "allergyintolerance-verification"),
    "category": ["medication"],
    "criticality": "high",
    "code": cc("764146007", "Penicillin"),
    "patient": {"reference": "Patient/p1"},
    "recordedDate": "2019-12-10T13:00:00+00:00",
    "onsetDateTime": "2019-03",
    "recorder": {"reference": "Practitioner/x", "display": "Dr Sandra Gose"},
    "note": [{"text": "Rash & swelling <after> \"2 doses\" £5 \\ 'x'"}],
    "reaction": [{
        "manifestation": [cc("271807003", "Skin rash"), cc("39579001", "Anaphylaxis")],
        "severity": "severe",
        "description": "Within an hour",
    }],
}


def test_allergy_maps_every_field_with_provenance() -> None:
    result = map_(record(AllergyIntolerance=[PENICILLIN]))
    assert result.source is SourceKind.HOSPITAL and result.allergies_supplied
    assert result.unreadable == () and result.missing_areas == ()
    (allergy,) = result.allergies
    assert allergy.substance.label == "Penicillin"
    assert allergy.substance.code_in(SNOMED) == "764146007"
    assert allergy.clinical_status == "active" and allergy.verification_status == "confirmed"
    assert allergy.category == ("medication",) and allergy.criticality == "high"
    assert allergy.asserted == PartialDate.parse("2019-12-10T13:00:00+00:00")
    assert allergy.onset == PartialDate(2019, 3)
    assert allergy.recorder == "Dr Sandra Gose"
    assert allergy.notes == ("Rash & swelling <after> \"2 doses\" £5 \\ 'x'",)
    assert allergy.is_active and not allergy.no_known_allergies
    (reaction,) = allergy.reactions
    assert [m.label for m in reaction.manifestations] == ["Skin rash", "Anaphylaxis"]
    assert reaction.severity == "severe" and reaction.description == "Within an hour"
    prov = allergy.provenance
    assert (prov.source, prov.resource_type, prov.resource_id) == (SourceKind.HOSPITAL,
                                                                   "AllergyIntolerance", "allergy-1")
    assert (prov.retrieved_at, prov.org_ods, prov.org_name) == (NOW, ODS, ORG)


def test_recorder_resolved_from_contained_practitioner() -> None:
    allergy = dict(PENICILLIN, recorder={"reference": "#pr1"},
                   contained=[{"resourceType": "Practitioner", "id": "pr1",
                               "name": [{"family": "Gose", "given": ["Sandra"], "prefix": ["Dr"]}]}])
    assert map_(record(AllergyIntolerance=[allergy])).allergies[0].recorder == "Dr Sandra Gose"


def test_no_known_allergy_coded_entry() -> None:
    nka = {"resourceType": "AllergyIntolerance", "id": "nka",
           "clinicalStatus": status("active", "allergyintolerance-clinical"),
           "code": cc("716186003", "No known allergy")}
    result = map_(record(AllergyIntolerance=[nka]))
    (entry,) = result.allergies
    assert entry.no_known_allergies and result.allergies_supplied and result.unreadable == ()


def test_entered_in_error_allergy_is_counted_not_shown() -> None:
    wrong = dict(PENICILLIN, id="oops",
                 verificationStatus=status("entered-in-error", "allergyintolerance-verification"))
    result = map_(record(AllergyIntolerance=[PENICILLIN, wrong]))
    assert [a.provenance.resource_id for a in result.allergies] == ["allergy-1"]
    assert [(u.resource_type, u.resource_id, u.reason) for u in result.unreadable] == [
        ("AllergyIntolerance", "oops", "entered in error")]


def test_resolved_allergy_is_kept_but_inactive() -> None:
    resolved = dict(PENICILLIN, id="old", clinicalStatus=status("resolved", "allergyintolerance-clinical"))
    (allergy,) = map_(record(AllergyIntolerance=[resolved])).allergies
    assert allergy.clinical_status == "resolved" and not allergy.is_active


AMOXICILLIN_REQUEST = {
    "resourceType": "MedicationRequest",
    "id": "mr-1",
    "status": "active",
    "intent": "order",
    "courseOfTherapyType": cc("acute", "Short course", "http://terminology.hl7.org/CodeSystem/"
                              "medicationrequest-course-of-therapy"),
    "medicationCodeableConcept": cc("39732411000001106", "Amoxicillin 500mg capsules", DMD),
    "authoredOn": "2026-11-18T15:00:00.000Z",
    "requester": {"reference": "Practitioner/1", "display": "Dr A Prescriber"},
    "dosageInstruction": [{"text": "500mg three times a day", "patientInstruction": "With food"}],
    "dispenseRequest": {"quantity": {"value": 21.0, "unit": "capsule"}},
    "note": [{"text": "Review at 5 days"}],
}


def test_medication_request_maps_every_field() -> None:
    result = map_(record(MedicationRequest=[AMOXICILLIN_REQUEST]))
    (med,) = result.medications
    assert med.name.label == "Amoxicillin 500mg capsules"
    assert med.name.code_in(DMD) == "39732411000001106"
    assert med.status == "active" and med.kind == "acute" and med.is_current
    assert med.dosage == "500mg three times a day"
    assert med.quantity == "21 capsule"
    assert med.started == PartialDate.parse("2026-11-18T15:00:00.000Z")
    assert med.prescriber == "Dr A Prescriber"
    assert med.patient_notes == ("With food",) and med.prescriber_notes == ("Review at 5 days",)
    assert not med.prescribed_elsewhere
    assert (med.provenance.resource_type, med.provenance.resource_id) == ("MedicationRequest", "mr-1")


def test_medication_from_contained_medication_and_built_dosage() -> None:
    request = {
        "resourceType": "MedicationRequest", "id": "mr-2", "status": "active",
        "contained": [{"resourceType": "Medication", "id": "m1",
                       "code": cc("42206511000001102", "Paracetamol 500mg tablets", DMD)}],
        "medicationReference": {"reference": "#m1"},
        "dosageInstruction": [{
            "timing": {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}},
            "route": cc("26643006", "Oral"),
            "doseAndRate": [{"doseQuantity": {"value": 1000, "unit": "mg"}}],
            "asNeededBoolean": True,
        }],
    }
    (med,) = map_(record(MedicationRequest=[request])).medications
    assert med.name.label == "Paracetamol 500mg tablets" and med.name.code_in(DMD) == "42206511000001102"
    assert med.dosage == "1000 mg Oral 4 times a day when required"


def test_medication_from_referenced_medication_fetched_alongside() -> None:
    request = {"resourceType": "MedicationRequest", "id": "mr-3", "status": "stopped",
               "medicationReference": {"reference": "Medication/med-9"}}
    medication = {"resourceType": "Medication", "id": "med-9", "code": cc("1", "Warfarin 1mg tablets", DMD)}
    (med,) = map_(record(MedicationRequest=[request], Medication=[medication])).medications
    assert med.name.label == "Warfarin 1mg tablets" and med.status == "stopped" and not med.is_current


def test_medication_statement_is_drug_history_from_elsewhere() -> None:
    statement = {
        "resourceType": "MedicationStatement", "id": "ms-1", "status": "active",
        "medicationCodeableConcept": cc("39732311000001104", "Amlodipine 5mg tablets", DMD),
        "effectivePeriod": {"start": "2021-02-15", "end": "2027-05"},
        "dosage": [{"text": "One daily"}],
        "informationSource": {"display": "Patient's own supply"},
        "note": [{"text": "Brought in by patient"}],
    }
    (med,) = map_(record(MedicationStatement=[statement])).medications
    assert med.prescribed_elsewhere and med.dosage == "One daily"
    assert med.started == PartialDate(2021, 2, 15) and med.ended == PartialDate(2027, 5)
    assert med.prescriber == "Patient's own supply" and med.prescriber_notes == ("Brought in by patient",)
    assert med.provenance.resource_type == "MedicationStatement"


def test_condition_maps_to_problem() -> None:
    condition = {
        "resourceType": "Condition", "id": "c1",
        "clinicalStatus": status("resolved", "condition-clinical"),
        "severity": cc("24484000", "Severe"),
        "code": cc("38341003", "Hypertension"),
        "onsetDateTime": "2015",
        "abatementDateTime": "2020-06-01",
        "note": [{"text": "Controlled"}],
    }
    (problem,) = map_(record(Condition=[condition])).problems
    assert problem.condition.label == "Hypertension" and problem.clinical_status == "resolved"
    assert problem.significance == "Severe"
    assert problem.onset == PartialDate(2015) and problem.abated == PartialDate(2020, 6, 1)
    assert problem.notes == ("Controlled",)
    assert problem.provenance.resource_id == "c1"


def test_malformed_clinical_resources_are_counted_with_reasons() -> None:
    resources = record(
        AllergyIntolerance=[
            {"resourceType": "AllergyIntolerance", "id": "no-code"},
            {"resourceType": "Condition", "id": "wrong-type"},
            {},
            "not a dict",  # type: ignore[list-item]
            dict(PENICILLIN, code="Penicillin", id="code-as-string"),
        ],
        MedicationRequest=[
            {"resourceType": "MedicationRequest", "id": "no-name", "status": "active"},
            dict(AMOXICILLIN_REQUEST, id="eie", status="entered-in-error"),
            dict(AMOXICILLIN_REQUEST, id="junk-fields", dosageInstruction="daily",
                 dispenseRequest=[1, 2], requester="Dr X", note="text"),
        ],
        MedicationStatement=[{"resourceType": "MedicationStatement", "id": "ms-bad",
                              "medicationReference": {"reference": "Medication/absent"}}],
        Condition=[{"resourceType": "Condition", "id": "c-no-code", "code": {"coding": "x"}},
                   {"resourceType": "Condition", "id": "c-eie", "code": cc("1", "X"),
                    "verificationStatus": status("entered-in-error", "condition-ver-status")}],
        Observation=[{"garbage": True}, "x"],  # type: ignore[list-item]
        Encounter=[{"resourceType": "Encounter", "id": "e1"}],
    )
    result = map_(resources)
    reasons = {(u.resource_type, u.resource_id): u.reason for u in result.unreadable}
    assert reasons == {
        ("AllergyIntolerance", "no-code"): "no substance given",
        ("AllergyIntolerance", "wrong-type"): "wrong or missing resource type",
        ("AllergyIntolerance", None): "entry has no resource",
        ("AllergyIntolerance", "code-as-string"): "no substance given",
        ("MedicationRequest", "no-name"): "no medicine name given",
        ("MedicationRequest", "eie"): "entered in error",
        ("MedicationStatement", "ms-bad"): "no medicine name given",
        ("Condition", "c-no-code"): "no condition given",
        ("Condition", "c-eie"): "entered in error",
        ("Observation", None): "entry has no resource",
        ("Encounter", "e1"): "no date, class or type given",
    }
    assert len(result.unreadable) == 13  # id-less entries of one type share a key above
    # the one with junk fields still shows: its name is readable, the odd fields are left empty
    (med,) = result.medications
    assert med.provenance.resource_id == "junk-fields" and med.dosage is None and med.quantity is None
    assert result.allergies == () and result.problems == ()


def test_types_the_viewer_does_not_show_are_not_counted_as_unreadable() -> None:
    """Resources fetched alongside only to resolve references (Practitioner, Medication, EpisodeOfCare)
    are not clinical items of their own."""
    result = map_(record(Practitioner=[{"resourceType": "Practitioner", "id": "p1"}],
                         EpisodeOfCare=[{"resourceType": "EpisodeOfCare", "id": "e1"}]))
    assert result.unreadable == () and result.allergies == () and result.observations == ()


def test_area_not_supplied_is_not_an_empty_area() -> None:
    resources = record()
    del resources["AllergyIntolerance"], resources["MedicationStatement"]
    result = map_(resources)
    assert not result.allergies_supplied
    assert result.missing_areas == ("Allergies", "Medications")
    assert [w.area for w in result.warnings] == ["Allergies", "Medications"]
    assert map_(record()).allergies_supplied and map_(record()).missing_areas == ()


def test_hospital_patient_maps_demographics() -> None:
    patient = {
        "resourceType": "Patient", "id": "mrn-1",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"},
                       {"system": "https://example.org/mrn", "value": "MRN1"}],
        "name": [{"use": "official", "family": "Smith", "given": ["Jane", "Ann"], "prefix": ["Mrs"]}],
        "gender": "female", "birthDate": "1945-07-14",
        "address": [{"use": "home", "line": ["1 High St"], "city": "Leeds", "postalCode": "LS1 1AA"}],
        "telecom": [{"system": "phone", "value": "0113 000 0000"}],
        "generalPractitioner": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                                "value": "Y90001"}, "display": "The Surgery"}],
    }
    result = map_(record(), patient)
    p = result.patient
    assert p is not None and p.nhs_number == "9990000018"
    assert p.name.banner() == "SMITH, Jane Ann (Mrs)" and p.gender == "female"
    assert p.birth_date == PartialDate(1945, 7, 14)
    assert p.address == ("1 High St", "Leeds") and p.postcode == "LS1 1AA" and p.phone == "0113 000 0000"
    assert (p.gp_practice_ods, p.gp_practice_name) == ("Y90001", "The Surgery")
    assert p.provenance.source is SourceKind.HOSPITAL and p.provenance.resource_id == "mrn-1"
    # the hospital's logical id is never taken for an NHS number
    assert map_(record(), {"resourceType": "Patient", "id": "mrn-1"}).patient.nhs_number == ""


@pytest.mark.parametrize(
    ("dosage", "expected"),
    [
        ({"timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}}}, "every 8 hours"),
        ({"timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}}, "twice a day"),
        ({"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}}}, "once a week"),
        ({"doseAndRate": [{"doseRange": {"low": {"value": 1}, "high": {"value": 2, "unit": "tablet"}}}]},
         "1 to 2 tablet"),
        ({"asNeededCodeableConcept": cc("1", "Pain")}, "when required for Pain"),
        ({}, None),
    ],
)
def test_dosage_built_from_structure(dosage: dict, expected: str | None) -> None:
    assert dosage_text([dosage]) == expected


def _garbage(rng: random.Random, depth: int = 0) -> Any:
    choices = [None, True, 3, 2.5, "", "x", "2026-13-45", [], {}]
    if depth < 4:
        choices += ["list", "dict", "dict"]
    pick = rng.choice(choices)
    if pick == "list":
        return [_garbage(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if pick == "dict":
        keys = ["coding", "text", "code", "display", "system", "reference", "value", "unit", "start",
                "end", "repeat", "frequency", "period", "periodUnit", "doseQuantity", "manifestation",
                "severity", "id", "resourceType", "contained", "extension", "url"]
        return {rng.choice(keys): _garbage(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return pick


FIELDS = ["id", "code", "clinicalStatus", "verificationStatus", "category", "recordedDate", "recorder",
          "note", "reaction", "medicationCodeableConcept", "medicationReference", "dosageInstruction",
          "dosage", "dispenseRequest", "status", "authoredOn", "requester", "courseOfTherapyType",
          "contained", "severity", "onsetDateTime", "onsetPeriod", "abatementDateTime", "abatementPeriod",
          "effectivePeriod", "effectiveDateTime", "extension", "informationSource", "criticality"]


def test_garbage_never_raises_and_nothing_is_lost() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        resources: dict[str, Any] = {}
        total = 0
        for rtype in ("AllergyIntolerance", "MedicationRequest", "MedicationStatement", "Condition"):
            items = []
            for _ in range(rng.randint(0, 4)):
                if rng.random() < 0.15:
                    items.append(_garbage(rng))
                else:
                    res = {f: _garbage(rng) for f in rng.sample(FIELDS, rng.randint(0, len(FIELDS)))}
                    res["resourceType"] = rtype
                    items.append(res)
            resources[rtype] = items
            total += len(items)
        patient = rng.choice([None, _garbage(rng), {"resourceType": "Patient", "name": _garbage(rng),
                                                    "address": _garbage(rng), "telecom": _garbage(rng)}])
        result = map_(resources, patient)
        shown = len(result.allergies) + len(result.medications) + len(result.problems)
        clinical_unreadable = [u for u in result.unreadable if u.resource_type != "Patient"]
        assert shown + len(clinical_unreadable) == total


def test_not_a_dict_resources_argument_is_tolerated() -> None:
    result = map_hospital_record("nonsense", "nonsense", retrieved_at=NOW, org_ods=ODS,  # type: ignore[arg-type]
                                 org_name=ORG)
    assert result.patient is None and not result.allergies_supplied
    assert result.unreadable[0].reason == "not a FHIR resource"
