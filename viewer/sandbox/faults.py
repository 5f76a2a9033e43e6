"""Fault injection for the sandbox servers: slow, failing, broken, silent and hanging answers.

The consumer's failure handling (cached copy shown with its age, per-source status, retries only where
safe) can only be trusted if it has met every way a real upstream fails. Each sandbox server is wrapped
in `FaultInjector`, which consults a shared, mutable `FaultPlan` on every request, so a test or a
trainer can break one server at run time and mend it again without a restart.

The faults are made at the HTTP layer on purpose: `drop` really closes the TCP connection, `reset`
really sends a TCP RST, `truncated` really sends fewer bytes than its Content-Length, `huge` really
streams 100 MB and `tls` really presents a certificate the client must refuse, so the client sees
exactly what a flaky network, a proxy or a misconfigured server produces, not a simulation of it.

`RequestLog` counts what each server saw, so a test can tell a retry from a single attempt.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

log = logging.getLogger(__name__)

SERVER_NAMES = ("pds", "sds", "gpconnect", "hospital", "idp", "audit")
FaultKind = Literal[
    "latency", "status", "malformed", "truncated", "drop", "hang", "content_type", "reset", "tls", "huge"
]
FAULT_KINDS: tuple[str, ...] = (
    "latency", "status", "malformed", "truncated", "drop", "hang", "content_type", "reset", "tls", "huge"
)
# What a `tls` fault presents: a certificate from a CA nobody trusts, or a trusted one for another host.
CERTIFICATE_PROBLEMS = ("untrusted", "wrong-host")
HUGE_BODY_BYTES = 100 * 1024 * 1024
HANDSHAKE = "TLS handshake"  # RequestLog's name for a connection a `tls` fault refused

# How often a hung request checks whether its fault was cleared; only affects how soon it resumes.
_HANG_POLL_SECONDS = 0.1
_MALFORMED_BODY = b'{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": '
# What a proxy or a load balancer in front of a FHIR server answers when the server behind it is down.
_HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head>"
    b"<body><h1>Service temporarily unavailable</h1><p>Please try again later.</p></body></html>\n"
)
_HUGE_HEAD = b'{"resourceType": "Bundle", "type": "searchset", "entry": ['
_HUGE_TAIL = b"{}]}"
_HUGE_ENTRY = b'{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000000"},'
_HUGE_BLOCK = _HUGE_ENTRY * 1024

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ConnectionDropped(ConnectionAbortedError):
    """Raised inside the server after a `drop` fault closed the socket, so werkzeug sends nothing."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One way for a server to misbehave. `only_path` limits it to paths starting with that prefix."""

    kind: FaultKind
    seconds: float = 0.0  # latency
    status: int = 503  # status
    retry_after: int | None = None  # status: value of the Retry-After header
    only_path: str | None = None
    certificate: str = "untrusted"  # tls: one of CERTIFICATE_PROBLEMS
    size: int = HUGE_BODY_BYTES  # huge: bytes streamed

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}"
            )
        if self.seconds < 0:
            raise ValueError("fault latency must not be negative")
        if not 100 <= self.status <= 599:
            raise ValueError(f"fault status {self.status} is not an HTTP status")
        if self.certificate not in CERTIFICATE_PROBLEMS:
            raise ValueError(
                f"unknown certificate problem {self.certificate!r}; "
                f"expected one of {', '.join(CERTIFICATE_PROBLEMS)}"
            )
        if self.size < len(_HUGE_HEAD) + len(_HUGE_TAIL):
            raise ValueError("a huge fault body must be at least a few bytes long")
        if self.kind == "tls" and self.only_path is not None:
            # The handshake happens before the request, so its path is not known yet.
            raise ValueError("a tls fault applies to whole connections, not to a path")

    def applies_to(self, path: str) -> bool:
        return self.only_path is None or path.startswith(self.only_path)


