"""Conformance over every published GP Connect JSON Bundle: the spec examples, the demonstrator messages
and the suppliers' own test patients (EMIS, TPP, Medicus).

For each Bundle the clinical resources are counted by walking the raw JSON (tests/support/accounting.py),
independently of the mapper: every entry (an entry whose `resource` wrapper is missing still counts),
and every resource a List (or any other resource) carries in `contained`. Each one must come back as the
provenance of an item of the SourceRecord or as an `unreadable` with a reason; a clinical resource that
vanishes is the defect these tests exist to catch. Items the provider withheld are not in the Bundle, so
they are not counted.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tests.support.accounting import COUNTED, SECTIONS, account, logical_resources
from viewer.domain.provenance import SourceKind
from viewer.sources.stu3_mapping import map_structured_record

GPCONNECT = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "gpconnect"
FOLDERS = ("spec-1.6.2-examples", "demonstrator-messages", "vendor-test-patients")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_JEKYLL_LINE = re.compile(rb"(?m)^\s*\{%.*%\}\s*$")
_TRAILING_COMMA = re.compile(rb",(\s*[}\]])")


def load(path: Path) -> bytes:
    """The spec site wraps its examples in Jekyll `{% highlight %}` lines, and one example has trailing
    commas; both are removed so the Bundle parses as the spec meant it."""
    return _TRAILING_COMMA.sub(rb"\1", _JEKYLL_LINE.sub(b"", path.read_bytes()))


def _is_request(path: Path) -> bool:
    """Request Parameters sit beside the response Bundles; a file that does not parse stays in (and
    fails the test loudly) rather than being skipped."""
    try:
        data = orjson.loads(load(path))
    except orjson.JSONDecodeError:
        return False
    return not (isinstance(data, dict) and data.get("resourceType") == "Bundle")


def bundle_files() -> list[Path]:
    if not GPCONNECT.is_dir():
        return []
    found = []
    for folder in FOLDERS:
        found += sorted(p for p in (GPCONNECT / folder).rglob("*.json") if not _is_request(p))
    return found


@pytest.fixture(params=bundle_files() or [None], ids=lambda p: p.name if p else "absent")
def bundle_file(request) -> Path:
    if request.param is None:
        pytest.skip("shared/reference/gpconnect is not available beside the repository")
    return request.param


@pytest.mark.reference
def test_every_clinical_resource_is_accounted_for(bundle_file):
    body = load(bundle_file)
    bundle = orjson.loads(body)
    record = map_structured_record(body, retrieved_at=NOW)
    found, accounted, missing = account(bundle, record)
    assert missing == []
    assert accounted == found
    assert sum(found.values()) == len(logical_resources(bundle))
    for section in SECTIONS:
        for item in getattr(record, section):
            assert item.provenance.source is SourceKind.GP
            assert item.provenance.retrieved_at == NOW
            assert (item.provenance.org_ods, item.provenance.org_name) == (record.org_ods, record.org_name)
    for unreadable in record.unreadable:
        assert unreadable.reason and unreadable.source == "gp"


# Counted by hand from the supplier files (README inventory; TPP's two contained ended allergies are also
# top-level entries, so they count once), so the
# independent walk above is itself checked: a walk that found nothing would account for everything.
SUPPLIER_COUNTS = {
    "EMIS_9730256853_full.json": {
        "Encounter": 24, "MedicationRequest": 14, "MedicationStatement": 14, "Observation": 68,
    },
    "TPP_9465699012_full.json": {
        "AllergyIntolerance": 28, "Condition": 1, "Encounter": 35, "Immunization": 5, "MedicationRequest": 1,
        "MedicationStatement": 1, "Observation": 29,
    },
    "Medicus_9465704997_full.json": {"Encounter": 2, "Immunization": 10, "Observation": 5},
}


@pytest.mark.reference
@pytest.mark.parametrize("name", sorted(SUPPLIER_COUNTS))
def test_supplier_bundles_are_mapped_not_just_counted(name):
    """Real supplier output: every counted resource is found, and each is shown as an item (none of
    them needs to fall back to `unreadable`)."""
    matches = list((GPCONNECT / "vendor-test-patients").glob(f"*/{name}"))
    if not matches:
        pytest.skip("shared/reference/gpconnect/vendor-test-patients is not available beside the repository")
    body = load(matches[0])
    bundle = orjson.loads(body)
    record = map_structured_record(body, retrieved_at=NOW)
    found, accounted, missing = account(bundle, record)
    assert dict(found) == SUPPLIER_COUNTS[name]
    assert dict(accounted) == SUPPLIER_COUNTS[name] and missing == []
    assert not [u for u in record.unreadable if u.resource_type in COUNTED]
    assert len(record.encounters) == SUPPLIER_COUNTS[name]["Encounter"]
    assert len(record.observations) == SUPPLIER_COUNTS[name]["Observation"]


def test_walk_counts_unwrapped_and_contained_resources():
    """The counting walk itself: an unwrapped entry, a List's contained allergy, an order (not counted)."""
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resourceType": "Observation", "id": "loose"},
            {"resource": {"resourceType": "List", "contained": [{"resourceType": "AllergyIntolerance",
                                                                 "id": "a"}]}},
            {"resource": {"resourceType": "MedicationRequest", "id": "o", "intent": "order"}},
            {"resource": {"resourceType": "MedicationRequest", "id": "p", "intent": "plan"}},
        ],
    }
    assert logical_resources(bundle) == [
        ("Observation", "loose"), ("AllergyIntolerance", "a"), ("MedicationRequest", "p"),
    ]
    bundle["entry"].append({"resource": {"resourceType": "AllergyIntolerance", "id": "a"}})  # twice: once
    bundle["entry"].append({"resource": {"resourceType": "Observation", "id": "loose"}})  # two entries: two
    assert Counter(logical_resources(bundle)) == Counter(
        {("Observation", "loose"): 2, ("AllergyIntolerance", "a"): 1, ("MedicationRequest", "p"): 1}
    )
