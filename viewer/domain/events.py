"""The rest of the record: encounters, results, immunisations, referrals, documents and flags.

Fields are kept as given; every item carries its Provenance. Free text is never shortened here.
"""

from __future__ import annotations

from viewer.domain.coding import Concept
from viewer.domain.dates import PartialDate
from viewer.domain.provenance import Provenance
from viewer.domain.record_value import RecordValue


class Encounter(RecordValue):
    """A GP consultation or a hospital encounter (admission, outpatient, emergency attendance)."""

    provenance: Provenance
    kind: str | None = None  # consultation / inpatient / outpatient / emergency / the class as given
    type: Concept | None = None
    status: str | None = None  # finished / in-progress / ...
    start: PartialDate | None = None
    end: PartialDate | None = None
    reasons: tuple[Concept, ...] = ()
    clinician: str | None = None
    location: str | None = None
    notes: tuple[str, ...] = ()


class Observation(RecordValue):
    """A result or measurement. `value` is the value as a clinician reads it (number or text); `number`
    is set only when the source gave a quantity, so charts never parse display text."""

    test: Concept
    provenance: Provenance
    effective: PartialDate | None = None
    value: str | None = None
    number: float | None = None
    unit: str | None = None
    comparator: str | None = None  # <, <=, >=, > as given
    range_low: float | None = None
    range_high: float | None = None
    range_text: str | None = None
    interpretation: str | None = None
    status: str | None = None
    report_id: str | None = None  # logical id of the DiagnosticReport that groups it, when there is one
    notes: tuple[str, ...] = ()


class Report(RecordValue):
    """A DiagnosticReport (investigation) grouping results; `result_ids` are the Observations' logical ids."""

    name: Concept
    provenance: Provenance
    issued: PartialDate | None = None
    status: str | None = None
    result_ids: tuple[str, ...] = ()
    conclusion: str | None = None
    notes: tuple[str, ...] = ()


class Immunisation(RecordValue):
    vaccine: Concept
    provenance: Provenance
    given: PartialDate | None = None
    status: str | None = None  # completed / not-done / entered-in-error
    dose: str | None = None  # dose number / series as given
    site: str | None = None
    route: str | None = None
    batch: str | None = None
    performer: str | None = None
    notes: tuple[str, ...] = ()


class Referral(RecordValue):
    provenance: Provenance
    service: str | None = None  # the service or specialty referred to
    reasons: tuple[Concept, ...] = ()
    authored: PartialDate | None = None
    status: str | None = None
    priority: str | None = None
    requester: str | None = None
    recipient: str | None = None
    notes: tuple[str, ...] = ()


class Document(RecordValue):
    """Document metadata only; the content is fetched (and sanitised) only when a clinician opens it."""

    title: str
    provenance: Provenance
    type: Concept | None = None
    created: PartialDate | None = None
    author: str | None = None
    status: str | None = None
    content_type: str | None = None
    url: str | None = None


class Flag(RecordValue):
    """An alert the source raised (e.g. anticoagulant, safeguarding)."""

    text: Concept
    provenance: Provenance
    status: str | None = None
    category: str | None = None
    start: PartialDate | None = None
    end: PartialDate | None = None
