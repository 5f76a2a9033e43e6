"""Who is asking: the signed-in clinician's identity and chosen role, which every national API call carries
(PDS `NHSD-Session-URID`, the GP Connect audit JWT, the hospital bearer token)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    access_token: str
    user_id: str  # nhsid_useruid, the SDS user id
    role_id: str  # selected_roleid / person_roleid, the SDS role profile id
    family_name: str
    given_name: str
    org_ods: str  # the requesting organisation (the trust)
    title: str | None = None

    def __repr__(self) -> str:  # never let a token reach a log through a repr
        return f"RequestContext(user_id={self.user_id!r}, role_id={self.role_id!r}, org_ods={self.org_ods!r})"
