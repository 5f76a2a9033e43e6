"""SNOMED CT statements that a patient has no known allergy, and what each one covers.

Only 716186003 covers every kind of allergy. "No known drug allergy" says nothing about food or latex, so
the banner must never turn it into "No known allergies" (a viewer that overstates is silently wrong).
"""

from __future__ import annotations

ALL = "all"

NO_KNOWN_ALLERGY_SCOPES: dict[str, str] = {
    "716186003": ALL,  # No known allergy
    "409137002": "drug",  # No known drug allergy
    "429625007": "food",  # No known food allergy
    "428607008": "environmental",  # No known environmental allergy
    "428197003": "insect",  # No known insect allergy
}


def negation_scope(snomed_code: str | None) -> str | None:
    """The scope of a 'no known ... allergy' code, or None when the code is not such a statement."""
    return NO_KNOWN_ALLERGY_SCOPES.get(snomed_code or "")
