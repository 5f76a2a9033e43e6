"""The sandbox SDS: GP Connect endpoint and ASID lookups as the SDS FHIR API answers them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.endpoint import Endpoint
from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask.testing import FlaskClient

from viewer.sandbox.population import build_world
from viewer.sandbox.sds_server import make_sds_app
from viewer.sandbox.world import World

GPC_BASE = "https://127.0.0.1:50123"
API_KEY = "sandbox-key"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code|"
INTERACTION = ("https://fhir.nhs.uk/Id/nhsServiceInteractionId|"
               "urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1")
PARTY_KEY = "https://fhir.nhs.uk/Id/nhsMhsPartyKey|"
PK_Y90001 = PARTY_KEY + "Y90001-9990001"


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def client(world: World) -> FlaskClient:
    return make_sds_app(world, GPC_BASE, API_KEY).test_client()


def _get(client: FlaskClient, path: str, params: list[tuple[str, str]], **headers: str) -> tuple[int, Any]:
    response = client.get(path, query_string=params, headers={"apikey": API_KEY, **headers})
    return response.status_code, response.get_json()


def _identifier(resource: dict[str, Any], system: str) -> str:
    return next(i["value"] for i in resource["identifier"] if i["system"] == system)


def test_endpoint_lookup_gives_gp_connect_address_and_party_key(client: FlaskClient, world: World) -> None:
    practice = world.practices[0]
    status, body = _get(client, "/Endpoint", [("organization", ODS + practice.ods_code),
                                             ("identifier", INTERACTION)])
    assert status == 200
    Bundle.model_validate(body)
    assert body["type"] == "searchset" and body["total"] == 1
    entry = body["entry"][0]
    assert entry["search"] == {"mode": "match"}
    endpoint = entry["resource"]
    Endpoint.model_validate(endpoint)
    assert endpoint["address"] == f"{GPC_BASE}/{practice.ods_code}/STU3/1/gpconnect/structured/fhir"
    assert _identifier(endpoint, "https://fhir.nhs.uk/Id/nhsMhsPartyKey") == practice.party_key
    assert endpoint["managingOrganization"]["identifier"]["value"] == practice.ods_code
    assert body["link"][0]["relation"] == "self"


def test_device_lookup_gives_asid(client: FlaskClient, world: World) -> None:
    practice = world.practices[1]
    status, body = _get(client, "/Device", [("organization", ODS + practice.ods_code),
                                           ("identifier", INTERACTION),
                                           ("identifier", PARTY_KEY + practice.party_key)])
    assert status == 200
    Bundle.model_validate(body)
    device = body["entry"][0]["resource"]
    Device.model_validate(device)
    assert _identifier(device, "https://fhir.nhs.uk/Id/nhsSpineASID") == practice.asid
    assert device["owner"]["identifier"]["value"] == practice.ods_code


def test_every_registered_practice_resolves_in_two_steps(client: FlaskClient, world: World) -> None:
    """The consumer's path: Endpoint by ODS + interaction, then Device with the party key found."""
    for ods in sorted({p.practice_ods for p in world.patients if p.practice_ods}):
        _, endpoints = _get(client, "/Endpoint", [("organization", ODS + ods), ("identifier", INTERACTION)])
        party_key = _identifier(endpoints["entry"][0]["resource"], "https://fhir.nhs.uk/Id/nhsMhsPartyKey")
        _, devices = _get(client, "/Device", [("organization", ODS + ods), ("identifier", INTERACTION),
                                              ("identifier", PARTY_KEY + party_key)])
        assert devices["total"] == 1
        assert _identifier(devices["entry"][0]["resource"], "https://fhir.nhs.uk/Id/nhsSpineASID") == \
            world.practice(ods).asid


@pytest.mark.parametrize("params", [
    [("organization", ODS + "Y90001"), ("identifier", PK_Y90001)],
    [("identifier", INTERACTION), ("identifier", PK_Y90001)],
    [("organization", ODS + "Y90001"), ("identifier", INTERACTION), ("identifier", PK_Y90001)],
])
def test_endpoint_supported_combinations(client: FlaskClient, params: list[tuple[str, str]]) -> None:
    status, body = _get(client, "/Endpoint", params)
    assert status == 200 and body["total"] == 1


