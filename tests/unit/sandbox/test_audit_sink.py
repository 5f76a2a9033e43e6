"""The audit sink: bearer required, AuditEvents only, 201 + Location, a searchset of what arrived."""

from __future__ import annotations

import threading

import pytest

from viewer.sandbox.audit_sink import AuditStore, make_audit_app

GOOD = "good-token"
EVENT = {
    "resourceType": "AuditEvent",
    "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
    "action": "R",
    "recorded": "2026-01-05T10:00:00Z",
    "outcome": "0",
    "agent": [{"requestor": True, "who": {"identifier": {"value": "555000000100"}}}],
    "source": {"observer": {"display": "Wardview"}},
    "entity": [{"what": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                        "value": "9990000018"}}}],
}


def verify(token: str) -> dict | None:
    return {"sub": "555000000100"} if token == GOOD else None


@pytest.fixture
def sink():
    app, store = make_audit_app(verify)
    return app.test_client(), store


def auth(token: str = GOOD) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_post_stores_event_and_answers_201_with_location(sink) -> None:
    client, store = sink
    response = client.post("/AuditEvent", json=EVENT, headers=auth())
    assert response.status_code == 201
    created = response.get_json()
    assert created["resourceType"] == "AuditEvent"
    assert created["id"]
    assert created["meta"]["versionId"] == "1"
    assert response.headers["Location"].endswith(f"/AuditEvent/{created['id']}/_history/1")
    assert response.mimetype == "application/fhir+json"
    [stored] = store.events()
    assert stored["entity"] == EVENT["entity"]
    assert stored["id"] == created["id"]
    read = client.get(f"/AuditEvent/{created['id']}", headers=auth())
    assert read.status_code == 200 and read.get_json()["id"] == created["id"]


def test_search_returns_every_event_in_arrival_order(sink) -> None:
    client, store = sink
    for action in ("R", "E", "R"):
        assert client.post("/AuditEvent", json={**EVENT, "action": action}, headers=auth()).status_code == 201
    bundle = client.get("/AuditEvent", headers=auth()).get_json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 3
    assert [e["resource"]["action"] for e in bundle["entry"]] == ["R", "E", "R"]
    assert all(e["fullUrl"].endswith(e["resource"]["id"]) for e in bundle["entry"])
    store.clear()
    assert client.get("/AuditEvent", headers=auth()).get_json()["total"] == 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": GOOD},
                                     {"Authorization": "Basic Zm9vOmJhcg=="}])
def test_bearer_token_required(sink, headers) -> None:
    client, store = sink
    for response in (client.post("/AuditEvent", json=EVENT, headers=headers),
                     client.get("/AuditEvent", headers=headers)):
        assert response.status_code == 401
        assert response.get_json()["resourceType"] == "OperationOutcome"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert store.events() == []


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"resourceType": "Patient"}', b"{}"])
def test_non_audit_event_bodies_are_refused(sink, body: bytes) -> None:
    client, store = sink
    headers = {**auth(), "Content-Type": "application/fhir+json"}
    response = client.post("/AuditEvent", data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert store.events() == []


def test_unknown_event_is_404(sink) -> None:
    client, _ = sink
    response = client.get("/AuditEvent/nope", headers=auth())
    assert response.status_code == 404


def test_store_is_thread_safe_and_returns_copies() -> None:
    store = AuditStore()

    def add_many(n: int) -> None:
        for i in range(200):
            store.add({"resourceType": "AuditEvent", "id": f"{n}-{i}"})

    workers = [threading.Thread(target=add_many, args=(n,)) for n in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(store) == 800
    events = store.events()
    events[0]["id"] = "changed"
    assert store.events()[0]["id"] != "changed"
    assert store.get("3-199") is not None


def test_every_kind_of_response_is_valid_fhir_r4(sink) -> None:
    """Created event, read, searchset and each OperationOutcome validate against the R4(B) models."""
    from fhir.resources.R4B import get_fhir_model_class

    client, _ = sink
    created = client.post("/AuditEvent", json=EVENT, headers=auth())
    responses = [
        created,
        client.get(f"/AuditEvent/{created.get_json()['id']}", headers=auth()),
        client.get("/AuditEvent", headers=auth()),
        client.post("/AuditEvent", data=b"not json", headers=auth()),
        client.get("/AuditEvent", headers=auth("bad")),
        client.get("/AuditEvent/nope", headers=auth()),
    ]
    kinds = set()
    for response in responses:
        body = response.get_json()
        get_fhir_model_class(body["resourceType"]).model_validate(body)
        kinds.add((response.status_code, body["resourceType"]))
    assert {(201, "AuditEvent"), (200, "Bundle"), (400, "OperationOutcome"), (401, "OperationOutcome"),
            (404, "OperationOutcome")} <= kinds
