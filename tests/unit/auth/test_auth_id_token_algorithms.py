"""Only RS256 ID tokens signed by the IdP's key are accepted: an unsigned token or an HS256 token 'signed'
with the public key as a shared secret (the classic algorithm-confusion attack) must be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from viewer.auth.oidc import _decode

CLAIMS = {"iss": "https://idp.test", "aud": "wardview-desktop", "sub": "555000000001", "exp": 4102444800,
          "iat": 1767225600}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def keys():
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return key, KeySet([key])


def test_rs256_from_the_idp_key_is_accepted(keys):
    key, keyset = keys
    token = jwt.encode({"alg": "RS256", "kid": "k1"}, CLAIMS, key)
    assert _decode(token, keyset).claims["sub"] == "555000000001"


def test_unsigned_token_is_refused(keys):
    _, keyset = keys
    head = _b64(json.dumps({"alg": "none", "kid": "k1"}).encode())
    unsigned = f"{head}.{_b64(json.dumps(CLAIMS).encode())}."
    with pytest.raises((JoseError, ValueError)):
        _decode(unsigned, keyset)


def test_hs256_with_the_public_key_as_secret_is_refused(keys):
    key, keyset = keys
    public_pem = key.as_pem(private=False)
    head = _b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    body = _b64(json.dumps(CLAIMS).encode())
    signature = _b64(hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest())
    with pytest.raises((JoseError, ValueError)):
        _decode(f"{head}.{body}.{signature}", keyset)
