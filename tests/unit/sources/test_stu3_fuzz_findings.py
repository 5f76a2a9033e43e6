"""Defects the fuzz tests (tests/fuzz) found in the GP Connect STU3 mapper, each as its smallest example,
kept as regression tests: in each a clinical resource vanished (neither an item nor `unreadable`)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from tests.support.accounting import account
from tests.support.real_bundles import gp_bundle
from viewer.sandbox.population import build_world, patient_for
from viewer.sources.stu3_mapping import map_structured_record

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


@cache
def _bundle(scenario: str = "ordinary-adult") -> dict[str, Any]:
    world = build_world(2026)
    bundle = gp_bundle(world, patient_for(world, scenario), NOW)
    assert bundle is not None
    return bundle


def _resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def _unreadable(record) -> dict[tuple[str, str | None], str]:
    return {(u.resource_type, u.resource_id): u.reason for u in record.unreadable}


def _statement_and_plan(bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    statement = _resources(bundle, "MedicationStatement")[0]
    plan_id = statement["basedOn"][0]["reference"].rsplit("/", 1)[-1]
    return statement, next(r for r in _resources(bundle, "MedicationRequest") if r["id"] == plan_id)


def test_plan_of_an_unreadable_statement_is_accounted_for():
    bundle = copy.deepcopy(_bundle())
    statement, plan = _statement_and_plan(bundle)
    # neither the statement nor its plan names a Medication the Bundle holds: the statement is unreadable
    statement["medicationReference"] = plan["medicationReference"] = {"reference": "Medication/missing"}
    record = map_structured_record(bundle, retrieved_at=NOW)
    lost = _unreadable(record)
    assert ("MedicationStatement", statement["id"]) in lost
    assert "no name" in lost[("MedicationRequest", plan["id"])]
    assert account(bundle, record)[2] == []


def test_plan_a_statement_does_not_reach_is_shown_from_itself():
    """The statement names its plan under another type, so it cannot borrow the plan's medicine and is
    unreadable; the plan itself names its medicine, and the authorisation is shown rather than lost."""
    bundle = copy.deepcopy(_bundle())
    statement, plan = _statement_and_plan(bundle)
    statement["medicationReference"] = {"reference": "Medication/missing"}
    statement["basedOn"] = [{"reference": f"Medication/{plan['id']}"}]
    record = map_structured_record(bundle, retrieved_at=NOW)
    assert ("MedicationStatement", statement["id"]) in _unreadable(record)
    from_plan = [m.provenance.resource_type for m in record.medications
                 if m.provenance.resource_id == plan["id"]]
    assert from_plan == ["MedicationRequest"]
    assert account(bundle, record)[2] == []


def test_a_second_plan_with_the_same_id_is_accounted_for():
    bundle = copy.deepcopy(_bundle())
    statement, plan = _statement_and_plan(bundle)
    other = {**copy.deepcopy(plan), "dosageInstruction": [{"text": "a different dose"}]}
    bundle["entry"].append({"resource": other})
    record = map_structured_record(bundle, retrieved_at=NOW)
    assert "same id" in _unreadable(record)[("MedicationRequest", plan["id"])]
    shown = [m for m in record.medications if m.provenance.resource_id == statement["id"]]
    assert len(shown) == 1 and shown[0].dosage != "a different dose"  # the first plan, not a mixture
    assert account(bundle, record)[2] == []


def test_the_same_plan_sent_twice_is_one_plan():
    bundle = copy.deepcopy(_bundle())
    _, plan = _statement_and_plan(bundle)
    bundle["entry"].append({"resource": copy.deepcopy(plan)})
    record = map_structured_record(bundle, retrieved_at=NOW)
    assert record.unreadable == map_structured_record(_bundle(), retrieved_at=NOW).unreadable
    assert len(record.medications) == len(map_structured_record(_bundle(), retrieved_at=NOW).medications)


def test_allergies_contained_in_an_untyped_list_are_accounted_for():
    bundle = copy.deepcopy(_bundle("resolved-allergy"))
    ended = next(r for r in _resources(bundle, "List") if r.get("contained"))
    del ended["resourceType"]
    record = map_structured_record(bundle, retrieved_at=NOW)
    assert account(bundle, record)[2] == []


def test_an_untyped_ended_allergies_list_still_ends_its_allergies():
    """CLINICAL.md: an ended allergy must read as resolved. The List that lost its resourceType is still
    the Ended allergies List by its code, so an allergy it holds without a status still reads resolved."""
    bundle = copy.deepcopy(_bundle("resolved-allergy"))
    ended = next(r for r in _resources(bundle, "List") if r.get("contained"))
    del ended["resourceType"]
    allergy = next(c for c in ended["contained"] if c["resourceType"] == "AllergyIntolerance")
    del allergy["clinicalStatus"]
    record = map_structured_record(bundle, retrieved_at=NOW)
    shown = [a for a in record.allergies if a.provenance.resource_id == allergy["id"]]
    assert [a.clinical_status for a in shown] == ["resolved"]
    assert record.allergies_supplied


def test_allergies_contained_in_a_resource_other_than_a_list_are_counted():
    bundle = copy.deepcopy(_bundle("resolved-allergy"))
    ended = next(r for r in _resources(bundle, "List") if r.get("contained"))
    ended["resourceType"] = "Unknown"
    allergy = next(c for c in ended["contained"] if c["resourceType"] == "AllergyIntolerance")
    record = map_structured_record(bundle, retrieved_at=NOW)
    assert "inside another resource" in _unreadable(record)[("AllergyIntolerance", allergy["id"])]
    assert account(bundle, record)[2] == []


def test_an_item_carried_inside_another_resource_and_sent_at_the_top_level_is_shown_once():
    bundle = copy.deepcopy(_bundle())
    condition = _resources(bundle, "Condition")[0]
    _resources(bundle, "Encounter")[0]["contained"] = [copy.deepcopy(condition)]
    record = map_structured_record(bundle, retrieved_at=NOW)
    assert ("Condition", condition["id"]) not in _unreadable(record)
    assert [p.provenance.resource_id for p in record.problems].count(condition["id"]) == 1
    assert account(bundle, record)[2] == []


@pytest.mark.parametrize("odd_id", [" ", 7, 0])
def test_a_blank_or_numeric_id_is_no_id(odd_id):
    """Found by the long fuzz run: an item claimed id "7" for a resource whose id was the number 7."""
    bundle = copy.deepcopy(_bundle())
    _resources(bundle, "Condition")[0]["id"] = odd_id
    record = map_structured_record(bundle, retrieved_at=NOW)
    assert [p.provenance.resource_id for p in record.problems].count(None) == 1
    assert account(bundle, record)[2] == []
