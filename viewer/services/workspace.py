"""The services the main window uses, behind one small Qt-free facade so the UI knows nothing of OIDC,
PDS or GP Connect: sign in, choose a role, open a record, sign out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from viewer.auth.oidc import OidcClient
from viewer.auth.roles import can_view_records
from viewer.auth.session import ClinicianSession, sign_in_clinician
from viewer.record.combined import CombinedRecord
from viewer.services.open_record import OnUpdate, OpenRecord

log = logging.getLogger(__name__)

BrowserOpener = Callable[[str], Awaitable[None] | None]


class NoSuitableRole(Exception):
    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


class Workspace:
    """One per application run. `sandbox` marks synthetic data (the window says so on every screen)."""

    def __init__(
        self,
        *,
        oidc: OidcClient,
        browser_for: Callable[[str | None], BrowserOpener],
        open_record: OpenRecord,
        org_ods: str,
        sandbox: bool = False,
        demo_users: list[tuple[str, str]] | None = None,
        demo_patients: list[tuple[str, str]] | None = None,
    ):
        self._oidc = oidc
        self._browser_for = browser_for
        self._open_record = open_record
        self._org_ods = org_ods
        self.sandbox = sandbox
        self.demo_users = demo_users or []
        self.demo_patients = demo_patients or []

    async def sign_in(self, username: str | None) -> ClinicianSession:
        """Sign in through the browser (or the sandbox's stand-in for a chosen demo clinician)."""
        return await sign_in_clinician(self._oidc, self._browser_for(username), login_hint=username)

    async def sign_out(self, session: ClinicianSession) -> None:
        try:
            await self._oidc.revoke(session.tokens)
        except Exception as exc:
            log.warning("Token revocation failed (%s); signed out locally", type(exc).__name__)

    def role_choices(self, session: ClinicianSession) -> list[tuple[str, str]]:
        """Roles that may view records, as (role id, label)."""
        return [
            (role.person_roleid, f"{role.role_name} - {role.org_code}")
            for role in session.roles
            if can_view_records(role)
        ]

    def select_role(self, session: ClinicianSession, role_id: str) -> None:
        session.select_role(role_id)

    def blocked_reason(self, session: ClinicianSession) -> str | None:
        """Why this clinician may not open records yet, in words they understand; None when they may."""
        if not self.role_choices(session):
            return (
                "None of your roles allows viewing patient records. "
                "Ask your Registration Authority for a clinical role."
            )
        if session.selected_role is None:
            return "Choose a role to continue."
        if not can_view_records(session.selected_role):
            return "The selected role does not allow viewing patient records."
        return None

    def who(self, session: ClinicianSession) -> str:
        role = session.selected_role
        role_text = f" - {role.role_name} ({role.org_code})" if role is not None else ""
        return f"{session.display_name}{role_text}"

    async def open_record(
        self, nhs_number: str, session: ClinicianSession, on_update: OnUpdate
    ) -> CombinedRecord:
        reason = self.blocked_reason(session)
        if reason is not None:
            raise NoSuitableRole(reason)
        ctx = session.request_context(self._org_ods)
        return await self._open_record(nhs_number, ctx, on_update)

    def __repr__(self) -> str:
        return f"Workspace(sandbox={self.sandbox})"


__all__ = ["NoSuitableRole", "Workspace"]