@pytest.mark.parametrize("params", [
    [("organization", ODS + "A99999"), ("identifier", INTERACTION)],  # not a GP Connect practice
    [("organization", ODS + "RWV99"), ("identifier", INTERACTION)],  # the trust itself
    [("organization", ODS + "Y90001"),
     ("identifier", "https://fhir.nhs.uk/Id/nhsServiceInteractionId|urn:nhs:names:services:psis:REPC_IN150016UK05")],
    [("organization", ODS + "Y90001"), ("identifier", PARTY_KEY + "Y90002-9990002")],
])
def test_no_match_is_an_empty_searchset(client: FlaskClient, params: list[tuple[str, str]]) -> None:
    status, body = _get(client, "/Endpoint", params)
    assert status == 200
    Bundle.model_validate(body)
    assert body["total"] == 0 and "entry" not in body


@pytest.mark.parametrize(("path", "params"), [
    ("/Endpoint", []),
    ("/Endpoint", [("organization", ODS + "Y90001")]),
    ("/Endpoint", [("identifier", INTERACTION)]),
    ("/Endpoint", [("organization", "Y90001"), ("identifier", INTERACTION)]),
    ("/Endpoint", [("organization", ODS + "Y90001"), ("identifier", "urn:nhs:names:services:gpconnect")]),
    ("/Endpoint", [("organization", ODS + "Y90001"),
                   ("identifier", "https://fhir.nhs.uk/Id/nhsEndpointServiceId|x")]),
    ("/Endpoint", [("organization", ODS + "Y90001"), ("identifier", INTERACTION), ("colour", "blue")]),
    ("/Device", [("identifier", INTERACTION)]),
    ("/Device", [("organization", ODS + "Y90001")]),
    ("/Device", [("organization", ODS + "Y90001"), ("identifier", PK_Y90001)]),
])
def test_missing_or_invalid_parameters(client: FlaskClient, path: str, params: list[tuple[str, str]]) -> None:
    status, body = _get(client, path, params)
    assert status == 400
    OperationOutcome.model_validate(body)
    assert body["issue"][0]["details"]["coding"][0]["code"] == "BAD_REQUEST"
    assert body["issue"][0]["diagnostics"]


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_api_key_required(client: FlaskClient, key: str | None) -> None:
    headers = {} if key is None else {"apikey": key}
    response = client.get("/Endpoint", query_string=[("organization", ODS + "Y90001"),
                                                     ("identifier", INTERACTION)], headers=headers)
    assert response.status_code == 401
    OperationOutcome.model_validate(response.get_json())


def test_correlation_id_echoed_and_checked(client: FlaskClient) -> None:
    params = [("organization", ODS + "Y90001"), ("identifier", INTERACTION)]
    correlation = str(uuid.uuid4())
    response = client.get("/Endpoint", query_string=params,
                          headers={"apikey": API_KEY, "X-Correlation-ID": correlation})
    assert response.status_code == 200 and response.headers["X-Correlation-ID"] == correlation
    status, _ = _get(client, "/Endpoint", params, **{"X-Correlation-ID": "not-a-uuid"})
    assert status == 400


def test_accept_header(client: FlaskClient) -> None:
    params = [("organization", ODS + "Y90001"), ("identifier", INTERACTION)]
    assert _get(client, "/Endpoint", params, Accept="application/fhir+json;charset=utf-8")[0] == 200
    assert _get(client, "/Endpoint", params, Accept="text/html, */*;q=0.1")[0] == 200
    assert _get(client, "/Endpoint", params, Accept="text/html")[0] == 406


def test_unknown_path_and_method(client: FlaskClient) -> None:
    status, body = _get(client, "/Organization", [])
    assert status == 404
    OperationOutcome.model_validate(body)
    response = client.post("/Endpoint", headers={"apikey": API_KEY})
    assert response.status_code == 405
    OperationOutcome.model_validate(response.get_json())
