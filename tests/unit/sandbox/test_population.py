"""The synthetic world: deterministic, valid identifiers, every scenario present and shaped as promised."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date, datetime, tzinfo

import pytest

from viewer.sandbox import population
from viewer.sandbox.nhs_numbers import (
    check_digit,
    is_synthetic,
    is_valid_nhs_number,
    make_nhs_number,
    synthetic_numbers,
)
from viewer.sandbox.population import REFERENCE_DATE, build_world, describe_patients, patient_for
from viewer.sandbox.world import DMD, LOINC, SNOMED, Area, ClinicalRecord, Code, GpAccess, World

REQUIRED_SCENARIOS = {
    "ordinary-adult", "child", "polypharmacy-elderly", "large-record", "gp-only-allergy", "same-medicine",
    "deceased", "restricted", "gp-dissent", "not-registered", "superseded-old", "superseded-new",
    "data-in-transit", "confidential-items", "area-not-implemented", "demographic-mismatch",
    "no-known-allergies", "allergies-not-recorded", "resolved-allergy", "warfarin-inpatient",
    "several-practices", "free-text", "namesake-a", "namesake-b",
}
GP_AREAS = ("allergies", "medications", "problems", "encounters", "observations", "immunisations",
            "referrals")

# Verhoeff tables: every SNOMED CT (and dm+d) identifier ends in a Verhoeff check digit.
_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]


def _verhoeff_ok(number: str) -> bool:
    check = 0
    for i, ch in enumerate(reversed(number)):
        check = _D[check][_P[i % 8][int(ch)]]
    return check == 0


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def _records(world: World) -> Iterator[ClinicalRecord]:
    for p in world.patients:
        yield from (r for r in (p.gp, p.hospital) if r is not None)


def _codes(world: World) -> Iterator[Code]:
    for record in _records(world):
        for a in record.allergies:
            yield a.substance
            if a.reaction:
                yield a.reaction
        yield from (m.medicine for m in record.medications)
        yield from (p.condition for p in record.problems)
        yield from (e.reason for e in record.encounters if e.reason)
        yield from (o.test for o in record.observations)
        yield from (i.vaccine for i in record.immunisations)
        yield from (r.reason for r in record.referrals if r.reason)


def _age(born: date) -> int:
    before_birthday = (REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day)
    return REFERENCE_DATE.year - born.year - before_birthday


# ------------------------------------------------------------------------------------------ NHS numbers


def test_check_digit_follows_modulus_11() -> None:
    assert check_digit("943476591") == 9  # 943 476 5919, the CLINICAL.md example
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")
    assert check_digit("400000000") == 4  # 4*10 = 40, 40 mod 11 = 7, 11 - 7 = 4
    assert check_digit("000000000") == 0  # 11 - 0 = 11 -> 0


def test_check_digit_none_when_remainder_gives_ten() -> None:
    stems = [f"{n:09d}" for n in range(999_000_000, 999_000_100)]
    tens = [s for s in stems if check_digit(s) is None]
    assert tens, "some stems in any 100 consecutive ones have no valid check digit"
    for stem in tens:
        assert not any(is_valid_nhs_number(stem + str(d)) for d in range(10))


def test_check_digit_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        check_digit("12345678x")
    with pytest.raises(ValueError):
        check_digit("１２３４５６７８９")  # full-width digits are not ASCII
    assert not is_valid_nhs_number("94347659１9")
    assert not is_valid_nhs_number("943476591")


def test_make_nhs_number_counts_valid_numbers_only() -> None:
    first = [make_nhs_number(i) for i in range(30)]
    assert len(set(first)) == 30
    assert all(is_synthetic(n) and n.startswith("999") for n in first)
    assert first == [n for n, _ in zip(synthetic_numbers(), range(30), strict=False)]
    assert check_digit("999000000") is None  # so the first synthetic number has the next stem
    assert first[0] == "9990000018"
    with pytest.raises(ValueError):
        make_nhs_number(-1)


# ---------------------------------------------------------------------------------------------- world


def test_world_is_deterministic() -> None:
    assert build_world(2026) == build_world(2026)
    assert build_world(7) == build_world(7)


def test_another_seed_gives_other_numbers() -> None:
    a = {p.nhs_number for p in build_world(1).patients}
    b = {p.nhs_number for p in build_world(2).patients}
    assert a != b


class _NoClockDate(date):
    @classmethod
    def today(cls) -> date:
        raise AssertionError("the world must not read the clock")


class _NoClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:
        raise AssertionError("the world must not read the clock")

    @classmethod
    def today(cls) -> datetime:
        raise AssertionError("the world must not read the clock")


def test_world_does_not_read_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_world()
    # The world is built across population and its population_* modules; patch each that sees the clock.
    patched: set[str] = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith(population.__name__):
            continue
        for attr, no_clock in (("date", _NoClockDate), ("datetime", _NoClockDatetime)):
            if getattr(module, attr, None) in (date, datetime):
                monkeypatch.setattr(module, attr, no_clock)
                patched.add(attr)
    assert patched == {"date", "datetime"}
    assert build_world() == first


def test_nhs_numbers_valid_synthetic_and_unique(world: World) -> None:
    numbers = [p.nhs_number for p in world.patients]
    assert len(numbers) == len(set(numbers)) >= 15
    for n in numbers:
        assert is_valid_nhs_number(n) and "9990000000" <= n <= "9999999999"


def test_every_required_scenario_present_once(world: World) -> None:
    scenarios = [p.scenario for p in world.patients]
    assert len(scenarios) == len(set(scenarios))
    assert set(scenarios) >= REQUIRED_SCENARIOS
    assert all(p.summary and "\n" not in p.summary for p in world.patients)


def test_item_ids_unique_across_world(world: World) -> None:
    ids: list[str] = []
    for record in _records(world):
        for area in (*GP_AREAS, "documents"):
            ids += [item.id for item in getattr(record, area)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", i) for i in ids)  # valid FHIR logical ids


def test_codes_are_real_looking_and_check_digits_hold(world: World) -> None:
    codes = set(_codes(world))
    assert {c.system for c in codes} <= {SNOMED, DMD, LOINC}
    for code in codes:
        assert code.display.strip()
        if code.system == LOINC:
            base, _, check = code.code.partition("-")
            assert check and _luhn_ok(base + check), code
        else:
            assert code.code.isdigit() and 6 <= len(code.code) <= 18 and _verhoeff_ok(code.code), code


def test_known_allergy_and_problem_codes(world: World) -> None:
    codes = {c.code: c.display for c in _codes(world)}
    assert codes["764146007"] == "Penicillin"
    assert codes["39579001"] == "Anaphylaxis"
    assert codes["38341003"] == "Hypertension"
    assert codes["44054006"] == "Type 2 diabetes mellitus"


def test_observations_carry_units_and_ranges(world: World) -> None:
    for record in _records(world):
        for o in record.observations:
            assert o.unit and (o.value is not None or o.text_value)
            if o.ref_low is not None and o.ref_high is not None:
                assert o.ref_low < o.ref_high
            assert o.effective.tzinfo is not None


# ------------------------------------------------------------------------------------------ scenarios


def test_child_is_under_twelve(world: World) -> None:
    child = patient_for(world, "child")
    assert _age(child.pds.birth_date) < 12
    assert child.gp and child.gp.immunisations


def test_elderly_on_twenty_current_medicines(world: World) -> None:
    p = patient_for(world, "polypharmacy-elderly")
    assert _age(p.pds.birth_date) >= 75
    current = [m for m in p.gp.medications if m.status == "active"]
    assert len(current) >= 20
    assert {m.kind for m in current} >= {"repeat", "acute"}
    assert any(m.status == "stopped" and m.ended for m in p.gp.medications)


def test_large_record_sizes(world: World) -> None:
    p = patient_for(world, "large-record")
    assert sum(len(getattr(p.gp, area)) for area in GP_AREAS) >= 2000
    assert len(p.hospital.observations) >= 10_000
    reports = {o.report_id for o in p.hospital.observations if o.report_id}
    assert len(reports) > 100  # results grouped under DiagnosticReports


def test_gp_only_allergy(world: World) -> None:
    p = patient_for(world, "gp-only-allergy")
    gp = {a.substance.code for a in p.gp.allergies}
    hospital = {a.substance.code for a in p.hospital.allergies}
    assert gp and not gp & hospital


def test_same_medicine_in_both_records(world: World) -> None:
    p = patient_for(world, "same-medicine")
    shared = {m.medicine.code for m in p.gp.medications} & {m.medicine.code for m in p.hospital.medications}
    assert shared
    assert all(m.medicine.system == DMD for m in (*p.gp.medications, *p.hospital.medications))


def test_deceased(world: World) -> None:
    p = patient_for(world, "deceased")
    assert p.deceased is not None and p.deceased.tzinfo is not None
    assert p.deceased.date() < REFERENCE_DATE


def test_restricted_has_no_gp_record(world: World) -> None:
    p = patient_for(world, "restricted")
    assert p.restricted and p.gp is None and p.gp_access is GpAccess.NOT_REGISTERED


def test_gp_access_scenarios(world: World) -> None:
    assert patient_for(world, "gp-dissent").gp_access is GpAccess.DISSENT
    not_registered = patient_for(world, "not-registered")
    assert not_registered.practice_ods is None and not_registered.gp is None
    assert not_registered.gp_access is GpAccess.NOT_REGISTERED
    assert patient_for(world, "no-gp-record").gp_access is GpAccess.NO_RECORD


def test_superseded_number_points_at_live_record(world: World) -> None:
    old, new = patient_for(world, "superseded-old"), patient_for(world, "superseded-new")
    assert old.superseded_by == new.nhs_number != old.nhs_number
    assert new.superseded_by is None and new.gp is not None
    assert world.patient(old.superseded_by) is new


def test_gp_warnings_and_not_implemented(world: World) -> None:
    assert "data-in-transit" in patient_for(world, "data-in-transit").gp.warnings[Area.MEDICATION]
    confidential = patient_for(world, "confidential-items").gp.warnings
    assert any("confidential-items" in codes for codes in confidential.values())
    assert Area.IMMUNISATIONS in patient_for(world, "area-not-implemented").gp.not_implemented


def test_demographics_differ_between_sources(world: World) -> None:
    p = patient_for(world, "demographic-mismatch")
    assert p.gp.demographics.birth_date != p.pds.birth_date
    assert p.hospital.demographics.name.family != p.pds.name.family
    assert p.hospital.demographics.birth_date == p.pds.birth_date


def test_allergy_states(world: World) -> None:
    nka = patient_for(world, "no-known-allergies").gp
    assert nka.no_known_allergies and not nka.allergies
    unrecorded = patient_for(world, "allergies-not-recorded")
    assert not unrecorded.gp.no_known_allergies and not unrecorded.gp.allergies
    assert not unrecorded.hospital.allergies
    resolved = patient_for(world, "resolved-allergy").gp.allergies
    statuses = [a.clinical_status for a in resolved]
    assert "resolved" in statuses and statuses.count("active") >= 2
    ended = next(a for a in resolved if a.clinical_status == "resolved")
    assert ended.end_date and ended.end_reason


def test_warfarin_inpatient(world: World) -> None:
    p = patient_for(world, "warfarin-inpatient")
    assert _age(p.pds.birth_date) >= 75
    assert any("Warfarin" in m.medicine.display and m.status == "active" for m in p.gp.medications)
    current = [e for e in p.hospital.encounters if e.status == "in-progress"]
    assert len(current) == 1 and current[0].kind == "inpatient" and current[0].end is None


def test_history_from_several_practices(world: World) -> None:
    p = patient_for(world, "several-practices")
    places = {e.location for e in p.gp.encounters}
    assert {pr.name for pr in world.practices} <= places


def test_free_text_keeps_special_characters(world: World) -> None:
    p = patient_for(world, "free-text")
    texts = [a.note for a in p.gp.allergies] + [m.prescriber_notes for m in p.gp.medications]
    joined = " ".join(t for t in texts if t)
    for ch in ("&", "<", ">", '"', "'", "£", "\\"):
        assert ch in joined
    assert max(len(e.note or "") for e in p.gp.encounters) > 2000


# ------------------------------------------------------------------------------- practices and users


def test_practices(world: World) -> None:
    assert world.hospital_ods == "RWV99"
    assert world.hospital_name == "Wardview Sandbox Hospital NHS Trust"
    assert len(world.practices) >= 3
    for pr in world.practices:
        assert re.fullmatch(r"Y9\d{4}", pr.ods_code)
        assert re.fullmatch(r"\d{12}", pr.asid)
        assert pr.party_key.startswith(pr.ods_code + "-")
    registered = {p.practice_ods for p in world.patients if p.practice_ods}
    assert registered <= {pr.ods_code for pr in world.practices}


def test_demo_users(world: World) -> None:
    by_name = {u.username: u for u in world.users}
    roles = [r for u in world.users for r in u.roles]
    assert len({r.person_roleid for r in roles}) == len(roles)
    assert all(re.fullmatch(r"\d{12}", u.uid) for u in world.users)
    assert all(re.fullmatch(r"\d{12}", r.person_roleid) for r in roles)
    assert len(by_name["dr.morgan"].roles) == 1
    nurse = by_name["nurse.adebayo"]
    assert len(nurse.roles) == 2 and {r.org_code for r in nurse.roles} == {"RWV99"}
    assert by_name["pharm.ng"].roles[0].role_code.endswith("R8003")
    admin = by_name["admin.price"].roles[0]
    assert admin.role_code.endswith("R8008")
    assert not set(admin.activity_codes) & set(population.CLINICAL_ACTIVITY_CODES)


def test_describe_patients(world: World) -> None:
    rows = describe_patients(world)
    assert len(rows) == len(world.patients)
    number, name, summary = rows[0]
    assert number == world.patients[0].nhs_number
    assert name == "SHARMA, Priya Anjali (Mrs)"
    assert summary == world.patients[0].summary
