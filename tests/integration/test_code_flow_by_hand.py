"""The sandbox IdP's authorization code flow done by hand, with httpx only and none of viewer.auth, against
`wardview sandbox serve` in a subprocess: so a misreading of RFC 6749/7636 shared by our client and our
IdP cannot hide. PKCE binds the code to its verifier, and a code is good once."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import secrets
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCOPES = "openid profile nationalrbacaccess associatedorgs selectedrole"
REDIRECT_URI = "http://127.0.0.1:53682/callback"  # nothing listens: the code is read from the Location

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGINT delivery to a child differs on Windows")


def _first_line(stream: Any, timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "viewer", "sandbox", "serve"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        info = json.loads(_first_line(proc.stdout, timeout=60))
        yield info
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.fixture
def http(served: dict[str, Any]) -> Iterator[httpx.Client]:
    ctx = ssl.create_default_context(cafile=served["ca_cert"])
    with httpx.Client(verify=ctx, trust_env=False, timeout=20) as client:
        yield client


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 4.1/4.2: a 43-128 character verifier; challenge = BASE64URL(SHA256(verifier)), unpadded."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorization_code(http: httpx.Client, info: dict[str, Any], challenge: str) -> str:
    """GET the sign-in page, then POST its form as the clinician would; the code comes in the redirect."""
    user = info["users"][0]
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code", "client_id": info["client_id"], "redirect_uri": REDIRECT_URI,
        "scope": SCOPES, "state": state, "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge, "code_challenge_method": "S256",
    }
    authorize = f"{info['issuer']}/authorize"
    page = http.get(authorize, params=params)
    assert page.status_code == 200
    assert 'name="action" value="sign-in"' in page.text
    form = {"username": user["username"], "role": user["roles"][0]["person_roleid"], "action": "sign-in"}
    answer = http.post(authorize, params=params, data=form, follow_redirects=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(http: httpx.Client, info: dict[str, Any], code: str, verifier: str) -> httpx.Response:
    return http.post(f"{info['issuer']}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "client_id": info["client_id"], "code_verifier": verifier,
    })


def test_the_right_verifier_gets_tokens_and_the_code_is_good_once(http, served):
    verifier, challenge = pkce_pair()
    code = authorization_code(http, served, challenge)
    first = exchange(http, served, code, verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["id_token"]
    assert tokens["expires_in"] > 0

    replay = exchange(http, served, code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert "refresh_token" not in replay.text


def test_a_wrong_verifier_is_refused(http, served):
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = authorization_code(http, served, challenge)
    refused = exchange(http, served, code, other_verifier)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert "access_token" not in refused.json()


def test_the_plain_method_is_refused(http, served):
    """S256 only: with `plain` the verifier would travel in the front channel as the challenge."""
    verifier, _ = pkce_pair()
    params = {
        "response_type": "code", "client_id": served["client_id"], "redirect_uri": REDIRECT_URI,
        "scope": SCOPES, "state": "s", "code_challenge": verifier, "code_challenge_method": "plain",
    }
    answer = http.get(f"{served['issuer']}/authorize", params=params, follow_redirects=False)
    assert answer.status_code == 302  # RFC 6749 4.1.2.1: errors go back to a valid redirect_uri
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code" not in query
