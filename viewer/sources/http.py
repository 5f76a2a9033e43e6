"""The one HTTP client every source shares, and the single place retries and network failures are decided.

Retrying is a clinical-safety question as much as a network one: a repeated GET costs nothing, but a
repeated POST may be audited twice by the provider. So only the caller, who knows the operation, says
whether a request is `safe`; this module never guesses from the method. An unsafe request is repeated
only when it certainly was not acted on: the connection was never made, or the server said 429/503 with
a Retry-After (it refused the request and said when to come back).

Every reply is streamed against a size cap (the caller's, per source) and never held beyond it, so a
runaway server or a proxy cannot fill the ward PC's memory; a success that is not JSON when JSON was
asked for (a proxy's HTML page with 200) is refused before its body is read.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import truststore

from viewer import __version__
from viewer.sources.errors import (
    ResponseTooLarge,
    SourceError,
    SourceUnavailable,
    TlsFailure,
    UnexpectedContentType,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER = 20.0  # seconds: longer than this and the clinician is better told the service is busy
BACKOFF_BASE = 0.5
MB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MB  # anything not given its own cap (sign-in, audit); sources set theirs
_HOST_MISMATCH_CODES = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH

Sleep = Callable[[float], Awaitable[None]]


def make_http_client(
    *,
    extra_ca: str | None = None,
    client_cert: tuple[str, str] | None = None,
    timeout: float = 10.0,
    user_agent: str = f"Wardview/{__version__}",
) -> httpx.AsyncClient:
    """A client that trusts the OS store (so a trust's own CA deployed by group policy just works), plus
    an optional extra CA, and presents the Spine client certificate when one is configured."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if extra_ca:
        context.load_verify_locations(cafile=extra_ca)
    if client_cert:
        cert, key = client_cert
        context.load_cert_chain(certfile=cert, keyfile=key)
    return httpx.AsyncClient(
        verify=context,
        http1=True,
        http2=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent},
        follow_redirects=False,
    )


def retry_after_seconds(response: httpx.Response, *, cap: float = MAX_RETRY_AFTER) -> float | None:
    """Retry-After as seconds (delta or HTTP date), capped; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, cap))


def backoff_delay(attempt: int, *, base: float = BACKOFF_BASE) -> float:
    """Exponential backoff with full jitter, so many viewers recovering at once do not hit in step."""
    ceiling = base * (2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _within(service: str) -> str:
    """The service's name inside a sentence ("The audit service" -> "the audit service")."""
    return "t" + service[1:] if service.startswith("The ") else service


def _unavailable(exc: httpx.HTTPError, service: str) -> SourceUnavailable:
    tls = _tls_error(exc)
    if isinstance(exc, httpx.ConnectError) and tls is not None:
        return TlsFailure(_tls_message(tls, service))
    if isinstance(exc, httpx.TimeoutException):
        message = f"{service} did not answer in time"
    elif isinstance(exc, httpx.ConnectError):
        message = f"Could not connect to {_within(service)}"
    elif isinstance(exc, httpx.RemoteProtocolError):
        message = f"{service} closed the connection without a complete answer"
    elif isinstance(exc, httpx.ReadError | httpx.WriteError):
        message = f"The connection to {_within(service)} was broken off before it answered"
    else:
        message = f"{service} could not be reached"
    return SourceUnavailable(message)


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an httpx error, if one is (httpx and httpcore chain their causes)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return ssl.SSLCertVerificationError(str(exc))
    return None


def _tls_message(error: ssl.SSLError, service: str) -> str:
    """Which of the two things IT must check: the trust store, or the name on the certificate."""
    prefix = f"The secure connection (TLS) to {_within(service)} was refused"
    if isinstance(error, ssl.SSLCertVerificationError):
        code = getattr(error, "verify_code", None)
        text = str(getattr(error, "verify_message", "") or error).lower()
        if code in _HOST_MISMATCH_CODES or "mismatch" in text or "not valid for" in text:
            return f"{prefix}: its certificate is for another server"
        return f"{prefix}: its certificate is not trusted on this PC"
    return f"{prefix}: the secure connection could not be set up"


