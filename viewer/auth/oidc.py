"""Sign-in with NHS Care Identity (CIS2 style OpenID Connect) for a desktop app.

A desktop app is a public client: it cannot keep a secret, so the authorization code it receives
through the browser is bound to this very sign-in attempt by PKCE S256 (RFC 7636), the redirect goes
to a one-shot loopback listener on 127.0.0.1 (RFC 8252), `state` ties the callback to the request
(CSRF) and `nonce` ties the ID token to it (replay). The ID token's signature and claims are checked
against the IdP's published keys before anything in it is believed.

Authlib supplies the OAuth/PKCE primitives and the OIDC ID-token claim rules; joserfc (which
Authlib 1.9 recommends in place of the deprecated `authlib.jose`) verifies the JWS. Authlib's httpx
integration is not used: it wants to own the HTTP client (and warns that its plain-httpx support is
deprecated), while Wardview shares one `httpx.AsyncClient` (OS trust store, timeouts) across all
services.

Nothing here writes a token, code, state, nonce or verifier to a log or into an exception message.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7009 import prepare_revoke_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from viewer.auth.loopback import CallbackResult, LoopbackListener
from viewer.sources.errors import SourceError, TlsFailure, UnreadableResponse
from viewer.sources.http import MB, send

log = logging.getLogger(__name__)

OpenBrowser = Callable[[str], Awaitable[Any] | Any]
Clock = Callable[[], datetime]

ID_TOKEN_ALGORITHMS = ("RS256",)
DEFAULT_LEEWAY_SECONDS = 60  # clock skew tolerated between this PC and the IdP
MAX_ID_TOKEN_AGE = timedelta(minutes=10)  # a freshly issued ID token older than this is a replay
DEFAULT_EXPIRES_IN = 300  # when the IdP omits expires_in, assume a short life and refresh early
_SAFE_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
SERVICE = "The NHS sign-in service"
MAX_REPLY_BYTES = 1 * MB  # discovery, keys and tokens are a few kB


# --- errors ------------------------------------------------------------------------------------


class AuthError(Exception):
    """A sign-in failure. `str(error)` is `user_message`, a sentence a clinician understands.

    `detail` is a short technical reason for logs (claim name, OAuth error code), never a token.
    """

    default_message = "Sign-in failed. Please try again."

    def __init__(self, user_message: str | None = None, *, detail: str | None = None):
        self.user_message = user_message or self.default_message
        self.detail = detail
        super().__init__(self.user_message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.user_message!r}, detail={self.detail!r})"


class SignInCancelled(AuthError):
    default_message = "Sign-in was cancelled."


class SignInTimedOut(SignInCancelled):
    default_message = "Sign-in took too long and was stopped. Please try again."


class BrowserUnavailable(AuthError):
    default_message = (
        "Wardview could not open your web browser to sign in. "
        "Ask IT to check that a default browser is set."
    )


class StateMismatch(AuthError):
    default_message = (
        "The sign-in reply did not match this sign-in attempt and was refused. Please try again."
    )


class IdpError(AuthError):
    default_message = "The NHS sign-in service refused the sign-in. Please try again."


class IdpUnavailable(IdpError):
    default_message = (
        "The NHS sign-in service could not be reached. Check the network connection and try again."
    )


class TokenInvalid(AuthError):
    default_message = (
        "The sign-in could not be verified, so Wardview did not accept it. Please sign in again."
    )


class AssuranceTooLow(TokenInvalid):
    default_message = (
        "Patient records need a stronger sign-in. Sign in with your smartcard (or a "
        "security key) and try again."
    )


class SessionExpired(AuthError):
    default_message = "Your sign-in has expired. Please sign in again."


# --- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class TokenSet:
    """The tokens of one sign-in. Secrets are kept out of repr/str so no log line can carry them."""

    access_token: str
    expires_at: datetime  # UTC
    refresh_token: str | None = None
    id_token: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)  # the verified ID token claims
    scope: str | None = None

    def __repr__(self) -> str:
        return (
            f"TokenSet(expires_at={self.expires_at.isoformat()}, "
            f"refreshable={self.refresh_token is not None})"
        )

    __str__ = __repr__

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        """True when the access token has expired or will within `seconds` (refresh before use)."""
        return (now or datetime.now(UTC)) + timedelta(seconds=seconds) >= self.expires_at


# --- client ------------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OidcClient:
    """OpenID Connect relying party for the desktop app (auth code + PKCE, loopback redirect).

    `http` is the app's shared client; TLS trust and timeouts are its business, not this class's.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        issuer: str,
        client_id: str,
        scopes: str,
        min_acr: str | None = None,
        clock: Clock = _utcnow,
        leeway: int = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        self._http = http
        self.issuer = issuer
        self.client_id = client_id
        self.scopes = scopes
        self.min_acr = min_acr
        self._clock = clock
        self._leeway = leeway
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    # discovery ----------------------------------------------------------------------------------

    async def discover(self) -> dict[str, Any]:
        """Fetch and check the IdP's metadata; the issuer must match exactly (OIDC Discovery 4.3)."""
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = await self._send("GET", url, headers={"Accept": "application/json"})
        meta = self._json_or_error(response, what="discovery")
        if meta.get("issuer") != self.issuer:
            raise IdpError(
                "The sign-in service is not the one Wardview is configured for. Ask IT to check "
                "the sign-in settings.",
                detail="issuer mismatch",
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not _is_https(meta.get(key)):
                raise IdpError(
                    "The sign-in service's settings are incomplete. Ask IT to check them.",
                    detail=f"{key} missing or not https",
                )
        for key in ("userinfo_endpoint", "revocation_endpoint"):
            if key in meta and not _is_https(meta[key]):
                raise IdpError(
                    "The sign-in service's settings are incomplete. Ask IT to check them.",
                    detail=f"{key} not https",
                )
        methods = meta.get("code_challenge_methods_supported")
        if methods is not None and "S256" not in methods:
            raise IdpError(
                "The sign-in service does not support secure desktop sign-in (PKCE).",
                detail="S256 not supported",
            )
        algs = meta.get("id_token_signing_alg_values_supported")
        if algs is not None and not set(ID_TOKEN_ALGORITHMS) & set(algs):
            raise IdpError(
                "The sign-in service signs its tokens in a way Wardview does not accept.",
                detail="no supported id_token alg",
            )
        self._metadata = meta
        self._keys = None
        log.info("sign-in service discovered")
        return dict(meta)

    async def _meta(self) -> dict[str, Any]:
        if self._metadata is None:
            await self.discover()
        assert self._metadata is not None
        return self._metadata

    async def _jwks(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            meta = await self._meta()
            response = await self._send(
                "GET", meta["jwks_uri"], headers={"Accept": "application/json"}
            )
            data = self._json_or_error(response, what="jwks")
            try:
                self._keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as error:
                raise IdpError(
                    "The sign-in service's signing keys could not be read.",
                    detail=f"jwks unreadable ({type(error).__name__})",
                ) from None
        return self._keys

    # sign-in ------------------------------------------------------------------------------------

    async def sign_in(
        self,
        open_browser: OpenBrowser,
        *,
        timeout: float = 300,
        login_hint: str | None = None,
    ) -> TokenSet:
        """Run one interactive sign-in: browser -> IdP -> loopback callback -> token exchange.

        `open_browser(url)` may be sync (run in a thread, it may block) or async. Cancelling the
        awaiting task closes the listener; a late redirect then finds nothing listening.
        """
        meta = await self._meta()
        state = generate_token(43)
        nonce = generate_token(43)
        verifier = generate_token(64)  # RFC 7636: 43..128 unreserved characters
        async with LoopbackListener() as listener:
            redirect_uri = listener.redirect_uri
            url = prepare_grant_uri(
                meta["authorization_endpoint"],
                self.client_id,
                "code",
                redirect_uri=redirect_uri,
                scope=self.scopes,
                state=state,
                nonce=nonce,
                code_challenge=create_s256_code_challenge(verifier),
                code_challenge_method="S256",
                login_hint=login_hint,
                acr_values=self.min_acr,
            )
            log.info("sign-in started; waiting for the browser")
            callback = await self._await_callback(listener, open_browser, url, timeout)
        self._check_callback(callback, state)
        assert callback.code is not None
        body = prepare_token_request(
            "authorization_code",
            code=callback.code,
            redirect_uri=redirect_uri,
            client_id=self.client_id,
            code_verifier=verifier,
        )
        response = await self._send("POST", meta["token_endpoint"], content=body, headers=_FORM)
        data = self._token_response(response, refreshing=False)
        tokens = await self._token_set(data, nonce=nonce, previous=None)
        log.info("sign-in complete")
        return tokens

    async def _await_callback(
        self, listener: LoopbackListener, open_browser: OpenBrowser, url: str, timeout: float
    ) -> CallbackResult:
        waiter = asyncio.ensure_future(listener.wait(timeout))
        browser = asyncio.ensure_future(_call_browser(open_browser, url))
        try:
            pending: set[asyncio.Future[Any]] = {waiter, browser}
            while True:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if waiter in done:
                    try:
                        return waiter.result()
                    except TimeoutError:
                        log.warning("sign-in timed out waiting for the browser")
                        raise SignInTimedOut(detail="no callback before timeout") from None
                if listener.answered:
                    continue  # the callback is in; let the waiter hand it over first
                # The browser step finished first: a failure there would otherwise leave the
                # clinician waiting the full timeout for a callback that cannot come.
                error = browser.exception()
                if isinstance(error, AuthError):
                    raise error
                if error is not None:
                    log.warning("opening the sign-in page failed (%s)", type(error).__name__)
                    raise BrowserUnavailable(
                        "The sign-in page could not be completed in the browser. Please try again.",
                        detail=type(error).__name__,
                    ) from None  # the error may quote the redirect URL, which holds the code
                if browser.result() is False:  # webbrowser.open's "no browser" answer
                    raise BrowserUnavailable(detail="open_browser returned False")
        finally:
            waiter.cancel()
            if not browser.done():
                browser.cancel()
            browser.add_done_callback(_discard_outcome)
            waiter.add_done_callback(_discard_outcome)

    def _check_callback(self, callback: CallbackResult, state: str) -> None:
        if callback.state is not None and not hmac.compare_digest(callback.state, state):
            log.warning("sign-in callback refused: state mismatch")
            raise StateMismatch(detail="state mismatch")
        if callback.error is not None:
            code = callback.error if _SAFE_ERROR_CODE.match(callback.error) else "unreadable"
            log.warning("sign-in refused by the sign-in service (%s)", code)
            if code == "access_denied":
                raise SignInCancelled(detail=code)
            raise IdpError(detail=code)
        if callback.state is None or callback.code is None:
            raise StateMismatch(detail="state missing")

    # refresh, userinfo, revoke ------------------------------------------------------------------

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """Exchange the refresh token for new tokens; SessionExpired when the IdP says no."""
        if not tokens.refresh_token:
            raise SessionExpired(detail="no refresh token")
        meta = await self._meta()
        body = prepare_token_request(
            "refresh_token", refresh_token=tokens.refresh_token, client_id=self.client_id
        )
        response = await self._send("POST", meta["token_endpoint"], content=body, headers=_FORM)
        data = self._token_response(response, refreshing=True)
        refreshed = await self._token_set(data, nonce=None, previous=tokens)
        log.info("access token refreshed")
        return refreshed

    async def userinfo(self, tokens: TokenSet) -> dict[str, Any]:
        """The user's claims (roles, selected role); `sub` must match the ID token (OIDC 5.3.4)."""
        meta = await self._meta()
        endpoint = meta.get("userinfo_endpoint")
        if not _is_https(endpoint):
            raise IdpError(
                "The sign-in service does not say who you are. Ask IT to check the settings.",
                detail="no userinfo endpoint",
            )
        response = await self._send(
            "GET",
            endpoint,
            headers={
                "Authorization": f"Bearer {tokens.access_token}",
                "Accept": "application/json",
            },
        )
        if response.status_code == 401:
            raise SessionExpired(detail="userinfo 401")
        info = self._json_or_error(response, what="userinfo")
        expected = tokens.claims.get("sub")
        if expected is not None and info.get("sub") != expected:
            log.warning("user info refused: subject differs from the ID token")
            raise TokenInvalid(detail="userinfo sub mismatch")
        return info

    async def revoke(self, tokens: TokenSet) -> None:
        """Revoke the refresh and access tokens (RFC 7009) at sign-out; both are tried."""
        meta = await self._meta()
        endpoint = meta.get("revocation_endpoint")
        if not endpoint:
            log.info("sign-in service has no revocation endpoint; tokens will simply expire")
            return
        first_error: AuthError | None = None
        for hint, token in (
            ("refresh_token", tokens.refresh_token),
            ("access_token", tokens.access_token),
        ):
            if not token:
                continue
            body, _ = prepare_revoke_token_request(token, hint, body=f"client_id={self.client_id}")
            try:
                response = await self._send("POST", endpoint, json_only=False, content=body, headers=_FORM)
                if response.status_code != 200:
                    raise _error_for_status(response, what="revocation")
            except AuthError as error:
                log.warning("token revocation failed (%s)", error.detail)
                first_error = first_error or error
        if first_error is not None:
            raise first_error
        log.info("tokens revoked")

    # internals ----------------------------------------------------------------------------------

    async def _send(self, method: str, url: str, *, json_only: bool = True, **kwargs: Any) -> httpx.Response:
        """Through the one HTTP layer (size cap, wrong content type, TLS named), tried once: the person
        signing in is waiting and can try again, and an authorization code must not be spent twice."""
        try:
            return await send(self._http, method, url, safe=False, attempts=1, service=SERVICE,
                              max_bytes=MAX_REPLY_BYTES, json_only=json_only, **kwargs)
        except (TlsFailure, UnreadableResponse) as error:
            log.warning("sign-in service request failed (%s)", type(error).__name__)
            raise IdpError(f"{error.user_message}. Ask IT to check the sign-in settings.",
                           detail=type(error).__name__) from None
        except SourceError as error:
            log.warning("sign-in service request failed (%s)", type(error).__name__)
            raise IdpUnavailable(detail=type(error).__name__) from None

    def _json_or_error(self, response: httpx.Response, *, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise _error_for_status(response, what=what)
        return _json_object(response, what=what)

    def _token_response(self, response: httpx.Response, *, refreshing: bool) -> dict[str, Any]:
        if response.status_code == 200:
            return _json_object(response, what="token")
        if response.status_code in (400, 401):
            code = _oauth_error_code(response)
            log.warning("token request refused (%s)", code)
            if refreshing and code in ("invalid_grant", "invalid_token", "unauthorized_client"):
                raise SessionExpired(detail=code)
            raise IdpError(detail=code)
        raise _error_for_status(response, what="token")

    async def _token_set(
        self, data: dict[str, Any], *, nonce: str | None, previous: TokenSet | None
    ) -> TokenSet:
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise IdpError(detail="token response without access_token")
        if str(data.get("token_type", "")).lower() != "bearer":
            raise IdpError(detail="token_type is not Bearer")
        expires_in = data.get("expires_in", DEFAULT_EXPIRES_IN)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float | str):
            raise IdpError(detail="expires_in unreadable")
        try:
            lifetime = float(expires_in)
        except ValueError:
            raise IdpError(detail="expires_in unreadable") from None
        id_token = data.get("id_token")
        claims: Mapping[str, Any]
        if isinstance(id_token, str) and id_token:
            if previous is not None and id_token == previous.id_token:
                claims = previous.claims
            else:
                claims = await self._verify_id_token(
                    id_token, nonce=nonce, access_token=access_token
                )
                if previous is not None:
                    _check_same_subject(claims, previous.claims)
        elif previous is not None:
            id_token, claims = previous.id_token, previous.claims
        else:
            raise IdpError(detail="token response without id_token")
        refresh_token = data.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            refresh_token = previous.refresh_token if previous is not None else None
        scope = data.get("scope")
        return TokenSet(
            access_token=access_token,
            expires_at=self._clock() + timedelta(seconds=lifetime),
            refresh_token=refresh_token,
            id_token=id_token,
            claims=dict(claims),
            scope=scope if isinstance(scope, str) else (previous.scope if previous else None),
        )

    async def _verify_id_token(
        self, id_token: str, *, nonce: str | None, access_token: str | None
    ) -> dict[str, Any]:
        try:
            try:
                token = _decode(id_token, await self._jwks())
            except InvalidKeyIdError:
                # The IdP may have rotated its keys since we fetched them: refetch once.
                token = _decode(id_token, await self._jwks(refresh=True))
        except JoseError as error:
            log.warning("ID token refused (%s)", error.error)
            raise TokenInvalid(detail=f"jws: {error.error}") from None
        except ValueError:
            log.warning("ID token refused (unreadable)")
            raise TokenInvalid(detail="unreadable") from None
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        claims = CodeIDToken(
            token.claims,
            token.header,
            options=options,
            params={"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
        )
        now = self._clock()
        try:
            claims.validate(now=int(now.timestamp()), leeway=self._leeway)
        except ExpiredTokenError:
            log.warning("ID token refused (expired)")
            raise TokenInvalid(detail="id token expired") from None
        except ClaimError as error:
            log.warning("ID token refused (%s %s)", error.error, error.claim)
            raise TokenInvalid(detail=f"{error.error}: {error.claim}") from None
        except JoseError as error:
            log.warning("ID token refused (%s)", error.error)
            raise TokenInvalid(detail=error.error) from None
        issued = datetime.fromtimestamp(claims["iat"], UTC)
        if issued < now - MAX_ID_TOKEN_AGE - timedelta(seconds=self._leeway):
            log.warning("ID token refused (issued too long ago)")
            raise TokenInvalid(detail="iat too old")
        if self.min_acr is not None and not acr_satisfies(claims.get("acr"), self.min_acr):
            log.warning("ID token refused (authentication assurance too low)")
            raise AssuranceTooLow(detail="acr below minimum")
        return dict(claims)


# --- helpers -----------------------------------------------------------------------------------


def acr_satisfies(acr: Any, min_acr: str) -> bool:
    """Whether the authentication context `acr` meets `min_acr`.

    CIS2 names levels `AAL<n>_<method>`. For the smartcard level `AAL3_ANY` only `AAL3_ANY` itself
    counts (CIS2 has nothing above it, and an unknown stronger-looking value must not pass). For a
    lower minimum, the same value or any higher AAL level is enough.
    """
    if not isinstance(acr, str) or not acr:
        return False
    if acr == min_acr:
        return True
    if min_acr == "AAL3_ANY":
        return False
    have, need = _aal_level(acr), _aal_level(min_acr)
    return have is not None and need is not None and have > need


def _aal_level(acr: str) -> int | None:
    match = re.match(r"^AAL(\d)", acr)
    return int(match.group(1)) if match else None


def _decode(id_token: str, keys: KeySet) -> jwt.Token:
    return jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))


def _check_same_subject(claims: Mapping[str, Any], previous: Mapping[str, Any]) -> None:
    if claims.get("sub") != previous.get("sub") or claims.get("iss") != previous.get("iss"):
        log.warning("refreshed ID token refused: different user")
        raise TokenInvalid(detail="refreshed id token for another subject")


async def _call_browser(open_browser: OpenBrowser, url: str) -> Any:
    if inspect.iscoroutinefunction(open_browser):
        return await open_browser(url)
    result = await asyncio.to_thread(open_browser, url)
    if inspect.isawaitable(result):
        return await result
    return result


def _discard_outcome(future: asyncio.Future[Any]) -> None:
    """Retrieve a detached task's outcome so asyncio does not log it (it may quote the URL)."""
    if not future.cancelled():
        future.exception()


def _is_https(url: Any) -> bool:
    return isinstance(url, str) and urlsplit(url).scheme == "https" and bool(urlsplit(url).netloc)


def _json_object(response: httpx.Response, *, what: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        log.warning("sign-in service sent an unreadable %s answer", what)
        raise IdpError(
            "The NHS sign-in service sent an answer Wardview could not read. Please try again.",
            detail=f"{what}: not a JSON object",
        )
    return data


def _oauth_error_code(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"http {response.status_code}"
    code = data.get("error") if isinstance(data, dict) else None
    if isinstance(code, str) and _SAFE_ERROR_CODE.match(code):
        return code
    return f"http {response.status_code}"


def _error_for_status(response: httpx.Response, *, what: str) -> AuthError:
    status = response.status_code
    if status >= 500 or status == 429:
        return IdpUnavailable(detail=f"{what}: http {status}")
    return IdpError(detail=f"{what}: {_oauth_error_code(response)}")
