from datetime import UTC, datetime

from viewer.domain import (
    Allergy,
    Concept,
    HumanName,
    Medication,
    PartialDate,
    Patient,
    Provenance,
    SourceKind,
    SourceRecord,
)
from viewer.record.combined import AllergyState, combine, find_mismatches
from viewer.record.status import SourceState, SourceStatus

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def prov(source, rid="1"):
    return Provenance(source, "AllergyIntolerance", rid, NOW, "Y90001", "Surgery")


def patient(source, family="SMITH", given=("Ann",), born="1950-01-02", ods="Y90001"):
    return Patient("9990000018", HumanName(family, given), "female", PartialDate.parse(born),
                   prov(source), gp_practice_ods=ods)


def allergy(source, label="Penicillin", status="active", nka=False):
    return Allergy(Concept(label), prov(source), clinical_status=status, no_known_allergies=nka)


def rec(source, allergies=(), supplied=True, meds=()):
    return SourceRecord(source, NOW, patient(source), allergies=tuple(allergies),
                        allergies_supplied=supplied, medications=tuple(meds))


def statuses(gp=SourceState.LOADED, hosp=SourceState.LOADED):
    return {SourceKind.PDS: SourceStatus(SourceKind.PDS, SourceState.LOADED, NOW),
            SourceKind.GP: SourceStatus(SourceKind.GP, gp, NOW),
            SourceKind.HOSPITAL: SourceStatus(SourceKind.HOSPITAL, hosp, NOW)}


def test_known_allergies_from_either_source():
    r = combine(None, statuses(), rec(SourceKind.GP, [allergy(SourceKind.GP)]), rec(SourceKind.HOSPITAL))
    assert r.allergy_state is AllergyState.KNOWN
    assert [a.provenance.source for a in r.allergies] == [SourceKind.GP]


def test_no_known_allergies_needs_a_coded_entry():
    nka = allergy(SourceKind.GP, "No known allergy", nka=True)
    r = combine(None, statuses(), rec(SourceKind.GP, [nka]), rec(SourceKind.HOSPITAL))
    assert r.allergy_state is AllergyState.NO_KNOWN
    assert r.allergies == ()  # NKA is a statement, not an allergy row


def test_empty_lists_are_not_recorded():
    r = combine(None, statuses(), rec(SourceKind.GP), rec(SourceKind.HOSPITAL))
    assert r.allergy_state is AllergyState.NOT_RECORDED


def test_resolved_allergies_count_for_nothing():
    r = combine(None, statuses(), rec(SourceKind.GP, [allergy(SourceKind.GP, status="resolved")]), None)
    assert r.allergy_state is not AllergyState.KNOWN
    assert len(r.allergies) == 1


def test_failed_gp_never_reads_as_no_known_allergies():
    nka = allergy(SourceKind.HOSPITAL, "No known allergy", nka=True)
    r = combine(None, statuses(gp=SourceState.FAILED), None, rec(SourceKind.HOSPITAL, [nka]))
    assert r.allergy_state is AllergyState.UNAVAILABLE


def test_allergy_area_not_supplied_is_unavailable():
    r = combine(None, statuses(), rec(SourceKind.GP, supplied=False), rec(SourceKind.HOSPITAL))
    assert r.allergy_state is AllergyState.UNAVAILABLE


def test_active_sorted_before_resolved_and_every_item_kept():
    items = [allergy(SourceKind.GP, "Zeta", "resolved"), allergy(SourceKind.GP, "Alpha"),
             allergy(SourceKind.HOSPITAL, "Beta")]
    r = combine(None, statuses(), rec(SourceKind.GP, items[:2]), rec(SourceKind.HOSPITAL, items[2:]))
    assert [a.substance.label for a in r.allergies] == ["Alpha", "Beta", "Zeta"]


def test_medicines_from_both_sources_are_both_shown():
    gp_med = Medication(Concept("Amlodipine 5mg tablets"), prov(SourceKind.GP), status="active")
    h_med = Medication(Concept("Amlodipine 5mg tablets"), prov(SourceKind.HOSPITAL), status="active")
    r = combine(None, statuses(), rec(SourceKind.GP, meds=[gp_med]), rec(SourceKind.HOSPITAL, meds=[h_med]))
    assert {m.provenance.source for m in r.medications} == {SourceKind.GP, SourceKind.HOSPITAL}


def test_mismatch_detection():
    pds = patient(SourceKind.PDS)
    gp = patient(SourceKind.GP, born="1950-01-03")
    hosp = patient(SourceKind.HOSPITAL, family="Smyth", ods=None)
    found = {m.field: m for m in find_mismatches(pds, gp, hosp)}
    assert set(found) == {"Family name", "Date of birth"}
    assert "Hospital: SMYTH" in found["Family name"].text()


def test_pds_leads_the_banner():
    pds = patient(SourceKind.PDS, family="PDSNAME")
    r = combine(pds, statuses(), rec(SourceKind.GP), None)
    assert r.patient is pds


