"""The loopback listener: real sockets on 127.0.0.1, one valid callback, nothing else accepted."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from viewer.auth.loopback import MAX_REQUEST_BYTES, CallbackResult, LoopbackListener


def run(coro):
    return asyncio.run(coro)


async def _raw(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


def test_valid_callback_delivers_code_and_state_and_answers_the_browser():
    async def scenario():
        async with LoopbackListener() as listener:
            assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/callback"
            waiting = asyncio.ensure_future(listener.wait(30))
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"{listener.redirect_uri}?code=the-code&state=the-state")
            result = await waiting
            return listener.port, answer, result

    port, answer, result = run(scenario())
    assert answer.status_code == 200
    assert "You can close this window and return to Wardview" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert result == CallbackResult(code="the-code", state="the-state")
    assert "the-code" not in repr(result)
    # Closed after the callback: nothing listens on the port any more.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_other_paths_get_404_and_do_not_end_the_wait():
    async def scenario():
        async with LoopbackListener() as listener:
            waiting = asyncio.ensure_future(listener.wait(30))
            base = f"http://127.0.0.1:{listener.port}"
            async with httpx.AsyncClient() as client:
                favicon = await client.get(f"{base}/favicon.ico")
                other = await client.get(f"{base}/callbackx?code=c&state=s")
                assert not waiting.done()
                ok = await client.get(f"{base}/callback?code=c&state=s")
            return favicon, other, ok, await waiting

    favicon, other, ok, result = run(scenario())
    assert favicon.status_code == 404
    assert other.status_code == 404
    assert ok.status_code == 200
    assert result.code == "c"


def test_incomplete_or_repeated_parameters_are_refused_and_wait_goes_on():
    async def scenario():
        async with LoopbackListener() as listener:
            waiting = asyncio.ensure_future(listener.wait(30))
            uri = listener.redirect_uri
            async with httpx.AsyncClient() as client:
                no_state = await client.get(f"{uri}?code=c")
                no_code = await client.get(f"{uri}?state=s")
                twice = await client.get(f"{uri}?code=a&code=b&state=s")
                posted = await client.post(f"{uri}?code=c&state=s")
                assert not waiting.done()
                await client.get(f"{uri}?code=real&state=s")
            return [r.status_code for r in (no_state, no_code, twice, posted)], await waiting

    statuses, result = run(scenario())
    assert statuses == [400, 400, 400, 405]
    assert result.code == "real"


def test_error_callback_is_delivered():
    async def scenario():
        async with LoopbackListener() as listener:
            waiting = asyncio.ensure_future(listener.wait(30))
            async with httpx.AsyncClient() as client:
                page = await client.get(f"{listener.redirect_uri}?error=access_denied&state=s")
            return page, await waiting

    page, result = run(scenario())
    assert page.status_code == 200
    assert "Sign-in was not completed" in page.text
    assert result.error == "access_denied"
    assert result.code is None


def test_oversized_request_is_refused():
    async def scenario():
        async with LoopbackListener() as listener:
            waiting = asyncio.ensure_future(listener.wait(30))
            big = b"GET /callback?code=" + b"x" * (MAX_REQUEST_BYTES * 2) + b"&state=s HTTP/1.1\r\n\r\n"
            answer = await _raw(listener.port, big)
            assert not waiting.done()
            waiting.cancel()
            return answer

    answer = run(scenario())
    assert answer.startswith(b"HTTP/1.1 400")


def test_garbage_request_line_is_refused():
    async def scenario():
        async with LoopbackListener() as listener:
            return await _raw(listener.port, b"\xff\xfe nonsense\r\n\r\n")

    assert run(scenario()).startswith(b"HTTP/1.1 400")


def test_only_the_first_callback_counts():
    async def scenario():
        listener = LoopbackListener()
        await listener.start()
        try:
            uri = listener.redirect_uri
            async with httpx.AsyncClient() as client:
                first = await client.get(f"{uri}?code=first&state=s")
                second = await client.get(f"{uri}?code=second&state=s")
            return first.status_code, second.status_code, await listener.wait(5)
        finally:
            await listener.close()

    first, second, result = run(scenario())
    assert (first, second) == (200, 400)
    assert result.code == "first"


def test_timeout_raises_and_closes():
    async def scenario():
        listener = LoopbackListener()
        await listener.start()
        port = listener.port
        with pytest.raises(TimeoutError):
            await listener.wait(0.05)
        return port

    port = run(scenario())
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_binds_loopback_only_and_refuses_other_hosts():
    with pytest.raises(ValueError):
        LoopbackListener(host="0.0.0.0")
    with pytest.raises(ValueError):
        LoopbackListener(host="localhost")

    async def scenario():
        async with LoopbackListener() as listener:
            return listener.bound_address

    host, port = run(scenario())
    assert host == "127.0.0.1"
    assert port > 0


def _non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (no packet is sent: UDP connect only)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_not_reachable_on_a_non_loopback_address():
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")

    async def scenario():
        async with LoopbackListener() as listener:
            try:
                await asyncio.wait_for(asyncio.open_connection(address, listener.port), 5)
            except OSError:
                return "refused"
            return "connected"

    assert run(scenario()) == "refused"
