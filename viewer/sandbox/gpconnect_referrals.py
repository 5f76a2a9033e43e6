"""GP Connect outbound referrals, and the diary entries List (the synthetic world keeps no diary)."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import fhir_date_time
from viewer.sandbox.gpconnect_context import RecordContext, concept, in_period
from viewer.sandbox.gpconnect_parameters import DIARY_ENTRIES
from viewer.sandbox.world import Area, SynthReferral

_STATUSES = ("draft", "active", "suspended", "cancelled", "completed", "entered-in-error", "unknown")


def write_referrals(ctx: RecordContext, options: dict) -> list[dict]:
    period = options.get("referralSearchPeriod")
    items = [_referral(ctx, r) for r in ctx.record.referrals if in_period(r.authored, period)]
    refs = (f"ReferralRequest/{r['id']}" for r in items)
    return [ctx.primary_list(Area.REFERRALS, refs, Area.REFERRALS), *items]


def _referral(ctx: RecordContext, referral: SynthReferral) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "ReferralRequest",
        "id": ctx.resource_id("referral", referral.id),
        "meta": ctx.meta("CareConnect-GPC-ReferralRequest-1"),
        "identifier": ctx.identifier(referral.id),
        "status": referral.status if referral.status in _STATUSES else "unknown",
        "intent": "order",
        "subject": {"reference": ctx.patient_ref},
        "authoredOn": fhir_date_time(referral.authored),
        "requester": {
            "agent": {"reference": ctx.clinician_ref(None)},
            "onBehalfOf": {"reference": ctx.org_ref},
        },
        "recipient": [{"display": referral.to_service}],
        "description": f"Referral to {referral.to_service}",
    }
    if referral.priority in ("routine", "urgent", "asap", "stat"):
        resource["priority"] = referral.priority
    if referral.reason:
        resource["reasonCode"] = [concept(referral.reason)]
    return resource


def write_diary_entries(ctx: RecordContext, options: dict) -> list[dict]:
    return [ctx.primary_list(DIARY_ENTRIES, (), DIARY_ENTRIES)]
