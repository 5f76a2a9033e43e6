"""Codes as received: system, code and display are all kept so nothing the record said is lost."""

from __future__ import annotations

from viewer.domain.record_value import RecordValue

SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
LOINC = "http://loinc.org"


class Coding(RecordValue):
    system: str | None
    code: str | None
    display: str | None = None


class Concept(RecordValue):
    """A CodeableConcept: free text plus codings. `label` is what a clinician reads."""

    text: str | None = None
    codings: tuple[Coding, ...] = ()

    @property
    def label(self) -> str:
        if self.text:
            return self.text
        for coding in self.codings:
            if coding.display:
                return coding.display
        for coding in self.codings:
            if coding.code:
                return coding.code
        return ""

    def code_in(self, system: str) -> str | None:
        for coding in self.codings:
            if coding.system == system and coding.code:
                return coding.code
        return None
