"""Map every published GP Connect example, demonstrator message and vendor bundle, and check by an
independent walk of the raw JSON that no allergy, medicine or warning is lost."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from viewer.domain.provenance import SourceKind
from viewer.sources.stu3_mapping import map_structured_record

GPCONNECT = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "gpconnect"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_JEKYLL = re.compile(rb"(?m)^\s*\{%.*%\}\s*$")
_TRAILING_COMMA = re.compile(rb",(\s*[}\]])")


def _files() -> list[Path]:
    if not GPCONNECT.is_dir():
        return []
    found = sorted((GPCONNECT / "vendor-test-patients").glob("*/*.json"))
    found += sorted((GPCONNECT / "demonstrator-messages").glob("*.json"))
    found += sorted((GPCONNECT / "spec-1.6.2-examples").glob("*response*.json"))
    found.append(GPCONNECT / "spec-1.6.2-examples" / "skeleton_full_record.json")
    return found


def load(path: Path) -> bytes:
    """Strip the spec site's Jekyll wrapper lines and the one file's trailing commas."""
    raw = _JEKYLL.sub(b"", path.read_bytes())
    return _TRAILING_COMMA.sub(rb"\1", raw)


def walk(value, found):
    """Every dict with a resourceType anywhere in the JSON (contained ones included)."""
    if isinstance(value, dict):
        if isinstance(value.get("resourceType"), str):
            found.append(value)
        for child in value.values():
            walk(child, found)
    elif isinstance(value, list):
        for child in value:
            walk(child, found)
    return found


def _ids(resources, kind):
    return {r.get("id") for r in resources if r["resourceType"] == kind}


@pytest.fixture(params=_files() or [None], ids=lambda p: p.name if p else "absent")
def bundle_file(request):
    if request.param is None:
        pytest.skip("shared/reference/gpconnect is not available beside the repository")
    return request.param


@pytest.mark.reference
def test_nothing_is_lost(bundle_file):
    body = load(bundle_file)
    raw = orjson.loads(body)
    record = map_structured_record(body, retrieved_at=NOW)
    everything = walk(raw.get("entry", []), [])
    unread = {(u.resource_type, u.resource_id) for u in record.unreadable}

    # allergies: every AllergyIntolerance anywhere is mapped or counted unreadable
    mapped_allergy_ids = {
        a.provenance.resource_id
        for a in record.allergies
        if a.provenance.resource_type == "AllergyIntolerance"
    }
    for rid in _ids(everything, "AllergyIntolerance"):
        assert rid in mapped_allergy_ids or ("AllergyIntolerance", rid) in unread

    # medicines: every top-level MedicationStatement
    top = [e["resource"] for e in raw.get("entry", []) if isinstance(e.get("resource"), dict)]
    statements = _ids(top, "MedicationStatement")
    mapped_meds = {
        m.provenance.resource_id
        for m in record.medications
        if m.provenance.resource_type == "MedicationStatement"
    }
    statement_count = sum(1 for r in top if r["resourceType"] == "MedicationStatement")  # ids may repeat
    assert (
        sum(1 for m in record.medications if m.provenance.resource_type == "MedicationStatement")
        + sum(
            1
            for u in record.unreadable
            if u.resource_type == "MedicationStatement"
            and u.reason != "listed in the record but not included in the response"
        )
        == statement_count
    )
    assert statements <= mapped_meds | {rid for t, rid in unread if t == "MedicationStatement"}

    # list-referenced allergies and medicines: mapped, or counted
    present = {(r["resourceType"], r.get("id")) for r in top}
    mapped = {
        (i.provenance.resource_type, i.provenance.resource_id) for i in record.allergies + record.medications
    }
    for lst in (r for r in top if r["resourceType"] == "List"):
        codes = [c.get("code", "") for c in lst.get("code", {}).get("coding", [])]
        if not any(c in ("886921000000105", "1103671000000101", "933361000000108") for c in codes):
            continue
        for entry in lst.get("entry", []):
            ref = entry.get("item", {}).get("reference", "")
            if ref.startswith("#"):
                assert ("AllergyIntolerance", ref[1:]) in mapped | unread
                continue
            kind, rid = ref.split("/")[-2:]
            if (kind, rid) not in present:
                assert (kind, rid) in unread
            elif kind in ("AllergyIntolerance", "MedicationStatement"):
                assert (kind, rid) in mapped | unread

    # warnings: every code in any List's warning extension is reported
    raw_codes = set(re.findall(rb'ListWarningCode-1",\s*"valueCode":\s*"([a-z-]+)"', body))
    assert {w.code for w in record.warnings if w.code != "NOT_IMPLEMENTED"} >= {c.decode() for c in raw_codes}

    # provenance on every item
    items = record.allergies + record.medications + record.problems + record.encounters + record.observations
    for item in items + record.reports + record.immunisations + record.referrals:
        assert item.provenance.source is SourceKind.GP
        assert item.provenance.retrieved_at == NOW
        assert item.provenance.org_ods == record.org_ods


def _map(*parts: str):
    path = GPCONNECT.joinpath(*parts)
    if not path.is_file():
        pytest.skip("shared/reference/gpconnect is not available beside the repository")
    return map_structured_record(load(path), retrieved_at=NOW)


@pytest.mark.reference
def test_allergies_response1_known_counts():
    record = _map("spec-1.6.2-examples", "allergies_response1.json")
    assert len(record.allergies) == 4  # 3 listed + 1 ended (contained)
    resolved = [a for a in record.allergies if not a.is_active]
    assert len(resolved) == 1
    (ended,) = resolved
    assert ended.end_reason == "Patient reports no subsequent recurrence on same medication"
    assert ended.end_date.display() == "01-Mar-2018"
    assert ended.reactions[0].severity == "severe"
    assert ended.recorder == "Miss Nichole Gilbert"  # through PractitionerRole -> Practitioner
    # the active list points at an allergy the Bundle does not contain: counted, not dropped
    assert [u.resource_id for u in record.unreadable] == ["561850bd-360c-4d17-b3c8-a837ef0cbfba"]
    assert (
        record.allergies_supplied and record.org_ods == "O001" and record.org_name == "The Trevelyan Practice"
    )
    assert record.patient.gp_practice_ods == "O001"


@pytest.mark.reference
def test_no_known_allergies_is_coded():
    record = _map("spec-1.6.2-examples", "allergies_response2.json")
    assert [a.no_known_allergies for a in record.allergies] == [True]


@pytest.mark.reference
def test_empty_allergy_list_is_supplied_but_empty():
    record = _map("spec-1.6.2-examples", "allergies_response3.json")
    assert record.allergies == () and record.allergies_supplied


@pytest.mark.reference
def test_meds_response_fields():
    record = _map("spec-1.6.2-examples", "meds_response.json")
    assert len(record.medications) == 3
    amox = next(
        m for m in record.medications if m.provenance.resource_id == "6bff710a-0bdc-4c9b-b98b-40db0a107edc"
    )
    assert amox.name.label == "Amoxicillin 250mg capsules"
    assert amox.kind == "acute" and amox.quantity == "28 capsule(s)" and amox.dosage == "TAKE ONE DAILY"
    assert amox.patient_notes == ("INSTRUCTIONS FOR PATIENT",)
    assert amox.prescriber_notes == ("Pharmacy Notes: NOTES FOR PHARMACY",)
    assert amox.last_issued.display() == "10-May-2016" and not amox.prescribed_elsewhere
    assert not record.allergies_supplied  # no allergy List was returned


@pytest.mark.reference
def test_not_implemented_areas():
    record = _map("spec-1.6.2-examples", "consultations_forwards_response1.json")
    assert record.missing_areas == ("consultations", "problems")
    assert {w.area for w in record.warnings if w.code == "NOT_IMPLEMENTED"} == {"consultations", "problems"}


@pytest.mark.reference
def test_confidential_items_warning_text():
    record = _map("demonstrator-messages", "full_record.json")
    confidential = [w for w in record.warnings if w.code == "confidential-items"]
    assert confidential
    assert all(
        w.message == "Items excluded due to confidentiality and/or patient preferences" for w in confidential
    )
    full = _map("demonstrator-messages", "full_record_including_confidential_data.json")
    assert not [w for w in full.warnings if w.code == "confidential-items"]
    assert len(full.medications) == len(record.medications) + 1


@pytest.mark.reference
def test_vendor_bundles():
    emis = _map("vendor-test-patients", "EMIS", "EMIS_9730256853_full.json")
    assert emis.patient.nhs_number == "9730256853"
    assert [w.area for w in emis.warnings if w.code == "data-in-transit"] == [None]  # once, record-wide
    assert len(emis.medications) == 14
    assert any(m.prescribed_elsewhere for m in emis.medications)
    assert emis.allergies == () and emis.allergies_supplied
    tpp = _map("vendor-test-patients", "TPP", "TPP_9465699012_full.json")
    assert tpp.patient.nhs_number == "9465699012"
    assert sum(a.no_known_allergies for a in tpp.allergies) == 1
    medicus = _map("vendor-test-patients", "Medicus", "Medicus_9465704997_full.json")
    assert medicus.patient.nhs_number == "9465704997"


@pytest.mark.reference
def test_diary_entries_without_resource_wrapper_are_counted():
    record = _map("spec-1.6.2-examples", "diaryentries_response1.json")
    assert [u.reason for u in record.unreadable] == ["entry has no resource"] * 2


@pytest.mark.reference
def test_pathology_report_groups_its_results():
    record = _map("spec-1.6.2-examples", "pathology_response1.json")
    (report,) = record.reports
    assert report.name.label == "FBC - Full blood count" and report.issued.display() == "03-Apr-2019"
    assert len(record.observations) == 19 and len(report.result_ids) == 19
    assert {o.report_id for o in record.observations} == {report.provenance.resource_id}
    assert report.result_ids[0] == "dacb177a-9501-4dcc-8b22-b941791ae0db"  # the test group, then members
    wcc = next(o for o in record.observations if o.test.label == "Total white cell count")
    assert (wcc.value, wcc.number, wcc.unit, wcc.range_low, wcc.range_high) == ("5.7", 5.7, "10*9/L", 3.5, 11)


@pytest.mark.reference
def test_immunisation_example_fields():
    record = _map("spec-1.6.2-examples", "immunizations_response1.json")
    (item,) = record.immunisations
    assert item.vaccine.label == "First hepatitis A vaccination"  # vaccineCode is UNK
    assert (item.given.display(), item.status, item.batch) == ("28-Jun-2019", "completed", "AAJN11K")
    assert (item.site, item.route, item.dose) == ("Right upper arm", "Subcutaneous route", "Dose 1 of 3")
    assert {"Parent present", "Recorded 28-Jun-2019", "Notes on adminstration of vaccine"} <= set(item.notes)


@pytest.mark.reference
def test_referral_and_consultation_examples():
    referrals = _map("spec-1.6.2-examples", "referrals_response1.json").referrals
    assert {r.reasons[0].label for r in referrals} == {"Referral to physiotherapist", "Referral to counselor"}
    assert all(r.recipient == "Dr Dave" and r.authored.display() == "28-Mar-2019" for r in referrals)
    record = _map("spec-1.6.2-examples", "pages_consultations_response1.json")
    assert [e.provenance.resource_id for e in record.encounters] == ["Encounter1", "Encounter2", "Encounter3"]
    first = record.encounters[0]
    assert first.clinician == "Miss Nichole Gilbert"
    assert first.start.display_with_time() == "28-Mar-2019 10:30"
    assert first.notes[:2] == (
        "Topic: Anxiety with Depression",
        "History: Come for review. Overall doing better. Mood still low but improving. More good days than "
        "bad. Energy levels ok. Motivation improving. Support from neighbour visits daily",
    )
    assert "Plan: Medication authorised: Citalopram 20mg tablets" in first.notes


@pytest.mark.reference
def test_split_plan_medicines_come_from_their_plans():
    record = _map("spec-1.6.2-examples", "split_plan.json")
    statuses = sorted((m.status, m.kind) for m in record.medications)
    assert statuses == [("active", "repeat"), ("completed", "repeat")]
    assert all(m.provenance.resource_type == "MedicationRequest" for m in record.medications)
    assert all(m.name.label == "Furosemide 20mg tablets" for m in record.medications)
