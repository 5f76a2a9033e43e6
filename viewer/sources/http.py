"""The one HTTP client every source shares, and the single place retries and network failures are decided.

Retrying is a clinical-safety question as much as a network one: a repeated GET costs nothing, but a
repeated POST may be audited twice by the provider. So only the caller, who knows the operation, says
whether a request is `safe`; this module never guesses from the method.
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
from viewer.sources.errors import SourceUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER = 20.0  # seconds: longer than this and the clinician is better told the service is busy
BACKOFF_BASE = 0.5

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


def _unavailable(exc: httpx.HTTPError, service: str) -> SourceUnavailable:
    if isinstance(exc, httpx.TimeoutException):
        message = f"{service} did not answer in time"
    elif isinstance(exc, httpx.ConnectError) and _is_tls_failure(exc):
        message = f"The secure connection to {service} could not be verified"
    elif isinstance(exc, httpx.ConnectError):
        message = f"Could not connect to {service}"
    elif isinstance(exc, httpx.RemoteProtocolError):
        message = f"{service} closed the connection without a complete answer"
    else:
        message = f"{service} could not be reached"
    return SourceUnavailable(message)


def _is_tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in type(exc).__name__


is_tls_failure = _is_tls_failure  # public for `wardview doctor`, which tells IT a TLS failure apart


def _retryable_error(exc: httpx.HTTPError, safe: bool) -> bool:
    """A failed TLS handshake will fail again; anything else may be transient. An unsafe request is
    repeated only when it certainly never left this machine (the connection was never made)."""
    if isinstance(exc, httpx.ConnectError) and _is_tls_failure(exc):
        return False
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    return safe and isinstance(exc, httpx.TransportError)


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
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying only where that cannot do harm; returns the last response (callers map
    its status) or raises SourceUnavailable for network, TLS and timeout failures."""
    if timeout is not None:
        kwargs["timeout"] = timeout
    host = httpx.URL(url).host
    attempts = max(1, attempts)
    for attempt in range(attempts):
        last = attempt == attempts - 1
        started = time.monotonic()
        try:
            response = await client.request(method, url, **kwargs)
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
        if last or not safe or status not in RETRY_STATUSES | RETRY_AFTER_STATUSES:
            return response
        delay = retry_after_seconds(response) if status in RETRY_AFTER_STATUSES else None
        if delay is None:
            delay = backoff_delay(attempt)
        await response.aclose()
        await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
