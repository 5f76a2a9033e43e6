"""OidcClient against an in-process fake IdP (httpx.MockTransport) and a real loopback listener.

The fake IdP checks what a real one would (PKCE S256, redirect URI, client id) and can be told to
misbehave (wrong nonce, audience, issuer, acr; expired token; bad state) so each check is shown to bite.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from viewer.auth.oidc import (
    AssuranceTooLow,
    AuthError,
    BrowserUnavailable,
    IdpError,
    IdpUnavailable,
    OidcClient,
    SessionExpired,
    SignInCancelled,
    SignInTimedOut,
    StateMismatch,
    TokenInvalid,
    TokenSet,
    acr_satisfies,
)
from viewer.auth.session import sign_in_clinician

ISSUER = "https://idp.test/realms/cis2"
CLIENT_ID = "wardview-desktop"
SCOPES = "openid profile nationalrbacaccess associatedorgs selectedrole"
USER = "555000000001"
ROLES = [
    {"person_roleid": "555000000011", "org_code": "RWV99", "role_name": "Clinical Practitioner",
     "role_code": "S8000:G8000:R8000", "activity_codes": ["B0264"]},
    {"person_roleid": "555000000012", "org_code": "RWV99", "role_name": "Admin and Clerical",
     "role_code": "R8008", "activity_codes": []},
]


def run(coro):
    return asyncio.run(coro)


@dataclass
class FakeIdp:
    """A strict little CIS2-like IdP. `claim_overrides` bend the next ID token."""

    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}, private=True))
    claim_overrides: dict[str, Any] = field(default_factory=dict)
    signing_key: RSAKey | None = None
    issuer_in_metadata: str = ISSUER
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # every secret handed out, to hunt for in logs
    revoked: list[tuple[str, str]] = field(default_factory=list)
    refresh_error: str | None = None
    userinfo_sub: str = USER
    token_calls: int = 0
    jwks_calls: int = 0
    counter: int = 0
    last_authorize: dict[str, str] = field(default_factory=dict)

    def _secret(self, prefix: str) -> str:
        self.counter += 1
        value = f"{prefix}-SECRET-{self.counter:04d}-{time.monotonic_ns()}"
        self.issued.append(value)
        return value

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": USER, "aud": CLIENT_ID, "iat": now, "exp": now + 600,
                  "acr": "AAL3_ANY", "nhsid_useruid": USER, "auth_time": now}
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(self.claim_overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.signing_key or self.key
        token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        self.issued.append(token)
        return token

    def authorize(self, url: str) -> str:
        """What the user's browser + IdP do: check the request, return the loopback redirect URL."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/authorize"
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.last_authorize = q
        assert q["response_type"] == "code"
        assert q["client_id"] == CLIENT_ID
        assert q["scope"] == SCOPES
        assert q["code_challenge_method"] == "S256"
        assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32
        redirect = urlsplit(q["redirect_uri"])
        assert redirect.scheme == "http" and redirect.hostname == "127.0.0.1"
        assert redirect.path == "/callback" and redirect.port
        code = self._secret("code")
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"],
                            "nonce": q["nonce"], "login_hint": q.get("login_hint", "")}
        return f"{q['redirect_uri']}?code={code}&state={q['state']}"

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/realms/cis2")
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": self.issuer_in_metadata,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "userinfo_endpoint": f"{ISSUER}/userinfo",
                "revocation_endpoint": f"{ISSUER}/revoke",
                "jwks_uri": f"{ISSUER}/jwks",
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })
        if path == "/jwks":
            self.jwks_calls += 1
            return httpx.Response(200, json=KeySet([self.key]).as_dict(private=False))
        if path == "/token":
            self.token_calls += 1
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            assert form["client_id"] == CLIENT_ID
            if form["grant_type"] == "authorization_code":
                grant = self.codes.pop(form["code"], None)
                if grant is None or grant["redirect_uri"] != form["redirect_uri"]:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                if create_s256_code_challenge(form["code_verifier"]) != grant["challenge"]:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                return httpx.Response(200, json=self._tokens(grant["nonce"]))
            if form["grant_type"] == "refresh_token":
                if self.refresh_error or form["refresh_token"] not in self.issued:
                    return httpx.Response(400, json={"error": self.refresh_error or "invalid_grant"})
                return httpx.Response(200, json=self._tokens(None))
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        if path == "/userinfo":
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.issued:
                return httpx.Response(401, json={"error": "invalid_token"})
            return httpx.Response(200, json={
                "sub": self.userinfo_sub, "nhsid_useruid": USER, "name": "Asha Patel",
                "given_name": "Asha", "family_name": "Patel", "title": "Dr",
                "nhsid_nrbac_roles": ROLES, "selected_roleid": "555000000011",
            })
        if path == "/revoke":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            assert form["client_id"] == CLIENT_ID
            self.revoked.append((form["token_type_hint"], form["token"]))
            return httpx.Response(200)
        return httpx.Response(404)

    def _tokens(self, nonce: str | None) -> dict[str, Any]:
        access = self._secret("access")
        return {"access_token": access, "token_type": "Bearer", "expires_in": 900,
                "refresh_token": self._secret("refresh"), "id_token": self.id_token(nonce),
                "scope": SCOPES}


