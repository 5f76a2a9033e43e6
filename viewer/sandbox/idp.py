"""The sandbox's OpenID Connect provider: a stand-in for NHS CIS2 Authentication.

Built on Authlib's Flask authorization server so the protocol rules (code grant, PKCE, refresh, RFC 7009
revocation, ID token claims) come from a library that implements the RFCs rather than from code that
could share the consumer's misunderstandings. What is written here is the policy a native app's IdP
must enforce and the CIS2 flavour of the answers:

- one public client, `wardview-desktop`, with no secret; PKCE with S256 is mandatory and `plain` is
  refused (RFC 7636, RFC 9700 section 2.1.1);
- redirect URIs must be loopback `/callback` URIs on any port (RFC 8252 section 7.3); anything else gets
  an error page and is never redirected to, so the IdP cannot be used as an open redirector;
- codes are single-use and live 60 s; a replayed code revokes every token issued from it (RFC 6749
  section 4.1.2); refresh tokens rotate, and reuse of a rotated one revokes the whole sign-in;
- access tokens are RS256 JWTs (`typ` at+jwt, RFC 9068) so the other sandbox servers can check them
  with the verifier this module returns, sharing nothing but the key and the revocation set;
- `/userinfo` and the ID token carry CIS2-style claims: `nhsid_useruid`, `nhsid_nrbac_roles`,
  `selected_roleid`, `acr`.

State lives in memory for one run; every sign-in is lost when the sandbox stops, which is the point.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, scope_to_list
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfo, UserInfoEndpoint
from flask import Flask, jsonify, render_template, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from joserfc.jwt import JWTClaimsRegistry

from viewer.sandbox.world import DemoUser, Role, World

log = logging.getLogger(__name__)

CLIENT_ID = "wardview-desktop"
CALLBACK_PATH = "/callback"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
ACCESS_TOKEN_SECONDS = 15 * 60
ID_TOKEN_SECONDS = 15 * 60
CODE_SECONDS = 60
REFRESH_TOKEN_SECONDS = 12 * 60 * 60  # one shift
ALGORITHM = "RS256"
ACCESS_TOKEN_TYPE = "at+jwt"
SCOPES_SUPPORTED = (
    "openid",
    "profile",
    "email",
    "nationalrbacaccess",
    "associatedorgs",
    "professionalmemberships",
    "organisationalmemberships",
    "selectedrole",
    "offline_access",
)
ACR_VALUES_SUPPORTED = ("AAL3_ANY", "AAL2_OR_ABOVE", "AAL2_OR_ABOVE_WITH_SSO", "AAL1_USERPASS")
CLAIMS_SUPPORTED = (
    "iss", "aud", "sub", "exp", "iat", "auth_time", "nonce", "acr", "at_hash",
    "name", "given_name", "family_name", "nhsid_useruid", "nhsid_nrbac_roles", "nhsid_user_orgs",
    "selected_roleid",
)

TokenVerifier = Callable[[str], dict[str, Any] | None]


def is_loopback_redirect(uri: str) -> bool:
    """RFC 8252 7.3: `http://127.0.0.1:{any port}/callback` or the `localhost` form; nothing else."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in LOOPBACK_HOSTS
        and port is not None
        and parts.path == CALLBACK_PATH
        and not parts.fragment
        and not parts.username
        and not parts.password
    )


@dataclass(frozen=True, slots=True)
class SignedIn:
    """One clinician signed in for one role: what every code and token of that sign-in carries."""

    user: DemoUser
    role: Role
    auth_time: int
    session_id: str  # the `sid` claim; revoking it revokes every token of this sign-in


