"""The official UK Core examples (XML, read from ../shared/reference) map as their authors meant."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from viewer.domain.coding import DMD, SNOMED
from viewer.sources.r4_mapping import map_hospital_record

pytestmark = pytest.mark.reference

EXAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "ukcore" / "examples"
NS = "{http://hl7.org/fhir}"
NOW = datetime(2026, 11, 20, tzinfo=UTC)
# FHIR XML does not say which elements repeat; these are the ones the examples below use.
REPEATING = {"coding", "category", "reaction", "manifestation", "note", "dosageInstruction", "dosage",
             "given", "prefix", "line", "identifier", "contained", "extension", "reasonCode", "name",
             "doseAndRate", "additionalInstruction", "telecom", "address", "participant", "reasonReference",
             "performer", "result", "hasMember", "component", "referenceRange", "interpretation",
             "protocolApplied", "author", "content", "entry", "basedOn", "specimen", "supportingInfo",
             "conclusionCode", "presentedForm", "targetDisease"}
# Elements that repeat only as children of these resources (Encounter.type is a list,
# DocumentReference.type is not; Encounter.location is a list, Immunization.location is not).
REPEATING_IN = {"Encounter": {"type", "location"}}
SINGLE_IN = {"Location": {"name"}, "Organization": {"name"}}  # a string here, a list of HumanName elsewhere
NUMERIC = {"frequency", "period", "value", "doseNumberPositiveInt", "seriesDosesPositiveInt", "valueInteger"}
BOOLEAN = {"valueBoolean", "primarySource"}


def _leaf(name: str, text: str) -> Any:
    if name in BOOLEAN:
        return text == "true"
    if name in NUMERIC:
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return text


def _element(node: ET.Element, root: str | None = None) -> Any:
    """A tiny FHIR XML -> JSON walker, enough for these examples (not a general converter). `root` is
    the resource type when `node` is a resource, so its resource-specific repeating children are known."""
    if "value" in node.attrib and not list(node):
        return _leaf(node.tag.removeprefix(NS), node.attrib["value"])
    out: dict[str, Any] = {}
    for child in node:
        if not isinstance(child.tag, str) or not child.tag.startswith(NS):
            continue  # xhtml narrative, comments
        name = child.tag.removeprefix(NS)
        if name == "text" and root is not None:
            continue  # the narrative: the viewer never reads it
        if name in ("contained", "resource"):
            (inner,) = list(child)
            value = _resource(inner)
        else:
            value = _element(child)
        repeats = name in REPEATING and name not in SINGLE_IN.get(root or "", ())
        if repeats or name in REPEATING_IN.get(root or "", ()):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _resource(node: ET.Element) -> dict[str, Any]:
    rtype = node.tag.removeprefix(NS)
    data = _element(node, rtype)
    data["resourceType"] = rtype
    return data


def load(name: str) -> dict[str, Any]:
    path = EXAMPLES / f"UKCore-{name}-Example.xml"
    if not path.is_file():
        pytest.skip(f"UK Core examples not found at {EXAMPLES}")
    return _resource(ET.parse(path).getroot())


def map_(**resources: list[dict]):
    return map_hospital_record(None, resources, retrieved_at=NOW, org_ods="RWV99", org_name="Trust")


def test_amoxicillin_allergy_example() -> None:
    result = map_(AllergyIntolerance=[load("AllergyIntolerance-Amoxicillin")])
    (allergy,) = result.allergies
    assert allergy.substance.code_in(SNOMED) == "372687004" and allergy.substance.label == "Amoxicillin"
    assert (allergy.clinical_status, allergy.verification_status) == ("active", "confirmed")
    assert allergy.asserted is not None and allergy.asserted.display() == "10-Dec-2019"
    assert allergy.reactions[0].manifestations[0].label == "Urticarial rash"
    assert allergy.reactions[0].severity == "mild"
    assert allergy.provenance.resource_id == "UKCore-AllergyIntolerance-Amoxicillin-Example"


def test_entered_in_error_and_no_known_drug_allergy_examples() -> None:
    result = map_(AllergyIntolerance=[load("AllergyIntolerance-EnteredInError"),
                                      load("AllergyIntolerance-Sn-NegHandlNoKnownAllergies")])
    (nkda,) = result.allergies
    assert nkda.no_known_allergies and nkda.substance.code_in(SNOMED) == "409137002"
    assert [u.reason for u in result.unreadable] == ["entered in error"]


def test_medication_request_example_with_structured_dosage() -> None:
    (med,) = map_(MedicationRequest=[load("MedicationRequest-Amoxicillin")]).medications
    assert med.name.code_in(DMD) == "39732411000001106"
    assert med.dosage == "500mg - three times a day."
    assert med.status == "completed" and med.kind == "acute"
    assert med.started is not None and med.started.display() == "15-Jun-2023"


def test_medication_statement_example() -> None:
    (med,) = map_(MedicationStatement=[load("MedicationStatement-Amoxicillin")]).medications
    assert med.name.label == "Amoxicillin 250mg capsules" and med.dosage == "2 capsules 4 times a day."
    assert med.started is not None and med.started.display() == "15-Feb-2021"
    assert med.ended is not None and med.ended.display() == "15-May-2021"


@pytest.mark.parametrize("name", ["Condition-HipReplacement", "Condition-BleedingFromEar"])
def test_condition_examples(name: str) -> None:
    (problem,) = map_(Condition=[load(name)]).problems
    assert problem.condition.label and problem.provenance.resource_type == "Condition"


def test_every_medication_request_example_maps() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip(f"UK Core examples not found at {EXAMPLES}")
    paths = sorted(EXAMPLES.glob("UKCore-MedicationRequest-*-Example.xml"))
    resources = [_resource(ET.parse(p).getroot()) for p in paths]
    medications = [_resource(ET.parse(p).getroot())
                   for p in sorted(EXAMPLES.glob("UKCore-Medication-*-Example.xml"))]
    result = map_(MedicationRequest=resources, Medication=medications)
    assert len(resources) >= 5
    assert len(result.medications) + len(result.unreadable) == len(resources)
    assert all(m.dosage for m in result.medications)


def load_all(pattern: str) -> list[dict[str, Any]]:
    if not EXAMPLES.is_dir():
        pytest.skip(f"UK Core examples not found at {EXAMPLES}")
    return [_resource(ET.parse(p).getroot()) for p in sorted(EXAMPLES.glob(pattern))]


def by_id(items: Any) -> dict[str, Any]:
    return {i.provenance.resource_id.removeprefix("UKCore-").removesuffix("-Example"): i for i in items}


PEOPLE_AND_PLACES = {"Practitioner": "UKCore-Practitioner-*-Example.xml", "Location": "UKCore-Location-*.xml",
                     "Organization": "UKCore-Organization-*.xml"}


def with_people(**resources: list[dict]):
    """Map with the examples' Practitioners, Locations and Organizations fetched alongside, as a server
    answering `_include` would send them, so references resolve to names."""
    for rtype, pattern in PEOPLE_AND_PLACES.items():
        resources.setdefault(rtype, load_all(pattern))
    return map_(**resources)


def test_inpatient_encounter_example() -> None:
    result = with_people(Encounter=[load("Encounter-InpatientEncounter")])
    (enc,) = result.encounters
    assert enc.kind == "inpatient" and enc.status == "finished"
    assert enc.type is not None and enc.type.code_in(SNOMED) == "185212007"
    assert enc.start is not None and enc.start.display_with_time() == "10-Dec-2019 13:00"
    assert enc.end is not None and enc.end.display() == "11-Dec-2019"
    assert [r.label for r in enc.reasons] == ["General treatment"]
    assert enc.clinician == "Mrs Sandra Gose" and enc.location == "CARDIOLOGY SJUH"
    assert result.unreadable == ()


def test_every_observation_example_maps_with_its_value() -> None:
    observations = load_all("UKCore-Observation-*-Example.xml") + load_all("UKCore-VitalSigns-*-Example.xml")
    observations += [e["resource"] for e in load("Bundle-NEWS2Observations")["entry"]]
    result = map_(Observation=observations)
    assert len(observations) >= 30 and result.unreadable == ()
    assert len(result.observations) == len(observations)
    items = by_id(result.observations)
    bp = items["Observation-VitalSigns-BloodPressure"]
    assert (bp.value, bp.unit, bp.number) == ("142/94", "millimeter of mercury", None)
    assert items["Observation-24HourBloodPressure"].value == "102/84"
    albumin = items["Observation-Lab-Albumin"]
    assert (albumin.value, albumin.number, albumin.unit) == ("47", 47.0, "g/L")
    assert (albumin.range_low, albumin.range_high) == (35.0, 50.0)
    assert albumin.effective is not None and albumin.effective.display() == "08-Mar-2022"  # from `issued`
    assert items["Observation-Lab-Sn-AbsentData"].value == "No value: Specimen unsatisfactory for evaluation"
    assert items["Observation-PatientConsciousness"].value == "Responds to voice"
    assert items["Observation-Group-FullBloodCount"].value is None  # a panel: its members carry values
    assert all(o.test.label for o in result.observations)
    with_values = [o for o in result.observations if o.value is not None]
    assert len(with_values) >= 25


def test_lab_report_example_groups_the_full_blood_count_through_its_members() -> None:
    result = map_(DiagnosticReport=[load("DiagnosticReport-Lab-DiagnosticStudiesReport")],
                  Observation=[load("Observation-Group-FullBloodCount"),
                               load("Observation-Lab-WhiteCellCount"), load("Observation-Lab-RedCellCount")])
    (report,) = result.reports
    assert report.result_ids == ("UKCore-Observation-Group-FullBloodCount-Example",)
    assert {o.report_id for o in result.observations} == {report.provenance.resource_id}
    assert report.issued is not None and report.issued.display() == "13-Jan-2023"


def test_every_diagnostic_report_example_maps() -> None:
    reports = load_all("UKCore-DiagnosticReport-*-Example.xml")
    result = map_(DiagnosticReport=reports)
    assert len(result.reports) == len(reports) == 4 and result.unreadable == ()
    studies = by_id(result.reports)["DiagnosticReport-DiagnosticStudiesReport"]
    assert studies.conclusion is not None and studies.conclusion.startswith("Mild soft tissue injury")


def test_every_immunization_example_maps() -> None:
    immunisations = load_all("UKCore-Immunization-*-Example.xml")
    result = map_(Immunization=immunisations)
    assert len(result.immunisations) == len(immunisations) == 10 and result.unreadable == ()
    items = by_id(result.immunisations)
    assert items["Immunization-Sn-ProtocolApplied"].dose == "1"
    assert items["Immunization-Sn-Performer"].performer == (
        "HOLDING, Rafferty, ELLAND ROAD STADIUM - COVID VACCINATION CENTRE")
    assert items["Immunization-Sn-LotNumber"].batch
    assert items["Immunization-Sn-IntramuscularRoute"].route
    assert items["Immunization-Sn-LeftUpperArmStructure"].site
    flu = items["Immunization-InfluenzaVaccine"]
    assert flu.vaccine.code_in(DMD) == "11278411000001109" and flu.given is not None
    assert flu.given.display() == "10-Jan-2013" and flu.status == "completed"


def test_every_service_request_example_maps_as_a_referral() -> None:
    requests = load_all("UKCore-ServiceRequest-*-Example.xml")
    result = with_people(ServiceRequest=requests)
    assert len(result.referrals) == len(requests) == 5 and result.unreadable == ()
    colonoscopy = by_id(result.referrals)["ServiceRequest-ColonoscopyRequest"]
    assert colonoscopy.service == "Colonoscopy requested" and colonoscopy.status == "active"
    assert colonoscopy.reasons[0].label == "Swollen abdomen"
    assert colonoscopy.reasons[1].label.startswith("Diagnostic report on the Blood specimen")
    assert (colonoscopy.requester, colonoscopy.recipient) == ("Dr Paul Rastall", "Mrs Sandra Gose")
    assert colonoscopy.authored is not None and colonoscopy.authored.display() == "13-Oct-2021"
    assert any(n.startswith("Patient instruction: ADVICE GIVEN") for n in colonoscopy.notes)
    crp = by_id(result.referrals)["ServiceRequest-Lab-CReactiveProtein"]
    assert crp.recipient == "LEEDS TEACHING HOSPITALS NHS TRUST" and crp.requester == "Mr Jimmy Chuck"


def test_every_document_reference_example_maps_as_metadata() -> None:
    documents = load_all("UKCore-DocumentReference-*-Example.xml")
    result = with_people(DocumentReference=documents)
    assert len(result.documents) == len(documents) == 2 and result.unreadable == ()
    items = by_id(result.documents)
    care_plan = items["DocumentReference-CarePlanReportPDF"]
    assert care_plan.title == "Care Plan Report" and care_plan.content_type == "application/pdf"
    assert care_plan.url == "https://health.trust.uk/CarePlanReport_44301kfgd.pdf"
    assert care_plan.type is not None and care_plan.type.label == "Care plan"
    assert care_plan.created is not None and care_plan.created.display() == "08-Mar-2016"
    ecg = items["DocumentReference-ECG"]
    assert ecg.title == "Electrocardiogram (ECG) Report" and ecg.author == "Mr Jimmy Chuck"
    assert care_plan.author is None  # its author reference points at no published Practitioner


def test_flag_example() -> None:
    (flag,) = map_(Flag=[load("Flag-FoodAllergy")]).flags
    assert flag.text.label == "Patient has a severe peanut allergy."
    assert flag.text.code_in(SNOMED) == "226201008"
    assert (flag.status, flag.category) == ("active", "Diet")
    assert flag.start is not None and flag.start.display() == "10-Dec-2019" and flag.end is None
