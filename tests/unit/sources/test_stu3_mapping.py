"""STU3 mapping on hand-made Bundles: every field, and robustness to garbage (never an exception)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import orjson
import pytest

from viewer.domain.dates import PartialDate
from viewer.sources.errors import UnreadableResponse
from viewer.sources.stu3_mapping import map_structured_record

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NHS = "9990000018"
WARN = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ListWarningCode-1"
SPECIAL = "Dose & <care> \"quoted\" 'single' £5 \\ end"


def gp_list(code, refs, warnings=(), contained=None, title=None):
    resource = {
        "resourceType": "List",
        "id": f"list-{code}",
        "status": "current",
        "mode": "snapshot",
        "title": title or code,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
        "entry": [{"item": {"reference": r}} for r in refs],
        "extension": [{"url": WARN, "valueCode": w} for w in warnings],
    }
    if contained:
        resource["contained"] = contained
    return resource


def bundle():
    resources = [
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS}],
            "name": [{"use": "official", "family": "Testpatient", "given": ["Ann"], "prefix": ["Mrs"]}],
            "gender": "female",
            "birthDate": "1945-07-14",
            "address": {"use": "home", "line": ["1 Test Street"], "city": "Leeds", "postalCode": "LS1 1AA"},
            "managingOrganization": {"reference": "Organization/org1"},
            "generalPractitioner": [{"reference": "Practitioner/dangling"}],
        },
        {
            "resourceType": "Organization",
            "id": "org1",
            "name": "Test Practice",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A12345"}],
        },
        {
            "resourceType": "Practitioner",
            "id": "pr1",
            "name": [{"family": "Gose", "given": ["Sandra"], "prefix": ["Dr"]}],
        },
        {
            "resourceType": "PractitionerRole",
            "id": "role1",
            "practitioner": {"reference": "Practitioner/pr1"},
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "al-1!bad*id",
            "clinicalStatus": "active",
            "verificationStatus": "confirmed",
            "category": "medication",
            "criticality": "high",
            "assertedDate": "2020-03",
            "recorder": {"reference": "PractitionerRole/role1"},
            "code": {
                "coding": [
                    {"system": "http://snomed.info/sct", "code": "294505008", "display": "Penicillin allergy"}
                ]
            },
            "note": [{"text": SPECIAL}],
            "reaction": [{"manifestation": [{"text": "Rash"}], "severity": "moderate"}],
        },
        gp_list(
            "886921000000105",
            ["AllergyIntolerance/al-1!bad*id", "Condition/c-allergy", "AllergyIntolerance/missing-allergy"],
            warnings=["confidential-items"],
        ),
        gp_list(
            "1103671000000101",
            ["#ended1"],
            contained=[
                {
                    "resourceType": "AllergyIntolerance",
                    "id": "ended1",
                    "code": {"text": "Latex"},
                    "extension": [
                        {
                            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-AllergyIntoleranceEnd-1",
                            "extension": [
                                {"url": "endDate", "valueDateTime": "2021"},
                                {"url": "reasonEnded", "valueString": "No longer reacts"},
                            ],
                        }
                    ],
                }
            ],
        ),
        {
            "resourceType": "Condition",
            "id": "c-allergy",
            "clinicalStatus": "active",
            "code": {
                "coding": [
                    {"system": "http://snomed.info/sct", "code": "91935009", "display": "Allergy to peanut"}
                ]
            },
            "extension": [
                {
                    "url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ProblemSignificance-1",
                    "valueCode": "major",
                }
            ],
            "onsetDateTime": "2019-03-28",
            "abatementDateTime": "2020",
            "note": [{"text": "problem note"}],
        },
        {
            "resourceType": "Medication",
            "id": "med1",
            "code": {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "39732311000001104",
                        "display": "Amlodipine 5mg tablets",
                    }
                ]
            },
        },
        {
            "resourceType": "MedicationRequest",
            "id": "plan1",
            "intent": "plan",
            "status": "active",
            "medicationReference": {"reference": "Medication/med1"},
            "recorder": {"reference": "Practitioner/pr1"},
            "note": [{"text": "Review in 6 months"}],
            "dosageInstruction": [{"text": "One daily", "patientInstruction": "Take in the morning"}],
            "dispenseRequest": {"quantity": {"value": 28.0, "unit": "tablet"}},
            "extension": [
                {
                    "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-PrescriptionType-1",
                    "valueCodeableConcept": {"coding": [{"code": "repeat"}]},
                }
            ],
        },
        {
            "resourceType": "MedicationStatement",
            "id": "ms1",
            "status": "active",
            "basedOn": [{"reference": "MedicationRequest/plan1"}],
            "medicationReference": {"reference": "Medication/med1"},
            "effectivePeriod": {"start": "2025-01"},
            "dosage": [{"text": "One daily"}],
            "extension": [
                {
                    "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1",
                    "valueDateTime": "2026-02-10",
                },
                {
                    "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-PrescribingAgency-1",
                    "valueCodeableConcept": {"coding": [{"code": "prescribed-by-another-organisation"}]},
                },
            ],
        },
        {
            "resourceType": "MedicationStatement",
            "id": "ms-degraded",
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "196421000000109",
                        "display": "Transfer-degraded medication entry",
                    }
                ]
            },
            "basedOn": [{"reference": "MedicationRequest/dangling"}],
        },
        gp_list(
            "933361000000108",
            ["MedicationStatement/ms1", "MedicationStatement/ms-degraded"],
            warnings=["data-in-transit"],
        ),
        {
            "resourceType": "OperationOutcome",
            "id": "oo",
            "issue": [
                {
                    "severity": "warning",
                    "code": "not-supported",
                    "details": {
                        "coding": [{"code": "NOT_IMPLEMENTED"}],
                        "text": "includeReferrals is an unrecognised parameter",
                    },
                    "diagnostics": "includeReferrals",
                }
            ],
        },
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def mapped(data=None):
    return map_structured_record(orjson.dumps(data or bundle()), retrieved_at=NOW)


def by_id(items, rid):
    return next(i for i in items if i.provenance.resource_id == rid)


def test_patient_and_practice():
    record = mapped()
    p = record.patient
    assert p.nhs_number == NHS and p.name.family == "Testpatient" and p.gender == "female"
    assert p.birth_date == PartialDate(1945, 7, 14)
    assert p.address == ("1 Test Street", "Leeds") and p.postcode == "LS1 1AA"  # address given as an object
    assert (p.gp_practice_ods, p.gp_practice_name) == ("A12345", "Test Practice")
    assert (record.org_ods, record.org_name) == ("A12345", "Test Practice")
    assert p.provenance.resource_id == "p1"


def test_allergy_fields_and_provenance():
    record = mapped()
    a = by_id(record.allergies, "al-1!bad*id")
    assert a.substance.label == "Penicillin allergy"
    assert (a.clinical_status, a.verification_status, a.criticality) == ("active", "confirmed", "high")
    assert a.category == ("medication",)  # a lone string where a list is due
    assert a.asserted == PartialDate(2020, 3)
    assert a.recorder == "Dr Sandra Gose"
    assert a.notes == (SPECIAL,)  # special characters exactly as received
    assert a.reactions[0].severity == "moderate" and a.reactions[0].manifestations[0].label == "Rash"
    assert a.provenance.warnings == ("confidential-items",)
    assert a.provenance.org_ods == "A12345" and a.provenance.retrieved_at == NOW
    assert a.is_active and not a.no_known_allergies


def test_ended_allergy_is_resolved_and_keeps_end_details():
    ended = by_id(mapped().allergies, "ended1")
    assert ended.clinical_status == "resolved" and not ended.is_active
    assert ended.end_date == PartialDate(2021) and ended.end_reason == "No longer reacts"


def test_allergy_recorded_as_problem_appears_under_allergies_and_problems():
    record = mapped()
    as_allergy = by_id(record.allergies, "c-allergy")
    assert (
        as_allergy.substance.label == "Allergy to peanut"
        and as_allergy.provenance.resource_type == "Condition"
    )
    problem = by_id(record.problems, "c-allergy")
    assert problem.significance == "major" and problem.onset == PartialDate(2019, 3, 28)
    assert problem.abated == PartialDate(2020) and problem.notes == ("problem note",)


def test_dangling_list_reference_is_counted():
    record = mapped()
    missing = [u for u in record.unreadable if u.resource_id == "missing-allergy"]
    assert len(missing) == 1 and missing[0].resource_type == "AllergyIntolerance"
    assert len(record.unreadable) == 1


def test_medication_fields():
    record = mapped()
    m = by_id(record.medications, "ms1")
    assert m.name.label == "Amlodipine 5mg tablets"
    assert (m.status, m.kind, m.dosage, m.quantity) == ("active", "repeat", "One daily", "28 tablet")
    assert m.started == PartialDate(2025, 1) and m.ended is None
    assert m.last_issued == PartialDate(2026, 2, 10)
    assert m.prescriber == "Dr Sandra Gose"
    assert m.patient_notes == ("Take in the morning",) and m.prescriber_notes == ("Review in 6 months",)
    assert m.prescribed_elsewhere and not m.transfer_degraded
    assert m.provenance.warnings == ("data-in-transit",)
    degraded = by_id(record.medications, "ms-degraded")
    assert degraded.transfer_degraded and degraded.quantity is None  # dangling plan: kept, less detail


def test_warnings_and_missing_areas():
    record = mapped()
    codes = {(w.code, w.area): w.message for w in record.warnings}
    assert codes[("confidential-items", "allergies")] == (
        "Items excluded due to confidentiality and/or patient preferences"
    )
    assert ("data-in-transit", None) in codes
    assert record.missing_areas == ("referrals",)
    assert "referrals" in codes[("NOT_IMPLEMENTED", "referrals")]
    assert record.allergies_supplied


def test_entry_order_does_not_matter():
    forward = mapped()
    data = bundle()
    data["entry"].reverse()
    backward = mapped(data)
    assert {a.provenance.resource_id: a for a in forward.allergies} == {
        a.provenance.resource_id: a for a in backward.allergies
    }
    assert set(forward.medications) == set(backward.medications)
    assert forward.patient == backward.patient


def test_no_allergy_list_means_allergies_not_supplied():
    data = bundle()
    data["entry"] = [
        e
        for e in data["entry"]
        if e["resource"].get("id") not in ("list-886921000000105", "list-1103671000000101")
    ]
    record = mapped(data)
    assert not record.allergies_supplied


def test_garbage_entries_become_unreadable_not_exceptions():
    data = bundle()
    data["entry"] += [
        "junk",
        42,
        None,
        {"fullUrl": "x"},
        {"resource": "string"},
        {"resource": {"id": "no-type"}},
        {"resource": {"resourceType": "AllergyIntolerance", "id": "no-code"}},
        {
            "resource": {
                "resourceType": "AllergyIntolerance",
                "id": "odd",
                "code": {"text": "Eggs"},
                "reaction": "not a list",
                "note": "x",
                "assertedDate": 2020,
                "recorder": "x",
                "clinicalStatus": {"coding": [{"code": "active"}]},
            }
        },
        {"resource": {"resourceType": "MedicationStatement", "id": "ms-no-name"}},
        {"resource": {"resourceType": "Condition", "id": "c-empty", "code": []}},
        {"resource": {"resourceType": "List", "entry": "junk", "extension": [1, {"url": WARN}]}},
        {"resource": {"resourceType": "OperationOutcome", "issue": ["x", {"details": "y"}]}},
    ]
    record = mapped(data)
    reasons = {(u.resource_type, u.resource_id): u.reason for u in record.unreadable}
    assert ("AllergyIntolerance", "no-code") in reasons
    assert ("MedicationStatement", "ms-no-name") in reasons
    assert ("Condition", "c-empty") in reasons
    assert sum(1 for u in record.unreadable if u.resource_type == "Bundle.entry") == 6
    odd = by_id(record.allergies, "odd")  # wrong types inside a resource cost only those fields
    assert odd.substance.label == "Eggs" and odd.clinical_status == "active" and odd.asserted is None
    for u in record.unreadable:
        assert NHS not in u.reason


def test_patient_missing_or_broken_is_counted():
    data = bundle()
    data["entry"] = [e for e in data["entry"] if e["resource"]["resourceType"] != "Patient"]
    record = mapped(data)
    assert record.patient is None
    assert ("Patient", None) in {(u.resource_type, u.resource_id) for u in record.unreadable}
    assert record.org_ods == "A12345"  # the only Organization still names the practice


def test_dict_body_and_unreadable_bodies():
    assert map_structured_record(copy.deepcopy(bundle()), retrieved_at=NOW).patient.nhs_number == NHS
    for body in (b"{", b"[]", b'{"resourceType": "OperationOutcome"}'):
        with pytest.raises(UnreadableResponse):
            map_structured_record(body, retrieved_at=NOW)