def is_tls_failure(exc: BaseException) -> bool:
    """For `wardview doctor`, which tells IT a TLS failure apart from other connection failures."""
    return _tls_error(exc) is not None


def _retryable_error(exc: httpx.HTTPError, safe: bool) -> bool:
    """A failed TLS handshake will fail again; anything else may be transient. An unsafe request is
    repeated only when it certainly never left this machine (the connection was never made). A server
    that took the whole timeout to not answer is not asked again: the clinician would wait three
    timeouts (30 s and more) to be told the same thing, while the other sources are already on screen."""
    if isinstance(exc, httpx.ConnectError) and _tls_error(exc) is not None:
        return False
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        return False
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    return safe and isinstance(exc, httpx.TransportError)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _read_capped(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_bytes: int,
    json_only: bool,
    service: str,
) -> httpx.Response:
    """The response with its body read, decoded, in chunks, refused as soon as it passes `max_bytes` (a
    declared Content-Length over the cap is refused before any of it is read)."""
    response = await client.send(request, stream=True)
    try:
        ok = 200 <= response.status_code < 300
        content_type = response.headers.get("Content-Type", "")
        if json_only and ok and content_type and not _is_json(content_type):
            log.warning("%s answered %d with content type %s", request.url.host, response.status_code,
                        content_type.split(";", 1)[0])
            raise UnexpectedContentType(f"{service} sent a web page or other non-data reply "
                                        "instead of the data asked for (wrong content type)")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(service, max_bytes)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(service, max_bytes)
            chunks.append(chunk)
    finally:
        await response.aclose()
    body = b"".join(chunks)
    if json_only and ok and body and not content_type:
        raise UnexpectedContentType(f"{service} sent a reply without a content type "
                                    "instead of the data asked for")
    # The body is decoded now: the new response must not claim it is still compressed or chunked.
    headers = [(k, v) for k, v in response.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    return httpx.Response(response.status_code, headers=headers, content=body, request=request,
                          extensions=response.extensions)


def _too_large(service: str, max_bytes: int) -> ResponseTooLarge:
    log.warning("reply abandoned: larger than the %d MB cap", max_bytes // MB)
    return ResponseTooLarge(f"{service} sent a reply that was too large (over {max_bytes // MB} MB); "
                            "it was not loaded")


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    safe: bool,
    attempts: int = 3,
    timeout: float | None = None,
    service: str = "The service",
    sleep: Sleep = asyncio.sleep,
    max_bytes: int = DEFAULT_MAX_BYTES,
    json_only: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying only where that cannot do harm; returns the last response (callers map
    its status) or raises a SourceError: SourceUnavailable for network and timeout failures, TlsFailure,
    ResponseTooLarge past `max_bytes`, UnexpectedContentType for a non-JSON success when `json_only`."""
    if timeout is not None:
        kwargs["timeout"] = timeout
    host = httpx.URL(url).host
    attempts = max(1, attempts)
    for attempt in range(attempts):
        last = attempt == attempts - 1
        started = time.monotonic()
        try:
            request = client.build_request(method, url, **kwargs)
            response = await _read_capped(client, request, max_bytes=max_bytes, json_only=json_only,
                                          service=service)
        except SourceError:
            raise
        except httpx.HTTPError as exc:
            elapsed = time.monotonic() - started
            log.warning(
                "%s %s failed after %.0f ms: %s (attempt %d/%d)",
                method, host, elapsed * 1000, type(exc).__name__, attempt + 1, attempts,
            )
            if last or not _retryable_error(exc, safe):
                raise _unavailable(exc, service) from None
            await sleep(backoff_delay(attempt))
            continue
        elapsed = time.monotonic() - started
        log.info("%s %s -> %d in %.0f ms", method, host, response.status_code, elapsed * 1000)
        status = response.status_code
        if last or status not in RETRY_STATUSES | RETRY_AFTER_STATUSES:
            return response
        delay = retry_after_seconds(response) if status in RETRY_AFTER_STATUSES else None
        if delay is None and not safe:
            return response  # refused without a Retry-After: the caller says so rather than guess
        await sleep(delay if delay is not None else backoff_delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
