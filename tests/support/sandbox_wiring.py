"""Wires the real services to a running sandbox, the same way `wardview --sandbox` does."""

from __future__ import annotations

from typing import Any

from viewer.app import demo_lists, sandbox_browser
from viewer.config import Settings
from viewer.services.compose import build_workspace, http_client_for, open_local_store
from viewer.services.workspace import Workspace
from viewer.store.paths import default_store_path

# Most sandbox tests are about what a record shows, not who may open it, and only one demo patient is in
# hospital now; they open records as the demo does for everyone else: through the emergency route.
RECORD_CONTENT_REASON = "Other (explain): automated test of record content (synthetic patient)"


def sandbox_settings(sandbox: Any) -> Settings:
    return Settings().for_sandbox(sandbox.info)


def patient_number(sandbox: Any, scenario: str) -> str:
    for p in sandbox.info["patients"]:
        if p["scenario"] == scenario:
            return p["nhs_number"]
    raise LookupError(f"no sandbox patient with scenario {scenario!r}")


class DeclaredEmergency:
    """The real Workspace, with every record opened under a declared emergency reason unless the caller
    gives its own. Everything else is the Workspace's own."""

    def __init__(self, workspace: Workspace, reason: str):
        self.workspace = workspace
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        return getattr(self.workspace, name)

    async def open_record(self, nhs_number: str, session: Any, on_update: Any, *,
                          emergency_reason: str | None = None) -> Any:
        return await self.workspace.open_record(
            nhs_number, session, on_update, emergency_reason=emergency_reason or self.reason
        )


def make_workspace(
    sandbox: Any, *, emergency_reason: str | None = RECORD_CONTENT_REASON, audit_store: str | None = None,
    settings: Settings | None = None,
) -> tuple[Any, Any]:
    """Must be called on the event loop that will use it (the http client belongs to that loop).

    `emergency_reason=None` gives the bare Workspace, with the legitimate-relationship check in force.
    `audit_store` names the encrypted store (under XDG_DATA_HOME) the real audit, record cache and session
    journal use, as the app does; without it nothing is audited or kept. `settings` replaces the sandbox's
    own (e.g. short timeouts for a fault test).
    """
    settings = settings or sandbox_settings(sandbox)
    http = http_client_for(settings)
    users, patients = demo_lists(sandbox.info)
    local = None
    if audit_store is not None:
        holder: dict[str, Any] = {}

        def token() -> str | None:
            session = getattr(holder.get("workspace"), "current_session", None)
            return session.tokens.access_token if session is not None else None

        local = open_local_store(settings, http, path=default_store_path(audit_store), token=token)
        if local.problem is not None:
            raise RuntimeError(local.problem)
    workspace = build_workspace(
        settings, http, sandbox_browser(sandbox.info["ca_cert"]), sandbox=True,
        demo_users=users, demo_patients=patients, local=local,
    )
    if audit_store is not None:
        holder["workspace"] = workspace
    if emergency_reason is None:
        return workspace, http
    return DeclaredEmergency(workspace, emergency_reason), http
