"""What OpenRecord needs of the encrypted cache (viewer.store.record_cache.RecordCache).

A Protocol rather than the class itself so the use case can be tested with an in-memory stand-in, and so
that a PC whose store could not be opened simply runs without one (`None`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from viewer.domain.patient import Patient
from viewer.domain.provenance import SourceKind
from viewer.domain.source_record import SourceRecord


class CachedSourcePort(Protocol):
    @property
    def record(self) -> SourceRecord: ...
    @property
    def retrieved_at(self) -> datetime: ...


class CachedRecordPort(Protocol):
    @property
    def demographics(self) -> Patient | None: ...
    @property
    def demographics_at(self) -> datetime | None: ...
    @property
    def sources(self) -> Mapping[SourceKind, CachedSourcePort]: ...


class RecordCachePort(Protocol):
    def load(self, nhs_number: str) -> CachedRecordPort | None: ...
    def save_source(self, nhs_number: str, record: SourceRecord, *, etag: str | None = None) -> None: ...
    def save_demographics(self, nhs_number: str, patient: Patient, retrieved_at: datetime, *,
                          etag: str | None = None) -> None: ...
    def forget(self, nhs_number: str) -> bool: ...
    def forget_source(self, nhs_number: str, source: SourceKind) -> bool: ...
    def touch(self, nhs_number: str) -> None: ...