class LoopbackPublicClient(ClientMixin):
    """The desktop app: a public client (no secret) that may only redirect to the loopback."""

    client_id = CLIENT_ID

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {}  # no signed userinfo, no per-client overrides

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # a loopback port is chosen per sign-in, so the request must always name it

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope_to_list(scope) if s in SCOPES_SUPPORTED)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return is_loopback_redirect(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(slots=True)
class _AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    signed_in: SignedIn
    expires_at: float
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.signed_in.auth_time

    def get_acr(self) -> str:
        return self.signed_in.user.acr


@dataclass(slots=True)
class _RefreshToken:
    value: str
    client_id: str
    scope: str
    signed_in: SignedIn
    expires_at: float
    revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope


@dataclass(slots=True)
class _AccessToken:
    """A verified access token, shaped for Authlib's resource protector and revocation endpoint."""

    claims: dict[str, Any]
    signed_in: SignedIn | None
    client: ClientMixin
    scope: str = field(init=False)

    def __post_init__(self) -> None:
        self.scope = str(self.claims.get("scope", ""))

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.claims.get("client_id")

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return False  # the verifier already refused expired tokens

    def is_revoked(self) -> bool:
        return False  # likewise

    def get_user(self) -> SignedIn | None:
        return self.signed_in

    def get_client(self) -> ClientMixin:
        return self.client


class _IdpState:
    """Everything one run's IdP remembers, behind one lock (the werkzeug server is threaded)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, _AuthorizationCode] = {}
        self.spent_codes: dict[str, str] = {}  # code -> session id, to catch replays
        self.refresh_tokens: dict[str, _RefreshToken] = {}
        self.nonces: set[str] = set()
        self.revoked_jtis: set[str] = set()
        self.revoked_sessions: set[str] = set()

    def take_code(self, code: str, client_id: str, now: float) -> _AuthorizationCode | None:
        """Spend a code: it is gone after the first attempt, right or wrong; a replay revokes its tokens."""
        with self.lock:
            if code in self.spent_codes:
                self.revoked_sessions.add(self.spent_codes[code])
                log.warning("authorization code replayed; the sign-in it started has been revoked")
                return None
            item = self.codes.pop(code, None)
            if item is None:
                return None
            self.spent_codes[code] = item.signed_in.session_id
        if item.client_id != client_id or now >= item.expires_at:
            return None
        return item

    def take_refresh(self, value: str, now: float) -> _RefreshToken | None:
        with self.lock:
            item = self.refresh_tokens.get(value)
            if item is None:
                return None
            if item.revoked:
                # A rotated refresh token came back: someone holds a copy. End the whole sign-in.
                self.revoked_sessions.add(item.signed_in.session_id)
                log.warning("rotated refresh token reused; the sign-in it belongs to has been revoked")
                return None
            if item.signed_in.session_id in self.revoked_sessions or now >= item.expires_at:
                return None
            return item

    def is_revoked(self, jti: str | None, session_id: str | None) -> bool:
        with self.lock:
            return jti in self.revoked_jtis or session_id in self.revoked_sessions


def _find_user(world: World, *, username: str | None = None, uid: str | None = None) -> DemoUser | None:
    for user in world.users:
        if (username is not None and user.username == username) or (uid is not None and user.uid == uid):
            return user
    return None


def _find_role(user: DemoUser, person_roleid: str | None) -> Role | None:
    for role in user.roles:
        if role.person_roleid == person_roleid:
            return role
    return None


def _display_name(user: DemoUser) -> str:
    return " ".join(p for p in (user.name.prefix, *user.name.given, user.name.family) if p)


def cis2_claims(signed_in: SignedIn) -> dict[str, Any]:
    """The CIS2-style identity claims of a signed-in clinician (for /userinfo)."""
    user = signed_in.user
    orgs: dict[str, str] = {}
    for role in user.roles:
        orgs.setdefault(role.org_code, role.org_name)
    return {
        "sub": user.uid,
        "nhsid_useruid": user.uid,
        "name": _display_name(user),
        "given_name": " ".join(user.name.given),
        "family_name": user.name.family,
        "nhsid_nrbac_roles": [
            {
                "person_roleid": role.person_roleid,
                "org_code": role.org_code,
                "role_name": role.role_name,
                "role_code": role.role_code,
                "activity_codes": list(role.activity_codes),
            }
            for role in user.roles
        ],
        "nhsid_user_orgs": [{"org_code": code, "org_name": name} for code, name in orgs.items()],
        "selected_roleid": signed_in.role.person_roleid,
        "acr": user.acr,
    }


def make_idp_app(
    world: World,
    issuer: str,
    *,
    access_token_seconds: int = ACCESS_TOKEN_SECONDS,
    code_seconds: int = CODE_SECONDS,
    refresh_token_seconds: int = REFRESH_TOKEN_SECONDS,
    require_nonce: bool = False,
) -> tuple[Flask, TokenVerifier]:
    """Build the IdP for `world` at `issuer` (its external base URL, no trailing slash).

    Returns the Flask app and a verifier of the access tokens it issues: claims, or None when the
    token is invalid, expired, revoked or not an access token. The keyword arguments are test knobs
    (a lifetime of 0 or less makes codes or tokens born expired, so expiry is tested without waiting).
    """
    issuer = issuer.rstrip("/")
    app = Flask(__name__)
    app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPES_SUPPORTED)
    state = _IdpState()
    client = LoopbackPublicClient()
    kid = secrets.token_hex(8)
    private_key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
    public_jwk = private_key.as_dict(private=False)

    def query_client(client_id: str) -> ClientMixin | None:
        return client if client_id == CLIENT_ID else None

    def save_token(token: dict[str, Any], oauth_request: Any) -> None:
        refresh = token.get("refresh_token")
        if refresh:
            with state.lock:
                state.refresh_tokens[refresh] = _RefreshToken(
                    value=refresh,
                    client_id=CLIENT_ID,
                    scope=token.get("scope", ""),
                    signed_in=oauth_request.user,
                    expires_at=time.time() + refresh_token_seconds,
                )

    def generate_token(
        grant_type: str,
        client: ClientMixin,
        user: SignedIn | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        if user is None:
            raise InvalidRequestError("There is no signed-in user for this grant.")
        allowed = client.get_allowed_scope(scope)
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": issuer,
            "sub": user.user.uid,
            "client_id": client.get_client_id(),
            "iat": now,
            "exp": now + access_token_seconds,
            "scope": allowed,
            "selected_roleid": user.role.person_roleid,
            "acr": user.user.acr,
            "sid": user.session_id,
            "jti": secrets.token_urlsafe(16),
        }
        header = {"alg": ALGORITHM, "kid": kid, "typ": ACCESS_TOKEN_TYPE}
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": jwt.encode(header, claims, private_key, [ALGORITHM]),
            "expires_in": access_token_seconds,
            "scope": allowed,
        }
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(48)
        return token

    registry = JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": issuer},
        sub={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
    )

    def decode_access_token(token: str, *, check_time: bool) -> dict[str, Any] | None:
        try:
            decoded = jwt.decode(token, private_key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != ACCESS_TOKEN_TYPE:
                return None  # an ID token (or anything else) is not a bearer credential
            if check_time:
                registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            return None
        return dict(decoded.claims)

    def verify_token(token: str) -> dict[str, Any] | None:
        claims = decode_access_token(token, check_time=True)
        if claims is None or state.is_revoked(claims.get("jti"), claims.get("sid")):
            return None
        return claims

    def signed_in_from(claims: dict[str, Any]) -> SignedIn | None:
        user = _find_user(world, uid=claims.get("sub"))
        role = _find_role(user, claims.get("selected_roleid")) if user else None
        if user is None or role is None:
            return None
        return SignedIn(user, role, int(claims.get("iat", 0)), str(claims.get("sid", "")))

    class CodeGrant(AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

        def save_authorization_code(self, code: str, oauth_request: Any) -> None:
            data = oauth_request.payload.data
            nonce = data.get("nonce")
            item = _AuthorizationCode(
                code=code,
                client_id=oauth_request.client.get_client_id(),
                redirect_uri=oauth_request.payload.redirect_uri,
                scope=oauth_request.scope,
                signed_in=oauth_request.user,
                expires_at=time.time() + code_seconds,
                nonce=nonce,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )
            with state.lock:
                state.codes[code] = item
                if nonce:
                    state.nonces.add(nonce)

        def query_authorization_code(self, code: str, client: ClientMixin) -> _AuthorizationCode | None:
            return state.take_code(code, client.get_client_id(), time.time())

        def delete_authorization_code(self, authorization_code: _AuthorizationCode) -> None:
            """Nothing to do: `take_code` already spent it, whether or not the exchange succeeds."""

        def authenticate_user(self, authorization_code: _AuthorizationCode) -> SignedIn:
            return authorization_code.signed_in

    class RefreshGrant(RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]
        INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

        def authenticate_refresh_token(self, refresh_token: str) -> _RefreshToken | None:
            return state.take_refresh(refresh_token, time.time())

        def authenticate_user(self, refresh_token: _RefreshToken) -> SignedIn:
            return refresh_token.signed_in

        def revoke_old_credential(self, refresh_token: _RefreshToken) -> None:
            with state.lock:
                refresh_token.revoked = True

    class S256Only(CodeChallenge):
        """PKCE is mandatory and only S256 is accepted: `plain` protects nothing on a shared machine."""

        SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
        DEFAULT_CODE_CHALLENGE_METHOD = "S256"

        def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
            data = grant.request.payload.data
            if not data.get("code_challenge"):
                raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
            if data.get("code_challenge_method") != "S256":
                raise InvalidRequestError("'code_challenge_method' must be S256.")
            super().validate_code_challenge(grant, redirect_uri)

    class Cis2OpenIDCode(OpenIDCode):
        def resolve_client_private_key(self, client: ClientMixin) -> RSAKey:
            return private_key

        def get_client_algorithm(self, client: ClientMixin) -> str:
            return ALGORITHM

        def get_encode_header(self, client: ClientMixin) -> dict[str, str]:
            return {"alg": ALGORITHM, "kid": kid}

        def get_client_claims(self, client: ClientMixin) -> dict[str, Any]:
            return {
                "iss": issuer,
                "aud": client.get_client_id(),
                "exp": int(time.time()) + ID_TOKEN_SECONDS,
            }

        def exists_nonce(self, nonce: str, oauth_request: Any) -> bool:
            with state.lock:
                return nonce in state.nonces

        def generate_user_info(self, user: SignedIn, scope: str) -> UserInfo:
            return UserInfo(
                sub=user.user.uid,
                selected_roleid=user.role.person_roleid,
                nhsid_useruid=user.user.uid,
                name=_display_name(user.user),
            )

    class AccessTokenValidator(BearerTokenValidator):
        def authenticate_token(self, token_string: str) -> _AccessToken | None:
            claims = verify_token(token_string)
            if claims is None:
                return None
            signed_in = signed_in_from(claims)
            return _AccessToken(claims, signed_in, client) if signed_in else None

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = ["none"]

        def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
            with state.lock:
                refresh = state.refresh_tokens.get(token_string)
            if refresh is not None:
                return refresh
            claims = decode_access_token(token_string, check_time=False)
            return _AccessToken(claims, None, client) if claims else None

        def revoke_token(self, token: Any, oauth_request: Any) -> None:
            with state.lock:
                if isinstance(token, _RefreshToken):
                    # RFC 7009 2.1: revoking a refresh token also ends the access tokens of its grant.
                    token.revoked = True
                    state.revoked_sessions.add(token.signed_in.session_id)
                else:
                    state.revoked_jtis.add(str(token.claims.get("jti")))

    class Cis2UserInfo(UserInfoEndpoint):
        def get_issuer(self) -> str:
            return issuer

        def generate_user_info(self, user: SignedIn, scope: str) -> UserInfo:
            return UserInfo(cis2_claims(user))

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_token_generator("default", generate_token)
    server.register_grant(CodeGrant, [S256Only(required=True), Cis2OpenIDCode(require_nonce=require_nonce)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokenValidator())
    server.register_endpoint(Cis2UserInfo(resource_protector=protector))

    def error_page(error: OAuth2Error) -> tuple[str, int]:
        return render_template(
            "error.html", error=error.error, description=error.description
        ), 400

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "jwks_uri": f"{issuer}/jwks",
                "revocation_endpoint": f"{issuer}/revoke",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": list(SCOPES_SUPPORTED),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [ALGORITHM],
                "token_endpoint_auth_methods_supported": ["none"],
                "revocation_endpoint_auth_methods_supported": ["none"],
                "claims_supported": list(CLAIMS_SUPPORTED),
                "acr_values_supported": list(ACR_VALUES_SUPPORTED),
                "prompt_values_supported": ["none", "login"],
            }
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify({"keys": [public_jwk]})

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        signed_in: SignedIn | None = None
        form_error: str | None = None
        if request.method == "POST" and request.form.get("action") == "sign-in":
            user = _find_user(world, username=request.form.get("username", ""))
            role = _find_role(user, request.form.get("role")) if user else None
            if user is None:
                form_error = "Choose one of the demo clinicians listed below."
            elif role is None:
                form_error = "Choose one of that clinician's roles."
            else:
                signed_in = SignedIn(user, role, int(time.time()), secrets.token_urlsafe(16))
        try:
            grant = server.get_consent_grant(end_user=signed_in)
        except OAuth2Error as error:
            if error.redirect_uri and is_loopback_redirect(error.redirect_uri):
                return server.handle_error_response(None, error)
            return error_page(error)
        if request.method == "POST" and form_error is None:
            if signed_in is not None:
                log.info("sandbox sign-in completed")
            return server.create_authorization_response(grant_user=signed_in, grant=grant)
        users = [
            {
                "username": u.username,
                "display_name": _display_name(u),
                "roles": u.roles,
            }
            for u in world.users
        ]
        page = render_template(
            "sign_in.html",
            users=users,
            hint=request.args.get("login_hint"),
            error=form_error,
            action=request.full_path if request.query_string else request.path,
        )
        return page, (400 if form_error else 200)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo() -> Any:
        return server.create_endpoint_response("userinfo")

    @app.post("/revoke")
    def revoke() -> Any:
        return server.create_endpoint_response("revocation")

    return app, verify_token
