"""Per-source status for the status strip: a clinician must always know which part is missing and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from viewer.domain.dates import format_date, format_time
from viewer.domain.provenance import SourceKind


class SourceState(StrEnum):
    LOADING = "loading"
    LOADED = "loaded"
    FAILED = "failed"
    WITHHELD = "withheld"  # the patient has dissented from sharing (GP Connect NO_PATIENT_CONSENT)
    NOT_FOUND = "not-found"  # the source holds no record for this patient
    NOT_CONFIGURED = "not-configured"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: SourceKind
    state: SourceState
    at: datetime | None = None
    reason: str | None = None

    def text(self) -> str:
        """`GP: loaded 10:42 23-Nov-2026`, `Hospital: failed - did not answer in time`, ..."""
        label = self.source.label
        if self.state is SourceState.LOADING:
            return f"{label}: loading…"
        if self.state is SourceState.LOADED and self.at is not None:
            return f"{label}: loaded {format_time(self.at)} {format_date(self.at)}"
        if self.state is SourceState.WITHHELD:
            return f"{label}: withheld at the patient's request"
        if self.state is SourceState.NOT_CONFIGURED:
            return f"{label}: not configured on this PC"
        if self.state is SourceState.NOT_FOUND:
            return f"{label}: no record - {self.reason}" if self.reason else f"{label}: no record"
        return f"{label}: failed - {self.reason or 'unknown error'}"
