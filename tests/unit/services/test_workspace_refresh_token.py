"""The Workspace keeps the refresh token in the keyring only: sign-in moves it there, refresh reads and
rotates it, sign-out revokes it and deletes the entry; without a keyring sign-in still works, unrenewable."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from keyring.backends import fail

from tests.support.memory_keyring import MemoryKeyring
from viewer.auth.oidc import SessionExpired, TokenSet
from viewer.auth.token_store import RefreshTokenStore
from viewer.services.workspace import NO_KEYRING_FOR_SIGN_IN, Workspace
from viewer.store.errors import KeyringUnavailable

UID = "555000000001"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CLAIMS = {"sub": UID, "nhsid_useruid": UID, "given_name": "Asha", "family_name": "Patel"}


class FakeOidc:
    """Issues numbered tokens and rotates the refresh token, like the sandbox IdP."""

    def __init__(self) -> None:
        self.issued = 0
        self.refreshed_with: list[str | None] = []
        self.revoked: list[TokenSet] = []
        self.refuse_refresh = False

    def _tokens(self) -> TokenSet:
        self.issued += 1
        return TokenSet(access_token=f"ACCESS-{self.issued}", refresh_token=f"REFRESH-{self.issued}",
                        expires_at=NOW + timedelta(minutes=15), id_token="eyJ.a.b", claims=dict(CLAIMS))

    async def sign_in(self, open_browser: Any, *, timeout: float, login_hint: str | None) -> TokenSet:
        return self._tokens()

    async def userinfo(self, tokens: TokenSet) -> dict[str, Any]:
        return dict(CLAIMS)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        self.refreshed_with.append(tokens.refresh_token)
        if self.refuse_refresh or not tokens.refresh_token:
            raise SessionExpired(detail="refused")
        return self._tokens()

    async def revoke(self, tokens: TokenSet) -> None:
        self.revoked.append(tokens)


def workspace(oidc: FakeOidc, backend: Any) -> Workspace:
    return Workspace(oidc=oidc, browser_for=lambda _user: (lambda _url: None), open_record=None,  # type: ignore[arg-type]
                     org_ods="RWV99", refresh_tokens=RefreshTokenStore(backend))


def test_sign_in_moves_the_refresh_token_to_the_keyring() -> None:
    oidc, backend = FakeOidc(), MemoryKeyring()
    ws = workspace(oidc, backend)
    session = asyncio.run(ws.sign_in("asha"))
    assert session.tokens.refresh_token is None
    assert session.tokens.access_token == "ACCESS-1"
    assert backend.get_password("wardview", f"refresh-token:{UID}") == "REFRESH-1"
    assert ws.keyring_problem is None
    assert "REFRESH" not in repr(session) and "REFRESH" not in repr(ws)


def test_refresh_reads_the_keyring_rotates_and_replaces_the_tokens() -> None:
    oidc, backend = FakeOidc(), MemoryKeyring()
    ws = workspace(oidc, backend)
    session = asyncio.run(ws.sign_in("asha"))
    asyncio.run(ws.refresh(session))
    assert oidc.refreshed_with == ["REFRESH-1"]
    assert session.tokens.access_token == "ACCESS-2"
    assert session.tokens.refresh_token is None
    assert backend.get_password("wardview", f"refresh-token:{UID}") == "REFRESH-2"


def test_refresh_without_a_kept_token_or_when_refused_is_session_expired() -> None:
    oidc, backend = FakeOidc(), MemoryKeyring()
    ws = workspace(oidc, backend)
    session = asyncio.run(ws.sign_in("asha"))
    oidc.refuse_refresh = True
    with pytest.raises(SessionExpired):
        asyncio.run(ws.refresh(session))
    assert session.tokens.access_token == "ACCESS-1"  # unchanged
    assert backend.get_password("wardview", f"refresh-token:{UID}") == "REFRESH-1"  # kept for a retry
    backend.delete_password("wardview", f"refresh-token:{UID}")
    oidc.refuse_refresh = False
    with pytest.raises(SessionExpired):
        asyncio.run(ws.refresh(session))
    assert oidc.refreshed_with == ["REFRESH-1"]  # nothing to refresh with: the IdP is not asked


def test_sign_out_revokes_with_the_kept_token_and_deletes_it() -> None:
    oidc, backend = FakeOidc(), MemoryKeyring()
    ws = workspace(oidc, backend)
    session = asyncio.run(ws.sign_in("asha"))
    asyncio.run(ws.sign_out(session))
    assert [(t.access_token, t.refresh_token) for t in oidc.revoked] == [("ACCESS-1", "REFRESH-1")]
    assert backend.get_password("wardview", f"refresh-token:{UID}") is None


def test_without_a_keyring_sign_in_works_keeps_nothing_and_says_so(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    oidc = FakeOidc()
    ws = workspace(oidc, fail.Keyring())
    session = asyncio.run(ws.sign_in("asha"))
    assert session.tokens.access_token == "ACCESS-1"
    assert session.tokens.refresh_token is None
    assert ws.keyring_problem == NO_KEYRING_FOR_SIGN_IN
    with pytest.raises(KeyringUnavailable) as caught:
        asyncio.run(ws.refresh(session))
    assert "REFRESH" not in str(caught.value)
    asyncio.run(ws.sign_out(session))  # still signs out and revokes the access token
    assert [(t.access_token, t.refresh_token) for t in oidc.revoked] == [("ACCESS-1", None)]
    assert "REFRESH-1" not in caplog.text and "ACCESS-1" not in caplog.text


def test_a_keyring_back_again_clears_the_problem() -> None:
    oidc, backend = FakeOidc(), MemoryKeyring()
    ws = workspace(oidc, fail.Keyring())
    asyncio.run(ws.sign_in("asha"))
    assert ws.keyring_problem is not None
    ws._refresh_tokens = RefreshTokenStore(backend)
    asyncio.run(ws.sign_in("asha"))
    assert ws.keyring_problem is None


def test_needs_refresh_within_two_minutes_of_expiry() -> None:
    oidc, backend = FakeOidc(), MemoryKeyring()
    ws = workspace(oidc, backend)
    session = asyncio.run(ws.sign_in("asha"))
    expires = session.tokens.expires_at
    assert not ws.needs_refresh(session, expires - timedelta(minutes=3))
    assert ws.needs_refresh(session, expires - timedelta(minutes=2))
    assert ws.needs_refresh(session, expires + timedelta(seconds=1))


def test_detach_refresh_token_leaves_the_rest() -> None:
    oidc, backend = FakeOidc(), MemoryKeyring()
    ws = workspace(oidc, backend)
    session = asyncio.run(ws.sign_in("asha"))
    session.replace_tokens(replace(session.tokens, refresh_token="X"))
    before = session.tokens
    assert session.detach_refresh_token() == "X"
    assert session.tokens == replace(before, refresh_token=None)
    assert session.detach_refresh_token() is None
