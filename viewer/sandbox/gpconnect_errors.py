"""How the sandbox GP practice says no: Spine error codes and the OperationOutcomes that carry them.

From the GP Connect error-handling page and the Spine-ErrorOrWarningCode-1 CodeSystem. Refusals and the
in-Bundle NOT_IMPLEMENTED warnings share the Spine coding, so both are written here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from viewer.sandbox.fhir_values import coding
from viewer.sandbox.gpconnect_profiles import OPERATION_OUTCOME_PROFILE, SPINE_CODES

# Spine code -> (HTTP status, issue type, display), from the error-handling page and the
# Spine-ErrorOrWarningCode-1 CodeSystem.
SPINE_ERRORS: dict[str, tuple[int, str, str]] = {
    "BAD_REQUEST": (400, "invalid", "Bad request"),
    "INVALID_NHS_NUMBER": (400, "value", "Invalid NHS number"),
    "INVALID_IDENTIFIER_SYSTEM": (400, "value", "Invalid identifier system"),
    "ACCESS DENIED": (403, "forbidden", "Access denied"),
    "NO_PATIENT_CONSENT": (403, "forbidden", "Patient has not provided consent to share data"),
    "PATIENT_NOT_FOUND": (404, "not-found", "Patient not found"),
    "NO_RECORD_FOUND": (404, "not-found", "No record found"),
    "ORGANISATION_NOT_FOUND": (404, "not-found", "Organisation not found"),
    "METHOD_NOT_ALLOWED": (405, "not-supported", "Method not allowed"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "not-supported", "Unsupported media type"),
    "INVALID_RESOURCE": (422, "invalid", "Invalid validation of resource"),
    "INVALID_PARAMETER": (422, "invalid", "Invalid parameter"),
    "INTERNAL_SERVER_ERROR": (500, "exception", "Internal server error"),
    "NOT_IMPLEMENTED": (501, "not-supported", "Not implemented"),
}


class GpcError(Exception):
    """A request the provider refuses, carrying the Spine error code to answer with.

    The diagnostics text goes back to the consumer; it never carries patient data because servers
    log exceptions.
    """

    def __init__(self, code: str, diagnostics: str | None = None) -> None:
        super().__init__(code if diagnostics is None else f"{code}: {diagnostics}")
        self.code = code
        self.diagnostics = diagnostics


def _spine_details(code: str) -> tuple[str, dict[str, Any]]:
    """(issue type, details) for a Spine code: both kinds of outcome code their issues alike."""
    _status, issue_type, display = SPINE_ERRORS[code]
    return issue_type, {"coding": [coding(SPINE_CODES, code, display)]}


def operation_outcome(code: str, diagnostics: str | None = None) -> dict:
    """A GPConnect-OperationOutcome-1 error body for a Spine error code."""
    issue_type, details = _spine_details(code)
    issue: dict[str, Any] = {"severity": "error", "code": issue_type, "details": details}
    if diagnostics:
        issue["diagnostics"] = diagnostics
    return {
        "resourceType": "OperationOutcome",
        "meta": {"profile": [OPERATION_OUTCOME_PROFILE]},
        "issue": [issue],
    }


def error_response(code: str, diagnostics: str | None = None) -> tuple[int, dict]:
    """The HTTP status and OperationOutcome the spec pairs with a Spine error code."""
    return SPINE_ERRORS[code][0], operation_outcome(code, diagnostics)


def not_implemented_warnings(disabled: Iterable[str], unrecognised: Iterable[str]) -> dict | None:
    """One OperationOutcome for switched-off areas and parameters the provider does not know.

    It travels inside a 200 Bundle (forwards compatibility page), so the rest of the record still comes.
    """
    issues = [(f"{area} has been disabled", area) for area in disabled]
    issues += [(f"{name} is an unrecognised parameter", name) for name in unrecognised]
    if not issues:
        return None
    return {
        "resourceType": "OperationOutcome",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [OPERATION_OUTCOME_PROFILE]},
        "issue": [_warning(text, diagnostics) for text, diagnostics in issues],
    }


def _warning(text: str, diagnostics: str) -> dict[str, Any]:
    issue_type, details = _spine_details("NOT_IMPLEMENTED")
    details["text"] = text
    return {"severity": "warning", "code": issue_type, "details": details, "diagnostics": diagnostics}
