"""FHIR R4 Patient -> domain Patient, shared by PDS and the hospital record.

Both speak UK Core R4, and the banner compares what each says (CLINICAL.md: family name, given name,
gender, birth date, practice), so one reader keeps the comparison fair.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from viewer.domain.dates import PartialDate
from viewer.domain.patient import HumanName, Patient
from viewer.domain.provenance import Provenance, SourceKind
from viewer.sources.fhir_common import as_dict, as_list, as_text, partial_date

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
_NAME_PREFERENCE = ("usual", "official", None, "temp", "nickname", "anonymous", "maiden", "old")
_ADDRESS_PREFERENCE = ("home", None, "temp", "work", "billing", "old")
_PHONE_PREFERENCE = ("home", "mobile", None, "work", "temp", "old")


def nhs_number_of(resource: dict[str, Any]) -> str | None:
    for ident in as_list(resource.get("identifier")):
        data = as_dict(ident)
        if data.get("system") == NHS_NUMBER_SYSTEM and as_text(data.get("value")):
            return "".join(str(data["value"]).split())
    return None


def _is_current(element: dict[str, Any], today: date) -> bool:
    """A period that has not ended (partial dates compare by what is known; unreadable ones count as open)."""
    period = as_dict(element.get("period"))
    start = partial_date(period.get("start"))
    end = partial_date(period.get("end"))
    if start is not None and (start.year, start.month or 1, start.day or 1) > today.timetuple()[:3]:
        return False
    return not (end is not None and (end.year, end.month or 12, end.day or 31) < today.timetuple()[:3])


def pick(elements: Any, preference: tuple[str | None, ...], today: date) -> dict[str, Any] | None:
    """The best element by `use`, current ones first: PDS keeps history (ended names, old addresses)."""
    candidates = [e for e in as_list(elements) if isinstance(e, dict)]
    if not candidates:
        return None

    def rank(element: dict[str, Any]) -> tuple[int, int]:
        use = element.get("use") if isinstance(element.get("use"), str) else None
        order = preference.index(use) if use in preference else len(preference)
        return (0 if _is_current(element, today) else 1, order)

    return min(candidates, key=rank)


def _name(resource: dict[str, Any], today: date) -> HumanName:
    chosen = pick(resource.get("name"), _NAME_PREFERENCE, today) or {}
    given = tuple(g for g in as_list(chosen.get("given")) if as_text(g))
    prefix = tuple(p for p in as_list(chosen.get("prefix")) if as_text(p))
    family = as_text(chosen.get("family"))
    if family is None and not given and as_text(chosen.get("text")):
        family = chosen["text"]
    return HumanName(family, given, prefix)


def _address(resource: dict[str, Any], today: date) -> tuple[tuple[str, ...], str | None]:
    chosen = pick(resource.get("address"), _ADDRESS_PREFERENCE, today)
    if chosen is None:
        return (), None
    lines = tuple(line for line in as_list(chosen.get("line")) if as_text(line))
    extra = tuple(
        v for v in (as_text(chosen.get(k)) for k in ("city", "district")) if v and v not in lines
    )
    if not lines and as_text(chosen.get("text")):
        lines = (chosen["text"],)
    return lines + extra, as_text(chosen.get("postalCode"))


def _phone(resource: dict[str, Any], today: date) -> str | None:
    phones = [t for t in as_list(resource.get("telecom")) if as_dict(t).get("system") == "phone"]
    chosen = pick(phones, _PHONE_PREFERENCE, today)
    return as_text(chosen.get("value")) if chosen else None


def _practice(resource: dict[str, Any], today: date) -> tuple[str | None, str | None]:
    refs = [r for r in as_list(resource.get("generalPractitioner")) if isinstance(r, dict)]
    orgs = [r for r in refs if as_dict(r.get("identifier")).get("system") == ODS_SYSTEM]
    chosen = next((r for r in orgs if _is_current(as_dict(r.get("identifier")), today)), None)
    chosen = chosen or (orgs[0] if orgs else None)
    if chosen is None:
        return None, None
    return as_text(as_dict(chosen.get("identifier")).get("value")), as_text(chosen.get("display"))


def _deceased(resource: dict[str, Any]) -> tuple[bool, PartialDate | None]:
    when = partial_date(resource.get("deceasedDateTime"))
    if when is not None or as_text(resource.get("deceasedDateTime")):
        return True, when
    return resource.get("deceasedBoolean") is True, None


def map_r4_patient(
    resource: dict[str, Any],
    *,
    source: SourceKind,
    retrieved_at: datetime,
    org_ods: str | None = None,
    org_name: str | None = None,
    restricted: bool = False,
) -> Patient:
    """Map one Patient. `restricted` blanks address, phone and GP even when the source sent them:
    PDS withholds them for a reason and the viewer must never show or keep them."""
    today = retrieved_at.date()
    deceased, deceased_date = _deceased(resource)
    lines, postcode = ((), None) if restricted else _address(resource, today)
    phone = None if restricted else _phone(resource, today)
    gp_ods, gp_name = (None, None) if restricted else _practice(resource, today)
    gender = resource.get("gender")
    pds_id = as_text(resource.get("id"))  # PDS uses the NHS number as the logical id
    return Patient(
        nhs_number=nhs_number_of(resource) or (pds_id if source is SourceKind.PDS else None) or "",
        name=_name(resource, today),
        gender=gender if isinstance(gender, str) else None,
        birth_date=partial_date(resource.get("birthDate")),
        provenance=Provenance(
            source,
            "Patient",
            as_text(resource.get("id")),
            retrieved_at,
            org_ods,
            org_name,
        ),
        deceased=deceased,
        deceased_date=deceased_date,
        address=lines,
        postcode=postcode,
        phone=phone,
        gp_practice_ods=gp_ods,
        gp_practice_name=gp_name,
        restricted=restricted,
    )