def make_client(idp: FakeIdp, **kwargs: Any) -> tuple[OidcClient, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(idp.handler))
    return OidcClient(http, issuer=ISSUER, client_id=CLIENT_ID, scopes=SCOPES, **kwargs), http


def browser_for(idp: FakeIdp, *, tamper_state: bool = False, error: str | None = None):
    """An async stand-in for the system browser: follows the IdP's redirect to the loopback."""

    async def open_browser(url: str) -> None:
        redirect = idp.authorize(url)
        if tamper_state:
            redirect = redirect.split("&state=")[0] + "&state=forged-state-value"
        if error:
            redirect = redirect.split("?")[0] + f"?error={error}&state=" + redirect.split("&state=")[1]
        assert await browser_get(redirect) == 200

    return open_browser


async def browser_get(url: str) -> int:
    """GET over a real socket, as a browser would; unlike httpx it logs nothing (so the log
    checks below see only what Wardview itself logs)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return int(answer.split(b" ", 2)[1])


async def sign_in(idp: FakeIdp, browser=None, **kwargs: Any) -> TokenSet:
    client, http = make_client(idp, **kwargs)
    async with http:
        return await client.sign_in(browser or browser_for(idp), timeout=30)


# --- the happy path -------------------------------------------------------------------------------


def test_sign_in_returns_verified_tokens():
    idp = FakeIdp()
    tokens = run(sign_in(idp, min_acr="AAL3_ANY"))
    assert tokens.access_token in idp.issued
    assert tokens.refresh_token in idp.issued
    assert tokens.claims["sub"] == USER
    assert tokens.claims["acr"] == "AAL3_ANY"
    assert tokens.expires_at.tzinfo is not None
    assert timedelta(minutes=14) < tokens.expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    assert idp.token_calls == 1


def test_sync_blocking_browser_is_run_in_a_thread():
    idp = FakeIdp()

    def blocking_browser(url: str) -> bool:
        with httpx.Client() as real:
            assert real.get(idp.authorize(url)).status_code == 200
        return True

    tokens = run(sign_in(idp, blocking_browser))
    assert tokens.claims["sub"] == USER


def test_login_hint_and_acr_values_are_sent():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp, min_acr="AAL3_ANY")
        async with http:
            return await client.sign_in(browser_for(idp), timeout=30, login_hint="asha.patel")

    run(scenario())
    assert idp.last_authorize["login_hint"] == "asha.patel"
    assert idp.last_authorize["acr_values"] == "AAL3_ANY"


def test_each_sign_in_uses_fresh_state_nonce_and_verifier():
    idp = FakeIdp()
    seen = []

    async def scenario():
        client, http = make_client(idp)
        async with http:
            for _ in range(2):
                await client.sign_in(browser_for(idp), timeout=30)
                seen.append(dict(idp.last_authorize))

    run(scenario())
    for name in ("state", "nonce", "code_challenge", "redirect_uri"):
        assert seen[0][name] != seen[1][name]


def test_cancelling_sign_in_closes_the_listener():
    idp = FakeIdp()
    urls: list[str] = []

    async def remembers_only(url: str) -> None:
        urls.append(url)

    async def scenario():
        client, http = make_client(idp)
        async with http:
            task = asyncio.ensure_future(client.sign_in(remembers_only, timeout=300))
            while not urls:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            redirect = parse_qs(urlsplit(urls[0]).query)["redirect_uri"][0]
            with pytest.raises(OSError):
                await browser_get(redirect + "?code=late&state=late")

    run(scenario())


def test_discovery_requires_the_exact_issuer():
    idp = FakeIdp(issuer_in_metadata=ISSUER + "/")
    with pytest.raises(IdpError) as caught:
        run(sign_in(idp))
    assert caught.value.detail == "issuer mismatch"


def test_refresh_userinfo_revoke():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp)
        async with http:
            tokens = await client.sign_in(browser_for(idp), timeout=30)
            refreshed = await client.refresh(tokens)
            info = await client.userinfo(refreshed)
            await client.revoke(refreshed)
            return tokens, refreshed, info

    tokens, refreshed, info = run(scenario())
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token != tokens.refresh_token
    assert refreshed.claims["sub"] == USER
    assert info["nhsid_useruid"] == USER
    assert idp.revoked == [("refresh_token", refreshed.refresh_token),
                           ("access_token", refreshed.access_token)]


def test_refresh_refused_means_sign_in_again():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp)
        async with http:
            tokens = await client.sign_in(browser_for(idp), timeout=30)
            idp.refresh_error = "invalid_grant"
            await client.refresh(tokens)

    with pytest.raises(SessionExpired):
        run(scenario())


def test_userinfo_for_another_subject_is_refused():
    idp = FakeIdp(userinfo_sub="someone-else")

    async def scenario():
        client, http = make_client(idp)
        async with http:
            tokens = await client.sign_in(browser_for(idp), timeout=30)
            await client.userinfo(tokens)

    with pytest.raises(TokenInvalid):
        run(scenario())


def test_userinfo_401_means_sign_in_again():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp)
        async with http:
            tokens = await client.sign_in(browser_for(idp), timeout=30)
            stale = TokenSet(access_token="not-issued", expires_at=tokens.expires_at,
                             claims=tokens.claims)
            await client.userinfo(stale)

    with pytest.raises(SessionExpired):
        run(scenario())


def test_rotated_signing_key_is_fetched_again():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp)
        async with http:
            await client.sign_in(browser_for(idp), timeout=30)
            idp.key = RSAKey.generate_key(2048, {"kid": "k2"}, private=True)
            return await client.sign_in(browser_for(idp), timeout=30)

    tokens = run(scenario())
    assert tokens.claims["sub"] == USER
    assert idp.jwks_calls == 2


def test_sign_in_clinician_builds_the_session():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp)
        async with http:
            return await sign_in_clinician(client, browser_for(idp), timeout=30)

    session = run(scenario())
    assert session.user_id == USER
    assert session.display_name == "PATEL, Asha (Dr)"
    assert [r.person_roleid for r in session.roles] == ["555000000011", "555000000012"]
    assert session.selected_role is not None
    assert session.selected_role.person_roleid == "555000000011"
    ctx = session.request_context("RWV99")
    assert (ctx.user_id, ctx.role_id, ctx.org_ods) == (USER, "555000000011", "RWV99")
    assert ctx.access_token == session.tokens.access_token


# --- what must be refused -------------------------------------------------------------------------


def test_state_mismatch_is_refused_before_any_token_request():
    idp = FakeIdp()
    with pytest.raises(StateMismatch):
        run(sign_in(idp, browser_for(idp, tamper_state=True)))
    assert idp.token_calls == 0


@pytest.mark.parametrize(
    ("overrides", "detail_part"),
    [
        ({"nonce": "another-nonce"}, "nonce"),
        ({"aud": "some-other-client"}, "aud"),
        ({"iss": "https://evil.test"}, "iss"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, "expired"),
        ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, "iat"),
        ({"iat": int(time.time()) - 3 * 3600, "exp": int(time.time()) + 600}, "iat too old"),
        ({"sub": None}, "sub"),
    ],
    ids=["nonce", "audience", "issuer", "expired", "iat-future", "iat-old", "no-sub"],
)
def test_bad_id_token_is_refused(overrides, detail_part):
    idp = FakeIdp(claim_overrides=overrides)
    with pytest.raises(TokenInvalid) as caught:
        run(sign_in(idp))
    assert detail_part in caught.value.detail


def test_id_token_signed_by_another_key_is_refused():
    idp = FakeIdp()
    idp.signing_key = RSAKey.generate_key(2048, {"kid": "k1"}, private=True)  # same kid, wrong key
    with pytest.raises(TokenInvalid) as caught:
        run(sign_in(idp))
    assert "bad_signature" in caught.value.detail


@pytest.mark.parametrize("acr", ["AAL2_OTP", "AAL1_USERPASS", None, "AAL3_OTHER"])
def test_acr_too_low_is_refused(acr):
    idp = FakeIdp(claim_overrides={"acr": acr})
    with pytest.raises(AssuranceTooLow) as caught:
        run(sign_in(idp, min_acr="AAL3_ANY"))
    assert "smartcard" in str(caught.value)


def test_acr_not_checked_without_a_minimum():
    idp = FakeIdp(claim_overrides={"acr": "AAL1_USERPASS"})
    assert run(sign_in(idp)).claims["acr"] == "AAL1_USERPASS"


def test_acr_ordering():
    assert acr_satisfies("AAL3_ANY", "AAL3_ANY")
    assert not acr_satisfies("AAL3_CARD", "AAL3_ANY")
    assert not acr_satisfies("AAL4_ANY", "AAL3_ANY")
    assert acr_satisfies("AAL3_ANY", "AAL2_OTP")
    assert acr_satisfies("AAL2_OTP", "AAL2_OTP")
    assert not acr_satisfies("AAL1_USERPASS", "AAL2_OTP")
    assert not acr_satisfies(None, "AAL2_OTP")


def test_access_denied_means_cancelled():
    idp = FakeIdp()
    with pytest.raises(SignInCancelled):
        run(sign_in(idp, browser_for(idp, error="access_denied")))
    assert idp.token_calls == 0


def test_other_idp_error_is_reported():
    idp = FakeIdp()
    with pytest.raises(IdpError) as caught:
        run(sign_in(idp, browser_for(idp, error="server_error")))
    assert caught.value.detail == "server_error"


def test_no_callback_times_out():
    idp = FakeIdp()

    async def never_answers(url: str) -> None:
        return None

    async def scenario():
        client, http = make_client(idp)
        async with http:
            await client.sign_in(never_answers, timeout=0.2)

    with pytest.raises(SignInTimedOut):
        run(scenario())


def test_browser_failure_ends_the_wait_at_once():
    idp = FakeIdp()

    def broken_browser(url: str) -> None:
        raise RuntimeError(f"could not open {url}")

    async def scenario():
        client, http = make_client(idp)
        async with http:
            await client.sign_in(broken_browser, timeout=300)

    with pytest.raises(BrowserUnavailable) as caught:
        run(scenario())
    assert "code_challenge" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_no_browser_available():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp)
        async with http:
            await client.sign_in(lambda url: False, timeout=300)

    with pytest.raises(BrowserUnavailable):
        run(scenario())


def test_idp_unreachable():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
            client = OidcClient(http, issuer=ISSUER, client_id=CLIENT_ID, scopes=SCOPES)
            await client.discover()

    with pytest.raises(IdpUnavailable) as caught:
        run(scenario())
    assert "could not be reached" in str(caught.value)


def test_idp_5xx_is_unavailable():
    async def scenario():
        transport = httpx.MockTransport(lambda request: httpx.Response(503))
        async with httpx.AsyncClient(transport=transport) as http:
            client = OidcClient(http, issuer=ISSUER, client_id=CLIENT_ID, scopes=SCOPES)
            await client.discover()

    with pytest.raises(IdpUnavailable):
        run(scenario())


# --- secrets stay out of logs, exceptions and reprs ------------------------------------------------


def test_no_tokens_or_codes_in_logs_exceptions_or_reprs(caplog):
    caplog.set_level(logging.DEBUG)
    idp = FakeIdp()
    seen: list[str] = []
    captured_urls: list[str] = []

    def remember(browser):
        async def wrapped(url: str) -> None:
            captured_urls.append(url)
            await browser(url)
        return wrapped

    async def scenario():
        client, http = make_client(idp, min_acr="AAL3_ANY")
        async with http:
            tokens = await client.sign_in(remember(browser_for(idp)), timeout=30)
            seen.extend([repr(tokens), str(tokens)])
            refreshed = await client.refresh(tokens)
            seen.append(repr(refreshed))
            await client.userinfo(refreshed)
            await client.revoke(refreshed)
            for overrides in ({"nonce": "x"}, {"aud": "y"}, {"acr": "AAL1"}):
                idp.claim_overrides = overrides
                try:
                    await client.sign_in(remember(browser_for(idp)), timeout=30)
                except AuthError as error:
                    seen.extend([str(error), repr(error), str(error.detail)])
            idp.claim_overrides = {}
            try:
                await client.sign_in(remember(browser_for(idp, tamper_state=True)), timeout=30)
            except AuthError as error:
                seen.extend([str(error), repr(error), str(error.detail)])
            idp.refresh_error = "invalid_grant"
            try:
                await client.refresh(refreshed)
            except AuthError as error:
                seen.extend([str(error), repr(error), str(error.detail)])

    run(scenario())
    secrets = list(idp.issued)
    for url in captured_urls:  # state, nonce and PKCE challenge of each attempt
        q = parse_qs(urlsplit(url).query)
        secrets += [q["state"][0], q["nonce"][0], q["code_challenge"][0]]
    text = caplog.text + "\n".join(seen)
    assert caplog.records, "the flow should log something"
    for secret in secrets:
        assert secret not in text
    # and the last-resort check: no JWT-looking string anywhere
    assert "eyJ" not in text


def test_token_set_repr_hides_tokens():
    tokens = TokenSet(access_token="AT-123", refresh_token="RT-456", id_token="eyJ.x.y",
                      expires_at=datetime(2026, 1, 1, tzinfo=UTC), claims={"sub": "u"})
    for text in (repr(tokens), str(tokens), f"{tokens}"):
        assert "AT-123" not in text and "RT-456" not in text and "eyJ" not in text
    assert tokens.expires_within(60, now=datetime(2025, 12, 31, 23, 59, 30, tzinfo=UTC))
    assert not tokens.expires_within(60, now=datetime(2025, 12, 31, 23, 0, tzinfo=UTC))


def test_error_messages_are_for_clinicians():
    for cls in (SignInCancelled, SignInTimedOut, StateMismatch, IdpError, IdpUnavailable,
                TokenInvalid, AssuranceTooLow, SessionExpired, BrowserUnavailable):
        error = cls(detail="technical")
        assert str(error) == error.user_message
        assert "technical" not in str(error)
        assert str(error).endswith(".")
        assert isinstance(error, AuthError)
    assert json.dumps(SessionExpired().user_message)


def test_refreshed_id_token_for_another_user_is_refused():
    idp = FakeIdp()

    async def scenario():
        client, http = make_client(idp)
        async with http:
            tokens = await client.sign_in(browser_for(idp), timeout=30)
            idp.claim_overrides = {"sub": "555000000999"}
            await client.refresh(tokens)

    with pytest.raises(TokenInvalid) as caught:
        run(scenario())
    assert "another subject" in caught.value.detail


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"code_challenge_methods_supported": ["plain"]}, "S256 not supported"),
        ({"token_endpoint": "http://idp.test/token"}, "token_endpoint missing or not https"),
        ({"jwks_uri": None}, "jwks_uri missing or not https"),
    ],
)
def test_unsafe_discovery_documents_are_refused(change, detail):
    idp = FakeIdp()

    def handler(request: httpx.Request) -> httpx.Response:
        answer = idp.handler(request)
        if request.url.path.endswith("/openid-configuration"):
            meta = {**answer.json(), **change}
            return httpx.Response(200, json={k: v for k, v in meta.items() if v is not None})
        return answer

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            await OidcClient(http, issuer=ISSUER, client_id=CLIENT_ID, scopes=SCOPES).discover()

    with pytest.raises(IdpError) as caught:
        run(scenario())
    assert caught.value.detail == detail


def test_callback_delivered_before_the_browser_fails_wins():
    """The sandbox robot delivers an IdP error to the loopback and then raises: the clinician
    must see the IdP's answer, not a browser failure."""
    idp = FakeIdp()
    deliver = browser_for(idp, error="access_denied")

    async def delivers_then_fails(url: str) -> None:
        await deliver(url)
        raise RuntimeError("the sign-in service refused the request")

    with pytest.raises(SignInCancelled):
        run(sign_in(idp, delivers_then_fails))