def test_status_texts():
    assert SourceStatus(SourceKind.GP, SourceState.LOADED, NOW).text() == "GP: loaded 10:42 23-Nov-2026"
    assert "withheld" in SourceStatus(SourceKind.GP, SourceState.WITHHELD).text()
    assert SourceStatus(SourceKind.HOSPITAL, SourceState.FAILED, reason="timeout").text() == (
        "Hospital: failed - timeout")


def test_withheld_or_missing_gp_record_makes_allergies_unavailable():
    for gp_state in (SourceState.WITHHELD, SourceState.NOT_FOUND, SourceState.LOADING):
        r = combine(None, statuses(gp=gp_state), None, rec(SourceKind.HOSPITAL))
        assert r.allergy_state is AllergyState.UNAVAILABLE, gp_state


def test_known_allergy_wins_even_when_a_source_is_missing():
    r = combine(None, statuses(gp=SourceState.WITHHELD), None,
                rec(SourceKind.HOSPITAL, [allergy(SourceKind.HOSPITAL)]))
    assert r.allergy_state is AllergyState.KNOWN


def test_unconfigured_source_does_not_block_the_state():
    r = combine(None, statuses(hosp=SourceState.NOT_CONFIGURED), rec(SourceKind.GP), None)
    assert r.allergy_state is AllergyState.NOT_RECORDED


def test_no_known_drug_allergy_is_not_no_known_allergies():
    partial = Allergy(Concept("No known drug allergy"), prov(SourceKind.GP), no_known_allergies=True,
                      negation_scope="drug")
    r = combine(None, statuses(), rec(SourceKind.GP, [partial]), rec(SourceKind.HOSPITAL))
    assert r.allergy_state is AllergyState.NOT_RECORDED
    assert r.partial_negations == ("No known drug allergy recorded (GP): other allergies not stated",)
    assert not partial.is_active


def test_full_statement_reads_no_known_allergies():
    full = Allergy(Concept("No known allergy"), prov(SourceKind.GP), no_known_allergies=True,
                   negation_scope="all")
    r = combine(None, statuses(), rec(SourceKind.GP, [full]), rec(SourceKind.HOSPITAL))
    assert r.allergy_state is AllergyState.NO_KNOWN
    assert r.partial_negations == ()


def test_a_following_record_reuses_the_merge_only_where_nothing_it_depends_on_changed():
    gp = rec(SourceKind.GP, [allergy(SourceKind.GP)], meds=[Medication(Concept("Amlodipine"),
                                                                          prov(SourceKind.GP, "m"))])
    hospital = rec(SourceKind.HOSPITAL)
    first = combine(None, statuses(hosp=SourceState.LOADING), gp, hospital)
    same = combine(None, statuses(hosp=SourceState.LOADING), gp, hospital, previous=first)
    assert all(same.sections[n] is first.sections[n] for n in first.sections)

    # the hospital now loaded: "recorded in the GP record only" may now apply, so allergies and
    # medications are merged again; the rest is reused; the result is what a fresh merge gives
    loaded = combine(None, statuses(), gp, hospital, previous=first)
    fresh = combine(None, statuses(), gp, hospital)
    assert loaded.sections == fresh.sections
    assert loaded.sections["allergies"] is not first.sections["allergies"]
    assert loaded.sections["allergies"][0].conflicts  # Penicillin: GP only, now that both are loaded
    assert loaded.sections["problems"] is first.sections["problems"]

    other = combine(None, statuses(), rec(SourceKind.GP), hospital, previous=loaded)  # a new GP record
    assert other.sections == combine(None, statuses(), rec(SourceKind.GP), hospital).sections
    assert other.sections["allergies"] == ()


def test_known_allergies_from_one_source_say_what_is_missing_from_the_other():
    hospital = rec(SourceKind.HOSPITAL, [allergy(SourceKind.HOSPITAL, "Latex")])
    failed = {**statuses(), SourceKind.GP: SourceStatus(SourceKind.GP, SourceState.FAILED, None, "timeout")}
    record = combine(None, failed, None, hospital)
    assert record.allergy_state is AllergyState.KNOWN
    assert record.allergy_gaps == ("GP allergies are not available (GP: failed - timeout): others may be "
                                   "recorded",)
    copy = {**statuses(), SourceKind.GP: SourceStatus(SourceKind.GP, SourceState.FAILED, None, "timeout",
                                                      cached_at=NOW)}
    with_copy = combine(None, copy, rec(SourceKind.GP), hospital)
    assert with_copy.allergy_gaps[0].startswith("GP allergies are from the copy kept on this PC")
    unsupplied = combine(None, statuses(), rec(SourceKind.GP, supplied=False), hospital)
    assert unsupplied.allergy_gaps == ("The GP record did not include allergies: others may be recorded "
                                       "there",)
    complete = combine(None, statuses(), rec(SourceKind.GP), hospital)
    assert complete.allergy_state is AllergyState.KNOWN and complete.allergy_gaps == ()
    assert combine(None, failed, None, rec(SourceKind.HOSPITAL)).allergy_gaps == ()  # label says unavailable
