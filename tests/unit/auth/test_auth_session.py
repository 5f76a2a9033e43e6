"""ClinicianSession: role preselection, role choice, RequestContext, session length, no leaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from viewer.auth.oidc import TokenInvalid, TokenSet
from viewer.auth.roles import RolePolicy
from viewer.auth.session import (
    NO_CLINICAL_ROLE,
    NoRoleSelected,
    PersonName,
    RoleNotAllowed,
    session_from_userinfo,
)
from viewer.sources.context import RequestContext

SIGNED_IN = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DOCTOR = {"person_roleid": "555000000011", "org_code": "RWV99", "role_name": "Clinical Practitioner",
          "role_code": "R8000", "activity_codes": []}
NURSE = {"person_roleid": "555000000012", "org_code": "RWV99", "role_name": "Nurse",
         "role_code": "R8001"}
ADMIN = {"person_roleid": "555000000013", "org_code": "RWV99", "role_name": "Admin and Clerical",
         "role_code": "R8008"}


def tokens() -> TokenSet:
    return TokenSet(access_token="ACCESS-SECRET", refresh_token="REFRESH-SECRET", id_token="eyJ.a.b",
                    expires_at=SIGNED_IN + timedelta(minutes=15),
                    claims={"sub": "555000000001", "nhsid_useruid": "555000000001"})


def info(*roles: dict, selected: str | None = None, **extra: str) -> dict:
    data = {"sub": "555000000001", "nhsid_useruid": "555000000001", "given_name": "Asha",
            "family_name": "Patel", "nhsid_nrbac_roles": list(roles), **extra}
    if selected is not None:
        data["selected_roleid"] = selected
    return data


def make(*roles: dict, selected: str | None = None, **kwargs):
    return session_from_userinfo(tokens(), info(*roles, selected=selected), signed_in_at=SIGNED_IN,
                                 **kwargs)


def test_selected_roleid_from_the_idp_is_preselected():
    session = make(DOCTOR, NURSE, selected="555000000012")
    assert session.selected_role is not None
    assert session.selected_role.person_roleid == "555000000012"
    assert session.blocked_reason() is None


def test_one_suitable_role_is_preselected():
    session = make(DOCTOR, ADMIN)
    assert session.selected_role is not None
    assert session.selected_role.role_code == "R8000"


def test_two_suitable_roles_and_no_choice_means_the_picker():
    session = make(DOCTOR, NURSE, ADMIN)
    assert session.selected_role is None
    assert session.blocked_reason() == "Choose the role you are working in to continue."
    assert [role_id for role_id, _ in session.role_choices()] == ["555000000011", "555000000012"]
    with pytest.raises(NoRoleSelected):
        session.request_context("RWV99")
    session.select_role("555000000012")
    assert session.request_context("RWV99").role_id == "555000000012"


def test_unknown_selected_roleid_is_ignored():
    session = make(DOCTOR, NURSE, selected="999")
    assert session.selected_role is None


def test_admin_only_user_is_blocked_with_a_reason():
    session = make(ADMIN)
    assert session.selected_role is None
    assert session.blocked_reason() == NO_CLINICAL_ROLE
    with pytest.raises(RoleNotAllowed) as caught:
        session.select_role("555000000013")
    assert "Admin and Clerical" in str(caught.value)


def test_admin_role_chosen_at_the_idp_is_kept_but_cannot_make_a_context():
    session = make(DOCTOR, ADMIN, selected="555000000013")
    assert session.selected_role is not None
    assert session.selected_role.role_code == "R8008"
    assert "does not give access" in (session.blocked_reason() or "")
    with pytest.raises(RoleNotAllowed):
        session.request_context("RWV99")


def test_select_role_refuses_a_role_not_held():
    session = make(DOCTOR, NURSE)
    with pytest.raises(RoleNotAllowed):
        session.select_role("not-mine")
    assert session.selected_role is None


def test_request_context_carries_identity_role_and_organisation():
    session = make(DOCTOR, selected="555000000011")
    ctx = session.request_context("RWV99")
    assert ctx == RequestContext(access_token="ACCESS-SECRET", user_id="555000000001",
                                 role_id="555000000011", family_name="Patel", given_name="Asha",
                                 org_ods="RWV99", title=None)
    other = {**DOCTOR, "org_code": "RXX11"}
    assert make(other).request_context().org_ods == "RXX11"  # default: the role's organisation


def test_role_policy_is_used():
    session = make(DOCTOR, NURSE, policy=RolePolicy(allowed_role_codes=frozenset({"R8001"})))
    assert session.selected_role is not None
    assert session.selected_role.role_code == "R8001"


def test_names():
    session = session_from_userinfo(tokens(), info(DOCTOR, title="Dr"), signed_in_at=SIGNED_IN)
    assert session.name == PersonName(given="Asha", family="Patel", title="Dr")
    assert session.display_name == "PATEL, Asha (Dr)"
    only_name = {"nhsid_useruid": "1", "name": "Mary Jane Smith", "nhsid_nrbac_roles": [DOCTOR]}
    session = session_from_userinfo(tokens(), only_name, signed_in_at=SIGNED_IN)
    assert (session.name.given, session.name.family) == ("Mary Jane", "Smith")
    titled = info(DOCTOR, name="Dr Asha Patel")
    assert session_from_userinfo(tokens(), titled, signed_in_at=SIGNED_IN).name.title == "Dr"
    plain = info(DOCTOR, name="Asha Patel")
    assert session_from_userinfo(tokens(), plain, signed_in_at=SIGNED_IN).name.title is None


def test_missing_user_id_is_refused():
    bare = {"nhsid_nrbac_roles": [DOCTOR]}
    no_uid = TokenSet(access_token="a", expires_at=SIGNED_IN, claims={"sub": "x"})
    with pytest.raises(TokenInvalid):
        session_from_userinfo(no_uid, bare)


def test_session_ends_after_twelve_hours():
    session = make(DOCTOR)
    assert not session.has_ended(SIGNED_IN + timedelta(hours=11, minutes=59))
    assert session.has_ended(SIGNED_IN + timedelta(hours=12))


def test_repr_and_context_hide_tokens():
    session = make(DOCTOR)
    for text in (repr(session), str(session), repr(session.request_context("RWV99"))):
        assert "ACCESS-SECRET" not in text and "REFRESH-SECRET" not in text and "eyJ" not in text


def test_replace_tokens_after_refresh():
    session = make(DOCTOR)
    new = TokenSet(access_token="NEW", expires_at=SIGNED_IN + timedelta(hours=1),
                   claims=session.tokens.claims)
    session.replace_tokens(new)
    assert session.request_context("RWV99").access_token == "NEW"
