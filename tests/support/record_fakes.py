"""Stand-ins for OpenRecord's sources (PDS, SDS, GP Connect, hospital) and mappers, shared by its tests."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from viewer.domain import HumanName, PartialDate, Patient, Provenance, SourceKind, SourceRecord
from viewer.services.open_record import OpenRecord, RecordSources
from viewer.sources.context import RequestContext

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CTX = RequestContext("tok", "555000000001", "555000000101", "Patel", "Asha", "RWV99")
NHS = "9990000018"


def make_patient(nhs=NHS, source=SourceKind.PDS, ods="Y90001"):
    return Patient(nhs, HumanName("SMITH", ("Ann",)), "female", PartialDate.parse("1950-01-02"),
                   Provenance(source, "Patient", nhs, NOW), gp_practice_ods=ods)


@dataclass
class Trace:
    patient: Patient
    retrieved_at: datetime = NOW
    superseded_from: str | None = None
    restricted: bool = False


@dataclass
class FakePds:
    result: object = None
    error: Exception | None = None
    calls: list = field(default_factory=list)

    async def read(self, nhs, ctx):
        self.calls.append(nhs)
        if self.error:
            raise self.error
        return self.result or Trace(make_patient(nhs))


class FakeSds:
    async def lookup_gpconnect(self, ods):
        return ("endpoint", ods)


@dataclass
class FakeGp:
    error: Exception | None = None
    delay: float = 0
    calls: list = field(default_factory=list)

    async def get_structured_record(self, nhs, endpoint, ctx):
        self.calls.append(nhs)
        await asyncio.sleep(self.delay)
        if self.error:
            raise self.error
        return b"{}"


@dataclass
class Fetched:
    patient: dict | None
    resources: dict


@dataclass
class FakeHospital:
    error: Exception | None = None
    patient: dict | None = field(default_factory=lambda: {"resourceType": "Patient"})

    async def fetch_record(self, nhs, ctx):
        if self.error:
            raise self.error
        return Fetched(self.patient, {})


def map_gp(body, *, retrieved_at):
    return SourceRecord(SourceKind.GP, retrieved_at, make_patient(source=SourceKind.GP))


def map_hosp(patient, resources, *, retrieved_at, org_ods, org_name):
    assert org_ods == "RWV99"
    return SourceRecord(SourceKind.HOSPITAL, retrieved_at, make_patient(source=SourceKind.HOSPITAL),
                        org_ods=org_ods, org_name=org_name)


def service(pds=None, gp=None, hospital=None, fresh=True, cache=None, clock=None):
    sources = RecordSources(pds or FakePds(), FakeSds(), gp if gp is not None else FakeGp(),
                            hospital if hospital is not None else FakeHospital(), map_gp, map_hosp,
                            lambda trace, now: fresh)
    return OpenRecord(sources, org_ods="RWV99", org_name="Sandbox Trust", clock=clock or (lambda: NOW),
                      cache=cache)


def run(svc, nhs=NHS):
    updates = []
    record = asyncio.run(svc(nhs, CTX, updates.append))
    return record, updates
