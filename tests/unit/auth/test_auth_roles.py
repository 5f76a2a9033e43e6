"""Parsing `nhsid_nrbac_roles` and deciding which roles may open records."""

from __future__ import annotations

import logging

from viewer.auth.roles import (
    DEFAULT_CLINICAL_ROLE_CODES,
    Role,
    RolePolicy,
    can_view_records,
    parse_roles,
)


def role(code: str, role_id: str = "555000000011", name: str = "Some Role") -> Role:
    return Role(person_roleid=role_id, org_code="RWV99", role_name=name, role_code=code)


def test_parse_roles_reads_every_field():
    roles = parse_roles([
        {"person_roleid": "555000000011", "org_code": "RWV99", "org_name": "Wardview Trust",
         "role_name": "Clinical Practitioner Access Role", "role_code": "S8000:G8000:R8000",
         "activity_codes": ["B0264", "B0360"]},
    ])
    assert roles == [Role(person_roleid="555000000011", org_code="RWV99",
                          role_name="Clinical Practitioner Access Role",
                          role_code="S8000:G8000:R8000", activity_codes=("B0264", "B0360"),
                          org_name="Wardview Trust")]
    assert roles[0].label == "Clinical Practitioner Access Role (S8000:G8000:R8000) at Wardview Trust"


def test_parse_roles_skips_malformed_entries_and_says_how_many(caplog):
    caplog.set_level(logging.WARNING)
    roles = parse_roles([
        {"person_roleid": "1", "role_code": "R8001", "role_name": "Nurse"},
        {"role_code": "R8000"},  # no id
        {"person_roleid": "3"},  # no code
        "nonsense",
        {"person_roleid": "4", "role_code": "R8003", "activity_codes": "B0264"},
    ])
    assert [r.person_roleid for r in roles] == ["1", "4"]
    assert roles[1].activity_codes == ("B0264",)
    assert roles[1].role_name == "R8003"  # no name sent: the code stands in, never blank
    assert "3 malformed" in caplog.text


def test_parse_roles_tolerates_a_missing_or_odd_claim():
    assert parse_roles(None) == []
    assert parse_roles("R8000") == []
    assert parse_roles({"person_roleid": "1"}) == []


def test_clinical_roles_may_view_records():
    assert {"R8000", "R8001", "R8003", "R8004"} <= DEFAULT_CLINICAL_ROLE_CODES
    for code in ("R8000", "R8001", "R8003", "R8004", "S8000:G8000:R8000", "r8000"):
        assert can_view_records(role(code)), code


def test_admin_roles_may_not_and_get_a_reason():
    policy = RolePolicy()
    for code in ("R8008", "R8006", "R8009", "R8010", "S8000:G8001:R8008", ""):
        admin = role(code, name="Admin and Clerical")
        assert not can_view_records(admin), code
        reason = policy.refusal_reason(admin)
        assert reason is not None and "Admin and Clerical" in reason
        assert "patient records" in reason
    assert policy.refusal_reason(role("R8000")) is None


def test_the_allow_list_is_configurable():
    narrow = RolePolicy(allowed_role_codes=frozenset({"R8000"}))
    assert narrow.can_view_records(role("R8000"))
    assert not narrow.can_view_records(role("R8001"))
    assert can_view_records(role("R8008"), RolePolicy(allowed_role_codes=frozenset({"R8008"})))
