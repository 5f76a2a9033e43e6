"""Headless fetch: sign in, open one record exactly as the window does, and sign out.

Trust IT run it (`wardview fetch NHSNUMBER`) to check a PC end to end: sign-in, the role, the care
relationship, PDS, SDS, GP Connect, the hospital server, the encrypted cache and the audit, in one go and
without a window. Nothing is bypassed: the role and the relationship are checked, the access is audited
(as emergency access when a reason had to be given), the record is kept in the cache like any other, and
the session is signed out (tokens revoked) at the end whatever happened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from viewer.auth.session import ClinicianSession
from viewer.record.combined import CombinedRecord
from viewer.record.status import SourceState
from viewer.services.relationship import NeedsEmergencyAccess
from viewer.services.workspace import Workspace

log = logging.getLogger(__name__)

ANSWERED = (SourceState.LOADED, SourceState.WITHHELD, SourceState.NOT_FOUND, SourceState.NOT_CONFIGURED)


class FetchRefused(Exception):
    """The record was not opened; `user_message` says why and what to do."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


async def fetch_record(
    workspace: Workspace,
    nhs_number: str,
    *,
    username: str | None = None,
    role_id: str | None = None,
    emergency_reason: str | None = None,
    progress: Callable[[str], None] | None = None,
    before_sign_out: Callable[[], Awaitable[object]] | None = None,
) -> CombinedRecord:
    """The combined record of `nhs_number`, or FetchRefused. `emergency_reason` is used only when there
    is no current care relationship, and then it is audited as emergency access. `before_sign_out` runs
    while the session's token is still good (the audit sender's flush)."""
    say = progress or (lambda _text: None)
    say("Signing in…")
    session = await workspace.sign_in(username)
    try:
        _choose_role(workspace, session, role_id)
        say(f"Signed in as {workspace.who(session)}")
        try:
            return await workspace.open_record(nhs_number, session, _ignore)
        except NeedsEmergencyAccess as exc:
            if not emergency_reason:
                raise FetchRefused(
                    f"{exc.user_message} To open it anyway, run again with --reason \"...\": the access is "
                    "then recorded in the audit as emergency access, flagged for review."
                ) from None
            say("No current care relationship: opening under emergency access (flagged for review)")
            return await workspace.open_record(
                nhs_number, session, _ignore, emergency_reason=emergency_reason
            )
    finally:
        if before_sign_out is not None:
            try:
                await before_sign_out()
            except Exception as exc:  # the sign-out (token revocation) must still happen
                log.warning("Work before sign-out failed (%s)", type(exc).__name__)
        await workspace.sign_out(session)


def _ignore(_record: CombinedRecord) -> None:
    return None


def _choose_role(workspace: Workspace, session: ClinicianSession, role_id: str | None) -> None:
    choices = workspace.role_choices(session)
    ids = [choice_id for choice_id, _ in choices]
    if role_id is not None:
        if role_id not in ids:
            raise FetchRefused(f"Role {role_id} is not one of your roles that may view records: "
                               + _listing(choices))
        workspace.select_role(session, role_id)
    elif len(ids) == 1:
        workspace.select_role(session, ids[0])
    elif len(ids) > 1 and (session.selected_role is None or session.selected_role.person_roleid not in ids):
        raise FetchRefused("You hold several roles: choose one with --role. " + _listing(choices))
    blocked = workspace.blocked_reason(session)
    if blocked is not None:
        raise FetchRefused(blocked)


def _listing(choices: list[tuple[str, str]]) -> str:
    return "; ".join(f"{role_id} ({label})" for role_id, label in choices) or "none"


def all_sources_answered(record: CombinedRecord) -> bool:
    """True when every configured source gave its answer (a record, a dissent, "no record"); False when
    one failed, which is what an end-to-end check must report."""
    return all(status.state in ANSWERED for status in record.statuses.values())
