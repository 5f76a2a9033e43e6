"""One search page from the trust's FHIR server, with its failures typed the same way for every caller
(the record fetch and the care-relationship check): 401 is 'sign in again', never 'no data'."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    AccessDenied,
    InvalidRequest,
    ReauthenticationRequired,
    SourceUnavailable,
    UnreadableResponse,
)
from viewer.sources.hospital_page import MSG_UNREADABLE, SearchPage, read_search_page
from viewer.sources.http import MB, send

SERVICE = "The hospital record server"
FHIR_JSON = "application/fhir+json"
UNSUPPORTED = (400, 404, 405, 422, 501)  # a search this server does not offer
# A page of 200 resources is well under 1 MB; a page with inline attachments may be a few MB.
MAX_PAGE_BYTES = 20 * MB

MSG_SIGN_IN = "Your sign-in has expired or was refused: please sign in again"
MSG_UNAVAILABLE = "The hospital record server is not answering at the moment"


async def get_bundle(
    client: httpx.AsyncClient,
    url: str,
    ctx: RequestContext,
    *,
    params: Any = None,
    optional: bool = False,
    denied_message: str = "Your role may not see this hospital record",
    timeout: float | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> dict[str, Any] | None:
    """One page as a Bundle; None when an `optional` search is not offered by this server."""
    response = await _get(client, url, ctx, params=params, optional=optional, denied_message=denied_message,
                          timeout=timeout, sleep=sleep)
    if response is None:
        return None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise UnreadableResponse(MSG_UNREADABLE, status=response.status_code) from None
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise UnreadableResponse(MSG_UNREADABLE, status=response.status_code)
    return body


async def get_search_page(
    client: httpx.AsyncClient,
    url: str,
    ctx: RequestContext,
    searched: str,
    *,
    params: Any = None,
    optional: bool = False,
    timeout: float | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> SearchPage | None:
    """One page of a `searched`-type search, its resources grouped by type (hospital_page); None when an
    `optional` search is not offered by this server."""
    response = await _get(client, url, ctx, params=params, optional=optional, timeout=timeout, sleep=sleep)
    if response is None:
        return None
    try:
        return read_search_page(response.content, searched)
    except UnreadableResponse:
        raise UnreadableResponse(MSG_UNREADABLE, status=response.status_code) from None


async def _get(
    client: httpx.AsyncClient,
    url: str,
    ctx: RequestContext,
    *,
    params: Any,
    optional: bool,
    denied_message: str = "Your role may not see this hospital record",
    timeout: float | None,
    sleep: Callable[[float], Awaitable[None]] | None,
) -> httpx.Response | None:
    """A successful response; None when an `optional` search is not offered by this server."""
    extra = {"sleep": sleep} if sleep is not None else {}
    response = await send(
        client,
        "GET",
        url,
        safe=True,
        service=SERVICE,
        timeout=timeout,
        params=params,
        max_bytes=MAX_PAGE_BYTES,
        json_only=True,
        headers={
            "Authorization": f"Bearer {ctx.access_token}",
            "Accept": FHIR_JSON,
            # lets the trust's server team find one request in their logs without patient data
            "X-Request-ID": str(uuid.uuid4()),
        },
        **extra,
    )
    status = response.status_code
    if status == 401:
        raise ReauthenticationRequired(MSG_SIGN_IN, status=status)
    if status == 403:
        raise AccessDenied(denied_message, status=status)
    if status in (408, 429) or (status >= 500 and status != 501):
        raise SourceUnavailable(MSG_UNAVAILABLE, status=status)
    if status >= 400:
        if optional and status in UNSUPPORTED:
            return None
        raise InvalidRequest(f"The hospital record server refused the request (HTTP {status})", status=status)
    return response
