"""The sandbox's audit sink: where the viewer's FHIR AuditEvents land, for tests and trainers to read.

A trust's audit service accepts an AuditEvent per access to a record; Wardview must send one for every
patient it opens. The sink keeps what it received in memory so a test can assert "opening a record was
audited" against what actually crossed the wire, and a trainer can show the trail on screen. It checks
the bearer token like the real service would, but it does not judge the events' content beyond their
resource type: that is the tests' job.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

TokenVerifier = Callable[[str], dict[str, Any] | None]
FHIR_JSON = "application/fhir+json"


class AuditStore:
    """Thread-safe, in-memory list of the AuditEvents received, in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._events.append(copy.deepcopy(event))

    def events(self) -> list[dict[str, Any]]:
        """A copy: callers may inspect or mutate it freely while servers keep appending."""
        with self._lock:
            return copy.deepcopy(self._events)

    def get(self, event_id: str) -> dict[str, Any] | None:
        with self._lock:
            for event in self._events:
                if event.get("id") == event_id:
                    return copy.deepcopy(event)
        return None

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


def _outcome(status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = FHIR_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def make_audit_app(verify_token: TokenVerifier) -> tuple[Flask, AuditStore]:
    """Build the sink. `verify_token` is the IdP's access-token verifier (claims, or None)."""
    app = Flask(__name__)
    store = AuditStore()

    @app.before_request
    def require_bearer() -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or verify_token(token.strip()) is None:
            return _outcome(
                401, "login", "A valid bearer access token is required.",
                {"WWW-Authenticate": 'Bearer realm="wardview-sandbox-audit"'},
            )
        return None

    @app.post("/AuditEvent")
    def create() -> Response:
        event = request.get_json(force=True, silent=True)
        if not isinstance(event, dict) or event.get("resourceType") != "AuditEvent":
            return _outcome(400, "structure", "The body must be a FHIR AuditEvent in JSON.")
        stored = dict(event)
        stored["id"] = str(uuid.uuid4())
        stored["meta"] = {
            **(event.get("meta") if isinstance(event.get("meta"), dict) else {}),
            "versionId": "1",
            "lastUpdated": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        store.add(stored)
        response = jsonify(stored)
        response.status_code = 201
        response.mimetype = FHIR_JSON
        response.headers["Location"] = f"{request.host_url.rstrip('/')}/AuditEvent/{stored['id']}/_history/1"
        return response

    @app.get("/AuditEvent")
    def search() -> Response:
        events = store.events()
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(events),
            "entry": [
                {
                    "fullUrl": f"{request.host_url.rstrip('/')}/AuditEvent/{event['id']}",
                    "resource": event,
                    "search": {"mode": "match"},
                }
                for event in events
            ],
        }
        response = jsonify(bundle)
        response.mimetype = FHIR_JSON
        return response

    @app.get("/AuditEvent/<event_id>")
    def read(event_id: str) -> Response:
        event = store.get(event_id)
        if event is None:
            return _outcome(404, "not-found", "No AuditEvent with that id.")
        response = jsonify(event)
        response.mimetype = FHIR_JSON
        return response

    return app, store
