"""The services the main window uses, behind one small Qt-free facade so the UI knows nothing of OIDC,
PDS or GP Connect: sign in, choose a role, check the care relationship, open a record, sign out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from viewer.auth.oidc import OidcClient, SessionExpired
from viewer.auth.roles import can_view_records
from viewer.auth.session import ClinicianSession, sign_in_clinician
from viewer.auth.token_store import RefreshTokenStore
from viewer.domain.nhs_number import is_valid, normalise
from viewer.record.combined import CombinedRecord
from viewer.services.audit import Audit
from viewer.services.open_record import InvalidNhsNumber, OnUpdate, OpenRecord
from viewer.services.relationship import (
    AccessEvent,
    CheckResult,
    NeedsEmergencyAccess,
    OnAccess,
    Relationship,
    RelationshipCheck,
    access_event,
)
from viewer.services.search import InvalidCriteria, MatchRow, PatientSearchPort, SearchCriteria, match_row
from viewer.sources.context import RequestContext
from viewer.sources.errors import SourceUnavailable, TooManyMatches
from viewer.store.audit_log import AuditAction, AuditOutcome
from viewer.store.errors import KeyringUnavailable

log = logging.getLogger(__name__)

BrowserOpener = Callable[[str], Awaitable[None] | None]

REFRESH_AHEAD_SECONDS = 120  # refresh this long before the access token expires
NO_KEYRING_FOR_SIGN_IN = (
    "This PC's secure key store is not available, so Wardview cannot keep you signed in: "
    "you will need to sign in again when your sign-in expires."
)


class SessionJournalPort(Protocol):
    """viewer.store.session_journal.SessionJournal: which patients each clinician has open."""

    def opened(self, user_id: str, nhs_number: str) -> None: ...
    def closed(self, user_id: str, nhs_number: str) -> None: ...
    def ended_cleanly(self, user_id: str) -> None: ...
    def left_open(self, user_id: str) -> list[str]: ...


class NoSuitableRole(Exception):
    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


def _no_audit(_event: AccessEvent) -> None:
    return None


class Workspace:
    """One per application run. `sandbox` marks synthetic data (the window says so on every screen).

    `relationship` is the legitimate-relationship check; without one every open takes the emergency
    route (never a silent allow). `on_access` receives every record access before the record is fetched;
    if it raises, the record is not opened, because an access that cannot be recorded must not happen.
    `access_log` keeps the same events for this run. `journal` remembers the patients each clinician
    has open, so that after a crash the same clinician is offered them again. The refresh token of each
    sign-in is kept only in the OS keyring (`refresh_tokens`), never in the session; `keyring_problem`
    says, in plain words, when it could not be kept.
    """

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
        relationship: RelationshipCheck | None = None,
        on_access: OnAccess | None = None,
        org_name: str | None = None,
        audit: Audit | None = None,
        refresh_tokens: RefreshTokenStore | None = None,
        journal: SessionJournalPort | None = None,
        patient_search: PatientSearchPort | None = None,
    ):
        self._oidc = oidc
        self._browser_for = browser_for
        self._open_record = open_record
        self._org_ods = org_ods
        self.sandbox = sandbox
        self.demo_users = demo_users or []
        self.demo_patients = demo_patients or []
        self._relationship = relationship or RelationshipCheck(None, org_ods=org_ods)
        self.audit = audit
        self._on_access = on_access or (audit.record_access if audit is not None else _no_audit)
        self.current_session: ClinicianSession | None = None  # whose token the audit sender uses
        self.organisation = org_name or org_ods  # how the emergency-access dialog names us
        self.access_log: list[AccessEvent] = []
        self._refresh_tokens = refresh_tokens or RefreshTokenStore()
        self.keyring_problem: str | None = None
        self._journal = journal
        self._patient_search = patient_search

    async def sign_in(self, username: str | None) -> ClinicianSession:
        """Sign in through the browser (or the sandbox's stand-in for a chosen demo clinician); every
        attempt is audited, a failed one too."""
        try:
            session = await sign_in_clinician(self._oidc, self._browser_for(username), login_hint=username)
        except Exception as exc:
            self._audit(AuditAction.SIGN_IN_FAILED, outcome=AuditOutcome.FAILED,
                        detail={"error": type(exc).__name__})
            raise
        self._keep_refresh_token(session)
        self.current_session = session
        self._audit(AuditAction.SIGN_IN, session=session)
        return session

    def needs_refresh(self, session: ClinicianSession, now: datetime | None = None) -> bool:
        """The access token expires within two minutes (or has): refresh it before a call fails."""
        return session.tokens.expires_within(REFRESH_AHEAD_SECONDS, now)

    async def refresh(self, session: ClinicianSession) -> None:
        """New tokens for `session` with the refresh token from the keyring; the rotated one goes back.

        SessionExpired when none is kept or the IdP refuses it, KeyringUnavailable when the keyring cannot
        be read: either way the clinician must sign in again.
        """
        token = self._refresh_tokens.take(session.user_id)
        if token is None:
            raise SessionExpired(detail="no refresh token kept")
        refreshed = await self._oidc.refresh(replace(session.tokens, refresh_token=token))
        session.replace_tokens(refreshed)
        self._keep_refresh_token(session)

    def _keep_refresh_token(self, session: ClinicianSession) -> None:
        """Move the session's refresh token into the keyring; without a keyring it is dropped, not kept."""
        token = session.detach_refresh_token()
        if token is None:
            return
        try:
            self._refresh_tokens.put(session.user_id, token)
        except KeyringUnavailable:
            self.keyring_problem = NO_KEYRING_FOR_SIGN_IN
            log.warning("No usable keyring: the refresh token was dropped; sign-in will not be renewed")
            with contextlib.suppress(KeyringUnavailable):  # an older, rotated token must not be reused
                self._refresh_tokens.delete(session.user_id)
        else:
            self.keyring_problem = None

    async def sign_out(self, session: ClinicianSession) -> None:
        """The keyring entry goes before the network is tried, so a failed revocation leaves nothing."""
        self._audit(AuditAction.SIGN_OUT, session=session)
        self._journal_write("ended_cleanly", session.user_id)
        if self.current_session is session:
            self.current_session = None
        tokens = session.tokens
        try:
            kept = self._refresh_tokens.take(session.user_id)
            self._refresh_tokens.delete(session.user_id)
        except KeyringUnavailable:
            kept = None
            log.warning("The keyring could not be used at sign-out; revoking the access token only")
        if kept is not None:
            tokens = replace(tokens, refresh_token=kept)
        try:
            await self._oidc.revoke(tokens)
        except Exception as exc:
            log.warning("Token revocation failed (%s); signed out locally", type(exc).__name__)

    def record_event(self, action: str, session: ClinicianSession | None, **details: Any) -> None:
        """Lock, unlock, section views and the like, from the window."""
        self._audit(AuditAction(action), session=session, **details)

    def _audit(self, action: AuditAction, **fields: Any) -> None:
        if self.audit is not None:
            self.audit.record(action, **fields)

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

    async def check_relationship(self, nhs_number: str, session: ClinicianSession) -> CheckResult:
        """The patient's current encounter or episode here; None when there is none; CheckFailed when the
        check could not be made. Raises NoSuitableRole, InvalidNhsNumber or ReauthenticationRequired."""
        number, ctx = self._prepare(nhs_number, session)
        return await self._relationship(number, ctx)

    async def open_record(
        self,
        nhs_number: str,
        session: ClinicianSession,
        on_update: OnUpdate,
        *,
        emergency_reason: str | None = None,
    ) -> CombinedRecord:
        """Open the record when the relationship check finds current care; otherwise raise
        NeedsEmergencyAccess, and the caller asks the clinician for a reason and calls again with it.

        With a reason the check is not repeated: the clinician has already been told why it was needed,
        and a check that timed out would only make them wait a second time for the same answer.
        """
        number, ctx = self._prepare(nhs_number, session)
        if emergency_reason is not None:
            reason = " ".join(emergency_reason.split())
            if not reason:
                raise ValueError("A reason is needed for emergency access.")
            event = access_event(number, ctx, "emergency", reason)
        else:
            result = await self._relationship(number, ctx)
            if not isinstance(result, Relationship):
                raise self._relationship.why_emergency(result)
            event = access_event(number, ctx, "relationship", result.describe(), result)
        self._on_access(event)
        self.access_log.append(event)
        if event.kind == "emergency":
            log.info("Record opened under emergency access (flagged for review)")
        self._journal_write("opened", session.user_id, number)
        return await self._open_record(number, ctx, on_update)

    # ----- the session journal: what to offer again after a crash ------------------------------------
    def record_closed(self, nhs_number: str, session: ClinicianSession) -> None:
        """A tab was closed: after a crash that patient is not offered again."""
        if is_valid(nhs_number):
            self._journal_write("closed", session.user_id, normalise(nhs_number))

    async def left_open(self, session: ClinicianSession) -> list[tuple[str, str]]:
        """The patients this clinician had open when Wardview last stopped without a sign-out, as
        (NHS number, name kept on this PC or ''), oldest first. Empty without a journal; never another
        clinician's patients. Nothing is opened here: each goes through `open_record` (role, relationship,
        audit) when the clinician says yes."""
        if self._journal is None:
            return []
        journal = self._journal
        try:
            numbers = await asyncio.to_thread(journal.left_open, session.user_id)
        except Exception as exc:
            log.warning("The session journal could not be read (%s)", type(exc).__name__)
            return []
        return [(number, await asyncio.to_thread(self._kept_name, number)) for number in numbers]

    async def recent_patients(self, session: ClinicianSession, limit: int = 10) -> list[tuple[str, str]]:
        """The patients this clinician opened here, newest first, each once, at most `limit`, as (NHS number,
        name kept on this PC or ''). Read from the audit log, so only this clinician's own opens count and
        nothing depends on the window remembering; empty without a store. Choosing one opens it through
        `open_record` like any other number (role, relationship, audit)."""
        audit_log = self.audit.audit_log if self.audit is not None else None
        if audit_log is None or limit <= 0:
            return []
        try:
            numbers = await asyncio.to_thread(audit_log.recent_patients, session.user_id, limit)
        except Exception as exc:
            log.warning("Recent patients could not be read from the audit log (%s)", type(exc).__name__)
            return []
        return [(number, await asyncio.to_thread(self._kept_name, number)) for number in numbers]

    def _kept_name(self, number: str) -> str:
        """The patient's name as kept in the record cache, '' when nothing is kept (or it cannot be read)."""
        cache = getattr(self._open_record, "cache", None)
        if cache is None:
            return ""
        try:
            patient = cache.kept_patient(number)
        except Exception:
            return ""
        return patient.name.banner() if patient is not None else ""

    def forget_left_open(self, session: ClinicianSession) -> None:
        """The clinician declined the offer: it is not made again."""
        self._journal_write("ended_cleanly", session.user_id)

    def _journal_write(self, method: str, *args: str) -> None:
        """A journal that cannot be written costs the crash offer, never the action itself."""
        if self._journal is None:
            return
        try:
            getattr(self._journal, method)(*args)
        except Exception as exc:
            log.warning("The session journal could not be updated (%s)", type(exc).__name__)

    async def search_patients(self, criteria: SearchCriteria, session: ClinicianSession) -> list[MatchRow]:
        """PDS demographic search, best match first; every attempt is audited as `search` with the kind of
        criteria (never their values) and the NHS numbers shown, the way record opens keep the patient.

        Raises NoSuitableRole (the same rule as opening a record), InvalidCriteria (nothing sent),
        TooManyMatches (ask for more detail) or the PDS client's SourceError.
        """
        detail: dict[str, Any] = {"criteria": criteria.kind()}
        self._require_role(session, AuditAction.SEARCH, detail=detail)
        problem = criteria.problem()
        if problem is not None:
            self._audit(AuditAction.SEARCH, session=session, outcome=AuditOutcome.REFUSED,
                        detail={**detail, "reason": "criteria"})
            raise InvalidCriteria(problem)
        try:
            if self._patient_search is None:
                raise SourceUnavailable("Patient search is not set up on this PC.")
            ctx = session.request_context(self._org_ods)
            matches = await self._patient_search.search(criteria.query(), ctx)
        except TooManyMatches:
            self._audit(AuditAction.SEARCH, session=session, outcome=AuditOutcome.REFUSED,
                        detail={**detail, "reason": "too-many-matches"})
            raise
        except Exception as exc:
            self._audit(AuditAction.SEARCH, session=session, outcome=AuditOutcome.FAILED,
                        detail={**detail, "error": type(exc).__name__})
            raise
        rows = [match_row(m.patient) for m in matches]
        self._audit(AuditAction.SEARCH, session=session,
                    detail={**detail, "matches": len(rows), "results": [r.nhs_number for r in rows]})
        return rows

    def _require_role(self, session: ClinicianSession, refused: AuditAction, *, patient: str | None = None,
                      detail: dict[str, Any] | None = None) -> None:
        """Audit `refused` and raise NoSuitableRole when this clinician may not see patients at all."""
        reason = self.blocked_reason(session)
        if reason is not None:
            self._audit(refused, session=session, outcome=AuditOutcome.REFUSED, patient=patient,
                        detail={**(detail or {}), "reason": "role"})
            raise NoSuitableRole(reason)

    def _prepare(self, nhs_number: str, session: ClinicianSession) -> tuple[str, RequestContext]:
        """Refusals that need no network come first, so an invalid number is never sent anywhere."""
        self._require_role(session, AuditAction.ACCESS_REFUSED,
                           patient=normalise(nhs_number) if is_valid(nhs_number) else None)
        number = normalise(nhs_number)
        if not is_valid(number):
            raise InvalidNhsNumber("This is not a valid NHS number (the check digit does not match).")
        return number, session.request_context(self._org_ods)

    def __repr__(self) -> str:
        return f"Workspace(sandbox={self.sandbox})"


__all__ = ["NeedsEmergencyAccess", "NoSuitableRole", "Workspace"]
