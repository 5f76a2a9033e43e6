"""The patient as one source describes them; the banner compares PDS, GP and hospital versions."""

from __future__ import annotations

from viewer.domain.dates import PartialDate
from viewer.domain.provenance import Provenance
from viewer.domain.record_value import RecordValue


class HumanName(RecordValue):
    family: str | None
    given: tuple[str, ...] = ()
    prefix: tuple[str, ...] = ()

    def banner(self) -> str:
        """`FAMILY, Given (Title)` per the NHS CUI; unknown parts read `Not Known`."""
        family = self.family.upper() if self.family else "Not Known"
        given = " ".join(self.given) if self.given else "Not Known"
        title = f" ({' '.join(self.prefix)})" if self.prefix else ""
        return f"{family}, {given}{title}"


class Patient(RecordValue):
    nhs_number: str
    name: HumanName
    gender: str | None
    birth_date: PartialDate | None
    provenance: Provenance
    deceased: bool = False
    deceased_date: PartialDate | None = None
    address: tuple[str, ...] = ()
    postcode: str | None = None
    phone: str | None = None
    gp_practice_ods: str | None = None
    gp_practice_name: str | None = None
    restricted: bool = False
    superseded_from: str | None = None
