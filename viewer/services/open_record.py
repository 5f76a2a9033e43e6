"""OpenRecord: trace the patient on PDS, then fetch the GP and hospital records in parallel.

Each source reports its own status as it goes, so the banner paints as soon as PDS answers and one slow
or failing source never hides the other. No Qt here: `on_update` is a plain callable that the UI's runner
carries back to the GUI thread.
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
from viewer.record.combined import CombinedRecord, combine
from viewer.record.status import SourceState, SourceStatus
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


class OpenRecord:
    """Use case: open one patient's combined record. Call it; await it; it reports progress meanwhile."""

    def __init__(self, sources: RecordSources, *, org_ods: str, org_name: str, clock: Clock = _now):
        self._s = sources
        self._org_ods = org_ods
        self._org_name = org_name
        self._clock = clock

    async def __call__(
        self, nhs_number: str, ctx: RequestContext, on_update: OnUpdate | None = None
    ) -> CombinedRecord:
        number = normalise(nhs_number)
        if not is_valid(number):
            raise InvalidNhsNumber("This is not a valid NHS number (the check digit does not match).")
        state = _Progress(on_update)
        state.statuses = {
            SourceKind.PDS: SourceStatus(SourceKind.PDS, SourceState.LOADING),
            SourceKind.GP: self._initial(SourceKind.GP, self._s.gpconnect is not None),
            SourceKind.HOSPITAL: self._initial(SourceKind.HOSPITAL, self._s.hospital is not None),
        }
        state.emit()

        trace = await self._trace(number, ctx, state)
        if trace is not None and trace.superseded_from:
            number = trace.patient.nhs_number
            state.notices.append(
                f"NHS number {format_nhs_number(trace.superseded_from)} has been replaced by "
                f"{format_nhs_number(number)}: showing the current record."
            )
        state.emit()

        tasks = []
        if self._s.gpconnect is not None:
            tasks.append(self._gp(number, trace, ctx, state))
        if self._s.hospital is not None:
            tasks.append(self._hospital(number, ctx, state))
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
            state.set(SourceKind.PDS, SourceState.NOT_FOUND, exc.user_message)
            return None
        except SourceError as exc:
            state.set(SourceKind.PDS, SourceState.FAILED, exc.user_message)
            return None
        state.pds_patient = trace.patient
        state.set(SourceKind.PDS, SourceState.LOADED, at=trace.retrieved_at)
        return trace

    async def _gp(self, number: str, trace: Any, ctx: RequestContext, state: _Progress) -> None:
        gp = SourceKind.GP
        if trace is None:
            state.set(gp, SourceState.FAILED, "needs a PDS trace, which failed")
            return
        if trace.restricted:
            state.set(gp, SourceState.NOT_FOUND, "not available for a restricted record")
            return
        if not self._s.pds_is_fresh(trace, self._clock()):
            state.set(gp, SourceState.FAILED, "the PDS trace is older than 24 hours")
            return
        ods = trace.patient.gp_practice_ods
        if not ods:
            state.set(gp, SourceState.NOT_FOUND, "not registered with a GP practice")
            return
        try:
            assert self._s.sds is not None and self._s.gpconnect is not None
            endpoint = await self._s.sds.lookup_gpconnect(ods)
            body = await self._s.gpconnect.get_structured_record(number, endpoint, ctx)
            retrieved = self._clock()
            record = await asyncio.to_thread(self._s.map_gp, body, retrieved_at=retrieved)
        except ConsentWithheld:
            state.set(gp, SourceState.WITHHELD)
            return
        except PatientNotFound as exc:
            state.set(gp, SourceState.NOT_FOUND, exc.user_message)
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
        state.gp = record
        state.set(gp, SourceState.LOADED, at=retrieved)

    async def _hospital(self, number: str, ctx: RequestContext, state: _Progress) -> None:
        hosp = SourceKind.HOSPITAL
        try:
            assert self._s.hospital is not None
            fetched = await self._s.hospital.fetch_record(number, ctx)
            retrieved = self._clock()
            if fetched.patient is None:
                state.set(hosp, SourceState.NOT_FOUND, "no hospital record for this patient")
                return
            record = await asyncio.to_thread(
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
        state.hospital = record
        state.set(hosp, SourceState.LOADED, at=retrieved)


class _Progress:
    """The record as it builds up; every change is emitted as a new immutable CombinedRecord."""

    def __init__(self, on_update: OnUpdate | None):
        self._on_update = on_update
        self.statuses: dict[SourceKind, SourceStatus] = {}
        self.pds_patient: Patient | None = None
        self.gp: SourceRecord | None = None
        self.hospital: SourceRecord | None = None
        self.notices: list[str] = []

    def set(
        self, source: SourceKind, st: SourceState, reason: str | None = None, at: datetime | None = None
    ) -> None:
        self.statuses[source] = SourceStatus(source, st, at, reason)
        self.emit()

    def emit(self) -> CombinedRecord:
        record = combine(self.pds_patient, self.statuses, self.gp, self.hospital, tuple(self.notices))
        if self._on_update is not None:
            self._on_update(record)
        return record
