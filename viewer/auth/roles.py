"""CIS2 national RBAC roles, and which of them may open a patient's record in Wardview.

Care Identity Service 2 tells us every role a user holds (`nhsid_nrbac_roles`); the user works in
one at a time, and that role's id travels with every national API call. A record viewer shows clinical
data, so only clinical access roles may open records. The default allow-list is the national RBAC
generic clinical access roles (NHS England, "User roles and access" / NCRS rationalised role codes):

    R8000  Clinical Practitioner Access Role (doctors, nurse practitioners and similar)
    R8001  Nurse Access Role
    R8003  Health Professional Access Role (allied and other health professionals)
    R8004  Healthcare Student Access Role (students who need to view detailed records)

Non-clinical roles, e.g. R8006 Medical Secretary, R8008 Admin or Clinical Support, R8009
Receptionist, R8010 Clerical, are refused with a reason. A trust can narrow or widen the list through
configuration (`RolePolicy(allowed_role_codes=...)`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_CLINICAL_ROLE_CODES: frozenset[str] = frozenset({"R8000", "R8001", "R8003", "R8004"})

ADMIN_ROLE_REASON = (
    "Your {role} role does not give access to patient records. "
    "Choose a clinical role, or ask your Registration Authority to add one."
)


@dataclass(frozen=True, slots=True)
class Role:
    """One entry of `nhsid_nrbac_roles`: a job role held at one organisation."""

    person_roleid: str  # the SDS role profile id: PDS NHSD-Session-URID, GP Connect JWT
    org_code: str  # ODS code of the organisation the role is held at
    role_name: str
    role_code: str
    activity_codes: tuple[str, ...] = ()
    org_name: str | None = None

    @property
    def label(self) -> str:
        """What the role picker shows: name and organisation, never the opaque ids alone."""
        where = self.org_name or self.org_code
        return f"{self.role_name} ({self.role_code}) at {where}"


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """Which role codes may view records. Passed in so a trust's configuration can change it."""

    allowed_role_codes: frozenset[str] = DEFAULT_CLINICAL_ROLE_CODES

    def can_view_records(self, role: Role) -> bool:
        return _code_of(role.role_code) in self.allowed_role_codes

    def refusal_reason(self, role: Role) -> str | None:
        """None when the role may view records, else a sentence for the clinician."""
        if self.can_view_records(role):
            return None
        return ADMIN_ROLE_REASON.format(role=role.role_name or role.role_code)


def can_view_records(role: Role, policy: RolePolicy | None = None) -> bool:
    """True when `role` is a clinical role allowed to open records (default CIS2 clinical list)."""
    return (policy or RolePolicy()).can_view_records(role)


def parse_roles(raw: Any) -> list[Role]:
    """Turn userinfo's `nhsid_nrbac_roles` into Roles; entries without an id or code are skipped.

    CIS2 sends role codes either bare (`R8000`) or with the job-role prefix
    (`S8000:G8000:R8000`); both are kept as sent and compared by their final `R` part.
    """
    if not isinstance(raw, Iterable) or isinstance(raw, str | bytes | Mapping):
        return []
    roles: list[Role] = []
    skipped = 0
    for entry in raw:
        if not isinstance(entry, Mapping):
            skipped += 1
            continue
        role_id = _text(entry.get("person_roleid"))
        code = _text(entry.get("role_code"))
        if not role_id or not code:
            skipped += 1
            continue
        activity = entry.get("activity_codes") or ()
        if isinstance(activity, str):
            activity = (activity,)
        roles.append(
            Role(
                person_roleid=role_id,
                org_code=_text(entry.get("org_code")) or "",
                role_name=_text(entry.get("role_name")) or code,
                role_code=code,
                activity_codes=tuple(str(a) for a in activity),
                org_name=_text(entry.get("org_name")),
            )
        )
    if skipped:
        log.warning("ignored %d malformed role entries in the user info", skipped)
    return roles


def _code_of(role_code: str) -> str:
    return role_code.rsplit(":", 1)[-1].strip().upper()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
