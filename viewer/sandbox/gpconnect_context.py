"""What every GP Connect clinical-area writer shares while one structured record is written.

Stable ids, local identifiers, the Practitioners the items refer to (each written once), the primary
List of an area with its warnings, and the STU3 spellings of codes and names.

Choices the spec leaves open, made here on purpose:
- every resource id is a UUID derived from practice, patient and synthetic item, so it is stable
  between calls (consumers keep logical ids, STR05) and always matches the FHIR id pattern;
- `data-in-transit` is a whole-record condition, so it is put on every List returned.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from viewer.sandbox.fhir_values import SDS_USER_SYSTEM, codeable, fhir_date_time
from viewer.sandbox.gpconnect_lists import PRIMARY_LISTS, WARNING_TEXT, fill_list, list_resource
from viewer.sandbox.gpconnect_profiles import LIST_WARNING_URL, profile_meta
from viewer.sandbox.world import (
    DMD,
    SNOMED,
    ClinicalRecord,
    Clinician,
    Code,
    Name,
    Practice,
    SyntheticPatient,
)

_ID_NAMESPACE = uuid.UUID("5b0d9c3e-7a51-4c1e-9d8e-2f1a6c0b7e41")
_JOB_ROLES = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1"


def coding(code: Code) -> dict:
    # dm+d concepts are SNOMED CT concepts; GP Connect STU3 codes them with the SNOMED system.
    system = SNOMED if code.system == DMD else code.system
    return {"system": system, "code": code.code, "display": code.display}


def concept(code: Code) -> dict:
    return {"coding": [coding(code)], "text": code.display}


def human_name(name: Name, use: str) -> dict:
    out: dict[str, Any] = {"use": use, "family": name.family, "given": list(name.given)}
    if name.prefix:
        out["prefix"] = [name.prefix]
    return out


def in_period(day: date | None, period: tuple[date | None, date | None] | None) -> bool:
    """Spec: items with no date come back alongside those that match."""
    if period is None or day is None:
        return True
    start, end = period
    return (start is None or day >= start) and (end is None or day <= end)


def day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


class RecordContext:
    """One patient's record at one practice, as it is being written into a response Bundle."""

    def __init__(
        self, patient: SyntheticPatient, record: ClinicalRecord, practice: Practice, now: datetime
    ) -> None:
        self.patient = patient
        self.record = record
        self.practice = practice
        self.now = now
        self.ods = practice.ods_code
        self.local_system = f"https://sandbox.wardview.invalid/{self.ods}/Id/record-item"
        self.patient_ref = "Patient/" + self.resource_id("patient")
        self.org_ref = "Organization/" + self.resource_id("organization")
        self.clinicians: dict[str, dict] = {}
        self.list_date = fhir_date_time(now)
        warned = {code for codes in record.warnings.values() for code in codes}
        self.record_wide = ("data-in-transit",) if "data-in-transit" in warned else ()
        self.registered = self._registration_date()

    # --- identity -------------------------------------------------------------------------------

    def resource_id(self, *parts: str) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, "/".join((self.ods, self.patient.nhs_number, *parts))))

    def identifier(self, value: str) -> list[dict]:
        return [{"system": self.local_system, "value": value}]

    @staticmethod
    def meta(profile: str) -> dict:
        return profile_meta(profile)

    def _registration_date(self) -> date:
        """The synthetic world has no registration date; derive a stable one from the NHS number.

        A patient whose record is still in transit registered recently; the warning text shows it.
        """
        seed = zlib.crc32(self.patient.nhs_number.encode())
        if self.record_wide:
            return self.now.date() - timedelta(days=7 + seed % 21)
        birth = self.record.demographics.birth_date
        guess = date(2000 + seed % 20, 1 + seed % 12, 1 + seed % 28)
        return min(max(birth, guess), self.now.date())

    # --- people -----------------------------------------------------------------------------------

    def clinician_ref(self, clinician: Clinician | None) -> str:
        """Reference to a recorder's Practitioner; the practice's usual GP when none is known."""
        clinician = clinician or self._usual_gp()
        key = clinician.id
        if key not in self.clinicians:
            pid = self.resource_id("practitioner", key)
            practitioner: dict[str, Any] = {
                "resourceType": "Practitioner",
                "id": pid,
                "meta": self.meta("CareConnect-GPC-Practitioner-1"),
                "identifier": self.identifier(key),
                "name": [human_name(clinician.name, "usual")],
            }
            if clinician.sds_user_id:
                practitioner["identifier"].insert(
                    0, {"system": SDS_USER_SYSTEM, "value": clinician.sds_user_id}
                )
            role = {
                "resourceType": "PractitionerRole",
                "id": self.resource_id("practitioner-role", key),
                "meta": self.meta("CareConnect-GPC-PractitionerRole-1"),
                "practitioner": {"reference": f"Practitioner/{pid}"},
                "organization": {"reference": self.org_ref},
                "code": [codeable(_JOB_ROLES, "R0260", "General Medical Practitioner")],
            }
            self.clinicians[key] = {"practitioner": practitioner, "role": role}
        return "Practitioner/" + self.clinicians[key]["practitioner"]["id"]

    def practitioners(self) -> list[dict]:
        """Each Practitioner referred to so far, followed by its PractitionerRole."""
        out: list[dict] = []
        for pair in self.clinicians.values():
            out.extend((pair["practitioner"], pair["role"]))
        return out

    def _usual_gp(self) -> Clinician:
        for source in (self.record.encounters, self.record.medications, self.record.allergies):
            for item in source:
                who = (
                    getattr(item, "clinician", None)
                    or getattr(item, "prescriber", None)
                    or getattr(item, "recorder", None)
                )
                if who is not None:
                    return who
        return Clinician(id=f"{self.ods}-duty-gp", name=Name("Duty", ("Practice",), "Dr"))

    # --- lists ------------------------------------------------------------------------------------

    def primary_list(
        self, key: str, refs: Iterable[str], area: str, contained: list[dict] | None = None
    ) -> dict:
        """An area's primary List, carrying the area's warnings and the record-wide ones."""
        code, display, title = PRIMARY_LISTS[key]
        resource = list_resource(
            self.resource_id("list", key),
            title,
            code,
            display,
            self.patient_ref,
            self.list_date,
            ("event-date", "Sorted by Event Date"),
        )
        if contained:
            resource["contained"] = contained
        codes = list(self.record.warnings.get(area, ()))
        codes += [c for c in self.record_wide if c not in codes]
        notes = [
            WARNING_TEXT[c].format(date=self.registered.strftime("%d-%b-%Y"))
            for c in codes
            if c in WARNING_TEXT
        ]
        if codes:
            resource["extension"] = [{"url": LIST_WARNING_URL, "valueCode": c} for c in codes]
        return fill_list(resource, refs, notes)
