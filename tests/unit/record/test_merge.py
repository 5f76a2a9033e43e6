import random
from datetime import UTC, datetime

from viewer.domain import (
    Allergy,
    Coding,
    Concept,
    Encounter,
    Immunisation,
    Medication,
    Observation,
    PartialDate,
    Problem,
    Provenance,
    SourceKind,
)
from viewer.domain.coding import DMD, SNOMED
from viewer.record.merge import SECTIONS, merge_section

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GP, HOSP = SourceKind.GP, SourceKind.HOSPITAL


def prov(source, rid):
    return Provenance(source, "X", rid, NOW)


def concept(label, code=None, system=SNOMED):
    return Concept(label, (Coding(system, code, label),) if code else ())


def allergy(source, rid, code="764146007", label="Penicillin", status="active", nka=False):
    return Allergy(concept(label, code), prov(source, rid), clinical_status=status, no_known_allergies=nka)


def med(source, rid, code="320000009", status="active", started="2025-01-01", ended=None, system=SNOMED,
        label="Atorvastatin 20mg tablets"):
    return Medication(concept(label, code, system), prov(source, rid), status=status,
                      started=PartialDate.parse(started), ended=PartialDate.parse(ended))


def test_same_allergy_in_both_sources_is_one_line_with_two_originals():
    merged = merge_section("allergies", [allergy(GP, "g1")], [allergy(HOSP, "h1", label="PENICILLIN")])
    assert len(merged) == 1
    assert merged[0].sources == (GP, HOSP)
    assert [o.provenance.resource_id for o in merged[0].originals] == ["g1", "h1"]
    assert merged[0].conflicts == ()


def test_allergy_in_one_loaded_source_only_is_flagged():
    merged = merge_section("allergies", [allergy(GP, "g1")], [])
    assert merged[0].conflicts == ("Allergy recorded in the GP record only, not in the Hospital record",)
    quiet = merge_section("allergies", [allergy(GP, "g1")], [], hospital_loaded=False)
    assert quiet[0].conflicts == ()


def test_active_allergy_resolved_elsewhere_is_flagged_and_both_kept():
    merged = merge_section("allergies", [allergy(GP, "g1")], [allergy(HOSP, "h1", status="resolved")])
    assert len(merged) == 2
    active = merged[0]
    assert active.item.is_active
    assert any("resolved in the Hospital record" in c for c in active.conflicts)


def test_no_known_allergy_statements_are_kept_and_never_flagged():
    merged = merge_section("allergies", [allergy(GP, "g1", "716186003", "No known allergy", nka=True)], [])
    assert len(merged) == 1 and merged[0].conflicts == ()


def test_same_medicine_across_systems_and_code_systems_merges():
    merged = merge_section("medications", [med(GP, "g1")], [med(HOSP, "h1", system=DMD)])
    assert len(merged) == 1
    assert set(merged[0].sources) == {GP, HOSP}


def test_medicine_active_in_one_and_stopped_in_the_other_is_flagged():
    merged = merge_section("medications", [med(GP, "g1")],
                           [med(HOSP, "h1", status="stopped", ended="2026-10-02")])
    current = merged[0]
    assert current.item.provenance.source is GP
    assert current.conflicts == ("Active in the GP record, stopped in the Hospital record (02-Oct-2026)",)
    assert len(merged) == 2  # the stopped hospital entry is still listed in the history


def test_past_issues_are_kept_by_date_not_collapsed():
    past = [med(GP, f"g{i}", status="completed", started=f"2024-0{i}-01") for i in range(1, 5)]
    merged = merge_section("medications", past, [])
    assert len(merged) == 4
    assert [m.item.started.display() for m in merged] == ["01-Apr-2024", "01-Mar-2024", "01-Feb-2024",
                                                           "01-Jan-2024"]


