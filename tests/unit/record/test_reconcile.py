"""Medicines reconciliation: where the GP's current list and the hospital's part, and when they cannot be
compared at all."""

from datetime import UTC, datetime, timedelta

from viewer.domain import Concept, Medication, Provenance, SourceKind, SourceRecord
from viewer.domain.coding import SNOMED, Coding
from viewer.record.combined import combine
from viewer.record.reconcile import Difference, reconcile
from viewer.record.status import SourceState, SourceStatus

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
CODES = {"Amlodipine 5mg tablets": "319283006", "Ramipril 2.5mg capsules": "318901002",
         "Enoxaparin 40mg injection": "9999901", "Simvastatin 40mg tablets": "320000009"}


def med(source, name, *, dosage="One daily", status="active", rid=None):
    return Medication(Concept(name, (Coding(SNOMED, CODES[name]),)),
                      Provenance(source, "MedicationStatement", rid or f"{source}-{name}", NOW),
                      status=status, dosage=dosage)


def record(gp_meds, hospital_meds, *, gp_state=SourceState.LOADED, hospital_state=SourceState.LOADED,
           gp_present=True, cached_at=None):
    statuses = {SourceKind.PDS: SourceStatus(SourceKind.PDS, SourceState.LOADED, NOW),
                SourceKind.GP: SourceStatus(SourceKind.GP, gp_state, NOW, "timeout", cached_at=cached_at),
                SourceKind.HOSPITAL: SourceStatus(SourceKind.HOSPITAL, hospital_state, NOW)}
    gp = SourceRecord(SourceKind.GP, NOW, None, medications=tuple(gp_meds)) if gp_present else None
    hospital = SourceRecord(SourceKind.HOSPITAL, NOW, None, medications=tuple(hospital_meds))
    return combine(None, statuses, gp, hospital)


def names(result, difference):
    return [line.merged.item.name.label for line in result.of(difference)]


def test_each_kind_of_difference_is_listed_differences_first():
    gp = [med(SourceKind.GP, "Amlodipine 5mg tablets"), med(SourceKind.GP, "Ramipril 2.5mg capsules"),
          med(SourceKind.GP, "Simvastatin 40mg tablets")]
    hospital = [med(SourceKind.HOSPITAL, "Amlodipine 5mg tablets", dosage="Two daily"),
                med(SourceKind.HOSPITAL, "Enoxaparin 40mg injection"),
                med(SourceKind.HOSPITAL, "Simvastatin 40mg tablets", status="stopped")]
    result = reconcile(record(gp, hospital))
    assert result.possible and not result.caveats
    assert names(result, Difference.DIFFERS) == ["Amlodipine 5mg tablets", "Simvastatin 40mg tablets"]
    assert names(result, Difference.GP_ONLY) == ["Ramipril 2.5mg capsules"]
    assert names(result, Difference.HOSPITAL_ONLY) == ["Enoxaparin 40mg injection"]
    assert result.differences == 4
    details = {line.merged.item.name.label: line.detail for line in result.lines}
    assert "Dosage differs" in details["Amlodipine 5mg tablets"]
    assert "stopped" in details["Simvastatin 40mg tablets"]
    assert result.lines[0].difference is Difference.DIFFERS


def test_identical_lists_have_nothing_to_reconcile():
    gp = [med(SourceKind.GP, "Amlodipine 5mg tablets")]
    hospital = [med(SourceKind.HOSPITAL, "Amlodipine 5mg tablets")]
    result = reconcile(record(gp, hospital))
    assert result.differences == 0 and names(result, Difference.SAME) == ["Amlodipine 5mg tablets"]


def test_without_one_of_the_records_nothing_is_compared_and_the_reason_is_said():
    result = reconcile(record([], [med(SourceKind.HOSPITAL, "Enoxaparin 40mg injection")],
                              gp_state=SourceState.FAILED, gp_present=False))
    assert not result.possible and not result.lines
    assert result.reason == "The lists cannot be compared: GP: failed - timeout."


def test_a_copy_kept_on_this_pc_is_compared_with_a_caveat():
    result = reconcile(record([med(SourceKind.GP, "Ramipril 2.5mg capsules")], [],
                              gp_state=SourceState.FAILED, cached_at=NOW - timedelta(hours=2)))
    assert result.possible and names(result, Difference.GP_ONLY) == ["Ramipril 2.5mg capsules"]
    assert result.caveats and result.caveats[0].startswith("GP: showing copy from")
