"""Typed failures of the national APIs, each with a sentence a clinician understands.

Messages never carry patient data: they reach the status strip, and may reach a log.
"""

from __future__ import annotations


class SourceError(Exception):
    """A source could not supply its part of the record. `user_message` is for the screen."""

    retryable = False

    def __init__(self, user_message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code
        self.status = status


class SourceUnavailable(SourceError):
    """Timeout, connection failure, TLS failure or a 5xx: the service, not the patient, is the problem."""

    retryable = True


class ReauthenticationRequired(SourceError):
    """401: the sign-in has expired or was refused. Never shown as 'no data'."""


class AccessDenied(SourceError):
    """403 other than dissent: the role or organisation may not see this record."""


class ConsentWithheld(SourceError):
    """GP Connect NO_PATIENT_CONSENT: the patient has dissented from sharing. Do not retry."""


class PatientNotFound(SourceError):
    """No record for this NHS number here (a source may not say why: sensitive, deceased, unregistered)."""


class InvalidRequest(SourceError):
    """400/422: our request was wrong; a defect to report, not a patient fact."""


class TlsFailure(SourceUnavailable):
    """The server's certificate is not trusted here, or is for another server: the connection was refused
    before anything was sent. Repeating it cannot help; IT must look at the certificates."""

    retryable = False


class UnreadableResponse(SourceError):
    """The body could not be parsed at all (malformed JSON, wrong content type, truncated)."""

    retryable = True


class UnexpectedContentType(UnreadableResponse):
    """A success that is not data: typically a proxy's or a portal's HTML page answered with 200."""


class ResponseTooLarge(UnreadableResponse):
    """The reply passed the source's size cap and was abandoned while streaming, never held whole."""

    retryable = False


class TooManyMatches(SourceError):
    """PDS TOO_MANY_MATCHES: ask the user for more detail."""
