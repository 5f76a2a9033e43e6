"""The sandbox GP Connect provider's Bundle and errors, checked against the spec and STU3 models.

Every body the provider can produce is validated with fhir.resources' STU3 classes, and for a whole
synthetic world once `population.build_world` exists.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.STU3 import get_fhir_model_class
from fhir.resources.STU3.bundle import Bundle

from viewer.sandbox.gpconnect_stu3 import (
    BUNDLE_PROFILE,
    EMPTY_REASON_SYSTEM,
    LIST_WARNING_URL,
    OPERATION_OUTCOME_PROFILE,
    SPINE_CODES,
    parse_parameters,
    structured_record,
)
from viewer.sandbox.nhs_numbers import make_nhs_number
from viewer.sandbox.world import (
    DMD,
    SNOMED,
    Area,
    ClinicalRecord,
    Clinician,
    Code,
    Demographics,
    GpAccess,
    Name,
    Practice,
    SynthAllergy,
    SynthEncounter,
    SyntheticPatient,
    SynthImmunisation,
    SynthMedication,
    SynthObservation,
    SynthProblem,
    SynthReferral,
    World,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ODS = "Y90001"
OTHER_ODS = "Y90002"
DR = Clinician(id="gp-1", name=Name("Okafor", ("Ada",), "Dr"), sds_user_id="600001000001")
LIST_CODES = {
    Area.ALLERGIES: "886921000000105",
    Area.MEDICATION: "933361000000108",
    Area.CONSULTATIONS: "1149501000000101",
    Area.PROBLEMS: "717711000000103",
    Area.IMMUNISATIONS: "1102181000000102",
    Area.UNCATEGORISED: "826501000000100",
    Area.INVESTIGATIONS: "887191000000108",
    Area.REFERRALS: "792931000000107",
}
ENDED_ALLERGIES = "1103671000000101"


def _demo(family: str) -> Demographics:
    return Demographics(
        Name(family, ("Sam",), "Mx"),
        "unknown",
        date(1970, 5, 4),
        ("1 High St",),
        "WL1 1AA",
        "01632 960000",
    )


def _rich_record() -> ClinicalRecord:
    day = date(2025, 6, 1)
    return ClinicalRecord(
        demographics=_demo("Rich"),
        allergies=[
            SynthAllergy(
                "a-1",
                Code(SNOMED, "91936005", "Allergy to penicillin"),
                "active",
                "confirmed",
                "medication",
                day,
                DR,
                note='Rash & wheeze <2h> "bad" £5',
                reaction=Code(SNOMED, "271807003", "Rash"),
                severity="severe",
                criticality="high",
            ),
            SynthAllergy(
                "a-2",
                Code(SNOMED, "91935009", "Allergy to peanuts"),
                "resolved",
                "confirmed",
                "food",
                date(2010, 1, 1),
                DR,
                end_date=date(2020, 1, 1),
                end_reason="Desensitised",
            ),
        ],
        medications=[
            SynthMedication(
                "m-1",
                Code(DMD, "39732311000001104", "Amlodipine 5mg tablets"),
                "One daily",
                "repeat",
                date(2024, 1, 1),
                last_issued=date(2026, 2, 1),
                quantity_value=28,
                quantity_unit="tablet",
                repeats_allowed=6,
                prescriber=DR,
                patient_notes="Take in the morning",
                prescriber_notes="Review BP",
            ),
            SynthMedication(
                "m-2",
                Code(DMD, "39720311000001101", "Amoxicillin 500mg capsules"),
                "One three times a day",
                "acute",
                date(2023, 1, 1),
                status="completed",
                ended=date(2023, 1, 8),
                last_issued=date(2023, 1, 1),
                prescriber=DR,
            ),
            SynthMedication(
                "m-3",
                Code(DMD, "42206511000001102", "Enoxaparin 40mg injection"),
                "Once daily",
                "acute",
                date(2026, 1, 1),
                prescribed_elsewhere=True,
            ),
        ],
        problems=[
            SynthProblem(
                "p-1",
                Code(SNOMED, "38341003", "Hypertension"),
                True,
                "major",
                onset=date(2020, 2, 2),
            ),
            SynthProblem(
                "p-2",
                Code(SNOMED, "195967001", "Asthma"),
                False,
                "minor",
                onset=date(2001, 1, 1),
                abated=date(2010, 1, 1),
                note="Childhood",
            ),
        ],
        encounters=[
            SynthEncounter(
                "e-1",
                "consultation",
                datetime(2025, 1, 10, 9, 0, tzinfo=UTC),
                datetime(2025, 1, 10, 9, 10, tzinfo=UTC),
                Code(SNOMED, "38341003", "Hypertension"),
                DR,
                note="BP 150/90",
            ),
            SynthEncounter(
                "e-2", "consultation", datetime(2025, 9, 10, 9, 0, tzinfo=UTC), clinician=DR
            ),
            SynthEncounter("e-3", "consultation", datetime(2026, 2, 10, 9, 0), note="Follow-up"),
        ],
        observations=[
            SynthObservation(
                "o-1",
                Code(SNOMED, "271649006", "Systolic blood pressure"),
                datetime(2025, 1, 10, 9, 5, tzinfo=UTC),
                150,
                "mm[Hg]",
            ),
            SynthObservation(
                "o-2",
                Code(SNOMED, "1022541000000102", "Potassium"),
                datetime(2025, 5, 1, 8, 0, tzinfo=UTC),
                4.2,
                "mmol/L",
                ref_low=3.5,
                ref_high=5.3,
                report_id="r-1",
                report_name="Urea and electrolytes",
            ),
            SynthObservation(
                "o-3",
                Code(SNOMED, "1000981000000109", "Sodium"),
                datetime(2025, 5, 1, 8, 0, tzinfo=UTC),
                text_value="Haemolysed",
                report_id="r-1",
            ),
        ],
        immunisations=[
            SynthImmunisation(
                "i-1", Code(SNOMED, "39114911000001105", "Influenza vaccine"), date(2025, 10, 1), 1
            ),
            SynthImmunisation(
                "i-2",
                Code(SNOMED, "39114911000001105", "Influenza vaccine"),
                date(2024, 10, 1),
                status="not-done",
            ),
        ],
        referrals=[
            SynthReferral(
                "r-1",
                "Cardiology",
                Code(SNOMED, "38341003", "Hypertension"),
                date(2025, 2, 1),
                priority="urgent",
            )
        ],
    )


def _patient(
    n: int, scenario: str, record: ClinicalRecord | None, **kwargs: Any
) -> SyntheticPatient:
    kwargs.setdefault("practice_ods", ODS)
    return SyntheticPatient(
        make_nhs_number(n), scenario, scenario, _demo(scenario), gp=record, hospital=None, **kwargs
    )


@pytest.fixture(scope="module")
def world() -> World:
    empty = ClinicalRecord(demographics=_demo("Empty"))
    nka = ClinicalRecord(demographics=_demo("Nka"), no_known_allergies=True)
    warned = _rich_record()
    warned.warnings = {
        Area.PROBLEMS: ("confidential-items",),
        Area.MEDICATION: ("data-in-transit",),
    }
    off = _rich_record()
    off.not_implemented = (Area.IMMUNISATIONS, Area.REFERRALS)
    patients = [
        _patient(1, "rich", _rich_record()),
        _patient(2, "empty", empty),
        _patient(3, "nka", nka),
        _patient(4, "warned", warned),
        _patient(5, "off", off),
        _patient(6, "dissent", _rich_record(), gp_access=GpAccess.DISSENT),
        _patient(7, "no-record", None, gp_access=GpAccess.NO_RECORD),
        _patient(8, "not-registered", _rich_record(), gp_access=GpAccess.NOT_REGISTERED),
        _patient(9, "elsewhere", _rich_record(), practice_ods=OTHER_ODS),
        _patient(10, "restricted", _rich_record(), restricted=True),
        _patient(11, "deceased", _rich_record(), deceased=datetime(2026, 1, 1, tzinfo=UTC)),
    ]
    practices = [
        Practice(
            ODS, "Wardleigh Surgery", "918999100001", "Y90001-1", ("1 Surgery Rd",), "WL1 2BB"
        ),
        Practice(OTHER_ODS, "Other Surgery", "918999100002", "Y90002-1"),
    ]
    return World(patients, practices, [], "RWV99", "Wardview Sandbox Hospital NHS Trust", 1)


def nhs(world: World, scenario: str) -> str:
    return next(p.nhs_number for p in world.patients if p.scenario == scenario)


def params(number: str, *parts: dict, system: str = "https://fhir.nhs.uk/Id/nhs-number") -> dict:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "patientNHSNumber", "valueIdentifier": {"system": system, "value": number}},
            *parts,
        ],
    }


def allergies(resolved: bool = True) -> dict:
    return {
        "name": "includeAllergies",
        "part": [{"name": "includeResolvedAllergies", "valueBoolean": resolved}],
    }


def every_area() -> list[dict]:
    return [
        allergies(),
        *({"name": a} for a in Area if a != Area.ALLERGIES),
        {"name": "includeDiaryEntries"},
    ]


def call(world: World, body: dict, ods: str = ODS) -> tuple[int, dict]:
    status, out = structured_record(world, body, ods, now=NOW)
    validate(out)
    return status, out


def validate(body: dict) -> None:
    """The whole body, then each resource, against the fhir.resources STU3 models."""
    if body["resourceType"] == "Bundle":
        Bundle.model_validate(body)
        for entry in body["entry"]:
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            for inner in resource.get("contained", []):
                get_fhir_model_class(inner["resourceType"]).model_validate(inner)
    else:
        get_fhir_model_class(body["resourceType"]).model_validate(body)


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def list_by_code(bundle: dict, code: str) -> dict | None:
    found = [r for r in resources(bundle, "List") if r["code"]["coding"][0]["code"] == code]
    assert len(found) <= 1
    return found[0] if found else None


def spine_code(body: dict) -> str:
    assert body["resourceType"] == "OperationOutcome"
    assert body["meta"]["profile"] == [OPERATION_OUTCOME_PROFILE]
    coding = body["issue"][0]["details"]["coding"][0]
    assert coding["system"] == SPINE_CODES
    return coding["code"]


# --- a full record --------------------------------------------------------------------------------


def test_full_record_has_patient_organisation_and_a_list_per_area(world: World) -> None:
    status, bundle = call(world, params(nhs(world, "rich"), *every_area()))
    assert status == 200
    assert bundle["type"] == "collection" and bundle["meta"]["profile"] == [BUNDLE_PROFILE]
    (patient,) = resources(bundle, "Patient")
    assert patient["identifier"][0] == {
        **patient["identifier"][0],
        "system": "https://fhir.nhs.uk/Id/nhs-number",
        "value": nhs(world, "rich"),
    }
    assert patient["name"][0]["family"] == "Rich" and patient["birthDate"] == "1970-05-04"
    (org,) = resources(bundle, "Organization")
    assert org["identifier"] == [
        {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": ODS}
    ]
    assert patient["managingOrganization"]["reference"] == f"Organization/{org['id']}"
    for area, code in LIST_CODES.items():
        assert list_by_code(bundle, code) is not None, area
    assert list_by_code(bundle, ENDED_ALLERGIES) is not None
    assert not resources(bundle, "OperationOutcome")


def test_every_reference_in_the_bundle_resolves(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "rich"), *every_area()))
    present = {f"{r['resourceType']}/{r['id']}" for r in (e["resource"] for e in bundle["entry"])}
    refs: list[str] = []

    def walk(node: Any, contained: set[str]) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                refs.append(node["reference"])
                if node["reference"].startswith("#"):
                    assert node["reference"][1:] in contained
            for value in node.values():
                walk(value, contained)
        elif isinstance(node, list):
            for value in node:
                walk(value, contained)

    for entry in bundle["entry"]:
        resource = entry["resource"]
        walk(resource, {c["id"] for c in resource.get("contained", [])})
    assert refs
    assert all(ref in present for ref in refs if not ref.startswith("#"))


def test_every_resource_has_profile_id_and_local_identifier(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "rich"), *every_area()))
    clinical = {
        "AllergyIntolerance",
        "MedicationStatement",
        "MedicationRequest",
        "Condition",
        "Encounter",
        "Observation",
        "Immunization",
        "DiagnosticReport",
        "ReferralRequest",
        "Practitioner",
    }
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["id"] and resource["meta"]["profile"][0].startswith(
            "https://fhir.nhs.uk/STU3/"
        )
        if resource["resourceType"] in clinical:
            assert any(
                i["system"].endswith(f"/{ODS}/Id/record-item") for i in resource["identifier"]
            )


def test_ids_are_stable_between_calls(world: World) -> None:
    _, first = call(world, params(nhs(world, "rich"), *every_area()))
    _, second = call(world, params(nhs(world, "rich"), *every_area()))
    ids = [
        [
            e["resource"]["id"]
            for e in b["entry"]
            if e["resource"]["resourceType"] != "OperationOutcome"
        ]
        for b in (first, second)
    ]
    assert ids[0] == ids[1]


def test_only_requested_areas_come_back(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "rich"), {"name": "includeProblems"}))
    codes = {r["code"]["coding"][0]["code"] for r in resources(bundle, "List")}
    assert codes == {LIST_CODES[Area.PROBLEMS]}
    assert not resources(bundle, "AllergyIntolerance") and not resources(
        bundle, "MedicationStatement"
    )
    assert len(resources(bundle, "Condition")) == 2


def test_special_characters_in_free_text_are_kept(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "rich"), allergies(False)))
    (allergy,) = resources(bundle, "AllergyIntolerance")
    assert allergy["note"] == [{"text": 'Rash & wheeze <2h> "bad" £5'}]
    assert allergy["reaction"][0]["severity"] == "severe"
    assert allergy["reaction"][0]["manifestation"][0]["coding"][0]["code"] == "271807003"
    assert allergy["recorder"]["reference"].startswith("Practitioner/")


# --- allergies ------------------------------------------------------------------------------------


def test_resolved_allergies_only_inside_the_ended_list(world: World) -> None:
    _, without = call(world, params(nhs(world, "rich"), allergies(False)))
    assert list_by_code(without, ENDED_ALLERGIES) is None
    assert [a["clinicalStatus"] for a in resources(without, "AllergyIntolerance")] == ["active"]

    _, bundle = call(world, params(nhs(world, "rich"), allergies(True)))
    assert [a["clinicalStatus"] for a in resources(bundle, "AllergyIntolerance")] == ["active"]
    ended = list_by_code(bundle, ENDED_ALLERGIES)
    assert ended is not None and ended["title"] == "Ended allergies"
    (resolved,) = ended["contained"]
    assert resolved["clinicalStatus"] == "resolved"
    assert ended["entry"] == [{"item": {"reference": f"#{resolved['id']}"}}]
    (end,) = resolved["extension"]
    assert end["url"].endswith("Extension-CareConnect-GPC-AllergyIntoleranceEnd-1")
    assert {"url": "endDate", "valueDateTime": "2020-01-01"} in end["extension"]
    assert {"url": "reasonEnded", "valueString": "Desensitised"} in end["extension"]


def test_no_known_allergies_is_a_coded_item_not_an_empty_list(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "nka"), allergies()))
    primary = list_by_code(bundle, LIST_CODES[Area.ALLERGIES])
    assert "emptyReason" not in primary
    (nka,) = resources(bundle, "AllergyIntolerance")
    assert nka["code"]["coding"][0]["code"] == "716186003"
    assert primary["entry"] == [{"item": {"reference": f"AllergyIntolerance/{nka['id']}"}}]


def test_an_empty_area_has_empty_reason_and_note(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "empty"), *every_area()))
    for code in (*LIST_CODES.values(), ENDED_ALLERGIES):
        empty = list_by_code(bundle, code)
        assert "entry" not in empty
        assert empty["emptyReason"]["coding"] == [
            {
                "system": EMPTY_REASON_SYSTEM,
                "code": "no-content-recorded",
                "display": "No Content Recorded",
            }
        ]
        assert {"text": "Information not available"} in empty["note"]


# --- warnings and switched-off areas --------------------------------------------------------------


def test_warning_codes_sit_in_the_list_extension_with_their_text(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "warned"), *every_area()))
    problems = list_by_code(bundle, LIST_CODES[Area.PROBLEMS])
    codes = [x["valueCode"] for x in problems["extension"] if x["url"] == LIST_WARNING_URL]
    assert codes == ["confidential-items", "data-in-transit"]
    notes = [n["text"] for n in problems["note"]]
    assert "Items excluded due to confidentiality and/or patient preferences." in notes
    # data-in-transit concerns the whole record, so every List carries it
    for code in (*LIST_CODES.values(), ENDED_ALLERGIES):
        found = list_by_code(bundle, code)
        assert "data-in-transit" in [x["valueCode"] for x in found["extension"]], code
        assert any(
            n["text"].startswith("Patient record transfer from previous GP practice")
            for n in found["note"]
        )


def test_switched_off_areas_are_a_not_implemented_warning_without_a_list(world: World) -> None:
    status, bundle = call(world, params(nhs(world, "off"), *every_area()))
    assert status == 200
    assert list_by_code(bundle, LIST_CODES[Area.IMMUNISATIONS]) is None
    assert list_by_code(bundle, LIST_CODES[Area.REFERRALS]) is None
    assert not resources(bundle, "Immunization") and not resources(bundle, "ReferralRequest")
    assert list_by_code(bundle, LIST_CODES[Area.MEDICATION]) is not None
    (outcome,) = resources(bundle, "OperationOutcome")
    assert outcome["meta"]["profile"] == [OPERATION_OUTCOME_PROFILE]
    assert [
        (
            i["severity"],
            i["code"],
            i["details"]["coding"][0]["code"],
            i["diagnostics"],
            i["details"]["text"],
        )
        for i in outcome["issue"]
    ] == [
        (
            "warning",
            "not-supported",
            "NOT_IMPLEMENTED",
            "includeImmunisations",
            "includeImmunisations has been disabled",
        ),
        (
            "warning",
            "not-supported",
            "NOT_IMPLEMENTED",
            "includeReferrals",
            "includeReferrals has been disabled",
        ),
    ]


def test_a_switched_off_area_not_asked_for_gives_no_warning(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "off"), {"name": "includeProblems"}))
    assert not resources(bundle, "OperationOutcome")


def test_unrecognised_parameters_are_forwards_compatibility_warnings(world: World) -> None:
    status, bundle = call(
        world,
        params(
            nhs(world, "rich"),
            {
                "name": "includeMedication",
                "part": [{"name": "includeFuture", "valueBoolean": True}],
            },
            {"name": "includeSomethingNew"},
        ),
    )
    assert status == 200
    (outcome,) = resources(bundle, "OperationOutcome")
    assert [(i["diagnostics"], i["details"]["text"]) for i in outcome["issue"]] == [
        (
            "includeMedication.includeFuture",
            "includeMedication.includeFuture is an unrecognised parameter",
        ),
        ("includeSomethingNew", "includeSomethingNew is an unrecognised parameter"),
    ]
    assert list_by_code(bundle, LIST_CODES[Area.MEDICATION]) is not None


# --- medication, problems, consultations, the rest ------------------------------------------------


def test_medication_statement_plan_issue_and_medication(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "rich"), {"name": "includeMedication"}))
    statements = resources(bundle, "MedicationStatement")
    assert len(statements) == 3
    requests = {r["id"]: r for r in resources(bundle, "MedicationRequest")}
    medications = {m["id"]: m for m in resources(bundle, "Medication")}
    amlodipine = next(s for s in statements if s["identifier"][0]["value"] == "m-1")
    plan = requests[amlodipine["basedOn"][0]["reference"].split("/")[1]]
    assert plan["intent"] == "plan" and plan["status"] == "active"
    assert plan["dosageInstruction"] == [
        {"text": "One daily", "patientInstruction": "Take in the morning"}
    ]
    assert plan["note"] == [{"text": "Review BP"}]
    kinds = [
        x["valueCodeableConcept"]["coding"][0]["code"]
        for x in plan["extension"]
        if x["url"].endswith("PrescriptionType-1")
    ]
    assert kinds == ["repeat"]
    issues = [
        r
        for r in requests.values()
        if r["intent"] == "order"
        and r["basedOn"] == [{"reference": f"MedicationRequest/{plan['id']}"}]
    ]
    assert len(issues) == 1 and issues[0]["authoredOn"] == "2026-02-01"
    last_issue = [
        x["valueDateTime"] for x in amlodipine["extension"] if x["url"].endswith("LastIssueDate-1")
    ]
    assert last_issue == ["2026-02-01"]
    medication = medications[amlodipine["medicationReference"]["reference"].split("/")[1]]
    assert medication["code"]["coding"][0] == {
        "system": SNOMED,
        "code": "39732311000001104",
        "display": "Amlodipine 5mg tablets",
    }
    elsewhere = next(s for s in statements if s["identifier"][0]["value"] == "m-3")
    agency = [
        x["valueCodeableConcept"]["coding"][0]["code"]
        for x in elsewhere["extension"]
        if x["url"].endswith("PrescribingAgency-1")
    ]
    assert agency == ["prescribed-by-another-organisation"]


def test_medication_filters(world: World) -> None:
    since = {
        "name": "includeMedication",
        "part": [{"name": "medicationSearchFromDate", "valueDate": "2024-01-01"}],
    }
    _, bundle = call(world, params(nhs(world, "rich"), since))
    assert sorted(
        s["identifier"][0]["value"] for s in resources(bundle, "MedicationStatement")
    ) == ["m-1", "m-3"]
    no_issues = {
        "name": "includeMedication",
        "part": [{"name": "includePrescriptionIssues", "valueBoolean": False}],
    }
    _, bundle = call(world, params(nhs(world, "rich"), no_issues))
    assert {r["intent"] for r in resources(bundle, "MedicationRequest")} == {"plan"}


def test_problem_headers_and_status_filter(world: World) -> None:
    part = {"name": "includeProblems", "part": [{"name": "filterStatus", "valueCode": "active"}]}
    _, bundle = call(world, params(nhs(world, "rich"), part))
    (condition,) = resources(bundle, "Condition")
    assert condition["clinicalStatus"] == "active"
    assert condition["meta"]["profile"] == [
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-ProblemHeader-Condition-1"
    ]
    significance = [
        x["valueCode"] for x in condition["extension"] if x["url"].endswith("ProblemSignificance-1")
    ]
    assert significance == ["major"]


def test_consultations_structure_and_most_recent(world: World) -> None:
    _, bundle = call(world, params(nhs(world, "rich"), {"name": "includeConsultations"}))
    encounters = resources(bundle, "Encounter")
    primary = list_by_code(bundle, LIST_CODES[Area.CONSULTATIONS])
    assert [e["item"]["reference"] for e in primary["entry"]] == [
        f"Encounter/{e['id']}" for e in encounters
    ]
    consultation_lists = [
        r for r in resources(bundle, "List") if r["code"]["coding"][0]["code"] == "325851000000107"
    ]
    assert len(consultation_lists) == 3
    assert all(
        e["participant"][0]["individual"]["reference"].startswith("Practitioner/")
        for e in encounters
    )
    last = {
        "name": "includeConsultations",
        "part": [{"name": "includeNumberOfMostRecent", "valuePositiveInt": 1}],
    }
    _, recent = call(world, params(nhs(world, "rich"), last))
    (only,) = resources(recent, "Encounter")
    assert only["period"]["start"] == "2026-02-10T09:00:00+00:00"


def test_period_filter_keeps_items_in_range(world: World) -> None:
    period = {
        "name": "includeConsultations",
        "part": [
            {
                "name": "consultationSearchPeriod",
                "valuePeriod": {"start": "2025-06-01", "end": "2025-12-31"},
            }
        ],
    }
    _, bundle = call(world, params(nhs(world, "rich"), period))
    assert [e["identifier"][0]["value"] for e in resources(bundle, "Encounter")] == ["e-2"]


def test_investigations_uncategorised_immunisations_referrals(world: World) -> None:
    parts = [
        {"name": "includeInvestigations"},
        {"name": "includeUncategorisedData"},
        {"name": "includeImmunisations"},
        {"name": "includeReferrals"},
    ]
    _, bundle = call(world, params(nhs(world, "rich"), *parts))
    (report,) = resources(bundle, "DiagnosticReport")
    assert report["code"]["text"] == "Urea and electrolytes" and len(report["result"]) == 2
    uncategorised = list_by_code(bundle, LIST_CODES[Area.UNCATEGORISED])
    assert len(uncategorised["entry"]) == 1
    assert len(resources(bundle, "Observation")) == 3
    (immunisation,) = resources(bundle, "Immunization")  # not-given ones need includeNotGiven
    assert immunisation["notGiven"] is False
    (referral,) = resources(bundle, "ReferralRequest")
    assert referral["priority"] == "urgent" and referral["recipient"] == [{"display": "Cardiology"}]
    not_given = {
        "name": "includeImmunisations",
        "part": [{"name": "includeNotGiven", "valueBoolean": True}],
    }
    _, bundle = call(world, params(nhs(world, "rich"), not_given))
    assert sorted(i["notGiven"] for i in resources(bundle, "Immunization")) == [False, True]


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("dissent", 403, "NO_PATIENT_CONSENT"),
        ("no-record", 404, "NO_RECORD_FOUND"),
        ("not-registered", 404, "PATIENT_NOT_FOUND"),
        ("elsewhere", 404, "PATIENT_NOT_FOUND"),
        ("restricted", 404, "PATIENT_NOT_FOUND"),
        ("deceased", 404, "PATIENT_NOT_FOUND"),
    ],
)
def test_patient_states(world: World, scenario: str, status: int, code: str) -> None:
    got, body = call(world, params(nhs(world, scenario), allergies()))
    assert (got, spine_code(body)) == (status, code)


def test_unknown_patient_and_unknown_practice(world: World) -> None:
    status, body = call(world, params(make_nhs_number(500), allergies()))
    assert (status, spine_code(body)) == (404, "PATIENT_NOT_FOUND")
    status, body = call(world, params(nhs(world, "rich"), allergies()), ods="Z99999")
    assert (status, spine_code(body)) == (404, "ORGANISATION_NOT_FOUND")


def _with(number: str, *parts: dict) -> dict:
    return params(number, *parts)


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda n: {"resourceType": "Patient"}, 422, "INVALID_RESOURCE"),
        (lambda n: {"resourceType": "Parameters"}, 422, "INVALID_RESOURCE"),
        (
            lambda n: {"resourceType": "Parameters", "parameter": [{"name": "includeProblems"}]},
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(n, {"name": "includeProblems"}, {"name": "includeProblems"}),
            422,
            "INVALID_RESOURCE",
        ),
        (
            lambda n: params(n[:9] + str((int(n[9]) + 1) % 10), {"name": "includeProblems"}),
            400,
            "INVALID_NHS_NUMBER",
        ),
        (lambda n: params("12345", {"name": "includeProblems"}), 400, "INVALID_NHS_NUMBER"),
        (
            lambda n: params(n, {"name": "includeProblems"}, system="http://example.org/nhs"),
            400,
            "INVALID_IDENTIFIER_SYSTEM",
        ),
        (lambda n: params(n, {"name": "includeAllergies"}), 422, "INVALID_PARAMETER"),
        (
            lambda n: params(
                n, {"name": "includeAllergies", "part": [{"name": "includeResolvedAllergies"}]}
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeAllergies",
                    "part": [{"name": "includeResolvedAllergies", "valueString": "true"}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeMedication",
                    "part": [{"name": "medicationSearchFromDate", "valueDate": "2026-03-02"}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeMedication",
                    "part": [{"name": "medicationSearchFromDate", "valueDate": "2025-01"}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeMedication",
                    "part": [
                        {"name": "medicationSearchFromDate", "valueDate": "2025-01-01T00:00:00Z"}
                    ],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeConsultations",
                    "part": [
                        {
                            "name": "consultationSearchPeriod",
                            "valuePeriod": {"start": "2025-02-01", "end": "2025-01-01"},
                        }
                    ],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeConsultations",
                    "part": [
                        {
                            "name": "consultationSearchPeriod",
                            "valuePeriod": {"start": "2025-02-01"},
                        },
                        {"name": "includeNumberOfMostRecent", "valuePositiveInt": 3},
                    ],
                },
            ),
            422,
            "INVALID_RESOURCE",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeConsultations",
                    "part": [{"name": "includeNumberOfMostRecent", "valuePositiveInt": 0}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeProblems",
                    "part": [{"name": "filterStatus", "valueCode": "resolved"}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {"name": "includeConsultations"},
                {
                    "name": "includeProblems",
                    "part": [{"name": "filterStatus", "valueCode": "active"}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {"name": "includeProblems"},
                {
                    "name": "includeMedication",
                    "part": [{"name": "medicationSearchFromDate", "valueDate": "2025-01-01"}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (
            lambda n: params(
                n,
                {
                    "name": "includeDiaryEntries",
                    "part": [{"name": "diaryEntriesSearchDate", "valueDate": "2026-02-01"}],
                },
            ),
            422,
            "INVALID_PARAMETER",
        ),
        (lambda n: params(n, {"name": "includeFuture"}), 422, "INVALID_PARAMETER"),
        (
            lambda n: params(n, {"name": "includeProblems", "part": "filterStatus"}),
            422,
            "INVALID_RESOURCE",
        ),
    ],
)
def test_parameter_errors(world: World, make: Any, status: int, code: str) -> None:
    got, body = call(world, make(nhs(world, "rich")))
    assert (got, spine_code(body)) == (status, code)
    assert body["issue"][0]["severity"] == "error"


def test_parameter_errors_carry_diagnostics_without_patient_data(world: World) -> None:
    number = nhs(world, "rich")
    _, body = call(world, params(number, {"name": "includeAllergies"}))
    diagnostics = body["issue"][0]["diagnostics"]
    assert "includeResolvedAllergies" in diagnostics and number not in diagnostics


def test_parse_parameters_reads_every_part() -> None:
    today = date(2026, 3, 1)
    request = parse_parameters(
        params(
            make_nhs_number(1),
            allergies(False),
            {
                "name": "includeMedication",
                "part": [
                    {"name": "medicationSearchFromDate", "valueDate": "2025-01-01"},
                    {"name": "filterPrescriptionType", "valueCode": "acute"},
                    {"name": "filterPrescriptionType", "valueCode": "repeat"},
                ],
            },
            {
                "name": "includeInvestigations",
                "part": [
                    {"name": "investigationSearchPeriod", "valuePeriod": {"end": "2026-03-01"}}
                ],
            },
            {
                "name": "includeDiaryEntries",
                "part": [{"name": "diaryEntriesSearchDate", "valueDate": "2026-04-01"}],
            },
        ),
        today,
    )
    assert request.areas[Area.ALLERGIES] == {"includeResolvedAllergies": False}
    assert request.areas[Area.MEDICATION] == {
        "medicationSearchFromDate": date(2025, 1, 1),
        "filterPrescriptionType": {"acute", "repeat"},
    }
    assert request.areas[Area.INVESTIGATIONS] == {"investigationSearchPeriod": (None, today)}
    assert request.areas["includeDiaryEntries"] == {
        "diaryEntriesSearchDate": today + timedelta(days=31)
    }
    assert request.unrecognised == []


# --- the synthetic world --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_world() -> World:
    population = pytest.importorskip(
        "viewer.sandbox.population", reason="population not written yet"
    )
    return population.build_world()


def test_every_synthetic_patient_gives_a_valid_stu3_answer(synthetic_world: World) -> None:
    seen: set[int] = set()
    for patient in synthetic_world.patients:
        ods = patient.practice_ods or synthetic_world.practices[0].ods_code
        status, body = structured_record(
            synthetic_world, params(patient.nhs_number, *every_area()), ods
        )
        validate(body)
        seen.add(status)
        if status == 200:
            (found,) = resources(body, "Patient")
            assert found["identifier"][0]["value"] == patient.nhs_number
        else:
            assert body["resourceType"] == "OperationOutcome"
    assert 200 in seen and len(seen) > 1


def test_the_large_synthetic_record_is_large(synthetic_world: World) -> None:
    large = max(
        (
            p
            for p in synthetic_world.patients
            if p.gp is not None
            and p.gp_access is GpAccess.OK
            and not p.restricted
            and p.deceased is None
        ),
        key=lambda p: len(p.gp.observations) + len(p.gp.medications) + len(p.gp.encounters),
    )
    status, body = structured_record(
        synthetic_world, params(large.nhs_number, *every_area()), large.practice_ods
    )
    assert status == 200
    assert len(body["entry"]) > 2000
