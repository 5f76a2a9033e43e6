"""The shared HTTP layer: TLS trust, retry only where safe, Retry-After honoured, nothing sensitive logged."""

from __future__ import annotations

import asyncio
import http.server
import logging
import ssl
import threading

import httpx
import pytest
import trustme

from viewer.sources.errors import ResponseTooLarge, SourceUnavailable, TlsFailure, UnexpectedContentType
from viewer.sources.http import MB, make_http_client, retry_after_seconds, send

PATH = "/Patient/9990000018?family=Smith"  # path and query carry patient data and must never be logged


def run(coro):
    return asyncio.run(coro)


class FakeSleep:
    def __init__(self):
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def scripted(*steps):
    """A MockTransport answering from a script: ints are statuses, tuples (status, headers),
    exceptions are raised."""
    seen: list[httpx.Request] = []
    script = list(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, tuple):
            return httpx.Response(step[0], headers=step[1])
        return httpx.Response(step, text="{}")

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


def test_safe_get_retries_on_503_then_succeeds():
    client, seen = scripted(503, 502, 200)
    sleep = FakeSleep()
    response = run(send(client, "GET", "https://pds.test" + PATH, safe=True, sleep=sleep, service="PDS"))
    assert response.status_code == 200
    assert len(seen) == 3
    assert len(sleep.calls) == 2
    assert all(0 < s <= 2.0 for s in sleep.calls)


def test_retry_after_is_honoured_and_capped():
    client, seen = scripted((429, {"Retry-After": "7"}), (503, {"Retry-After": "3600"}), 200)
    sleep = FakeSleep()
    response = run(send(client, "GET", "https://x.test/a", safe=True, sleep=sleep, attempts=3))
    assert response.status_code == 200
    assert len(seen) == 3
    assert sleep.calls[0] == 7.0
    assert sleep.calls[1] == 20.0  # capped


