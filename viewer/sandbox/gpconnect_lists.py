"""GP Connect's List resources: the primary list per clinical area and the consultation structure lists.

From the "Returning data in lists" page. Both kinds share the empty-list convention (an emptyReason and
the fixed note), so a consumer that reads one reads the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from viewer.sandbox.fhir_values import codeable
from viewer.sandbox.gpconnect_parameters import DIARY_ENTRIES
from viewer.sandbox.gpconnect_profiles import EMPTY_REASON_SYSTEM, profile_meta
from viewer.sandbox.world import SNOMED, Area

_LIST_ORDER = "http://hl7.org/fhir/list-order"

# Primary lists: (SNOMED code, display, List.title) from the "Returning data in lists" page.
PRIMARY_LISTS: dict[str, tuple[str, str, str]] = {
    Area.ALLERGIES: (
        "886921000000105",
        "Allergies and adverse reactions",
        "Allergies and adverse reactions",
    ),
    "ended-allergies": ("1103671000000101", "Ended allergies", "Ended allergies"),
    Area.CONSULTATIONS: ("1149501000000101", "List of consultations", "List of consultations"),
    DIARY_ENTRIES: (
        "714311000000108",
        "Patient recall administration",
        "Patient recall administration",
    ),
    Area.IMMUNISATIONS: ("1102181000000102", "Immunisations", "Immunisations"),
    Area.INVESTIGATIONS: (
        "887191000000108",
        "Investigations and results",
        "Investigations and results",
    ),
    Area.MEDICATION: (
        "933361000000108",
        "Medications and medical devices",
        "Medications and medical devices",
    ),
    Area.REFERRALS: ("792931000000107", "Outbound referral", "Outbound referral"),
    Area.PROBLEMS: ("717711000000103", "Problems", "Problems"),
    Area.UNCATEGORISED: ("826501000000100", "Miscellaneous record", "Uncategorised data"),
}

WARNING_TEXT = {
    "confidential-items": "Items excluded due to confidentiality and/or patient preferences.",
    "data-in-transit": (
        "Patient record transfer from previous GP practice not yet complete; "
        "information recorded before {date} may be missing."
    ),
    "data-awaiting-filing": (
        "Patient record contains some items in the GP practice workflow that have "
        "not been reviewed for inclusion in this message; information recorded "
        "before {date} may be missing."
    ),
}
EMPTY_NOTE = "Information not available"


def list_resource(
    list_id: str,
    title: str,
    code: str,
    display: str,
    patient_ref: str,
    when: str,
    order: tuple[str, str],
    encounter: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The head every GP Connect List shares; `order` is the list-order (code, display)."""
    resource: dict[str, Any] = {
        "resourceType": "List",
        "id": list_id,
        "meta": profile_meta("CareConnect-GPC-List-1"),
        "status": "current",
        "mode": "snapshot",
        "title": title,
        "code": codeable(SNOMED, code, display),
        "subject": {"reference": patient_ref},
    }
    if encounter is not None:
        resource["encounter"] = encounter
    resource["date"] = when
    resource["orderedBy"] = codeable(_LIST_ORDER, *order)
    return resource


def fill_list(resource: dict[str, Any], refs: Iterable[str], notes: list[str]) -> dict[str, Any]:
    """Entries, or the emptyReason and note the spec asks of an empty List; then the notes."""
    entries = [{"item": {"reference": ref}} for ref in refs]
    if entries:
        resource["entry"] = entries
    else:
        resource["emptyReason"] = codeable(EMPTY_REASON_SYSTEM, "no-content-recorded", "No Content Recorded")
        notes.append(EMPTY_NOTE)
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource
