"""The legitimate-relationship rule: a record opens directly only for a patient in this organisation's
care now; otherwise the clinician declares an emergency reason and the access is flagged for review.

The check never fails open (a silent allow) and never fails shut (a dead end at 3 a.m.): when it cannot be
made, the answer is `CheckFailed` with the reason, and the emergency route is offered as when there is no
relationship.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import httpx

from viewer.config import Settings
from viewer.sources.context import RequestContext
from viewer.sources.errors import ReauthenticationRequired, SourceError
from viewer.sources.relationship import Relationship, RelationshipClient

log = logging.getLogger(__name__)

AccessKind = Literal["relationship", "emergency"]

EMERGENCY_CHOICES: tuple[str, ...] = (
    "Emergency care",
    "Patient transferred in, not yet admitted",
    "Referral / clinic attendance not yet booked",
    "Other (explain)",
)
OTHER_CHOICE = EMERGENCY_CHOICES[-1]


@dataclass(frozen=True, slots=True)
class CheckFailed:
    """The check could not be made; `reason` is for the screen and the audit (no patient data)."""

    reason: str


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One record opened, and what the access rested on: a relationship, or a declared emergency.
    `reason` is the relationship found, or the clinician's own words."""

    nhs_number: str
    kind: AccessKind
    reason: str
    user_id: str
    role_id: str
    at: datetime
    relationship: Relationship | None = None


OnAccess = Callable[[AccessEvent], None]
CheckResult = Relationship | None | CheckFailed


class NeedsEmergencyAccess(Exception):
    """No relationship was found (or none could be checked): open again with an emergency reason.
    `user_message` says why, for the emergency-access dialog."""

    def __init__(self, user_message: str, *, check_failed: bool = False):
        super().__init__(user_message)
        self.user_message = user_message
        self.check_failed = check_failed


class RelationshipFinder(Protocol):
    async def find(self, nhs_number: str, ctx: RequestContext) -> Relationship | None: ...


class RelationshipCheck:
    """Asks the hospital server; `finder` None (no hospital server configured) means the check cannot be
    made, which sends every open through the emergency route rather than letting it through."""

    def __init__(self, finder: RelationshipFinder | None, *, org_ods: str):
        self._finder = finder
        self.org_ods = org_ods

    async def __call__(self, nhs_number: str, ctx: RequestContext) -> CheckResult:
        """Raises ReauthenticationRequired only: an expired sign-in is for signing in again, not for an
        emergency declaration that would be refused by every source anyway."""
        if self._finder is None:
            return CheckFailed("no hospital record server is configured")
        try:
            return await self._finder.find(nhs_number, ctx)
        except ReauthenticationRequired:
            raise
        except SourceError as exc:
            log.info("Care relationship check could not be made (%s)", type(exc).__name__)
            return CheckFailed(exc.user_message)
        except Exception as exc:  # a defect here must still leave the emergency route open
            log.exception("Care relationship check failed (%s)", type(exc).__name__)
            return CheckFailed("the hospital's answer could not be read")

    def why_emergency(self, result: CheckResult) -> NeedsEmergencyAccess:
        """The refusal to raise for a result that is not a relationship."""
        if isinstance(result, CheckFailed):
            return NeedsEmergencyAccess(f"the check could not be made: {result.reason}", check_failed=True)
        return NeedsEmergencyAccess(f"no active encounter or episode of care at {self.org_ods}")


def build_relationship_check(settings: Settings, http: httpx.AsyncClient) -> RelationshipCheck:
    """The check on the shared client, against the trust's server, with its configured timeout."""
    finder = (
        RelationshipClient(
            http,
            settings.hospital_fhir_url,
            org_ods=settings.ods_code,
            timeout=settings.hospital_timeout_seconds,
        )
        if settings.hospital_fhir_url
        else None
    )
    return RelationshipCheck(finder, org_ods=settings.ods_code)


def emergency_reason(choice: str, free_text: str) -> str:
    """`<choice>: <free text>`, or the choice alone; "Other" needs words. Raises ValueError otherwise."""
    choice, text = choice.strip(), " ".join(free_text.split())
    if choice not in EMERGENCY_CHOICES:
        raise ValueError("Choose a reason for emergency access.")
    if choice == OTHER_CHOICE and not text:
        raise ValueError("Explain the reason for emergency access.")
    return f"{choice}: {text}" if text else choice


def access_event(
    nhs_number: str,
    ctx: RequestContext,
    kind: AccessKind,
    reason: str,
    relationship: Relationship | None = None,
) -> AccessEvent:
    return AccessEvent(
        nhs_number=nhs_number,
        kind=kind,
        reason=reason,
        user_id=ctx.user_id,
        role_id=ctx.role_id,
        at=datetime.now(UTC),
        relationship=relationship,
    )


__all__ = [
    "EMERGENCY_CHOICES",
    "OTHER_CHOICE",
    "AccessEvent",
    "AccessKind",
    "CheckFailed",
    "CheckResult",
    "NeedsEmergencyAccess",
    "OnAccess",
    "Relationship",
    "RelationshipCheck",
    "RelationshipFinder",
    "access_event",
    "build_relationship_check",
    "emergency_reason",
]
