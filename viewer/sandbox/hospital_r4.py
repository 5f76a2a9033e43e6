"""The sandbox hospital's record of each patient as FHIR R4 resources shaped after UK Core.

Written from the sandbox's own `World`, never from `viewer.domain`, so the consumer's R4 mapping is tested
against an independent reading of the UK Core profiles (ARCHITECTURE.md). Resources are plain dicts: the
large-record patient carries more than ten thousand observations and must be ready in well under a
second, which a model library would not manage.

This module keeps the hospital's register of patients and their records, built on first use; the records
are written by `hospital_r4_record` and the `hospital_r4_<area>` writers. The names other code imports
from here are re-exported below.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from viewer.sandbox.fhir_values import (
    NHS_NUMBER_SYSTEM,
    NO_KNOWN_ALLERGY,
    ODS_SYSTEM,
    SDS_USER_SYSTEM,
    as_utc,
    fhir_instant,
)
from viewer.sandbox.hospital_r4_ids import KEY_LENGTH, fhir_id, local_mrn, mrn_system, patient_key
from viewer.sandbox.hospital_r4_index import (
    SEARCH_TYPES,
    TYPE_SEARCH_PARAMS,
    HospitalPatientRecord,
    Indexed,
    SearchKeys,
)
from viewer.sandbox.hospital_r4_record import write_record
from viewer.sandbox.hospital_r4_results import UCUM
from viewer.sandbox.hospital_r4_values import EXTENSION_BASE, HL7_CODESYSTEM, PROFILE_BASE, UKCORE_CODESYSTEM
from viewer.sandbox.world import World


class HospitalRecords:
    """The hospital's view of the world: which patients it knows and, built on first use and kept, their
    FHIR resources. Thread-safe, as the server answers on several threads."""

    def __init__(self, world: World, base_url: str) -> None:
        self._world = world
        self._base_url = base_url.rstrip("/")
        known = [p for p in world.patients if p.hospital is not None]
        self._by_key = {patient_key(world.seed, p.nhs_number): p for p in known}
        self._key_by_nhs = {p.nhs_number: k for k, p in self._by_key.items()}
        self._key_by_mrn = {local_mrn(world.hospital_ods, k): k for k in self._by_key}
        self._built: dict[str, HospitalPatientRecord] = {}
        self._lock = threading.Lock()

    @property
    def world(self) -> World:
        return self._world

    def patient_id(self, nhs_number: str) -> str | None:
        """The hospital's logical id for this NHS number, or None when the hospital has no record."""
        return self._key_by_nhs.get(nhs_number)

    def patient_ids(self) -> list[str]:
        return list(self._by_key)

    def record(self, patient_id: str) -> HospitalPatientRecord | None:
        patient = self._by_key.get(patient_id)
        if patient is None:
            return None
        with self._lock:
            built = self._built.get(patient_id)
            if built is None:
                built = write_record(self._world, patient, self._base_url)
                self._built[patient_id] = built
            return built

    def record_for_nhs(self, nhs_number: str) -> HospitalPatientRecord | None:
        key = self.patient_id(nhs_number)
        return None if key is None else self.record(key)

    def record_for_mrn(self, mrn: str) -> HospitalPatientRecord | None:
        key = self._key_by_mrn.get(mrn)
        return None if key is None else self.record(key)

    def records(self) -> Iterator[HospitalPatientRecord]:
        for key in self._by_key:
            record = self.record(key)
            if record is not None:
                yield record

    def find(self, rtype: str, rid: str) -> dict[str, Any] | None:
        """Read one resource by type and id; ids begin with their patient's id, so only one patient's
        record is built to answer."""
        record = self.record(rid[:KEY_LENGTH])
        if record is None:
            return None
        if rtype == "Patient":
            return record.patient if rid == record.patient_id else None
        return record.find(rtype, rid)


__all__ = [
    "EXTENSION_BASE",
    "HL7_CODESYSTEM",
    "NHS_NUMBER_SYSTEM",
    "NO_KNOWN_ALLERGY",
    "ODS_SYSTEM",
    "PROFILE_BASE",
    "SDS_USER_SYSTEM",
    "SEARCH_TYPES",
    "TYPE_SEARCH_PARAMS",
    "UCUM",
    "UKCORE_CODESYSTEM",
    "HospitalPatientRecord",
    "HospitalRecords",
    "Indexed",
    "SearchKeys",
    "as_utc",
    "fhir_id",
    "fhir_instant",
    "local_mrn",
    "mrn_system",
    "patient_key",
]
