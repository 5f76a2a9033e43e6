"""The loopback redirect listener of a native-app sign-in (RFC 8252 section 7.3).

The system browser hands the authorization code back to Wardview by loading
`http://127.0.0.1:{port}/callback?code=..&state=..`. Only this machine may reach that address,
the port is chosen by the OS at random, and the listener lives only as long as one sign-in: it
takes exactly one well-formed callback and then closes, so a stale or second redirect finds
nothing listening.

The HTTP handled here is tiny (one GET request line, headers ignored), so it is parsed by hand over
`asyncio.start_server` rather than pulling in a web framework; the request is size- and time-bounded
because any local process could connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

# Never 0.0.0.0; never "localhost", which may resolve to ::1 or, misconfigured, off the machine.
LOOPBACK_HOST = "127.0.0.1"
CALLBACK_PATH = "/callback"
MAX_REQUEST_BYTES = 8192  # request line + headers; a real redirect is far smaller
READ_TIMEOUT = 10.0  # seconds one connection may take to send its request head

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wardview</title>
<style>body{{font-family:Arial,sans-serif;margin:3em;color:#212b32}}h1{{color:#005eb8}}</style>
</head><body><h1>{heading}</h1>
<p>You can close this window and return to Wardview.</p></body></html>
"""
_DONE_PAGE = _PAGE.format(heading="Sign-in received")
_FAILED_PAGE = _PAGE.format(heading="Sign-in was not completed")
_NOT_FOUND_PAGE = _PAGE.format(heading="Page not found")
_BAD_REQUEST_PAGE = _PAGE.format(heading="This sign-in link is incomplete")


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """What the authorization server sent back via the browser. `code` is secret: not in repr."""

    code: str | None = field(default=None, repr=False)
    state: str | None = field(default=None, repr=False)
    error: str | None = None
    error_description: str | None = None


class LoopbackListener:
    """One-shot HTTP listener on 127.0.0.1 (random port) that waits for the sign-in redirect.

    Use as `async with LoopbackListener() as listener:`; put `listener.redirect_uri` in the
    authorization request, then `await listener.wait(timeout)`.
    """

    def __init__(self, *, host: str = LOOPBACK_HOST, path: str = CALLBACK_PATH) -> None:
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("the sign-in listener may only bind a loopback address")
        self._host = host
        self._path = path
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[CallbackResult] | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("listener not started")
        return self._port

    @property
    def bound_address(self) -> tuple[str, int]:
        """The socket's actual bound address, so callers (and tests) can check it is loopback."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("listener not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    @property
    def answered(self) -> bool:
        """True once the one valid callback has arrived (it may not have been collected yet)."""
        return self._result is not None and self._result.done()

    @property
    def redirect_uri(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}{self._path}"

    async def start(self) -> None:
        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(
            self._handle, host=self._host, port=0, limit=MAX_REQUEST_BYTES, reuse_address=False
        )
        self._port = self.bound_address[1]
        log.debug("sign-in listener started on loopback port %d", self._port)

    async def wait(self, timeout: float | None = None) -> CallbackResult:
        """Wait for the one valid callback (TimeoutError if none); the listener closes either way."""
        if self._result is None:
            raise RuntimeError("listener not started")
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(self._result)
        finally:
            await self.close()

    async def close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()
            log.debug("sign-in listener closed")

    async def __aenter__(self) -> LoopbackListener:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, page = await self._respond_to(reader)
        except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, ValueError):
            status, page = 400, _BAD_REQUEST_PAGE
        except TimeoutError:
            status, page = 408, _BAD_REQUEST_PAGE
        except ConnectionError:
            writer.close()
            return
        body = page.encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  408: "Request Timeout"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Referrer-Policy: no-referrer\r\n"
            "Connection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode("ascii") + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond_to(self, reader: asyncio.StreamReader) -> tuple[int, str]:
        async with asyncio.timeout(READ_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        request_line = head.split(b"\r\n", 1)[0].decode("ascii")  # ValueError on non-ASCII -> 400
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return 400, _BAD_REQUEST_PAGE
        method, target, _version = parts
        url = urlsplit(target)
        if url.path != self._path:
            return 404, _NOT_FOUND_PAGE
        if method != "GET":
            return 405, _BAD_REQUEST_PAGE
        query = parse_qs(url.query, keep_blank_values=False)
        result = _callback_from(query)
        if result is None:
            return 400, _BAD_REQUEST_PAGE
        if self._result is None or self._result.done():
            # Only the first valid callback counts; a replay must not replace it.
            return 400, _BAD_REQUEST_PAGE
        self._result.set_result(result)
        return (200, _DONE_PAGE) if result.error is None else (200, _FAILED_PAGE)


def _callback_from(query: dict[str, list[str]]) -> CallbackResult | None:
    """A callback is valid with exactly one `error`, or exactly one `code` and one `state`."""

    def one(name: str) -> str | None:
        values = query.get(name)
        if values is None:
            return None
        if len(values) != 1:
            raise ValueError("repeated parameter")
        return values[0]

    error = one("error")
    state = one("state")
    if error is not None:
        return CallbackResult(state=state, error=error, error_description=one("error_description"))
    code = one("code")
    if code is None or state is None:
        return None
    return CallbackResult(code=code, state=state)
