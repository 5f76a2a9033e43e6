"""The hospital's identifiers: logical ids, the opaque patient key, and the trust's hospital number.

Ids travel in URLs and logs, NHS numbers must not, so the patient's logical id is a keyed hash and
every other resource id begins with it (a read by id then builds only that patient's record).
"""

from __future__ import annotations

import hashlib
import re

KEY_LENGTH = 16
_ID_SAFE = re.compile(r"[^A-Za-z0-9.\-]")


def fhir_id(*parts: str) -> str:
    """A logical id matching `[A-Za-z0-9\\-\\.]{1,64}`; over-long ids are shortened by a hash, so two
    world items never share an id however long theirs were."""
    raw = "-".join(parts)
    safe = _ID_SAFE.sub("-", raw)
    if len(safe) <= 64 and safe == raw:
        return safe
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    return f"{safe[:47]}-{digest}"


def patient_key(seed: int, nhs_number: str) -> str:
    """An opaque, stable logical id for the hospital's patient: ids travel in URLs and logs, NHS numbers
    must not."""
    return hashlib.sha256(f"wardview-hospital:{seed}:{nhs_number}".encode()).hexdigest()[:KEY_LENGTH]


def local_mrn(hospital_ods: str, key: str) -> str:
    """The trust's hospital number for the patient whose logical id is `key` (deterministic)."""
    return f"{hospital_ods[:3]}{int(key[:10], 16) % 10**7:07d}"


def mrn_system(hospital_ods: str) -> str:
    """The trust's local patient identifier (hospital number) namespace."""
    return f"https://fhir.{hospital_ods.lower()}.nhs.uk/Id/local-patient-identifier"
