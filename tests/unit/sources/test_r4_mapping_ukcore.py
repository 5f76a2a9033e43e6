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
             "doseAndRate", "additionalInstruction", "telecom", "address"}
NUMERIC = {"frequency", "period", "value"}


def _element(node: ET.Element) -> Any:
    """A tiny FHIR XML -> JSON walker, enough for these examples (not a general converter)."""
    if "value" in node.attrib and not list(node):
        text = node.attrib["value"]
        name = node.tag.removeprefix(NS)
        if name in NUMERIC:
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    return text
        return text
    out: dict[str, Any] = {}
    for child in node:
        if not isinstance(child.tag, str) or not child.tag.startswith(NS):
            continue  # xhtml narrative, comments
        name = child.tag.removeprefix(NS)
        if name == "text" and node.tag.removeprefix(NS) in RESOURCE_TYPES:
            continue
        if name == "contained":
            (inner,) = list(child)
            value = _resource(inner)
        else:
            value = _element(child)
        if name in REPEATING:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


RESOURCE_TYPES = {"AllergyIntolerance", "MedicationRequest", "MedicationStatement", "Condition", "Medication"}


def _resource(node: ET.Element) -> dict[str, Any]:
    data = _element(node)
    data["resourceType"] = node.tag.removeprefix(NS)
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
