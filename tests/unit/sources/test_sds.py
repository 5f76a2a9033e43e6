"""SDS lookup: the two searches, the answer's shape, per-instance caching and the 'no GP Connect' case."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from viewer.sources.errors import AccessDenied, SourceUnavailable, UnreadableResponse
from viewer.sources.sds import (
    ASID_SYSTEM,
    PARTY_KEY_SYSTEM,
    STRUCTURED_INTERACTION,
    GpConnectEndpoint,
    GpConnectNotOffered,
    SdsClient,
)

REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "sds"
ADDRESS = "https://gp.test/A12345/STU3/1/gpconnect/structured/fhir"


def bundle(*resources):
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def endpoint(address=ADDRESS, party_key="A12345-0000001"):
    return {
        "resourceType": "Endpoint",
        "id": "e1",
        "status": "active",
        "address": address,
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhsMhsFQDN", "value": "gp.test"},
            {"system": PARTY_KEY_SYSTEM, "value": party_key},
        ],
    }


def device(asid="918999198738"):
    return {
        "resourceType": "Device",
        "id": "d1",
        "identifier": [
            {"system": ASID_SYSTEM, "value": asid},
            {"system": PARTY_KEY_SYSTEM, "value": "A12345-0000001"},
        ],
    }


def fake_sds(endpoints, devices, status=200):
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        if status != 200:
            return httpx.Response(status, text="<html>oops</html>")
        found = endpoints if request.url.path.endswith("/Endpoint") else devices
        return httpx.Response(200, json=bundle(*found))

    return SdsClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)), "https://sds.test/FHIR/R4/", "k3y"
    ), seen


def test_lookup_makes_both_searches_with_the_spec_parameters():
    sds, seen = fake_sds([endpoint()], [device()])
    found = asyncio.run(sds.lookup_gpconnect("a12345"))
    assert found == GpConnectEndpoint(address=ADDRESS, asid="918999198738", party_key="A12345-0000001")
    first, second = seen
    assert first.url.path == "/FHIR/R4/Endpoint"
    assert first.url.params.get_list("organization") == [
        "https://fhir.nhs.uk/Id/ods-organization-code|A12345"
    ]
    assert first.url.params.get_list("identifier") == [
        f"https://fhir.nhs.uk/Id/nhsServiceInteractionId|{STRUCTURED_INTERACTION}"
    ]
    assert second.url.path == "/FHIR/R4/Device"
    assert second.url.params.get_list("identifier") == [
        f"https://fhir.nhs.uk/Id/nhsServiceInteractionId|{STRUCTURED_INTERACTION}",
        f"{PARTY_KEY_SYSTEM}|A12345-0000001",
    ]
    assert all(r.headers["apikey"] == "k3y" for r in seen)


def test_lookup_is_cached_per_instance_only():
    sds, seen = fake_sds([endpoint()], [device()])

    async def twice():
        await sds.lookup_gpconnect("A12345")
        return await sds.lookup_gpconnect("A12345")

    asyncio.run(twice())
    assert len(seen) == 2  # the second lookup came from the cache
    other, seen_other = fake_sds([endpoint()], [device()])
    asyncio.run(other.lookup_gpconnect("A12345"))
    assert len(seen_other) == 2  # a new session asks again


@pytest.mark.parametrize(
    ("endpoints", "devices"),
    [
        ([], [device()]),
        ([endpoint(party_key="")], [device()]),
        ([endpoint()], []),
        ([{**endpoint(), "status": "off"}], [device()]),
    ],
)
def test_no_endpoint_or_asid_means_gp_connect_not_offered(endpoints, devices):
    sds, _ = fake_sds(endpoints, devices)
    with pytest.raises(GpConnectNotOffered) as info:
        asyncio.run(sds.lookup_gpconnect("A12345"))
    assert info.value.user_message == "The GP practice does not offer GP Connect"


@pytest.mark.parametrize(("status", "error"), [(500, SourceUnavailable), (401, AccessDenied)])
def test_failures_are_typed(status, error):
    sds, seen = fake_sds([], [], status=status)
    with pytest.raises(error):
        asyncio.run(sds.lookup_gpconnect("A12345"))
    assert len(seen) == 1  # 500 and 401 are not worth repeating


def test_unreadable_body():
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="{nope")))
    with pytest.raises(UnreadableResponse):
        asyncio.run(SdsClient(client, "https://sds.test", "k").lookup_gpconnect("A1"))


@pytest.mark.reference
def test_reference_examples_parse():
    examples = REFERENCE / "specification" / "components" / "examples"
    if not examples.is_dir():
        pytest.skip("shared/reference/sds is not available beside the repository")
    ep = json.loads((examples / "Endpoint.json").read_text())
    dev = json.loads((examples / "Device.json").read_text())
    sds, _ = fake_sds([ep], [dev])
    found = asyncio.run(sds.lookup_gpconnect("YES"))
    assert found.address == ep["address"]
    assert found.party_key == "YES-0000806"
    assert found.asid == "200000000985"
