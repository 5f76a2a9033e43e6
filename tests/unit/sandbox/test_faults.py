"""Fault injection: every kind observed from an httpx client over real TLS sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from flask import Flask, jsonify

from viewer.sandbox.faults import (
    HANDSHAKE,
    HUGE_BODY_BYTES,
    Fault,
    FaultInjector,
    FaultPlan,
    RequestLog,
    parse_fault_spec,
)
from viewer.sandbox.runner import LoopbackServer
from viewer.sandbox.tls import TlsFiles, make_tls_files

PAYLOAD = {"resourceType": "Bundle", "type": "searchset", "entry": [{"n": i} for i in range(200)]}


def make_app() -> Flask:
    app = Flask(__name__)

    @app.get("/Patient")
    def patients():
        return jsonify(PAYLOAD)

    @app.get("/metadata")
    def metadata():
        return jsonify({"resourceType": "CapabilityStatement"})

    return app


@dataclass
class Served:
    plan: FaultPlan
    stopping: threading.Event
    server: LoopbackServer
    tls: TlsFiles
    requests: RequestLog

    def client(self, **kwargs) -> httpx.Client:
        kwargs.setdefault("timeout", 20)
        return httpx.Client(base_url=self.server.base_url, verify=self.tls.client_context(),
                            trust_env=False, **kwargs)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(Path(tmp_path_factory.mktemp("faults-tls")))


def _serve(tls: TlsFiles) -> Served:
    plan, stopping, requests = FaultPlan(), threading.Event(), RequestLog()
    server = LoopbackServer("hospital", tls.server_context())
    injector = FaultInjector(make_app(), plan, "hospital", stopping=stopping, requests=requests,
                             bad_certificates=tls.bad_certificate_contexts())
    server.mount(injector, handshake_context=injector.handshake_context)
    server.start()
    return Served(plan, stopping, server, tls, requests)


@pytest.fixture
def served(tls: TlsFiles) -> Iterator[Served]:
    s = _serve(tls)
    yield s
    s.stopping.set()
    s.server.close()


# -- parsing -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "server", "fault"), [
    ("gpconnect=status:503", "gpconnect", Fault("status", status=503)),
    ("gpconnect=status:503:retry-after=2", "gpconnect", Fault("status", status=503, retry_after=2)),
    ("hospital=latency:2.5", "hospital", Fault("latency", seconds=2.5)),
    ("pds=drop", "pds", Fault("drop")),
    ("sds=hang", "sds", Fault("hang")),
    ("idp=malformed", "idp", Fault("malformed")),
    ("audit=truncated", "audit", Fault("truncated")),
    ("hospital=status:500:path=/Patient", "hospital", Fault("status", status=500, only_path="/Patient")),
    ("pds=content_type", "pds", Fault("content_type")),
    ("sds=reset", "sds", Fault("reset")),
    ("gpconnect=tls", "gpconnect", Fault("tls")),
    ("gpconnect=tls:wrong-host", "gpconnect", Fault("tls", certificate="wrong-host")),
    ("hospital=huge", "hospital", Fault("huge")),
    ("hospital=huge:2", "hospital", Fault("huge", size=2 * 1024 * 1024)),
])
def test_parse_spec(spec: str, server: str, fault: Fault) -> None:
    assert parse_fault_spec(spec) == (server, fault)


@pytest.mark.parametrize("spec", [
    "gpconnect", "nowhere=drop", "pds=explode", "hospital=latency", "gpconnect=status:abc",
    "gpconnect=status:99", "pds=drop:7", "hospital=latency:-1", "=drop", "pds=tls:expired",
    "pds=tls:path=/Patient", "hospital=huge:0",
])
def test_parse_spec_rejects_nonsense(spec: str) -> None:
    with pytest.raises(ValueError, match=r"fault|unknown"):
        parse_fault_spec(spec)


def test_plan_parse_set_clear_get() -> None:
    plan = FaultPlan.parse(["gpconnect=status:503", "pds=drop"])
    assert plan.get("gpconnect") == Fault("status", status=503)
    assert plan.get("hospital") is None
    plan.set("hospital", Fault("hang"))
    plan.clear("pds")
    assert set(plan.snapshot()) == {"gpconnect", "hospital"}
    plan.clear()
    assert plan.snapshot() == {}
    with pytest.raises(ValueError):
        plan.set("mainframe", Fault("drop"))


# -- behaviour on the wire -----------------------------------------------------------------------

def test_no_fault_passes_through(served: Served) -> None:
    with served.client() as http:
        assert http.get("/Patient").json() == PAYLOAD


def test_status_with_retry_after(served: Served) -> None:
    served.plan.set("hospital", Fault("status", status=503, retry_after=2))
    with served.client() as http:
        response = http.get("/Patient")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "transient"


def test_status_without_retry_after(served: Served) -> None:
    served.plan.set("hospital", Fault("status", status=429))
    with served.client() as http:
        response = http.get("/Patient")
    assert response.status_code == 429
    assert "retry-after" not in response.headers


def test_malformed_body_is_not_json(served: Served) -> None:
    served.plan.set("hospital", Fault("malformed"))
    with served.client() as http:
        response = http.get("/Patient")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_truncated_body_surfaces_as_a_protocol_error(served: Served) -> None:
    served.plan.set("hospital", Fault("truncated"))
    with served.client() as http, pytest.raises(httpx.RemoteProtocolError):
        http.get("/Patient")


def test_drop_closes_the_connection_without_a_response(served: Served) -> None:
    served.plan.set("hospital", Fault("drop"))
    with served.client() as http, pytest.raises(httpx.TransportError) as caught:
        http.get("/Patient")
    assert not isinstance(caught.value, httpx.TimeoutException)
    # Mended at run time, the same server answers again.
    served.plan.clear("hospital")
    with served.client() as http:
        assert http.get("/Patient").status_code == 200


def test_latency_delays_then_answers(served: Served) -> None:
    served.plan.set("hospital", Fault("latency", seconds=0.3))
    with served.client() as http:
        began = time.monotonic()
        response = http.get("/Patient")
    assert response.status_code == 200
    assert time.monotonic() - began >= 0.3  # a lower bound only: a slow machine cannot fail it


def test_long_latency_times_out_a_patient_client(served: Served) -> None:
    served.plan.set("hospital", Fault("latency", seconds=60))
    with served.client(timeout=httpx.Timeout(20, read=0.5)) as http, pytest.raises(httpx.ReadTimeout):
        http.get("/Patient")


def test_only_path_limits_the_fault(served: Served) -> None:
    served.plan.set("hospital", Fault("status", status=500, only_path="/Patient"))
    with served.client() as http:
        assert http.get("/Patient").status_code == 500
        assert http.get("/metadata").status_code == 200


def _request_in_thread(served: Served) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def go() -> None:
        try:
            with served.client(timeout=30) as http:
                outcome["status"] = http.get("/Patient").status_code
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    return worker, outcome


def test_hang_never_answers_until_cleared(served: Served) -> None:
    fault = Fault("hang")
    served.plan.set("hospital", fault)
    with served.client(timeout=httpx.Timeout(20, read=0.5)) as http, pytest.raises(httpx.ReadTimeout):
        http.get("/Patient")
    worker, outcome = _request_in_thread(served)
    worker.join(0.3)
    assert worker.is_alive()  # still waiting: nothing was answered
    served.plan.clear("hospital")
    worker.join(10)
    assert outcome == {"status": 200}


def test_hang_is_released_by_stopping(tls: TlsFiles) -> None:
    s = _serve(tls)
    try:
        s.plan.set("hospital", Fault("hang"))
        worker, outcome = _request_in_thread(s)
        worker.join(0.3)
        assert worker.is_alive()
        s.stopping.set()
        worker.join(10)
        assert not worker.is_alive()
        assert isinstance(outcome.get("error"), httpx.TransportError)
    finally:
        s.stopping.set()
        s.server.close()


def test_injector_rejects_unknown_server_names() -> None:
    with pytest.raises(ValueError):
        FaultInjector(make_app(), FaultPlan(), "mainframe")


# -- the kinds a proxy, a network and a misconfigured server add --------------------------------------

def test_content_type_fault_is_an_html_page_with_200(served: Served) -> None:
    served.plan.set("hospital", Fault("content_type"))
    with served.client() as http:
        response = http.get("/Patient")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html>" in response.content


def _async_get(served: Served, path: str) -> httpx.Response:
    """The product's client is async (anyio): it tells a RST (ReadError) from an orderly close
    (RemoteProtocolError), where the blocking ssl module reports both as an end of file."""
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(base_url=served.server.base_url, verify=served.tls.client_context(),
                                     trust_env=False, timeout=20) as http:
            return await http.get(path)

    return asyncio.run(go())


def test_reset_sends_a_tcp_rst_not_a_close(served: Served) -> None:
    served.plan.set("hospital", Fault("reset"))
    with pytest.raises(httpx.ReadError):
        _async_get(served, "/Patient")
    assert served.requests.count("hospital", "GET") == 1  # the request arrived before the reset
    served.plan.set("hospital", Fault("drop"))  # the contrast: a FIN is a different failure
    with pytest.raises(httpx.RemoteProtocolError):
        _async_get(served, "/Patient")


@pytest.mark.parametrize(("certificate", "verify_text"), [
    ("untrusted", "unable to get local issuer certificate"),
    ("wrong-host", "IP address mismatch"),
])
def test_tls_fault_presents_a_certificate_the_client_refuses(
    served: Served, certificate: str, verify_text: str
) -> None:
    with served.client() as http:
        assert http.get("/metadata").status_code == 200
    served.plan.set("hospital", Fault("tls", certificate=certificate))
    with served.client() as http, pytest.raises(httpx.ConnectError) as caught:
        http.get("/Patient")
    assert verify_text in str(caught.value)
    assert served.requests.count("hospital", HANDSHAKE) == 1
    assert served.requests.count("hospital", "GET") == 1  # only the one before the fault
    served.plan.clear("hospital")  # mended at run time: the next connection gets the real certificate
    with served.client() as http:
        assert http.get("/Patient").status_code == 200


def test_huge_body_streams_100_mb_of_json_without_a_length(served: Served) -> None:
    served.plan.set("hospital", Fault("huge"))
    received = 0
    with served.client() as http, http.stream("GET", "/Patient") as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        first = b""
        for chunk in response.iter_raw():
            first = first or chunk
            received += len(chunk)
            last = chunk
    assert received == HUGE_BODY_BYTES
    assert first.startswith(b'{"resourceType": "Bundle"') and last.endswith(b"]}")


def test_huge_body_of_a_chosen_size_is_valid_json(served: Served) -> None:
    served.plan.set("hospital", Fault("huge", size=300_001))
    with served.client() as http:
        body = http.get("/Patient").content
    assert len(body) == 300_001
    assert json.loads(body)["resourceType"] == "Bundle"


def test_request_log_counts_by_server_and_method(served: Served) -> None:
    with served.client() as http:
        http.get("/Patient")
        http.post("/metadata")
    assert served.requests.count("hospital") == 2
    assert served.requests.count("hospital", "GET") == 1
    assert served.requests.count("pds") == 0
    served.requests.clear()
    assert served.requests.count("hospital") == 0
