"""Per-source status for the status strip: a clinician must always know which part is missing and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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
    """`cached_at` is set while the copy kept on this PC is on screen instead of a live answer: while the
    source is being asked (LOADING) or after it failed (FAILED). A clinician must never take a copy for
    the live record, so the text then leads with the copy and its age."""

    source: SourceKind
    state: SourceState
    at: datetime | None = None
    reason: str | None = None
    cached_at: datetime | None = None

    @property
    def shows_copy(self) -> bool:
        return self.cached_at is not None and self.state in (SourceState.LOADING, SourceState.FAILED)

    def text(self, now: datetime | None = None) -> str:
        """`GP: loaded 10:42 23-Nov-2026`, `Hospital: failed - did not answer in time`,
        `GP: showing copy from 10:42 22-Nov-2026 (1 day old) - GP Connect unavailable (timeout)`, ..."""
        label = self.source.label
        if self.shows_copy and self.cached_at is not None:
            copy = (f"{label}: showing copy from {format_time(self.cached_at)} {format_date(self.cached_at)} "
                    f"({age_text(self.cached_at, now or datetime.now(UTC))})")
            if self.state is SourceState.LOADING:
                return f"{copy} - refreshing…"
            return f"{copy} - {self.reason or 'unknown error'}"
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


def age_text(then: datetime, now: datetime) -> str:
    """How old a copy is, in the unit a clinician reads at a glance: `just now`, `25 min old`, `3 h old`,
    `2 days old`. A clock that went backwards reads as `just now` rather than a negative age."""
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min old"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h old"
    return f"{hours // 24} days old"
