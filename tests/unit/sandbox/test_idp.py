"""The sandbox OpenID Connect provider, end to end over TLS on 127.0.0.1 with httpx.

The IdP is served alone (with the runner's LoopbackServer and a per-test-module CA) over a tiny
hand-made world, so these tests depend on nothing but the platform modules.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import queue
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from viewer.sandbox.idp import CLIENT_ID, is_loopback_redirect, make_idp_app
from viewer.sandbox.robot import SignInRobotError, answer_sign_in
from viewer.sandbox.runner import LoopbackServer
from viewer.sandbox.tls import TlsFiles, make_tls_files
from viewer.sandbox.world import DemoUser, Name, Role, World

WARD_ROLE = Role(
    person_roleid="555000000001", org_code="RWV99", org_name="Wardview Sandbox Hospital NHS Trust",
    role_name='"Clinical":"Clinical Provision":"Nurse Access Role"', role_code="S8000:G8000:R8001",
    activity_codes=("B0360", "B0370"),
)
CLINIC_ROLE = Role(
    person_roleid="555000000002", org_code="RWV99", org_name="Wardview Sandbox Hospital NHS Trust",
    role_name='"Clinical":"Clinical Provision":"Consultant"', role_code="S8000:G8000:R8003",
    activity_codes=("B0360",),
)
NURSE = DemoUser(
    uid="555000000100", username="nurse.okafor", name=Name("Okafor", ("Ada",), "Ms"),
    roles=(WARD_ROLE, CLINIC_ROLE),
)
DOCTOR = DemoUser(
    uid="555000000200", username="dr.patel", name=Name("Patel", ("Ravi",), "Dr"), roles=(CLINIC_ROLE,),
    acr="AAL2_OR_ABOVE",
)
WORLD = World(
    patients=[], practices=[], users=[NURSE, DOCTOR], hospital_ods="RWV99",
    hospital_name="Wardview Sandbox Hospital NHS Trust", seed=1,
)


@dataclass
class Idp:
    base_url: str
    verify: object
    tls: TlsFiles

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, verify=self.tls.client_context(), trust_env=False, timeout=10
        )


def _serve_idp(tls: TlsFiles, **knobs: int) -> tuple[Idp, LoopbackServer]:
    server = LoopbackServer("idp", tls.server_context())
    app, verify = make_idp_app(WORLD, server.base_url, **knobs)
    server.mount(app)
    server.start()
    return Idp(server.base_url, verify, tls), server


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(Path(tmp_path_factory.mktemp("idp-tls")))


@pytest.fixture(scope="module")
def idp(tls: TlsFiles) -> Iterator[Idp]:
    served, server = _serve_idp(tls)
    yield served
    server.close()


class Listener:
    """A throwaway loopback redirect listener, standing in for the desktop app's."""

    def __init__(self) -> None:
        self.received: queue.Queue[dict[str, str]] = queue.Queue()
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                received.put({"path": parts.path, **query})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.redirect_uri = f"http://127.0.0.1:{self.server.server_port}/callback"

    def take(self) -> dict[str, str]:
        return self.received.get(timeout=10)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lis = Listener()
    yield lis
    lis.close()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def authorize_url(idp: Idp, redirect_uri: str, **overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid profile nationalrbacaccess associatedorgs selectedrole",
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "acr_values": "AAL3_ANY",
    }
    params.update(overrides)
    return f"{idp.base_url}/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def sign_in(idp: Idp, redirect_uri: str, user: DemoUser = NURSE, role: Role | None = None,
            **overrides: str | None) -> str:
    """Browser steps without following the redirect; returns the Location the IdP sent back."""
    url = authorize_url(idp, redirect_uri, **overrides)
    with idp.client() as http:
        page = http.get(url)
        assert page.status_code == 200, page.text
        answer = http.post(url, data={
            "username": user.username,
            "role": (role or user.roles[0]).person_roleid,
            "action": "sign-in",
        })
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def code_from(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def exchange(idp: Idp, code: str, verifier: str | None, redirect_uri: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": CLIENT_ID}
    if verifier is not None:
        data["code_verifier"] = verifier
    with idp.client() as http:
        return http.post("/token", data=data)


def tokens_for(idp: Idp, redirect_uri: str = "http://127.0.0.1:50000/callback",
               user: DemoUser = NURSE, role: Role | None = None) -> dict:
    verifier, challenge = pkce()
    location = sign_in(idp, redirect_uri, user, role, code_challenge=challenge,
                       code_challenge_method="S256")
    response = exchange(idp, code_from(location), verifier, redirect_uri)
    assert response.status_code == 200, response.text
    return response.json()


def test_discovery_advertises_s256_and_cis2_scopes(idp: Idp) -> None:
    with idp.client() as http:
        doc = http.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == idp.base_url
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token"} <= set(doc["grant_types_supported"])
    assert {"openid", "profile", "nationalrbacaccess", "associatedorgs", "selectedrole"} <= set(
        doc["scopes_supported"])
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "AAL3_ANY" in doc["acr_values_supported"]
    assert {"selected_roleid", "nhsid_nrbac_roles", "nhsid_useruid"} <= set(doc["claims_supported"])
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                "revocation_endpoint"):
        assert doc[key].startswith(idp.base_url + "/")


def test_full_code_flow_with_robot_listener_id_token_and_userinfo(idp: Idp, listener: Listener) -> None:
    verifier, challenge = pkce()
    nonce, state = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    url = authorize_url(idp, listener.redirect_uri, code_challenge=challenge,
                        code_challenge_method="S256", nonce=nonce, state=state)
    worker = threading.Thread(
        target=answer_sign_in, args=(url, NURSE.username, CLINIC_ROLE.person_roleid, str(idp.tls.ca_cert))
    )
    worker.start()
    worker.join(timeout=20)
    callback = listener.take()
    assert callback["path"] == "/callback"
    assert callback["state"] == state

    response = exchange(idp, callback["code"], verifier, listener.redirect_uri)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["refresh_token"]

    with idp.client() as http:
        jwks = KeySet.import_key_set(http.get("/jwks").json())
        info = http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    id_token = jwt.decode(tokens["id_token"], jwks, algorithms=["RS256"])
    claims = id_token.claims
    assert id_token.header["alg"] == "RS256"
    assert claims["iss"] == idp.base_url
    assert claims["aud"] in (CLIENT_ID, [CLIENT_ID])
    assert claims["nonce"] == nonce
    assert claims["sub"] == NURSE.uid
    assert claims["selected_roleid"] == CLINIC_ROLE.person_roleid
    assert claims["acr"] == "AAL3_ANY"
    assert claims["exp"] > claims["iat"]
    assert claims["auth_time"] <= claims["iat"] + 1
    assert "at_hash" in claims

    assert info.status_code == 200
    body = info.json()
    assert body["sub"] == body["nhsid_useruid"] == NURSE.uid
    assert body["name"] == "Ms Ada Okafor"
    assert body["given_name"] == "Ada" and body["family_name"] == "Okafor"
    assert body["selected_roleid"] == CLINIC_ROLE.person_roleid
    assert body["acr"] == "AAL3_ANY"
    assert body["nhsid_nrbac_roles"] == [
        {"person_roleid": r.person_roleid, "org_code": r.org_code, "role_name": r.role_name,
         "role_code": r.role_code, "activity_codes": list(r.activity_codes)}
        for r in NURSE.roles
    ]

    access = idp.verify(tokens["access_token"])
    assert access["sub"] == NURSE.uid
    assert access["selected_roleid"] == CLINIC_ROLE.person_roleid
    assert "nationalrbacaccess" in access["scope"].split()
    assert access["exp"] - access["iat"] == 15 * 60
    assert access["jti"]


def test_robot_uses_first_role_when_none_given(idp: Idp, listener: Listener) -> None:
    verifier, challenge = pkce()
    url = authorize_url(idp, listener.redirect_uri, code_challenge=challenge,
                        code_challenge_method="S256")
    answer_sign_in(url, NURSE.username, None, str(idp.tls.ca_cert))
    tokens = exchange(idp, listener.take()["code"], verifier, listener.redirect_uri).json()
    assert idp.verify(tokens["access_token"])["selected_roleid"] == WARD_ROLE.person_roleid


def test_robot_refuses_unknown_user_and_foreign_role(idp: Idp, listener: Listener) -> None:
    _, challenge = pkce()
    url = authorize_url(idp, listener.redirect_uri, code_challenge=challenge,
                        code_challenge_method="S256")
    with pytest.raises(SignInRobotError):
        answer_sign_in(url, "nobody", None, str(idp.tls.ca_cert))
    with pytest.raises(SignInRobotError):
        answer_sign_in(url, DOCTOR.username, WARD_ROLE.person_roleid, str(idp.tls.ca_cert))
    assert listener.received.empty()


def test_sign_in_page_is_labelled_synthetic_and_honours_login_hint(idp: Idp) -> None:
    _, challenge = pkce()
    url = authorize_url(idp, "http://localhost:1234/callback", code_challenge=challenge,
                        code_challenge_method="S256", login_hint=DOCTOR.username)
    with idp.client() as http:
        page = http.get(url)
    assert page.status_code == 200
    assert "Wardview sandbox — synthetic data only" in page.text
    assert NURSE.username in page.text and DOCTOR.username in page.text
    assert WARD_ROLE.person_roleid in page.text
    hinted = page.text.split('class="user hinted"')
    assert len(hinted) == 2 and f'value="{DOCTOR.username}"' in hinted[1].split("</form>")[0]


@pytest.mark.parametrize("overrides", [
    {},  # no PKCE at all
    {"code_challenge_method": "S256"},  # method without a challenge
    {"code_challenge": "plain-verifier-that-is-long-enough-0123456789abcdef",
     "code_challenge_method": "plain"},
    {"code_challenge": "plain-verifier-that-is-long-enough-0123456789abcdef"},  # defaults to plain
])
def test_authorize_rejects_missing_or_plain_pkce(idp: Idp, overrides: dict[str, str]) -> None:
    redirect_uri = "http://127.0.0.1:40000/callback"
    url = authorize_url(idp, redirect_uri, state="s1", **overrides)
    with idp.client() as http:
        response = http.get(url)
    # The redirect URI is valid, so the error goes back to the app, never a sign-in page.
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["s1"]
    assert "code" not in query


def test_token_exchange_without_verifier_is_rejected(idp: Idp) -> None:
    redirect_uri = "http://127.0.0.1:40001/callback"
    _, challenge = pkce()
    location = sign_in(idp, redirect_uri, code_challenge=challenge, code_challenge_method="S256")
    response = exchange(idp, code_from(location), None, redirect_uri)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_wrong_verifier_is_rejected_and_spends_the_code(idp: Idp) -> None:
    redirect_uri = "http://127.0.0.1:40002/callback"
    verifier, challenge = pkce()
    code = code_from(sign_in(idp, redirect_uri, code_challenge=challenge,
                             code_challenge_method="S256"))
    wrong = exchange(idp, code, secrets.token_urlsafe(48), redirect_uri)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # A guessed verifier must not leave the code usable for another guess.
    assert exchange(idp, code, verifier, redirect_uri).status_code == 400


def test_redirect_uri_must_match_the_authorization_request(idp: Idp) -> None:
    verifier, challenge = pkce()
    code = code_from(sign_in(idp, "http://127.0.0.1:40003/callback", code_challenge=challenge,
                             code_challenge_method="S256"))
    response = exchange(idp, code, verifier, "http://127.0.0.1:40004/callback")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_replayed_code_is_rejected_and_revokes_its_tokens(idp: Idp) -> None:
    redirect_uri = "http://127.0.0.1:40005/callback"
    verifier, challenge = pkce()
    code = code_from(sign_in(idp, redirect_uri, code_challenge=challenge,
                             code_challenge_method="S256"))
    first = exchange(idp, code, verifier, redirect_uri)
    assert first.status_code == 200
    tokens = first.json()
    assert idp.verify(tokens["access_token"]) is not None

    replay = exchange(idp, code, verifier, redirect_uri)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert idp.verify(tokens["access_token"]) is None
    with idp.client() as http:
        refreshed = http.post("/token", data={"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                              "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 400


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback",
    "http://evil.example:8080/callback",
    "http://127.0.0.1:8080/elsewhere",
    "http://127.0.0.1/callback",  # RFC 8252 loopback redirects carry a port
    "http://192.168.1.20:8080/callback",
    "https://127.0.0.1:8080/callback",
    "http://127.0.0.1.evil.example:8080/callback",
])
def test_non_loopback_redirect_gets_an_error_page_not_a_redirect(idp: Idp, redirect_uri: str) -> None:
    _, challenge = pkce()
    url = authorize_url(idp, redirect_uri, code_challenge=challenge, code_challenge_method="S256")
    with idp.client() as http:
        shown = http.get(url)
        posted = http.post(url, data={"username": NURSE.username,
                                      "role": WARD_ROLE.person_roleid, "action": "sign-in"})
    for response in (shown, posted):
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "text/html" in response.headers["content-type"]
        assert "synthetic data only" in response.text


def test_unknown_client_gets_an_error_page(idp: Idp) -> None:
    _, challenge = pkce()
    url = authorize_url(idp, "http://127.0.0.1:40006/callback", client_id="someone-else",
                        code_challenge=challenge, code_challenge_method="S256")
    with idp.client() as http:
        response = http.get(url)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_signing_in_with_another_users_role_is_refused(idp: Idp) -> None:
    _, challenge = pkce()
    url = authorize_url(idp, "http://127.0.0.1:40007/callback", code_challenge=challenge,
                        code_challenge_method="S256")
    with idp.client() as http:
        response = http.post(url, data={"username": DOCTOR.username,
                                        "role": WARD_ROLE.person_roleid, "action": "sign-in"})
    assert response.status_code == 400
    assert "location" not in response.headers


def test_cancel_redirects_access_denied(idp: Idp) -> None:
    _, challenge = pkce()
    redirect_uri = "http://127.0.0.1:40008/callback"
    url = authorize_url(idp, redirect_uri, code_challenge=challenge, code_challenge_method="S256",
                        state="s2")
    with idp.client() as http:
        response = http.post(url, data={"action": "cancel"})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s2"]


def test_refresh_rotates_and_reuse_of_an_old_refresh_token_ends_the_sign_in(idp: Idp) -> None:
    tokens = tokens_for(idp, user=DOCTOR)
    with idp.client() as http:
        refreshed = http.post("/token", data={"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                              "refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        new = refreshed.json()
        assert new["access_token"] != tokens["access_token"]
        assert new["refresh_token"] != tokens["refresh_token"]
        claims = idp.verify(new["access_token"])
        assert claims["sub"] == DOCTOR.uid
        assert claims["selected_roleid"] == CLINIC_ROLE.person_roleid
        assert claims["acr"] == "AAL2_OR_ABOVE"

        reused = http.post("/token", data={"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                           "refresh_token": tokens["refresh_token"]})
        assert reused.status_code == 400
        assert reused.json()["error"] == "invalid_grant"
        assert idp.verify(new["access_token"]) is None
        again = http.post("/token", data={"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                          "refresh_token": new["refresh_token"]})
        assert again.status_code == 400


def test_revoking_an_access_token_makes_the_verifier_and_userinfo_reject_it(idp: Idp) -> None:
    tokens = tokens_for(idp)
    with idp.client() as http:
        assert idp.verify(tokens["access_token"]) is not None
        revoked = http.post("/revoke", data={"token": tokens["access_token"],
                                             "token_type_hint": "access_token", "client_id": CLIENT_ID})
        assert revoked.status_code == 200
        assert idp.verify(tokens["access_token"]) is None
        info = http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert info.status_code == 401
        assert "bearer" in info.headers.get("www-authenticate", "").lower()
        # The refresh token is a separate credential and still works.
        refreshed = http.post("/token", data={"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                              "refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200


def test_revoking_the_refresh_token_ends_the_whole_sign_in(idp: Idp) -> None:
    tokens = tokens_for(idp)
    with idp.client() as http:
        revoked = http.post("/revoke", data={"token": tokens["refresh_token"], "client_id": CLIENT_ID})
        assert revoked.status_code == 200
        assert idp.verify(tokens["access_token"]) is None
        refreshed = http.post("/token", data={"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                              "refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 400
        # RFC 7009: an unknown token is not an error.
        assert http.post("/revoke", data={"token": "nonsense", "client_id": CLIENT_ID}).status_code == 200


def test_verifier_rejects_id_tokens_garbage_and_other_idps_tokens(idp: Idp, tls: TlsFiles) -> None:
    tokens = tokens_for(idp)
    assert idp.verify(tokens["id_token"]) is None
    assert idp.verify("not-a-jwt") is None
    assert idp.verify(tokens["access_token"][:-4] + "AAAA") is None
    other, server = _serve_idp(tls)
    try:
        foreign = tokens_for(other)
    finally:
        server.close()
    assert idp.verify(foreign["access_token"]) is None
    with idp.client() as http:
        assert http.get("/userinfo").status_code == 401


def test_expired_code_and_expired_access_token_are_refused(tls: TlsFiles) -> None:
    served, server = _serve_idp(tls, code_seconds=0)
    try:
        redirect_uri = "http://127.0.0.1:40009/callback"
        verifier, challenge = pkce()
        code = code_from(sign_in(served, redirect_uri, code_challenge=challenge,
                                 code_challenge_method="S256"))
        response = exchange(served, code, verifier, redirect_uri)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
    finally:
        server.close()
    served, server = _serve_idp(tls, access_token_seconds=-60)
    try:
        tokens = tokens_for(served)
        assert served.verify(tokens["access_token"]) is None
    finally:
        server.close()


@pytest.mark.parametrize(("uri", "ok"), [
    ("http://127.0.0.1:53123/callback", True),
    ("http://localhost:1/callback", True),
    ("http://127.0.0.1:53123/callback?x=1", True),
    ("http://127.0.0.1/callback", False),
    ("http://127.0.0.1:53123/callback#frag", False),
    ("http://user@127.0.0.1:53123/callback", False),
    ("https://127.0.0.1:53123/callback", False),
    ("http://127.0.0.1:99999/callback", False),
    ("http://example.com:80/callback", False),
    ("wardview://callback", False),
])
def test_is_loopback_redirect(uri: str, ok: bool) -> None:
    assert is_loopback_redirect(uri) is ok
