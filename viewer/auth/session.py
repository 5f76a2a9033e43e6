"""The signed-in clinician: who they are, the roles they hold, the one they work in, and their tokens.

Every national call needs the user's SDS id and chosen role id (PDS `NHSD-Session-URID`, the GP
Connect audit JWT), so the session is the one place a `RequestContext` comes from; a session without
a suitable selected role cannot make one, which keeps a non-clinical role from reaching patient data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from viewer.auth.oidc import AuthError, OidcClient, OpenBrowser, TokenInvalid, TokenSet
from viewer.auth.roles import Role, RolePolicy, parse_roles
from viewer.sources.context import RequestContext

log = logging.getLogger(__name__)

MAX_SESSION_LENGTH = timedelta(hours=12)  # CLINICAL.md: a session ends after 12 hours

NO_CLINICAL_ROLE = (
    "None of your roles allows viewing patient records. "
    "Ask your Registration Authority for a clinical role."
)
CHOOSE_ROLE = "Choose the role you are working in to continue."


class RoleNotAllowed(AuthError):
    default_message = "That role cannot be used to view patient records."


class NoRoleSelected(AuthError):
    default_message = CHOOSE_ROLE


@dataclass(frozen=True, slots=True)
class PersonName:
    given: str
    family: str
    title: str | None = None

    @property
    def display(self) -> str:
        """NHS CUI style: `FAMILY, Given (Title)`."""
        text = f"{self.family.upper()}, {self.given}".strip(", ")
        return f"{text} ({self.title})" if self.title else text


@dataclass(slots=True)
class ClinicianSession:
    """One sign-in. Mutable on purpose: the role can be changed and tokens are refreshed in place."""

    user_id: str  # nhsid_useruid: the SDS user id
    name: PersonName
    roles: tuple[Role, ...]
    selected_role: Role | None
    tokens: TokenSet = field(repr=False)
    signed_in_at: datetime
    policy: RolePolicy = field(default_factory=RolePolicy, repr=False)

    @property
    def display_name(self) -> str:
        return self.name.display

    @property
    def viewable_roles(self) -> tuple[Role, ...]:
        return tuple(r for r in self.roles if self.policy.can_view_records(r))

    def role_choices(self) -> list[tuple[str, str]]:
        """(role id, label) of each role that may view records, for the role picker."""
        return [(r.person_roleid, r.label) for r in self.viewable_roles]

    def select_role(self, role_id: str) -> Role:
        """Work in the held role `role_id`; refuse a role not held or one that may not view records."""
        role = next((r for r in self.roles if r.person_roleid == role_id), None)
        if role is None:
            raise RoleNotAllowed(
                "That role is not one of yours. Choose one of the roles listed.",
                detail="role not held",
            )
        reason = self.policy.refusal_reason(role)
        if reason is not None:
            raise RoleNotAllowed(reason, detail="role may not view records")
        self.selected_role = role
        log.info("role selected")
        return role

    def blocked_reason(self) -> str | None:
        """Why this clinician may not open records yet (a sentence for them); None when they may."""
        if not self.viewable_roles:
            return NO_CLINICAL_ROLE
        if self.selected_role is None:
            return CHOOSE_ROLE
        return self.policy.refusal_reason(self.selected_role)

    def request_context(self, org_ods: str | None = None) -> RequestContext:
        """Who is asking, for every national call.

        `org_ods` is the requesting organisation (the trust, from configuration); when None the
        selected role's own organisation is used.
        """
        role = self.selected_role
        if role is None:
            raise NoRoleSelected(detail="no role selected")
        reason = self.policy.refusal_reason(role)
        if reason is not None:
            raise RoleNotAllowed(reason, detail="role may not view records")
        return RequestContext(
            access_token=self.tokens.access_token,
            user_id=self.user_id,
            role_id=role.person_roleid,
            family_name=self.name.family,
            given_name=self.name.given,
            org_ods=org_ods or role.org_code,
            title=self.name.title,
        )

    def replace_tokens(self, tokens: TokenSet) -> None:
        """After a refresh: the same user must come back (the OIDC client checks `sub`)."""
        self.tokens = tokens

    def detach_refresh_token(self) -> str | None:
        """Hand the refresh token over (to the keyring) and keep none in memory; None when there was none.

        A refresh token outlives the access token by a shift, so the long-lived window must not hold it.
        """
        token = self.tokens.refresh_token
        if token is not None:
            self.tokens = replace(self.tokens, refresh_token=None)
        return token

    def ends_at(self) -> datetime:
        return self.signed_in_at + MAX_SESSION_LENGTH

    def has_ended(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.ends_at()


def session_from_userinfo(
    tokens: TokenSet,
    userinfo: Mapping[str, Any],
    *,
    policy: RolePolicy | None = None,
    signed_in_at: datetime | None = None,
) -> ClinicianSession:
    """Build the session from the verified tokens and the user info, preselecting a role when clear.

    The role CIS2 says the user chose (`selected_roleid`) is preselected when they hold it; otherwise
    a user with exactly one role that may view records gets that one; otherwise nobody is chosen and
    the UI asks.
    """
    policy = policy or RolePolicy()
    claims: Mapping[str, Any] = {**tokens.claims, **userinfo}
    user_id = _text(claims.get("nhsid_useruid"))
    if user_id is None:
        log.warning("user info has no nhsid_useruid")
        raise TokenInvalid(
            "Your NHS Care Identity did not include your user ID, so Wardview cannot sign you in.",
            detail="nhsid_useruid missing",
        )
    roles = tuple(parse_roles(userinfo.get("nhsid_nrbac_roles")))
    selected: Role | None = None
    selected_id = _text(claims.get("selected_roleid"))
    if selected_id is not None:
        selected = next((r for r in roles if r.person_roleid == selected_id), None)
    if selected is None:
        suitable = [r for r in roles if policy.can_view_records(r)]
        if len(suitable) == 1:
            selected = suitable[0]
    return ClinicianSession(
        user_id=user_id,
        name=_name_from(claims),
        roles=roles,
        selected_role=selected,
        tokens=tokens,
        signed_in_at=signed_in_at or datetime.now(UTC),
        policy=policy,
    )


async def sign_in_clinician(
    oidc: OidcClient,
    open_browser: OpenBrowser,
    *,
    timeout: float = 300,
    login_hint: str | None = None,
    policy: RolePolicy | None = None,
) -> ClinicianSession:
    """Sign in through the browser, then read who the user is and which roles they hold."""
    tokens = await oidc.sign_in(open_browser, timeout=timeout, login_hint=login_hint)
    info = await oidc.userinfo(tokens)
    session = session_from_userinfo(tokens, info, policy=policy)
    log.info(
        "signed in with %d role(s), %s", len(session.roles),
        "a role preselected" if session.selected_role else "no role preselected",
    )
    return session


def _name_from(claims: Mapping[str, Any]) -> PersonName:
    given = _text(claims.get("given_name"))
    family = _text(claims.get("family_name"))
    if given is None and family is None:
        full = _text(claims.get("name")) or ""
        given, _, family = full.rpartition(" ")
        if not given:
            given, family = family, ""
    title = _text(claims.get("title")) or _text(claims.get("honorific_prefix"))
    full = _text(claims.get("name"))
    if title is None and full and given and family and full.endswith(f" {given} {family}"):
        # CIS2 has no title claim; `name` is "Dr Asha Patel" when the user has one.
        title = full.removesuffix(f" {given} {family}").strip() or None
    return PersonName(given=given or "", family=family or "", title=title)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
