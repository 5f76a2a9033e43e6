"""A number no double holds (1e400, an integer beyond 64 bits) costs the GP record nothing else: orjson
and msgspec refuse the whole document, Python's parser reads it, and the value shows as sent."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import orjson
import pytest

from tests.support.accounting import account
from tests.support.real_bundles import gp_bundle
from tests.unit.sources.test_gpconnect import client_with, fetch
from viewer.sandbox.population import build_world, patient_for
from viewer.sources.errors import UnreadableResponse
from viewer.sources.stu3_mapping import map_structured_record
from viewer.sources.wide_json import NotJson, loads_wide

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
FHIR_JSON = {"content-type": "application/fhir+json"}


def _bundle_with(raw_value: bytes) -> tuple[bytes, str, dict]:
    """A sandbox GP Bundle whose first quantity result holds `raw_value` as its number."""
    world = build_world(2026)
    bundle = gp_bundle(world, patient_for(world, "ordinary-adult"), NOW)
    assert bundle is not None
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation" and "valueQuantity" in resource:
            resource["valueQuantity"]["value"] = "\x00placeholder"
            return orjson.dumps(bundle).replace(b'"\\u0000placeholder"', raw_value), resource["id"], bundle
    raise AssertionError("the sandbox Bundle has no quantity result")


@pytest.mark.parametrize("raw", [b"1e400", b"-1e400", b"1.5e999"])
def test_a_number_beyond_a_double_keeps_the_record_and_shows_as_sent(raw: bytes) -> None:
    body, rid, bundle = _bundle_with(raw)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)  # what made the whole record unreadable before
    record = map_structured_record(body, retrieved_at=NOW)
    (result,) = [o for o in record.observations if o.provenance.resource_id == rid]
    assert result.value == raw.decode()
    found, accounted, missing = account(bundle, record)
    assert missing == [] and accounted == found  # every clinical resource shown or counted
    assert record.unreadable == ()


NOT_JSON = [b"{not json", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe", b"[" * 100_000]


@pytest.mark.parametrize("body", NOT_JSON)
def test_what_is_not_json_stays_unreadable(body: bytes) -> None:
    with pytest.raises(NotJson):
        loads_wide(body)
    with pytest.raises(UnreadableResponse):
        map_structured_record(body, retrieved_at=NOW)


def test_the_gp_connect_client_accepts_such_a_bundle() -> None:
    body, _, _ = _bundle_with(b"1e400")
    client, _ = client_with(httpx.Response(200, content=body, headers=FHIR_JSON))
    assert fetch(client) == body


def test_the_gp_connect_client_still_refuses_what_is_not_json() -> None:
    body = b'{"resourceType": "Bundle", "x": NaN}'
    client, _ = client_with(httpx.Response(200, content=body, headers=FHIR_JSON))
    with pytest.raises(UnreadableResponse):
        fetch(client)
