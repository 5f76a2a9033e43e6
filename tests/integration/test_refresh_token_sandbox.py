"""The refresh token lives only in the keyring, end to end: the real Workspace against the sandbox IdP."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import keyring
import pytest

from tests.support.sandbox_wiring import make_workspace
from viewer.auth.oidc import SessionExpired
from viewer.auth.token_store import token_entry

USERNAME = "dr.morgan"


def test_sign_in_refresh_and_sign_out_keep_the_refresh_token_in_the_keyring_only(sandbox):
    backend = keyring.get_keyring()  # the in-memory keyring tests/conftest.py makes active

    async def scenario():
        workspace, http = make_workspace(sandbox, emergency_reason=None)
        try:
            session = await workspace.sign_in(USERNAME)
            entry = token_entry(session.user_id)
            seen = {"memory_after_sign_in": session.tokens.refresh_token,
                    "kept_after_sign_in": backend.get_password("wardview", entry),
                    "access_after_sign_in": session.tokens.access_token,
                    "problem": workspace.keyring_problem}
            await workspace.refresh(session)
            seen["memory_after_refresh"] = session.tokens.refresh_token
            seen["kept_after_refresh"] = backend.get_password("wardview", entry)
            seen["access_after_refresh"] = session.tokens.access_token
            seen["who_after_refresh"] = (await workspace._oidc.userinfo(session.tokens))["nhsid_useruid"]
            tokens = session.tokens
            await workspace.sign_out(session)
            seen["kept_after_sign_out"] = backend.get_password("wardview", entry)
            outcomes = []
            last_kept = replace(tokens, refresh_token=seen["kept_after_refresh"])
            for attempt in (workspace._oidc.userinfo(tokens), workspace._oidc.refresh(last_kept)):
                try:
                    await attempt
                    outcomes.append("accepted")
                except SessionExpired:
                    outcomes.append("expired")
            seen["after_sign_out"] = outcomes
            return session, seen
        finally:
            await http.aclose()

    session, seen = asyncio.run(scenario())
    assert seen["problem"] is None
    assert seen["memory_after_sign_in"] is None
    assert seen["kept_after_sign_in"]
    assert seen["memory_after_refresh"] is None
    assert seen["kept_after_refresh"] and seen["kept_after_refresh"] != seen["kept_after_sign_in"]  # rotated
    assert seen["access_after_refresh"] != seen["access_after_sign_in"]
    assert seen["who_after_refresh"] == session.user_id
    assert seen["kept_after_sign_out"] is None
    assert seen["after_sign_out"] == ["expired", "expired"]  # revoked at the IdP


def test_refreshes_in_a_row_each_use_the_rotated_token(sandbox):
    """Were the rotated-away token kept, the next refresh would reuse it and the IdP would end the sign-in."""
    backend = keyring.get_keyring()

    async def scenario():
        workspace, http = make_workspace(sandbox, emergency_reason=None)
        try:
            session = await workspace.sign_in(USERNAME)
            await workspace.refresh(session)
            await workspace.refresh(session)  # would fail if the first rotation was not kept
            kept = backend.get_password("wardview", token_entry(session.user_id))
            await workspace.sign_out(session)
            return kept
        finally:
            await http.aclose()

    assert asyncio.run(scenario())


@pytest.fixture
def no_keyring():
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_without_a_keyring_sign_in_still_works_but_cannot_be_renewed(sandbox, no_keyring):
    async def scenario():
        workspace, http = make_workspace(sandbox, emergency_reason=None)
        try:
            session = await workspace.sign_in(USERNAME)
            problem = workspace.keyring_problem
            who = (await workspace._oidc.userinfo(session.tokens))["nhsid_useruid"]
            await workspace.sign_out(session)
            return session, problem, who
        finally:
            await http.aclose()

    session, problem, who = asyncio.run(scenario())
    assert session.tokens.refresh_token is None
    assert who == session.user_id
    assert problem is not None and "sign in again" in problem
