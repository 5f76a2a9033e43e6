"""Where the GP Connect 1.6 STU3 profiles, extensions and code systems live.

The provider stamps these URLs on every resource it writes; the consumer checks some of them, so one
spelling is kept for the whole sandbox GP practice.
"""

from __future__ import annotations

SD = "https://fhir.nhs.uk/STU3/StructureDefinition/"
CC_EXT = "https://fhir.hl7.org.uk/STU3/StructureDefinition/"
SPINE_CODES = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"
OPERATION_OUTCOME_PROFILE = SD + "GPConnect-OperationOutcome-1"
BUNDLE_PROFILE = SD + "GPConnect-StructuredRecord-Bundle-1"
LIST_WARNING_URL = SD + "Extension-CareConnect-GPC-ListWarningCode-1"
EMPTY_REASON_SYSTEM = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ListEmptyReasonCode-1"


def profile_meta(profile: str) -> dict:
    """Resource.meta claiming one GP Connect / Care Connect profile, named without its base URL."""
    return {"profile": [SD + profile]}
