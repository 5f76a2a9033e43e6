"""The independent accounting of clinical resources: what a Bundle holds, counted by walking its raw JSON
without the mappers, and whether each one came back as an item's provenance or as an `unreadable`.

Shared by the conformance tests (published GP Connect Bundles) and the fuzz tests (mutated Bundles), so
both hold the mappers to the same rule: a clinical resource that vanishes is the defect they catch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

# GP Connect (STU3): the types the structured record shows. A MedicationRequest counts only as a plan
# (an order is a repeat issue of the plan, shown through it).
COUNTED = (
    "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Condition", "Immunization",
    "Encounter", "Observation",
)
# Hospital (R4): every type the hospital mapper maps on its own, each entry one item or one unreadable.
R4_COUNTED = (
    "AllergyIntolerance", "MedicationRequest", "MedicationStatement", "Condition", "Encounter",
    "DiagnosticReport", "Observation", "Immunization", "ServiceRequest", "DocumentReference", "Flag",
)
SECTIONS = (
    "allergies", "medications", "problems", "encounters", "observations", "reports", "immunisations",
    "referrals", "documents", "flags",
)

Key = tuple[str, str | None]


def _counted(resource: Any) -> bool:
    if not isinstance(resource, dict) or resource.get("resourceType") not in COUNTED:
        return False
    return resource["resourceType"] != "MedicationRequest" or resource.get("intent") == "plan"


def clinical_resources(bundle: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """Every counted resource of the Bundle with whether it was contained, found without the mapper."""
    found = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if resource is None and "resourceType" in entry:
            resource = entry  # the wrapper is missing: the resource still belongs to the record
        if not isinstance(resource, dict):
            continue
        found += [(resource, False)] if _counted(resource) else []
        contained = resource.get("contained")
        found += [(c, True) for c in contained if _counted(c)] if isinstance(contained, list) else []
    return found


def logical_resources(bundle: dict[str, Any]) -> list[Key]:
    """One key per resource. Entries are counted one by one (the spec's consultation example repeats
    a MedicationStatement id across entries, and each is an item), but a contained resource that is
    also a top-level entry is one resource: TPP sends an ended allergy both contained in the Ended
    allergies List and at the top level for a consultation to point at; it is shown once."""
    found = clinical_resources(bundle)
    top_level = {key_of(r) for r, contained in found if not contained}
    keys: list[Key] = []
    for resource, contained in found:
        key = key_of(resource)
        if contained and key[1] is not None and key in top_level:
            continue
        keys.append(key)
        if contained:
            top_level.add(key)
    return keys


def r4_resources(bundle: dict[str, Any]) -> list[Key]:
    """One key per clinical entry of a hospital searchset page. Entries marked as outcomes
    (`search.mode` "outcome") are the server's messages, not the record, and are not counted."""
    keys: list[Key] = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        search = entry.get("search")
        if isinstance(search, dict) and search.get("mode") == "outcome":
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") in R4_COUNTED:
            keys.append(key_of(resource))
    return keys


def key_of(resource: dict[str, Any]) -> Key:
    """A FHIR id is a non-blank string; any other value (blank, a number, a bool, an object) is no id."""
    rid = resource.get("id")
    return resource["resourceType"], (rid if isinstance(rid, str) and rid.strip() else None)


def account(bundle: dict[str, Any], record, keys: list[Key] | None = None) -> tuple[
    Counter[str], Counter[str], list[Key]
]:
    """(found per type, accounted per type, the keys not accounted for). `keys` defaults to the GP
    Connect walk (`logical_resources`); pass `r4_resources(bundle)` for a hospital page."""
    shown: Counter[Key] = Counter()
    for section in SECTIONS:
        for item in getattr(record, section):
            shown[(item.provenance.resource_type, item.provenance.resource_id)] += 1
            # the resources an item was built from (a medicine's MedicationRequest plan) are named too
            for related in item.provenance.related:
                shown[related] += 1
    unreadable: Counter[Key] = Counter((u.resource_type, u.resource_id) for u in record.unreadable)

    found: Counter[str] = Counter()
    accounted: Counter[str] = Counter()
    missing = []
    available = shown + unreadable
    for key in logical_resources(bundle) if keys is None else keys:
        found[key[0]] += 1
        if available[key] > 0:
            available[key] -= 1
            accounted[key[0]] += 1
        else:
            missing.append(key)
    return found, accounted, missing