class FaultPlan:
    """Thread-safe mapping of server name -> the fault it currently injects (at most one each)."""

    def __init__(self, faults: Mapping[str, Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}
        for name, fault in (faults or {}).items():
            self.set(name, fault)

    def set(self, server: str, fault: Fault) -> None:
        _check_server(server)
        with self._lock:
            self._faults[server] = fault

    def clear(self, server: str | None = None) -> None:
        """Mend one server, or all of them when `server` is None."""
        with self._lock:
            if server is None:
                self._faults.clear()
            else:
                self._faults.pop(server, None)

    def get(self, server: str) -> Fault | None:
        with self._lock:
            return self._faults.get(server)

    def snapshot(self) -> dict[str, Fault]:
        with self._lock:
            return dict(self._faults)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> FaultPlan:
        """Build a plan from CLI strings such as `gpconnect=status:503:retry-after=2`, `pds=drop`."""
        plan = cls()
        for spec in specs:
            server, fault = parse_fault_spec(spec)
            plan.set(server, fault)
        return plan

    def __repr__(self) -> str:
        return f"FaultPlan({self.snapshot()!r})"


class RequestLog:
    """Thread-safe count of what each server saw: requests by HTTP method, and connections refused by a
    `tls` fault (under HANDSHAKE). Only counts are kept: paths and bodies carry patient data."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, server: str, what: str) -> None:
        with self._lock:
            self._counts[(server, what)] += 1

    def count(self, server: str, what: str | None = None) -> int:
        """How many requests (of method `what`, or of any kind when None) `server` saw."""
        with self._lock:
            return sum(n for (name, kind), n in self._counts.items()
                       if name == server and (what is None or kind == what))

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def __repr__(self) -> str:
        with self._lock:
            return f"RequestLog({dict(self._counts)!r})"


def _check_server(server: str) -> None:
    if server not in SERVER_NAMES:
        raise ValueError(
            f"unknown sandbox server {server!r}; expected one of {', '.join(SERVER_NAMES)}"
        )


def parse_fault_spec(spec: str) -> tuple[str, Fault]:
    """`SERVER=KIND[:ARG][:retry-after=N][:path=/PREFIX]` -> (server, Fault). ValueError when malformed.

    ARG is the status for `status`, the seconds for `latency`, `untrusted` or `wrong-host` for `tls`
    and the size in MB for `huge`."""
    server, sep, rest = spec.strip().partition("=")
    if not sep or not rest:
        raise ValueError(f"fault spec {spec!r} is not SERVER=KIND[:ARG], e.g. gpconnect=status:503")
    server = server.strip()
    _check_server(server)
    kind, *parts = rest.split(":")
    kind = kind.strip()
    if kind not in FAULT_KINDS:
        raise ValueError(
            f"fault spec {spec!r}: unknown kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}"
        )
    options: dict[str, Any] = {}
    try:
        for part in parts:
            key, has_value, value = part.partition("=")
            key = key.strip().lower()
            if has_value and key in ("retry-after", "retry_after"):
                options["retry_after"] = int(value)
            elif has_value and key == "path":
                options["only_path"] = value
            elif not has_value and kind == "status" and "status" not in options:
                options["status"] = int(part)
            elif not has_value and kind == "latency" and "seconds" not in options:
                options["seconds"] = float(part)
            elif not has_value and kind == "tls" and "certificate" not in options:
                options["certificate"] = part.strip().lower()
            elif not has_value and kind == "huge" and "size" not in options:
                options["size"] = int(float(part) * 1024 * 1024)
            else:
                raise ValueError(f"unexpected option {part!r}")
    except ValueError as exc:
        raise ValueError(f"fault spec {spec!r}: {exc}") from None
    if kind == "latency" and "seconds" not in options:
        raise ValueError(f"fault spec {spec!r}: latency needs seconds, e.g. hospital=latency:2.5")
    return server, Fault(kind=kind, **options)  # type: ignore[arg-type]


def _operation_outcome(status: int) -> bytes:
    return json.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "transient" if status >= 500 or status == 429 else "processing",
                    "diagnostics": f"Sandbox fault injection: HTTP {status}",
                }
            ],
        }
    ).encode()


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"


class FaultInjector:
    """WSGI middleware applying the plan's fault for `name` to each request.

    `stopping` is set when the sandbox stops: it cuts latency short and releases hung requests, so
    stopping never waits on a fault. `bad_certificates` maps each of CERTIFICATE_PROBLEMS to the server
    context a `tls` fault swaps in (see `handshake_context`); `requests` counts what this server saw.
    """

    def __init__(
        self,
        app: WsgiApp,
        plan: FaultPlan,
        name: str,
        *,
        stopping: threading.Event | None = None,
        requests: RequestLog | None = None,
        bad_certificates: Mapping[str, ssl.SSLContext] | None = None,
    ) -> None:
        _check_server(name)
        self.app = app
        self.plan = plan
        self.name = name
        self.stopping = stopping if stopping is not None else threading.Event()
        self.requests = requests if requests is not None else RequestLog()
        self.bad_certificates = dict(bad_certificates or {})

    def handshake_context(self) -> ssl.SSLContext | None:
        """The context to handshake a new connection with when a `tls` fault is set, else None (keep the
        server's own). Called per connection before the handshake, so the fault takes effect at once."""
        fault = self.plan.get(self.name)
        if fault is None or fault.kind != "tls":
            return None
        context = self.bad_certificates.get(fault.certificate)
        if context is None:
            log.warning("no %s certificate to present on %s; tls fault not applied", fault.certificate,
                        self.name)
            return None
        self.requests.record(self.name, HANDSHAKE)
        return context

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.requests.record(self.name, environ.get("REQUEST_METHOD", "?"))
        fault = self.plan.get(self.name)
        if fault is None or fault.kind == "tls" or not fault.applies_to(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        log.debug("injecting %s fault into %s", fault.kind, self.name)
        match fault.kind:
            case "latency":
                self.stopping.wait(fault.seconds)
                return self.app(environ, start_response)
            case "status":
                return self._status(fault, start_response)
            case "malformed":
                length = str(len(_MALFORMED_BODY))
                start_response(
                    "200 OK",
                    [("Content-Type", "application/fhir+json"), ("Content-Length", length)],
                )
                return [_MALFORMED_BODY]
            case "truncated":
                return self._truncated(environ, start_response)
            case "content_type":
                start_response(
                    "200 OK",
                    [("Content-Type", "text/html; charset=utf-8"),
                     ("Content-Length", str(len(_HTML_ERROR_PAGE)))],
                )
                return [_HTML_ERROR_PAGE]
            case "huge":
                # No Content-Length: werkzeug sends it chunked, so only a streaming cap can stop it.
                start_response("200 OK", [("Content-Type", "application/fhir+json")])
                return _huge_body(fault.size, self.stopping)
            case "reset":
                self._reset(environ)
            case "drop":
                self._drop(environ)
            case "hang":
                if self._hang(fault):
                    return self.app(environ, start_response)
                self._drop(environ)
        raise AssertionError(fault.kind)  # pragma: no cover - every kind returns or raises above

    @staticmethod
    def _status(fault: Fault, start_response: Callable[..., Any]) -> list[bytes]:
        body = _operation_outcome(fault.status)
        headers = [("Content-Type", "application/fhir+json"), ("Content-Length", str(len(body)))]
        if fault.retry_after is not None:
            headers.append(("Retry-After", str(fault.retry_after)))
        start_response(_status_line(fault.status), headers)
        return [body]

    def _truncated(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        # Declare the full length and send half; werkzeug closes every connection after one response,
        # so the client sees a short read rather than waiting for the rest.
        headers.append(("Content-Length", str(max(len(body), 2))))
        start_response(captured["status"], headers)
        return [body[: len(body) // 2]]

    @staticmethod
    def _drop(environ: dict[str, Any]) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionDropped("sandbox fault injection dropped the connection")

    @staticmethod
    def _reset(environ: dict[str, Any]) -> None:
        """Abort with a TCP RST: SO_LINGER 0, then close the descriptor itself. A plain close() would not
        do while werkzeug's reader and writer still hold the socket, and shutdown() sends a FIN."""
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                socket.socket(fileno=sock.detach()).close()
        raise ConnectionDropped("sandbox fault injection reset the connection")

    def _hang(self, fault: Fault) -> bool:
        """Block until the sandbox stops (False) or the fault is cleared or replaced (True)."""
        while not self.stopping.wait(_HANG_POLL_SECONDS):
            if self.plan.get(self.name) is not fault:
                return True
        return False


def _huge_body(size: int, stopping: threading.Event) -> Iterator[bytes]:
    """Exactly `size` bytes of valid JSON (a Bundle of empty entries), made as it is sent: the same block
    over and over, so the sandbox never holds more than one block whatever the size."""
    yield _HUGE_HEAD
    remaining = size - len(_HUGE_HEAD) - len(_HUGE_TAIL)
    while remaining >= len(_HUGE_BLOCK) and not stopping.is_set():
        yield _HUGE_BLOCK
        remaining -= len(_HUGE_BLOCK)
    if stopping.is_set():
        return
    whole, spaces = divmod(remaining, len(_HUGE_ENTRY))
    yield _HUGE_ENTRY * whole + b" " * spaces  # JSON allows blanks after a comma
    yield _HUGE_TAIL
