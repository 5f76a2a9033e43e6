"""Finding a patient by demographics (PDS search): what the clinician typed, checked before it is sent,
and each match as the line the search dialog shows.

PDS refuses a search without its minimum details, so they are checked here first and the clinician is
told in one sentence what is missing instead of getting a Spine error code. The audit keeps only the
*kind* of criteria ("family+birthdate"): names, dates of birth and postcodes never enter the log, which
holds patients only by NHS number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from viewer.domain.nhs_number import format_nhs_number
from viewer.domain.patient import Patient
from viewer.sources.context import RequestContext
from viewer.sources.pds import MAX_RESULTS_LIMIT, PdsMatch, PdsQuery

GENDERS = ("female", "male", "other", "unknown")
# The combinations PDS accepts for a fuzzy search (patient-search.yaml, "Fuzzy search").
FUZZY_SETS = (
    ("given", "family", "birthdate"),
    ("family", "birthdate", "gender", "postcode"),
    ("given", "birthdate", "gender", "postcode"),
)
MAX_NAME = 35  # PDS rejects longer names
RESTRICTED_TEXT = "Restricted"  # what a restricted patient's withheld fields read


_BIRTH_FORMATS = ("%d-%m-%Y", "%d-%b-%Y", "%Y-%m-%d", "%d%m%Y")
_DATE_SEPARATORS = re.compile(r"[\s/.]+")


def parse_birth_date(text: str) -> date | None:
    """`14-07-1945`, `14/07/1945`, `14.07.1945`, `14-Jul-1945`, `1945-07-14` or `14071945`; None when
    empty. InvalidCriteria, with an example, for anything else: a guessed date would find the wrong
    patient."""
    cleaned = _DATE_SEPARATORS.sub("-", text.strip()).strip("-")
    if not cleaned:
        return None
    for fmt in _BIRTH_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise InvalidCriteria("Enter the date of birth as day-month-year, for example 14-07-1945.")


class PatientSearchPort(Protocol):
    """What the search needs of PDS (viewer.sources.pds.PdsClient)."""

    async def search(self, query: PdsQuery, ctx: RequestContext) -> list[PdsMatch]: ...


class InvalidCriteria(ValueError):
    """The criteria cannot be sent to PDS; `user_message` says what to add or change."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """What the clinician entered. Empty strings count as not given."""

    family: str = ""
    given: str = ""
    birth_date: date | None = None
    gender: str = ""
    postcode: str = ""
    fuzzy: bool = False

    def given_fields(self) -> tuple[str, ...]:
        """Names of the fields filled in, in a fixed order (also the audit's description of the search)."""
        present = {
            "family": bool(self.family.strip()),
            "given": bool(self.given.strip()),
            "birthdate": self.birth_date is not None,
            "gender": bool(self.gender.strip()),
            "postcode": bool(self.postcode.strip()),
        }
        return tuple(name for name, filled in present.items() if filled)

    def kind(self) -> str:
        """`family+birthdate` (`+fuzzy` for a fuzzy search): what was searched on, never the values."""
        return "+".join(self.given_fields() + (("fuzzy",) if self.fuzzy else ())) or "nothing"

    def problem(self, today: date | None = None) -> str | None:
        """Why PDS would refuse these criteria, in words for the dialog; None when they can be sent."""
        have = set(self.given_fields())
        for label, text in (("Family name", self.family), ("Given name", self.given)):
            if len(text.strip()) > MAX_NAME:
                return f"{label} is too long (at most {MAX_NAME} characters)."
        texts = [t.strip() for t in (self.family, self.given, self.postcode) if t.strip()]
        if self.fuzzy:
            if any("*" in t for t in texts):
                return "Wildcards (*) cannot be used in a search for similar names."
            if not any(set(combo) <= have for combo in FUZZY_SETS):
                return ("A search for similar names needs family name, given name and date of birth "
                        "(or date of birth, gender, postcode and one name).")
        elif not {"family", "birthdate"} <= have:
            return "Enter at least the family name and the date of birth."
        if any("*" in t[:2] for t in texts):
            return "A wildcard (*) can only come after the first two characters."
        if self.gender.strip() and self.gender.strip().lower() not in GENDERS:
            return "Gender must be female, male, other or unknown."
        if self.birth_date is not None and self.birth_date > (today or date.today()):
            return "The date of birth is in the future."
        return None

    def query(self, max_results: int = MAX_RESULTS_LIMIT) -> PdsQuery:
        return PdsQuery(
            family=self.family.strip() or None,
            given=self.given.strip() or None,
            birthdate=self.birth_date,
            gender=self.gender.strip().lower() or None,
            postcode=self.postcode.strip().upper() or None,
            fuzzy=self.fuzzy,
            max_results=max_results,
        )

    def __repr__(self) -> str:  # the values are patient data: a repr in a log shows only their kind
        return f"SearchCriteria({self.kind()})"


@dataclass(frozen=True, slots=True)
class MatchRow:
    """One line of the results table, as shown; `nhs_number` (digits) is what opening it uses."""

    nhs_number: str
    name: str
    born: str
    gender: str
    nhs_display: str
    postcode: str
    gp_practice: str
    restricted: bool
    deceased: bool


def match_row(patient: Patient) -> MatchRow:
    """A restricted patient's postcode and practice read `Restricted`: PDS withheld them, and a blank would
    read as "none"."""
    withheld = RESTRICTED_TEXT if patient.restricted else ""
    practice = patient.gp_practice_name or patient.gp_practice_ods
    if patient.gp_practice_name and patient.gp_practice_ods:
        practice = f"{patient.gp_practice_name} ({patient.gp_practice_ods})"
    born = patient.birth_date.display() if patient.birth_date is not None else "Not Known"
    if patient.deceased:
        died = patient.deceased_date.display() if patient.deceased_date is not None else "date not known"
        born = f"{born} (died {died})"
    return MatchRow(
        nhs_number=patient.nhs_number,
        name=patient.name.banner(),
        born=born,
        gender=patient.gender.capitalize() if patient.gender else "Not Known",
        nhs_display=format_nhs_number(patient.nhs_number),
        postcode=patient.postcode or withheld,
        gp_practice=practice or withheld,
        restricted=patient.restricted,
        deceased=patient.deceased,
    )


__all__ = [
    "GENDERS",
    "InvalidCriteria",
    "MatchRow",
    "PatientSearchPort",
    "SearchCriteria",
    "match_row",
    "parse_birth_date",
]
