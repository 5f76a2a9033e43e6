"""Codes as received: system, code and display are all kept so nothing the record said is lost."""

from __future__ import annotations

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
LOINC = "http://loinc.org"


@dataclass(frozen=True, slots=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Concept:
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
