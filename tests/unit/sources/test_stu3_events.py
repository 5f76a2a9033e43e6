"""STU3 consultations, observations, reports, immunisations, referrals and plan-only medicines on
hand-made Bundles: every field the mappers promise, the Bundle structure they read, and garbage."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from viewer.domain.coding import SNOMED
from viewer.sources.stu3_mapping import map_structured_record
from viewer.sources.stu3_values import number_of, value_of

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NHS = "9990000018"
WARN = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ListWarningCode-1"
CC = "https://fhir.hl7.org.uk/STU3/StructureDefinition/"
SPECIAL = "Dose & <care> \"quoted\" 'single' £5 \\ end"


def sct(code, display):
    return {"coding": [{"system": SNOMED, "code": code, "display": display}]}


def gp_list(rid, code, refs, *, title=None, encounter=None, warnings=(), contained=None):
    resource = {
        "resourceType": "List",
        "id": rid,
        "status": "current",
        "mode": "snapshot",
        "title": rid if title is None else title,
        "code": sct(code, title or rid),
        "entry": [{"item": r if isinstance(r, dict) else {"reference": r}} for r in refs],
        "extension": [{"url": WARN, "valueCode": w} for w in warnings],
    }
    if encounter:
        resource["encounter"] = {"reference": f"Encounter/{encounter}"}
    if contained:
        resource["contained"] = contained
    return resource


def base():
    return [
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS}],
            "name": [{"family": "Testpatient", "given": ["Ann"]}],
            "managingOrganization": {"reference": "Organization/org1"},
        },
        {
            "resourceType": "Organization",
            "id": "org1",
            "name": "Test Practice",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A12345"}],
        },
        {"resourceType": "Practitioner", "id": "pr1", "name": [{"family": "Gose", "prefix": ["Dr"]}]},
        {"resourceType": "Practitioner", "id": "pr2", "name": [{"family": "Recorder", "prefix": ["Ms"]}]},
        {"resourceType": "PractitionerRole", "id": "role1",
         "practitioner": {"reference": "Practitioner/pr1"}},
        {"resourceType": "Location", "id": "loc1", "name": "Main Surgery"},
    ]


def mapped(*resources, raw_entries=()):
    body = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (*base(), *resources)] + list(raw_entries),
    }
    return map_structured_record(orjson.dumps(body), retrieved_at=NOW)


def by_id(items, rid):
    (found,) = [i for i in items if i.provenance.resource_id == rid]
    return found


def unread(record):
    return {(u.resource_type, u.resource_id): u.reason for u in record.unreadable}


# --- consultations ----------------------------------------------------------------------------------


def consultation():
    encounter = {
        "resourceType": "Encounter",
        "id": "enc1",
        "status": "finished",
        "type": [{"text": "Surgery Consultation"}],
        "reason": [sct("195967001", "Asthma")],
        "participant": [
            {"type": [{"coding": [{"code": "REC"}]}], "individual": {"reference": "Practitioner/pr2"}},
            {"type": [{"coding": [{"code": "PPRF"}]}], "individual": {"reference": "PractitionerRole/role1"}},
        ],
        "period": {"start": "2024-03-28T10:30:00+00:00", "end": "2024-03-28T10:38:00+00:00"},
        "location": [{"location": {"reference": "Location/loc1"}}, {"location": {"display": "Room 2"}}],
    }
    note = {
        "resourceType": "Observation",
        "id": "note1",
        "status": "final",
        "code": sct("37331000000100", "Comment note"),
        "effectiveDateTime": "2024-03-28T10:30:00+00:00",
        "comment": SPECIAL,
    }
    bp = {
        "resourceType": "Observation",
        "id": "bp1",
        "status": "final",
        "code": sct("163020007", "O/E - blood pressure reading"),
        "effectiveDateTime": "2024-03-28",
        "component": [
            {"code": sct("72313002", "Systolic"), "valueQuantity": {"value": 130, "unit": "mm[Hg]"}},
            {"code": sct("1091811000000102", "Diastolic"), "valueQuantity": {"value": 72, "unit": "mm[Hg]"}},
        ],
    }
    plan = {
        "resourceType": "MedicationRequest",
        "id": "mr-plan",
        "intent": "plan",
        "status": "active",
        "medicationCodeableConcept": {"text": "Salbutamol inhaler"},
    }
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "basedOn": [{"reference": "MedicationRequest/mr-plan"}],
        "medicationCodeableConcept": {"text": "Salbutamol inhaler"},
    }
    lists = [
        gp_list("consultations", "1149501000000101", ["Encounter/enc1"], warnings=["confidential-items"]),
        gp_list("c1", "325851000000107", ["List/t1", "List/t2"], title="Surgery Consultation",
                encounter="enc1"),
        gp_list("t1", "25851000000105", ["List/h1", "List/h2"], title="Asthma", encounter="enc1"),
        gp_list("t2", "25851000000105", ["Observation/bp1"], title="", encounter="enc1"),  # flat topic
        gp_list("h1", "24781000000107", ["Observation/note1", {"display": "Referral items not supported"}],
                title="History", encounter="enc1"),
        gp_list("h2", "24781000000107", ["MedicationRequest/mr-plan", "Observation/gone"], title="Plan",
                encounter="enc1"),
    ]
    return [encounter, note, bp, plan, statement, *lists]


def test_consultation_fields_and_readable_content():
    record = mapped(*consultation())
    (encounter,) = record.encounters
    assert encounter.kind == "consultation" and encounter.type.label == "Surgery Consultation"
    assert encounter.status == "finished"
    assert encounter.start.display_with_time() == "28-Mar-2024 10:30"
    assert encounter.end.display_with_time() == "28-Mar-2024 10:38"
    assert [r.code_in(SNOMED) for r in encounter.reasons] == ["195967001"]
    assert encounter.clinician == "Dr Gose"  # the primary performer, through the PractitionerRole
    assert encounter.location == "Main Surgery"
    assert encounter.notes == (
        "Topic: Asthma",
        f"History: {SPECIAL}",
        "History: Referral items not supported",
        "Plan: Medication authorised: Salbutamol inhaler",
        "O/E - blood pressure reading Systolic 130 mm[Hg]; Diastolic 72 mm[Hg]",
    )
    assert encounter.provenance.warnings == ("confidential-items",)
    assert encounter.provenance.org_ods == "A12345" and encounter.provenance.retrieved_at == NOW


def test_consultation_content_items_are_observations_too():
    record = mapped(*consultation())
    note = by_id(record.observations, "note1")
    assert note.test.label == "Comment note" and note.value is None and note.notes == (SPECIAL,)
    bp = by_id(record.observations, "bp1")
    assert bp.value == "Systolic 130 mm[Hg]; Diastolic 72 mm[Hg]" and bp.number is None
    # the plan sits behind the statement: one medicine, not two
    assert [m.provenance.resource_id for m in record.medications] == ["ms1"]


def test_cyclic_consultation_lists_terminate():
    lists = [
        gp_list("c1", "325851000000107", ["List/t1"], encounter="enc1"),
        gp_list("t1", "25851000000105", ["List/t1", "List/c1"], title="Loop", encounter="enc1"),
    ]
    encounter = {"resourceType": "Encounter", "id": "enc1", "type": [{"text": "Visit"}]}
    record = mapped(encounter, *lists)
    assert record.encounters[0].notes == ("Topic: Loop",)


# --- observations and investigations --------------------------------------------------------------


def investigation():
    group = {
        "resourceType": "Observation",
        "id": "fbc",
        "status": "final",
        "code": sct("26604007", "Full blood count"),
        "issued": "2024-04-03T12:00:00+00:00",
        "related": [
            {"type": "has-member", "target": {"reference": "Observation/wcc"}},
            {"type": "has-member", "target": {"reference": "Observation/hb"}},
            {"type": "derived-from", "target": {"reference": "Observation/other"}},
        ],
    }
    wcc = {
        "resourceType": "Observation",
        "id": "wcc",
        "status": "final",
        "code": sct("1022541000000102", "Total white cell count"),
        "effectiveDateTime": "2024-04-02T09:15:00+01:00",
        "valueQuantity": {"value": 12.5, "unit": "10*9/L", "comparator": ">"},
        "referenceRange": [{"low": {"value": 3.5}, "high": {"value": "11"}}],
        "interpretation": sct("H", "High"),
        "comment": "Repeat in a week",
    }
    hb = {
        "resourceType": "Observation",
        "id": "hb",
        "status": "final",
        "code": sct("1022431000000105", "Haemoglobin estimation"),
        "effectiveDateTime": "2024-04-02",
        "valueQuantity": {"value": "142.000", "unit": "g/L"},
        "referenceRange": [{"text": "115 - 150"}],
    }
    filing = {
        "resourceType": "Observation",
        "id": "comm",
        "status": "final",
        "code": sct("37331000000100", "Comment note"),
        "effectiveDateTime": "2024-04-03",
        "comment": "Filed by Dr Gose",
    }
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr1",
        "status": "final",
        "code": sct("721981007", "Diagnostic studies report"),
        "issued": "2024-04-03T12:00:00+00:00",
        "result": [{"reference": "Observation/comm"}, {"reference": "Observation/fbc"},
                   {"reference": "Observation/withheld"}],
        "conclusion": "Mild leucocytosis",
    }
    listed = gp_list("inv", "887191000000108", ["DiagnosticReport/dr1"], warnings=["confidential-items"])
    return [group, wcc, hb, filing, report, listed]


def test_results_are_grouped_by_their_report_through_test_groups():
    record = mapped(*investigation())
    (report,) = record.reports
    assert report.name.label == "Full blood count"  # not the generic 'Diagnostic studies report'
    assert report.name.code_in(SNOMED) == "721981007"
    assert report.result_ids == ("comm", "fbc", "wcc", "hb")  # a group's members follow the group
    assert report.issued.display() == "03-Apr-2024" and report.status == "final"
    assert report.conclusion == "Mild leucocytosis"
    assert {o.provenance.resource_id: o.report_id for o in record.observations} == {
        "fbc": "dr1", "wcc": "dr1", "hb": "dr1", "comm": "dr1",
    }
    # the report's List warning reaches its results
    assert by_id(record.observations, "wcc").provenance.warnings == ("confidential-items",)
    assert unread(record) == {
        ("Observation", "withheld"): "listed in a report but not included in the response"
    }


def test_observation_value_fields():
    record = mapped(*investigation())
    wcc = by_id(record.observations, "wcc")
    assert (wcc.value, wcc.number, wcc.unit, wcc.comparator) == ("12.5", 12.5, "10*9/L", ">")
    assert (wcc.range_low, wcc.range_high, wcc.range_text) == (3.5, 11.0, None)
    assert wcc.interpretation == "High" and wcc.status == "final" and wcc.notes == ("Repeat in a week",)
    assert wcc.effective.display_with_time() == "02-Apr-2024 09:15"
    hb = by_id(record.observations, "hb")
    assert (hb.value, hb.number, hb.range_text) == ("142.000", 142.0, "115 - 150")  # kept as sent
    group = by_id(record.observations, "fbc")
    assert group.value is None and group.effective.display() == "03-Apr-2024"  # issued when no effective


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ({"valueString": "Abnormal"}, ("Abnormal", None)),
        ({"valueCodeableConcept": {"text": "Positive"}}, ("Positive", None)),
        ({"valueBoolean": False}, ("No", None)),
        ({"valueInteger": 7}, ("7", 7.0)),
        ({"valueQuantity": {"value": "n/a"}}, ("n/a", None)),
        ({"valueRange": {"low": {"value": 1, "unit": "mg"}, "high": {"value": 2, "unit": "mg"}}},
         ("1 mg - 2 mg", None)),
        ({"valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 40}}}, ("1 / 40", None)),
        ({"valueDateTime": "2024-05"}, ("May-2024", None)),
        ({"valueQuantity": "junk"}, (None, None)),
        ({}, (None, None)),
    ],
)
def test_value_shapes(element, expected):
    value = value_of(element)
    assert (value.text, value.number) == expected


def test_numbers_keep_their_text():
    assert number_of(200.0) == ("200.0", 200.0)
    assert number_of(True) == (None, None)
    assert number_of("  ") == (None, None)


def test_uncategorised_observation_with_absent_value_and_period():
    observation = {
        "resourceType": "Observation",
        "id": "o1",
        "code": {"text": "Peak flow"},
        "effectivePeriod": {"start": "1952"},
        "dataAbsentReason": {"text": "Patient declined"},
    }
    listed = gp_list("uncat", "826501000000100", ["o1", "Observation/o-gone"])  # untyped, and dangling
    record = mapped(observation, listed)
    (item,) = record.observations
    assert item.effective.display() == "1952" and item.notes == ("No value: Patient declined",)
    assert unread(record) == {
        ("Observation", "o-gone"): "listed in the record but not included in the response"
    }


def test_observation_contained_in_a_list_is_mapped():
    contained = {"resourceType": "Observation", "id": "inside", "code": {"text": "Weight"},
                 "valueQuantity": {"value": 70, "unit": "kg"}}
    record = mapped(gp_list("uncat", "826501000000100", ["#inside"], contained=[contained]))
    assert by_id(record.observations, "inside").value == "70"


# --- immunisations ----------------------------------------------------------------------------------


def immunisation(**changes):
    resource = {
        "resourceType": "Immunization",
        "id": "imm1",
        "extension": [
            {"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ParentPresent-1",
             "valueBoolean": True},
            {"url": CC + "Extension-CareConnect-DateRecorded-1",
             "valueDateTime": "2019-06-28T10:00:00+01:00"},
            {"url": CC + "Extension-CareConnect-VaccinationProcedure-1",
             "valueCodeableConcept": sct("170378007", "First hepatitis A vaccination")},
        ],
        "status": "completed",
        "notGiven": False,
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/v3/NullFlavor", "code": "UNK"}],
                        "text": "Unknown"},
        "date": "2019-06-28",
        "lotNumber": "AAJN11K",
        "site": sct("368209003", "Right upper arm"),
        "route": sct("34206005", "Subcutaneous route"),
        "doseQuantity": {"value": 0.5, "code": "ml"},
        "practitioner": [
            {"role": {"coding": [{"code": "EP"}]}, "actor": {"reference": "Practitioner/pr2"}},
            {"role": {"coding": [{"code": "AP"}]}, "actor": {"reference": "Practitioner/pr1"}},
        ],
        "note": [{"text": SPECIAL}],
        "explanation": {"reason": [{"text": "Travel"}]},
        "vaccinationProtocol": [{"doseSequence": 1, "seriesDoses": 2}],
    }
    resource.update(changes)
    return resource


def test_immunisation_fields():
    record = mapped(immunisation(), gp_list("imms", "1102181000000102", ["Immunization/imm1"]))
    (item,) = record.immunisations
    assert item.vaccine.label == "First hepatitis A vaccination"  # the procedure stands in for UNK
    assert item.given.display() == "28-Jun-2019" and item.status == "completed"
    assert item.dose == "Dose 1 of 2"
    assert (item.site, item.route, item.batch) == ("Right upper arm", "Subcutaneous route", "AAJN11K")
    assert item.performer == "Dr Gose"  # the administering provider, not the one who entered it
    assert item.notes == (SPECIAL, "Parent present", "Recorded 28-Jun-2019", "Amount given: 0.5 ml",
                          "Reason: Travel")
    assert item.provenance.resource_type == "Immunization"


def test_immunisation_product_code_wins_and_not_given_is_not_done():
    product = sct("3020511000001106", "Engerix B vaccine")
    item = mapped(immunisation(vaccineCode=product, notGiven=True,
                               explanation={"reasonNotGiven": [{"text": "Unwell"}]})).immunisations[0]
    assert item.vaccine.label == "Engerix B vaccine" and item.status == "not-done"
    assert "Reason not given: Unwell" in item.notes


def test_immunisation_without_any_vaccine_is_unreadable():
    unknown = {"coding": [{"code": "UNK", "system": "http://hl7.org/fhir/v3/NullFlavor"}]}
    kept = mapped(immunisation(extension=[], vaccineCode=unknown)).immunisations[0]
    assert kept.vaccine.label == "UNK" and kept.given.display() == "28-Jun-2019"  # as given, not hidden
    record = mapped(immunisation(extension=[], vaccineCode={}))
    assert record.immunisations == ()
    assert unread(record) == {("Immunization", "imm1"): "immunisation has no vaccine or procedure"}


# --- referrals ------------------------------------------------------------------------------------


def test_referral_fields():
    referral = {
        "resourceType": "ReferralRequest",
        "id": "ref1",
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "authoredOn": "2024-01-05",
        "requester": {"agent": {"reference": "Practitioner/pr1"}},
        "recipient": [{"reference": "HealthcareService/hs1"}, {"reference": "Practitioner/pr2"}],
        "reasonCode": [sct("308447003", "Referral to physiotherapist")],
        "description": "Knee pain",
        "note": [{"text": SPECIAL}],
    }
    service = {"resourceType": "HealthcareService", "id": "hs1", "name": "Physiotherapy"}
    record = mapped(referral, service, gp_list("refs", "792931000000107", ["ReferralRequest/ref1"]))
    (item,) = record.referrals
    assert item.service == "Physiotherapy" and item.recipient == "Physiotherapy; Ms Recorder"
    assert [r.label for r in item.reasons] == ["Referral to physiotherapist"]
    assert item.authored.display() == "05-Jan-2024"
    assert (item.status, item.priority, item.requester) == ("active", "urgent", "Dr Gose")
    assert item.notes == ("Knee pain", SPECIAL)


def test_referral_specialty_and_empty_referral():
    referral = {"resourceType": "ReferralRequest", "id": "ref1", "specialty": {"text": "Cardiology"}}
    assert mapped(referral).referrals[0].service == "Cardiology"
    record = mapped({"resourceType": "ReferralRequest", "id": "empty", "status": "active"})
    assert unread(record) == {("ReferralRequest", "empty"): "referral has no service, reason or date"}


# --- medicines without a statement ----------------------------------------------------------------


def test_plan_without_statement_is_a_medicine_with_its_last_issue():
    medication = {"resourceType": "Medication", "id": "med1", "code": sct("39113611000001102", "Ramipril")}
    plan = {
        "resourceType": "MedicationRequest",
        "id": "plan1",
        "intent": "plan",
        "status": "active",
        "medicationReference": {"reference": "Medication/med1"},
        "authoredOn": "2023-01-01",
        "dispenseRequest": {"validityPeriod": {"start": "2023-01-02"}, "quantity": {"value": 28,
                                                                                      "unit": "tablet"}},
        "dosageInstruction": [{"text": "One daily", "patientInstruction": "With food"}],
        "extension": [{"url": "https://fhir.nhs.uk/STU3/StructureDefinition/"
                              "Extension-CareConnect-GPC-PrescriptionType-1",
                       "valueCodeableConcept": {"coding": [{"code": "repeat"}]}}],
        "recorder": {"reference": "Practitioner/pr1"},
    }
    orders = [
        {"resourceType": "MedicationRequest", "id": f"o{n}", "intent": "order", "authoredOn": day,
         "basedOn": [{"reference": "MedicationRequest/plan1"}]}
        for n, day in enumerate(("2023-03-01", "2023-05-01", "2023-02-01"))
    ]
    record = mapped(medication, plan, *orders)
    (item,) = record.medications
    assert item.provenance.resource_type == "MedicationRequest" and item.provenance.resource_id == "plan1"
    assert (item.name.label, item.status, item.kind) == ("Ramipril", "active", "repeat")
    assert (item.dosage, item.patient_notes, item.quantity) == ("One daily", ("With food",), "28 tablet")
    assert item.started.display() == "02-Jan-2023" and item.last_issued.display() == "01-May-2023"
    assert item.prescriber == "Dr Gose"


# --- robustness -----------------------------------------------------------------------------------


def test_garbage_in_new_areas_becomes_unreadable_not_exceptions():
    junk = [
        {"resourceType": "Encounter", "id": "e-empty"},
        {"resourceType": "Encounter", "id": "e-odd", "type": ["x", {"text": "Visit"}], "period": "y",
         "participant": [1, "x"], "location": "z", "status": {"coding": [{"code": "finished"}]}},
        {"resourceType": "Observation", "id": "o-empty", "valueQuantity": {"value": 1}},
        {"resourceType": "Observation", "id": "o-odd", "code": {"text": "Weight"}, "valueQuantity": [],
         "referenceRange": "x", "component": "y", "related": 5, "comment": 7, "interpretation": "z"},
        {"resourceType": "DiagnosticReport", "id": "d-empty", "result": "junk"},
        {"resourceType": "DiagnosticReport", "id": "d-odd", "code": {"text": "Bloods"},
         "result": [None, 3, {"reference": "#x"}, {"reference": "Condition/c"}]},
        {"resourceType": "Immunization", "id": "i-odd", "vaccineCode": {"text": "Flu"}, "extension": "x",
         "vaccinationProtocol": [None, {"doseSequence": "two"}], "practitioner": "x",
         "explanation": [], "doseQuantity": 5},
        {"resourceType": "ReferralRequest", "id": "r-odd", "description": "Seen", "recipient": "x",
         "requester": "y", "reasonCode": {"text": "Back pain"}},
        {"resourceType": "MedicationRequest", "id": "plan-empty", "intent": "plan"},
        {"resourceType": "List", "code": sct("325851000000107", "Consultation"), "encounter": "x",
         "entry": [None, {"item": "x"}]},
    ]
    record = mapped(*junk)
    reasons = unread(record)
    assert reasons == {
        ("Encounter", "e-empty"): "consultation has no type or date",
        ("Observation", "o-empty"): "observation has no code or text",
        ("DiagnosticReport", "d-empty"): "investigation report has no code or text",
        ("MedicationRequest", "plan-empty"): "medicine has no name (its Medication is missing or uncoded)",
    }
    odd_encounter = by_id(record.encounters, "e-odd")
    assert odd_encounter.status == "finished" and odd_encounter.type.label == "Visit"
    assert odd_encounter.start is None and odd_encounter.clinician is None
    assert by_id(record.observations, "o-odd").value is None
    assert by_id(record.reports, "d-odd").result_ids == ()
    odd = by_id(record.immunisations, "i-odd")
    assert odd.vaccine.label == "Flu" and odd.dose == "Dose two"
    assert by_id(record.referrals, "r-odd").reasons[0].label == "Back pain"
    for reason in reasons.values():
        assert NHS not in reason


def test_areas_without_resources_are_empty_and_documents_flags_never_set():
    record = mapped()
    assert record.encounters == record.observations == record.reports == ()
    assert record.immunisations == record.referrals == record.documents == record.flags == ()
