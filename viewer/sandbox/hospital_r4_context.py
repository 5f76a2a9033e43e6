"""What every hospital R4 writer shares while one patient's record is written: the patient's logical id
and the ids derived from it, the subject and trust references, and how clinicians are referred to.
"""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import ODS_SYSTEM, SDS_USER_SYSTEM
from viewer.sandbox.hospital_r4_ids import fhir_id, local_mrn, mrn_system, patient_key
from viewer.sandbox.hospital_r4_values import person_name, profile_meta
from viewer.sandbox.world import Clinician, SyntheticPatient, World


class PatientContext:
    """One patient at the hospital, as its resources are being written."""

    def __init__(self, world: World, patient: SyntheticPatient, base_url: str) -> None:
        self.world = world
        self.patient = patient
        self.base = base_url
        self.key = patient_key(world.seed, patient.nhs_number)
        self.subject = {"reference": f"Patient/{self.key}"}
        self.trust = {
            "identifier": {"system": ODS_SYSTEM, "value": world.hospital_ods},
            "display": world.hospital_name,
        }

    def rid(self, *parts: str) -> str:
        """A resource id: the patient's id first, so a read by id finds the patient without a search."""
        return fhir_id(self.key, *parts)

    @staticmethod
    def meta(rtype: str) -> dict[str, Any]:
        return profile_meta(rtype)

    @staticmethod
    def person(clinician: Clinician | None) -> dict[str, Any] | None:
        """A logical reference (SDS user id) plus display: the server serves no Practitioner, and a
        reference that cannot be resolved must still say who."""
        if clinician is None:
            return None
        ref: dict[str, Any] = {"display": person_name(clinician.name)}
        if clinician.sds_user_id:
            ref["identifier"] = {"system": SDS_USER_SYSTEM, "value": clinician.sds_user_id}
        return ref

    @property
    def mrn(self) -> str:
        return local_mrn(self.world.hospital_ods, self.key)

    @property
    def mrn_system(self) -> str:
        return mrn_system(self.world.hospital_ods)
