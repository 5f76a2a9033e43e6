"""OpenRecord: paint the copy kept on this PC, trace the patient on PDS, then fetch the GP and hospital
records in parallel and keep what came back.

Each source reports its own status as it goes, so the banner paints at once from the cache and again as
soon as PDS answers, and one slow or failing source never hides the other. A source that fails leaves
its cached copy on screen, labelled with its age and the failure; a source that now says "withheld" or
"no record" takes its cached copy away, because a copy must never show what the source no longer shares.
No Qt here: `on_update` is a plain callable that the UI's runner carries back to the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from viewer.domain.nhs_number import format_nhs_number, is_valid, normalise
from viewer.domain.patient import Patient
from viewer.domain.provenance import SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.record.collector import collector_paused, without_collector
from viewer.record.combined import CombinedRecord, combine
from viewer.record.status import SourceState, SourceStatus
from viewer.services.record_cache_port import CachedRecordPort, RecordCachePort
from viewer.sources.context import RequestContext
from viewer.sources.errors import (
    ConsentWithheld,
    PatientNotFound,
    ReauthenticationRequired,
    SourceError,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
OnUpdate = Callable[[CombinedRecord], None]


class InvalidNhsNumber(ValueError):
    """The number fails the Modulus 11 check: nothing is sent anywhere."""


class PdsPort(Protocol):
    async def read(self, nhs_number: str, ctx: RequestContext) -> Any: ...


class SdsPort(Protocol):
    async def lookup_gpconnect(self, ods_code: str) -> Any: ...


class GpConnectPort(Protocol):
    async def get_structured_record(self, nhs_number: str, endpoint: Any, ctx: RequestContext) -> bytes: ...


class HospitalPort(Protocol):
    async def fetch_record(self, nhs_number: str, ctx: RequestContext) -> Any: ...


@dataclass(frozen=True)
class RecordSources:
    """The clients and mappers OpenRecord needs; any of the clinical sources may be None (not configured)."""

    pds: PdsPort
    sds: SdsPort | None
    gpconnect: GpConnectPort | None
    hospital: HospitalPort | None
    map_gp: Callable[..., SourceRecord]
    map_hospital: Callable[..., SourceRecord]
    pds_is_fresh: Callable[[Any, datetime], bool]


def _now() -> datetime:
    return datetime.now(UTC)


CLINICAL_SOURCES = (SourceKind.GP, SourceKind.HOSPITAL)


class OpenRecord:
    """Use case: open one patient's combined record. Call it; await it; it reports progress meanwhile.

    `cache` is the encrypted store's record cache, or None when this PC has none (no keyring, a store
    that could not be opened): then nothing is kept and nothing is painted before the sources answer.
    The caller (Workspace) has checked the role and the care relationship and audited the access before
    this runs, so a cached copy is shown under exactly the same rules as a live record.
    """

    def __init__(
        self,
        sources: RecordSources,
        *,
        org_ods: str,
        org_name: str,
        clock: Clock = _now,
        cache: RecordCachePort | None = None,
    ):
        self._s = sources
        self._org_ods = org_ods
        self._org_name = org_name
        self._clock = clock
        self.cache = cache

    async def __call__(
        self, nhs_number: str, ctx: RequestContext, on_update: OnUpdate | None = None
    ) -> CombinedRecord:
        number = normalise(nhs_number)
        if not is_valid(number):
            raise InvalidNhsNumber("This is not a valid NHS number (the check digit does not match).")
        state = _Progress(on_update, self.cache, self._clock)
        cached = await state.load_cached(number)
        state.statuses = {
            SourceKind.PDS: SourceStatus(SourceKind.PDS, SourceState.LOADING),
            SourceKind.GP: self._initial(SourceKind.GP, self._s.gpconnect is not None),
            SourceKind.HOSPITAL: self._initial(SourceKind.HOSPITAL, self._s.hospital is not None),
        }
        if cached is not None:
            state.show_cached(cached)
        state.emit()

        trace = await self._trace(number, ctx, state)
        if trace is not None and trace.superseded_from:
            number = trace.patient.nhs_number
            state.notices.append(
                f"NHS number {format_nhs_number(trace.superseded_from)} has been replaced by "
                f"{format_nhs_number(number)}: showing the current record."
            )
            await state.keep(lambda cache: cache.forget(trace.superseded_from))
        if trace is not None and trace.restricted:
            state.drop_cached_copies()
            await state.keep(lambda cache: cache.forget(number))
        elif trace is not None:
            await state.keep(lambda cache: cache.save_demographics(
                number, trace.patient, trace.retrieved_at, etag=getattr(trace, "version", None)))
        state.emit()

        tasks = []
        if self._s.gpconnect is not None:
            tasks.append(self._gp(number, trace, ctx, state))
        if self._s.hospital is not None:
            tasks.append(self._hospital(number, trace, ctx, state))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, ReauthenticationRequired):
                raise result
        return state.emit()

    @staticmethod
    def _initial(source: SourceKind, configured: bool) -> SourceStatus:
        return SourceStatus(source, SourceState.LOADING if configured else SourceState.NOT_CONFIGURED)

    async def _trace(self, number: str, ctx: RequestContext, state: _Progress) -> Any:
        try:
            trace = await self._s.pds.read(number, ctx)
        except ReauthenticationRequired:
            state.set(SourceKind.PDS, SourceState.FAILED, "sign in again")
            raise
        except PatientNotFound as exc:
            state.pds_patient = None
            state.cached_at.pop(SourceKind.PDS, None)
            state.set(SourceKind.PDS, SourceState.NOT_FOUND, exc.user_message)
            return None
        except SourceError as exc:
            state.set(SourceKind.PDS, SourceState.FAILED, exc.user_message)
            return None
        state.pds_patient = trace.patient
        state.cached_at.pop(SourceKind.PDS, None)
        state.set(SourceKind.PDS, SourceState.LOADED, at=trace.retrieved_at)
        return trace

    async def _gp(self, number: str, trace: Any, ctx: RequestContext, state: _Progress) -> None:
        gp = SourceKind.GP
        if trace is None:
            state.set(gp, SourceState.FAILED, "needs a PDS trace, which failed")
            return
        if trace.restricted:
            await state.gone(number, gp, SourceState.NOT_FOUND, "not available for a restricted record")
            return
        if not self._s.pds_is_fresh(trace, self._clock()):
            state.set(gp, SourceState.FAILED, "the PDS trace is older than 24 hours")
            return
        ods = trace.patient.gp_practice_ods
        if not ods:
            await state.gone(number, gp, SourceState.NOT_FOUND, "not registered with a GP practice")
            return
        try:
            assert self._s.sds is not None and self._s.gpconnect is not None
            endpoint = await self._s.sds.lookup_gpconnect(ods)
            body = await self._s.gpconnect.get_structured_record(number, endpoint, ctx)
            retrieved = self._clock()
            record = await asyncio.to_thread(without_collector, self._s.map_gp, body, retrieved_at=retrieved)
        except ConsentWithheld:
            await state.gone(number, gp, SourceState.WITHHELD)
            return
        except PatientNotFound as exc:
            await state.gone(number, gp, SourceState.NOT_FOUND, exc.user_message)
            return
        except ReauthenticationRequired:
            state.set(gp, SourceState.FAILED, "sign in again")
            raise
        except SourceError as exc:
            state.set(gp, SourceState.FAILED, exc.user_message)
            return
        except Exception as exc:  # a defect must fail one source, never the whole record
            log.exception("GP record could not be processed (%s)", type(exc).__name__)
            state.set(gp, SourceState.FAILED, "the GP record could not be read")
            return
        await state.arrived(number, record, retrieved, keep=True)

    async def _hospital(self, number: str, trace: Any, ctx: RequestContext, state: _Progress) -> None:
        hosp = SourceKind.HOSPITAL
        try:
            assert self._s.hospital is not None
            fetched = await self._s.hospital.fetch_record(number, ctx)
            retrieved = self._clock()
            if fetched.patient is None:
                await state.gone(number, hosp, SourceState.NOT_FOUND, "no hospital record for this patient")
                return
            record = await asyncio.to_thread(
                without_collector,
                self._s.map_hospital,
                fetched.patient,
                fetched.resources,
                retrieved_at=retrieved,
                org_ods=self._org_ods,
                org_name=self._org_name,
            )
        except ReauthenticationRequired:
            state.set(hosp, SourceState.FAILED, "sign in again")
            raise
        except SourceError as exc:
            state.set(hosp, SourceState.FAILED, exc.user_message)
            return
        except Exception as exc:
            log.exception("Hospital record could not be processed (%s)", type(exc).__name__)
            state.set(hosp, SourceState.FAILED, "the hospital record could not be read")
            return
        # Nothing is kept for a restricted patient, or without a trace that says whether they are one.
        keep = trace is not None and not trace.restricted
        await state.arrived(number, record, retrieved, keep=keep)


CACHE_PROBLEM = "This record could not be kept on this PC"


class _Progress:
    """The record as it builds up; every change is emitted as a new immutable CombinedRecord.

    `cached_at` remembers, per source, the age of the cached copy on screen, so a failure of that source
    says "showing copy from ..." instead of hiding the copy. Cache reads and writes run off the event loop
    (SQLCipher and msgpack are blocking) and never fail the record: a store that cannot keep it is said
    once, as a notice, and the record on screen stays.
    """

    def __init__(self, on_update: OnUpdate | None, cache: RecordCachePort | None, clock: Clock):
        self._on_update = on_update
        self._cache = cache
        self._clock = clock
        self.statuses: dict[SourceKind, SourceStatus] = {}
        self.pds_patient: Patient | None = None
        self.gp: SourceRecord | None = None
        self.hospital: SourceRecord | None = None
        self.notices: list[str] = []
        self.cached_at: dict[SourceKind, datetime] = {}
        self._last: CombinedRecord | None = None

    async def load_cached(self, number: str) -> CachedRecordPort | None:
        if self._cache is None:
            return None
        cache = self._cache

        def load() -> CachedRecordPort | None:
            found = cache.load(number)
            if found is not None:
                cache.touch(number)
            return found

        try:
            return await asyncio.to_thread(load)
        except Exception as exc:
            log.warning("The cached record could not be read (%s)", type(exc).__name__)
            return None

    def show_cached(self, cached: CachedRecordPort) -> None:
        if cached.demographics is not None and cached.demographics_at is not None:
            self.pds_patient = cached.demographics
            self.cached_at[SourceKind.PDS] = cached.demographics_at
        for source in CLINICAL_SOURCES:
            kept = cached.sources.get(source)
            if kept is None or self.statuses[source].state is SourceState.NOT_CONFIGURED:
                continue
            self._put(source, kept.record)
            self.cached_at[source] = kept.retrieved_at
        for source, at in self.cached_at.items():
            self.statuses[source] = SourceStatus(source, SourceState.LOADING, cached_at=at)

    def drop_cached_copies(self) -> None:
        """PDS says restricted: nothing kept from before may stay on screen (CLINICAL.md)."""
        for source in CLINICAL_SOURCES:
            if source in self.cached_at:
                self._put(source, None)
        self.cached_at.clear()

    def _put(self, source: SourceKind, record: SourceRecord | None) -> None:
        if source is SourceKind.GP:
            self.gp = record
        else:
            self.hospital = record

    def set(
        self, source: SourceKind, st: SourceState, reason: str | None = None, at: datetime | None = None
    ) -> None:
        self.statuses[source] = SourceStatus(source, st, at, reason, cached_at=self.cached_at.get(source))
        self.emit()

    async def arrived(self, number: str, record: SourceRecord, retrieved: datetime, *, keep: bool) -> None:
        self.cached_at.pop(record.source, None)
        self._put(record.source, record)
        self.set(record.source, SourceState.LOADED, at=retrieved)
        if keep:
            await self.keep(lambda cache: cache.save_source(number, record))

    async def gone(self, number: str, source: SourceKind, st: SourceState, reason: str | None = None) -> None:
        """The source now holds nothing it will share: its cached copy goes from the screen and the PC."""
        if self.cached_at.pop(source, None) is not None:
            self._put(source, None)
            await self.keep(lambda cache: cache.forget_source(number, source))
        self.set(source, st, reason)

    async def keep(self, write: Callable[[RecordCachePort], object]) -> None:
        if self._cache is None:
            return
        cache = self._cache
        try:
            await asyncio.to_thread(write, cache)
        except Exception as exc:
            log.warning("The record cache could not be updated (%s)", type(exc).__name__)
            detail = getattr(exc, "user_message", None)
            notice = f"{CACHE_PROBLEM}: {detail}" if detail else f"{CACHE_PROBLEM}."
            if notice not in self.notices:
                self.notices.append(notice)
                self.emit()

    def emit(self) -> CombinedRecord:
        with collector_paused():  # a merge of a large record: many new objects, no cycles
            record = combine(self.pds_patient, self.statuses, self.gp, self.hospital, tuple(self.notices),
                             previous=self._last)
        self._last = record
        if self._on_update is not None:
            self._on_update(record)
        return record
