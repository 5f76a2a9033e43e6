"""Wires the real services to a running sandbox, the same way `wardview --sandbox` does."""

from __future__ import annotations

from typing import Any

from viewer.app import demo_lists, sandbox_browser
from viewer.config import Settings
from viewer.services.compose import build_workspace, http_client_for
from viewer.services.workspace import Workspace


def sandbox_settings(sandbox: Any) -> Settings:
    return Settings().for_sandbox(sandbox.info)


def patient_number(sandbox: Any, scenario: str) -> str:
    for p in sandbox.info["patients"]:
        if p["scenario"] == scenario:
            return p["nhs_number"]
    raise LookupError(f"no sandbox patient with scenario {scenario!r}")


def make_workspace(sandbox: Any) -> tuple[Workspace, Any]:
    """Must be called on the event loop that will use it (the http client belongs to that loop)."""
    settings = sandbox_settings(sandbox)
    http = http_client_for(settings)
    users, patients = demo_lists(sandbox.info)
    workspace = build_workspace(
        settings, http, sandbox_browser(sandbox.info["ca_cert"]), sandbox=True,
        demo_users=users, demo_patients=patients,
    )
    return workspace, http