def test_problems_immunisations_observations_dedup_by_code_and_date():
    p = [Problem(concept("Hypertension", "38341003"), prov(s, s.value), clinical_status="active",
                 onset=PartialDate.parse("2019-05")) for s in (GP, HOSP)]
    assert len(merge_section("problems", p[:1], p[1:])) == 1
    i = [Immunisation(concept("Flu", "1"), prov(s, s.value), given=PartialDate.parse("2025-10-01"))
         for s in (GP, HOSP)]
    assert len(merge_section("immunisations", i[:1], i[1:])) == 1
    when = PartialDate.parse("2026-11-01T09:00:00Z")
    o = [Observation(concept("HbA1c", "4548-4", "http://loinc.org"), prov(s, s.value), effective=when,
                     value="48", unit="mmol/mol") for s in (GP, HOSP)]
    assert len(merge_section("observations", o[:1], o[1:])) == 1
    other = Observation(concept("HbA1c", "4548-4", "http://loinc.org"), prov(GP, "x"), effective=when,
                        value="52", unit="mmol/mol")
    assert len(merge_section("observations", [o[0], other], [])) == 2


def test_encounters_are_never_merged_across_sources():
    e = [Encounter(prov(s, s.value), kind="outpatient", start=PartialDate.parse("2026-01-01"))
         for s in (GP, HOSP)]
    assert len(merge_section("encounters", e[:1], e[1:])) == 2


def test_nothing_is_lost_every_original_appears_exactly_once():
    rng = random.Random(7)
    codes = ["1", "2", "3"]
    for name in SECTIONS:
        if name not in ("allergies", "medications"):
            continue
        gp, hosp = [], []
        for n in range(60):
            source = rng.choice([GP, HOSP])
            target = gp if source is GP else hosp
            if name == "allergies":
                target.append(allergy(source, f"{name}{n}", rng.choice(codes),
                                      status=rng.choice(["active", "resolved"]), nka=rng.random() < 0.1))
            else:
                target.append(med(source, f"{name}{n}", rng.choice(codes),
                                  status=rng.choice(["active", "stopped", "completed"]),
                                  started=f"2025-0{rng.randint(1, 9)}-01"))
        merged = merge_section(name, gp, hosp)
        ids = [o.provenance.resource_id for m in merged for o in m.originals]
        assert sorted(ids) == sorted(x.provenance.resource_id for x in (*gp, *hosp))


def test_a_dose_discrepancy_between_records_is_flagged_not_hidden():
    gp = Medication(concept("Amlodipine 5mg tablets", "319283006"), prov(GP, "g1"), status="active",
                    dosage="One tablet once a day")
    hosp = Medication(concept("Amlodipine 5mg tablets", "319283006", DMD), prov(HOSP, "h1"), status="active",
                      dosage="Two tablets once a day")
    [line] = merge_section("medications", [gp], [hosp])
    assert line.conflicts == ("Dosage differs between the records - GP: One tablet once a day; "
                              "Hospital: Two tablets once a day",)


def test_the_same_dose_written_differently_in_case_or_spacing_is_not_a_conflict():
    gp = Medication(concept("Amlodipine", "319283006"), prov(GP, "g1"), status="active",
                    dosage="One tablet daily")
    hosp = Medication(concept("Amlodipine", "319283006"), prov(HOSP, "h1"), status="active",
                      dosage="one  tablet DAILY")
    [line] = merge_section("medications", [gp], [hosp])
    assert line.conflicts == ()


def test_allergy_severity_disagreement_is_flagged():
    from viewer.domain import Reaction

    gp = Allergy(concept("Penicillin", "764146007"), prov(GP, "g1"), clinical_status="active",
                 reactions=(Reaction((concept("Rash"),), "mild"),))
    hosp = Allergy(concept("Penicillin", "764146007"), prov(HOSP, "h1"), clinical_status="active",
                   reactions=(Reaction((concept("Anaphylaxis"),), "severe"),))
    [line] = merge_section("allergies", [gp], [hosp])
    assert line.conflicts == ("Reaction severity differs between the records - GP: mild; Hospital: severe",)
