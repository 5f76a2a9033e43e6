"""Each source applies its own timeout from the settings, so a slow GP practice cannot hold up PDS."""

import asyncio
import contextlib

import httpx
import orjson

from viewer.sources.context import RequestContext
from viewer.sources.errors import SourceError
from viewer.sources.gpconnect import GpConnectClient
from viewer.sources.pds import PdsClient
from viewer.sources.sds import GpConnectEndpoint, SdsClient

CTX = RequestContext("tok", "555000000001", "555000000101", "Morgan", "Alice", "RWV99")


def _client(seen: list, body: dict) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, content=orjson.dumps(body),
                              headers={"content-type": "application/fhir+json"})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=30)


def test_gpconnect_timeout():
    seen: list = []

    async def go():
        async with _client(seen, {"resourceType": "Bundle", "type": "collection", "entry": []}) as http:
            gp = GpConnectClient(http, consumer_asid="918999198993", ssp_url=None, timeout=2.5)
            endpoint = GpConnectEndpoint("https://gp.test/fhir", "1", "k")
            await gp.get_structured_record("9990000018", endpoint, CTX)

    asyncio.run(go())
    assert seen == [2.5]


def test_sds_and_pds_timeouts():
    seen: list = []

    async def go():
        async with _client(seen, {"resourceType": "Bundle", "type": "searchset", "entry": []}) as http:
            sds = SdsClient(http, "https://sds.test", "key", timeout=4.0)
            with contextlib.suppress(SourceError):  # no endpoint in an empty Bundle; the timeout is checked
                await sds.lookup_gpconnect("Y90001")
            pds = PdsClient(http, "https://pds.test", timeout=6.0)
            with contextlib.suppress(SourceError):  # an empty Bundle is not a Patient
                await pds.read("9990000018", CTX)

    asyncio.run(go())
    assert seen[0] == 4.0 and seen[-1] == 6.0


def test_hospital_timeout_and_request_ids():
    from viewer.sources.hospital import HospitalClient

    seen: list = []
    ids: list = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        ids.append(request.headers.get("X-Request-ID"))
        return httpx.Response(200, content=orjson.dumps({"resourceType": "Bundle", "type": "searchset"}),
                              headers={"content-type": "application/fhir+json"})

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            await HospitalClient(http, "https://fhir.test", timeout=7.0).find_patient("9990000018", CTX)

    asyncio.run(go())
    assert seen == [7.0]
    assert ids[0] and len(set(ids)) == len(ids)
