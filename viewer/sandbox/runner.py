"""Start and stop the whole sandbox: every server on its own 127.0.0.1 port, over TLS, with faults.

`Sandbox` is what `wardview --sandbox`, the tests (one per session, see tests/conftest.py) and trainers
use; `serve()` is `wardview sandbox serve`, which prints one JSON line describing the run (URLs, CA and
client certificate paths, demo users, patients) and keeps serving until interrupted, so other tools
and other languages can drive the sandbox too.

Each server is a werkzeug threaded WSGI server in a daemon thread. TLS is per run (see `tls.py`); GP
Connect alone demands a client certificate, as Spine does. The TLS handshake is done in the request's
own thread rather than in the accepting thread, so one silent or broken client cannot stall a server.
Werkzeug's per-request log lines are silenced: they carry URLs, and URLs here carry NHS numbers.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import signal
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TextIO

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from viewer.sandbox.audit_sink import AuditStore, make_audit_app
from viewer.sandbox.faults import SERVER_NAMES, FaultInjector, FaultPlan, RequestLog
from viewer.sandbox.idp import CLIENT_ID, make_idp_app
from viewer.sandbox.tls import TlsFiles, make_tls_files
from viewer.sandbox.world import World

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
CONSUMER_ASID = "918999198993"
POLL_SECONDS = 0.05  # how often an idle server checks for shutdown; bounds how long stop() takes
SOCKET_TIMEOUT = 60.0  # a connection that stalls mid-request is given up after this long
PROTOCOL_VERSION = 1

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log, and with the TLS handshake done in this thread."""

    timeout = SOCKET_TIMEOUT

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            choose = getattr(self.server, "handshake_context", None)
            swapped = choose() if choose is not None else None
            if swapped is not None:  # a `tls` fault: this connection presents a certificate to refuse
                self.connection.context = swapped
            try:
                self.connection.do_handshake()
            except (OSError, ValueError) as exc:
                # A client without the required certificate, plain HTTP, or a port scanner.
                log.debug("TLS handshake refused: %s", type(exc).__name__)
                return
        super().handle()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: request lines contain NHS numbers."""

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("sandbox server %s message suppressed", type)


class _QuietServer(ThreadedWSGIServer):
    """`werkzeug.serving.make_server(threaded=True)`'s server, logging through this module only.

    `handshake_context`, when set, is asked before each TLS handshake for a context to use instead of the
    server's own (None: keep it); the `tls` fault uses it to fail one server at run time.
    """

    handshake_context: Callable[[], ssl.SSLContext | None] | None = None

    def log(self, type: str, message: str, *args: Any) -> None:
        # Werkzeug reports unhandled application errors here with a traceback that may quote data.
        log.error("sandbox server on port %s: unhandled %s in a request", self.port, type)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox server on port %s: connection error", self.port, exc_info=True)


def _not_ready(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"sandbox server starting"]


class LoopbackServer:
    """One WSGI app served over TLS on 127.0.0.1 at a free port, in a daemon thread.

    The port (hence the base URL) is known as soon as this is constructed, before the app is mounted,
    because several apps must be told their own or each other's URLs when they are built.
    """

    def __init__(self, name: str, ssl_context: ssl.SSLContext) -> None:
        self.name = name
        self._server = _QuietServer(HOST, 0, _not_ready, _QuietRequestHandler)
        self._server.socket = ssl_context.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server.ssl_context = ssl_context
        self._thread: threading.Thread | None = None
        self.port: int = self._server.port
        self.base_url = f"https://{HOST}:{self.port}"

    def mount(
        self, app: WsgiApp, *, handshake_context: Callable[[], ssl.SSLContext | None] | None = None
    ) -> None:
        self._server.app = app
        self._server.handshake_context = handshake_context

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name=f"sandbox-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()  # waits for serve_forever to return (it closes the socket)
            self._thread.join(timeout=5)
            self._thread = None
        else:
            self._server.server_close()


def _display_name(name: Any) -> str:
    return " ".join(p for p in (name.prefix, *name.given, name.family) if p)


def describe(
    world: World, urls: dict[str, str], tls: TlsFiles, sds_api_key: str
) -> dict[str, Any]:
    """The JSON line of a run (the contract in prompts/sandbox_contract.md; extra keys allowed)."""
    return {
        "wardview_sandbox": PROTOCOL_VERSION,
        "issuer": urls["idp"],
        "client_id": CLIENT_ID,
        "pds": urls["pds"],
        "sds": urls["sds"],
        "sds_api_key": sds_api_key,
        "gpconnect": urls["gpconnect"],
        "ssp": f"{urls['gpconnect']}/ssp",
        "hospital": urls["hospital"],
        "audit": urls["audit"],
        "ca_cert": str(tls.ca_cert),
        "client_cert": str(tls.client_cert),
        "client_key": str(tls.client_key),
        "consumer_asid": CONSUMER_ASID,
        "consumer_ods": world.hospital_ods,
        "hospital_ods": world.hospital_ods,
        "hospital_name": world.hospital_name,
        "seed": world.seed,
        "workdir": str(tls.workdir),
        "users": [
            {
                "username": user.username,
                "name": _display_name(user.name),
                "uid": user.uid,
                "roles": [
                    {
                        "person_roleid": role.person_roleid,
                        "role_name": role.role_name,
                        "role_code": role.role_code,
                        "org_code": role.org_code,
                    }
                    for role in user.roles
                ],
            }
            for user in world.users
        ],
        "patients": [
            {"nhs_number": p.nhs_number, "scenario": p.scenario, "summary": p.summary}
            for p in world.patients
        ],
    }


class Sandbox:
    """Every sandbox server, started together on 127.0.0.1 with a fresh CA; a context manager.

    `faults` may be changed while running (`sandbox.faults.set("gpconnect", Fault("status", ...))`);
    `requests` counts what each server saw (so a test can tell retries from single attempts);
    `audit` holds what the audit sink received; `info` is the JSON line once started.
    """

    def __init__(
        self, seed: int = 2026, workdir: Path | None = None, faults: FaultPlan | None = None
    ) -> None:
        self.seed = seed
        self.workdir = workdir
        self.faults = faults if faults is not None else FaultPlan()
        self.requests = RequestLog()
        self.info: dict[str, Any] = {}
        self.world: World | None = None
        self.audit: AuditStore = AuditStore()
        self.tls: TlsFiles | None = None
        self.startup_seconds: float | None = None
        self._stopping = threading.Event()
        self._servers: dict[str, LoopbackServer] = {}

    def start(self) -> dict[str, Any]:
        if self._servers:
            return self.info
        began = time.perf_counter()
        self._stopping.clear()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - began
        log.info("sandbox started in %.2f s", self.startup_seconds)
        return self.info

    def _start(self) -> None:
        # The other servers' modules are imported here, not at the top, so the serving helpers above
        # stay importable (and testable) on their own.
        from viewer.sandbox.gpconnect_server import make_gpconnect_app
        from viewer.sandbox.hospital_server import make_hospital_app
        from viewer.sandbox.pds_server import make_pds_app
        from viewer.sandbox.population import build_world
        from viewer.sandbox.sds_server import make_sds_app

        self.tls = tls = make_tls_files(self.workdir)
        self.world = world = build_world(self.seed)
        plain, mutual = tls.server_context(), tls.mutual_tls_server_context()
        for name in SERVER_NAMES:
            self._servers[name] = LoopbackServer(name, mutual if name == "gpconnect" else plain)
        urls = {name: server.base_url for name, server in self._servers.items()}
        sds_api_key = secrets.token_urlsafe(18)

        idp_app, verify_token = make_idp_app(world, urls["idp"])
        audit_app, self.audit = make_audit_app(verify_token)
        apps: dict[str, WsgiApp] = {
            "idp": idp_app,
            "pds": make_pds_app(world, verify_token),
            "sds": make_sds_app(world, urls["gpconnect"], sds_api_key),
            "gpconnect": make_gpconnect_app(world, urls["gpconnect"], CONSUMER_ASID),
            "hospital": make_hospital_app(world, urls["hospital"], verify_token),
            "audit": audit_app,
        }
        bad_certificates = tls.bad_certificate_contexts()
        for name, app in apps.items():
            injector = FaultInjector(app, self.faults, name, stopping=self._stopping,
                                     requests=self.requests, bad_certificates=bad_certificates)
            self._servers[name].mount(injector, handshake_context=injector.handshake_context)
        for server in self._servers.values():
            server.start()
        self.info = describe(world, urls, tls, sds_api_key)

    def stop(self) -> None:
        """Stop every server promptly; requests held by latency or hang faults are released first."""
        self._stopping.set()
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()  # each takes at most about POLL_SECONDS
        if self.workdir is None and self.tls is not None:
            # The run's private keys should not outlive it in /tmp; a given workdir is the caller's.
            shutil.rmtree(self.tls.workdir, ignore_errors=True)
            self.tls = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(seed: int, fault_specs: list[str], out: TextIO) -> int:
    """`wardview sandbox serve`: print the JSON line first (flushed), serve until SIGINT/SIGTERM."""
    try:
        faults = FaultPlan.parse(fault_specs)
    except ValueError as exc:
        print(f"wardview sandbox: {exc}", file=sys.stderr)
        return 2
    finished = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        finished.set()

    previous: dict[int, Any] = {}
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        with Sandbox(seed=seed, faults=faults) as sandbox:
            out.write(json.dumps(sandbox.info) + "\n")
            out.flush()
            print(
                "Wardview sandbox running (synthetic data only); press Ctrl+C to stop.",
                file=sys.stderr,
                flush=True,
            )
            try:
                while not finished.wait(0.5):
                    pass
            except KeyboardInterrupt:  # no handler could be installed (not the main thread)
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