def test_retry_after_http_date_and_garbage():
    assert retry_after_seconds(httpx.Response(503, headers={"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Response(503)) is None
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after_seconds(httpx.Response(503, headers={"Retry-After": past})) == 0.0


def test_last_bad_status_is_returned_after_attempts_run_out():
    client, seen = scripted(503, 503, 503)
    sleep = FakeSleep()
    response = run(send(client, "GET", "https://x.test/a", safe=True, sleep=sleep, attempts=3))
    assert response.status_code == 503
    assert len(seen) == 3 and len(sleep.calls) == 2


def test_unsafe_post_is_not_retried_on_503_or_timeout():
    client, seen = scripted(503)
    response = run(send(client, "POST", "https://x.test/a", safe=False, sleep=FakeSleep()))
    assert response.status_code == 503 and len(seen) == 1

    client, seen = scripted(httpx.ReadTimeout("slow"), 200)
    with pytest.raises(SourceUnavailable) as info:
        run(send(client, "POST", "https://x.test/a", safe=False, sleep=FakeSleep(), service="GP Connect"))
    assert info.value.user_message == "GP Connect did not answer in time"
    assert len(seen) == 1


def test_unsafe_post_is_retried_when_the_connection_was_never_made():
    client, seen = scripted(httpx.ConnectError("refused"), 200)
    sleep = FakeSleep()
    response = run(send(client, "POST", "https://x.test/a", safe=False, sleep=sleep))
    assert response.status_code == 200 and len(seen) == 2 and len(sleep.calls) == 1


def test_safe_get_retries_a_dropped_connection_then_gives_a_readable_error():
    client, seen = scripted(*(httpx.RemoteProtocolError("closed") for _ in range(3)))
    with pytest.raises(SourceUnavailable) as info:
        run(send(client, "GET", "https://x.test/a", safe=True, sleep=FakeSleep(), service="PDS"))
    assert len(seen) == 3
    assert "PDS" in info.value.user_message and info.value.retryable


def test_connect_error_message():
    client, _ = scripted(*(httpx.ConnectError("refused") for _ in range(3)))
    with pytest.raises(SourceUnavailable) as info:
        run(send(client, "GET", "https://x.test/a", safe=True, sleep=FakeSleep(), service="PDS"))
    assert info.value.user_message == "Could not connect to PDS"


def test_per_call_timeout_is_passed_through():
    seen = {}

    def handler(request):
        seen.update(request.extensions["timeout"])
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    run(send(client, "GET", "https://x.test/a", safe=True, timeout=2.5))
    assert seen["read"] == 2.5


def test_logs_carry_host_and_status_but_never_the_path(caplog):
    client, _ = scripted(503, 200)
    with caplog.at_level(logging.DEBUG, logger="viewer.sources.http"):
        run(send(client, "GET", "https://pds.test" + PATH, safe=True, sleep=FakeSleep()))
    text = caplog.text
    assert "pds.test" in text and "503" in text and "200" in text
    assert "9990000018" not in text and "Smith" not in text and "Patient" not in text


# --- real TLS on loopback -------------------------------------------------------------------------------


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        peer = self.connection.getpeercert()
        body = b"client-cert" if peer else b"no-client-cert"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_server(tmp_path):
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(ctx)
    ca.configure_trust(ctx)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client_cert = ca.issue_cert("wardview-client")
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client.key"
    client_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    client_cert.private_key_pem.write_to_path(str(key_file))
    yield f"https://127.0.0.1:{server.server_address[1]}", str(ca_file), (str(cert_file), str(key_file))
    server.shutdown()
    server.server_close()


def test_extra_ca_is_trusted_and_client_cert_presented(tls_server):
    url, ca_file, client_cert = tls_server

    async def go():
        async with make_http_client(extra_ca=ca_file, client_cert=client_cert, timeout=5) as client:
            return await send(client, "GET", url + "/", safe=True)

    response = run(go())
    assert response.status_code == 200
    assert response.text == "client-cert"
    assert response.request.headers["User-Agent"].startswith("Wardview/")


def test_unknown_ca_is_refused_with_a_readable_message(tls_server):
    url, _, _ = tls_server

    async def go():
        async with make_http_client(timeout=5) as client:
            return await send(client, "GET", url + "/", safe=True, service="PDS", sleep=FakeSleep())

    with pytest.raises(TlsFailure) as info:
        run(go())
    assert info.value.user_message == (
        "The secure connection (TLS) to PDS was refused: its certificate is not trusted on this PC"
    )
    assert not info.value.retryable


def test_certificate_for_another_host_is_named_as_such(tls_server):
    url, ca_file, _ = tls_server

    async def go():
        async with make_http_client(extra_ca=ca_file, timeout=5) as client:
            # the certificate names 127.0.0.1; asking for "localhost" is asking another server
            return await send(client, "GET", url.replace("127.0.0.1", "localhost") + "/", safe=True,
                              service="PDS", sleep=FakeSleep())

    with pytest.raises(TlsFailure) as info:
        run(go())
    assert info.value.user_message.endswith("its certificate is for another server")


# --- retries of unsafe requests, broken connections --------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_unsafe_post_is_retried_on_429_or_503_with_retry_after_only(status):
    client, seen = scripted((status, {"Retry-After": "2"}), 200)
    sleep = FakeSleep()
    response = run(send(client, "POST", "https://x.test/a", safe=False, sleep=sleep))
    assert response.status_code == 200 and len(seen) == 2 and sleep.calls == [2.0]

    client, seen = scripted(status, 200)
    response = run(send(client, "POST", "https://x.test/a", safe=False, sleep=FakeSleep()))
    assert response.status_code == status and len(seen) == 1


def test_unsafe_post_is_not_retried_on_502_even_with_retry_after():
    client, seen = scripted((502, {"Retry-After": "1"}), 200)
    response = run(send(client, "POST", "https://x.test/a", safe=False, sleep=FakeSleep()))
    assert response.status_code == 502 and len(seen) == 1


def test_connection_reset_is_retried_for_get_but_not_for_post():
    client, seen = scripted(httpx.ReadError("reset"), 200)
    assert run(send(client, "GET", "https://x.test/a", safe=True, sleep=FakeSleep())).status_code == 200
    assert len(seen) == 2

    client, seen = scripted(httpx.ReadError("reset"), 200)
    with pytest.raises(SourceUnavailable) as info:
        run(send(client, "POST", "https://x.test/a", safe=False, sleep=FakeSleep(), service="GP Connect"))
    assert len(seen) == 1
    assert info.value.user_message == "The connection to GP Connect was broken off before it answered"


# --- size cap and content type -------------------------------------------------------------------------


def _answering(response_for):
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        return response_for(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


class Stream(httpx.AsyncByteStream):
    """A body made as it is read, counting what was taken (to show the cap stops reading)."""

    def __init__(self, chunks: int, size: int = 64 * 1024):
        self.left, self.size, self.read = chunks, size, 0

    async def __aiter__(self):
        while self.left:
            self.left -= 1
            self.read += self.size
            yield b" " * self.size


def test_body_over_the_cap_is_abandoned_while_streaming():
    stream = Stream(chunks=1000)  # 62.5 MB offered, no Content-Length
    client, seen = _answering(lambda r: httpx.Response(200, stream=stream))
    with pytest.raises(ResponseTooLarge) as info:
        run(send(client, "GET", "https://x.test/a", safe=True, max_bytes=1 * MB, service="GP Connect",
                 sleep=FakeSleep()))
    assert "GP Connect sent a reply that was too large" in info.value.user_message
    assert len(seen) == 1  # never retried: it would be as large again
    assert stream.read <= 1 * MB + 64 * 1024  # stopped at the cap, not after the whole body


def test_declared_length_over_the_cap_is_refused_before_reading():
    stream = Stream(chunks=10)
    client, _ = _answering(lambda r: httpx.Response(200, headers={"Content-Length": str(10 * MB)},
                                                     stream=stream))
    with pytest.raises(ResponseTooLarge):
        run(send(client, "GET", "https://x.test/a", safe=True, max_bytes=1 * MB))
    assert stream.read == 0


def test_cap_counts_decoded_bytes_so_a_gzip_bomb_is_stopped():
    import gzip

    bomb = gzip.compress(b"0" * (4 * MB))  # a few kB on the wire
    client, _ = _answering(lambda r: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=bomb))
    with pytest.raises(ResponseTooLarge):
        run(send(client, "GET", "https://x.test/a", safe=True, max_bytes=1 * MB))


def test_body_under_the_cap_is_returned_whole_and_decoded():
    import gzip

    body = b'{"resourceType": "Bundle"}' * 1000
    client, _ = _answering(lambda r: httpx.Response(
        200, headers={"Content-Encoding": "gzip", "Content-Type": "application/fhir+json"},
        content=gzip.compress(body)))
    response = run(send(client, "GET", "https://x.test/a", safe=True, json_only=True))
    assert response.content == body
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/plain", "application/xml"])
def test_success_that_is_not_json_is_a_typed_error_when_json_was_asked_for(content_type):
    client, seen = _answering(lambda r: httpx.Response(200, headers={"Content-Type": content_type},
                                                        content=b"<html>proxy error</html>"))
    with pytest.raises(UnexpectedContentType) as info:
        run(send(client, "GET", "https://x.test/a", safe=True, json_only=True, service="PDS",
                 sleep=FakeSleep()))
    assert "wrong content type" in info.value.user_message and "PDS" in info.value.user_message
    assert len(seen) == 1


@pytest.mark.parametrize("content_type", ["application/json", "application/fhir+json; charset=utf-8",
                                          "application/jwk-set+json"])
def test_json_content_types_pass(content_type):
    client, _ = _answering(lambda r: httpx.Response(200, headers={"Content-Type": content_type},
                                                     content=b"{}"))
    assert run(send(client, "GET", "https://x.test/a", safe=True, json_only=True)).json() == {}


def test_error_statuses_keep_their_bodies_whatever_the_type():
    client, _ = _answering(lambda r: httpx.Response(404, headers={"Content-Type": "text/html"},
                                                     content=b"<html>not here</html>"))
    response = run(send(client, "GET", "https://x.test/a", safe=True, json_only=True))
    assert response.status_code == 404 and response.content == b"<html>not here</html>"


def test_empty_success_without_a_content_type_passes():
    client, _ = _answering(lambda r: httpx.Response(204))
    assert run(send(client, "POST", "https://x.test/a", safe=False, json_only=True)).status_code == 204
