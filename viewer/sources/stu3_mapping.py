"""GP Connect structured record (STU3 Bundle) -> one SourceRecord.

Real supplier Bundles break FHIR in small ways (forbidden id characters, lists where objects are due,
references to resources that are not there), and a strict validator would reject them whole, leaving the
clinician nothing. So this reads plain dicts (orjson, no pydantic: ~4 MB must map in well under 200 ms),
never relies on entry order, and puts every resource it cannot show into `unreadable` with a reason.
List-referenced allergies and medicines that are missing from the Bundle are counted there too: a
silently lost allergy is the worst defect this module could have.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson
from msgspec.structs import replace

from viewer.domain.clinical import Allergy, Medication, RecordWarning, Unreadable
from viewer.domain.patient import Patient
from viewer.domain.provenance import SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.sources.errors import UnreadableResponse
from viewer.sources.fhir_common import (
    ResourceIndex,
    as_dict,
    as_list,
    as_text,
    code_of,
    extensions,
    identifier_value,
    reference_key,
)
from viewer.sources.r4_patient import map_r4_patient
from viewer.sources.stu3_context import Stu3Context, Unmappable, resource_id
from viewer.sources.stu3_events import (
    map_encounter,
    map_immunisation,
    map_observation,
    map_referral,
    map_report,
)
from viewer.sources.stu3_items import (
    map_allergy,
    map_allergy_recorded_elsewhere,
    map_medication,
    map_medication_plan,
    map_problem,
)
from viewer.sources.stu3_structure import (
    CONSULTATION_LIST,
    HEADING_LIST,
    TOPIC_LIST,
    consultation_content,
    list_code,
    report_results,
)
from viewer.sources.wide_json import NotJson, loads_wide

log = logging.getLogger(__name__)

SOURCE = SourceKind.GP.value
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
EXT_WARNING = "ListWarningCode-1"

ALLERGY_LIST = "886921000000105"
ENDED_ALLERGY_LIST = "1103671000000101"
MEDICATION_LIST = "933361000000108"
AREA_BY_LIST_CODE = {
    ALLERGY_LIST: "allergies",
    ENDED_ALLERGY_LIST: "allergies",
    "1149501000000101": "consultations",
    "714311000000108": "diary entries",
    "1102181000000102": "immunisations",
    "887191000000108": "investigations",
    MEDICATION_LIST: "medications",
    "792931000000107": "referrals",
    "717711000000103": "problems",
    "826501000000100": "uncategorised data",
}
AREA_BY_PARAMETER = {
    "includeAllergies": "allergies",
    "includeMedication": "medications",
    "includeConsultations": "consultations",
    "includeProblems": "problems",
    "includeImmunisations": "immunisations",
    "includeUncategorisedData": "uncategorised data",
    "includeInvestigations": "investigations",
    "includeReferrals": "referrals",
    "includeDiaryEntries": "diary entries",
}
WARNING_MESSAGES = {
    "confidential-items": "Items excluded due to confidentiality and/or patient preferences",
    "data-in-transit": (
        "Patient record transfer from previous GP practice not yet complete; "
        "information recorded before the transfer may be missing"
    ),
    "data-awaiting-filing": (
        "Patient record contains some items in the GP practice workflow that have not been reviewed "
        "for inclusion; recent information may be missing"
    ),
}
RECORD_WIDE_WARNINGS = frozenset({"data-in-transit"})
# The area of each List code that decides it alone: the primary Lists', and none for the consultation,
# topic and heading Lists (most Lists of a record), whose codes name no area.
_AREA_OF_CODE: dict[str, str | None] = {
    **AREA_BY_LIST_CODE, CONSULTATION_LIST: None, TOPIC_LIST: None, HEADING_LIST: None,
}
_UNKNOWN_CODE = object()
# Primary Lists whose entries must all be in the Bundle; one that is not is counted as unreadable.
_LISTED_TYPES = {
    "problems": {"Condition"},
    "consultations": {"Encounter"},
    "immunisations": {"Immunization"},
    "uncategorised data": {"Observation"},
    "investigations": {"DiagnosticReport"},
    "referrals": {"ReferralRequest"},
}
_PARAMETER_NAME = re.compile(r"\binclude[A-Za-z]+\b")
# The types shown as items: one carried inside a resource that is not a List has no place the mapper
# knows, and is counted instead of dropped. (Supporting resources such as a contained Medication are not.)
_ITEM_TYPES = frozenset({
    "AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Condition", "Immunization",
    "Encounter", "Observation", "DiagnosticReport", "ReferralRequest",
})

T = TypeVar("T")


@dataclass(slots=True)
class _ListInfo:
    area: str | None
    code: str | None
    warnings: tuple[str, ...]
    resource: dict[str, Any]
    contained: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (item, type, id) of each entry, read once, for the Lists that allergies, warnings and missing items
    # walk: those with an area or a warning
    entries: tuple[tuple[Any, str | None, str | None], ...] = ()


_MSG_UNREADABLE = "The GP practice's system sent a record that could not be read"


def _load(body: bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            data = loads_wide(body)  # a number beyond a double's range, else not JSON at all
        except NotJson:
            raise UnreadableResponse(_MSG_UNREADABLE) from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise UnreadableResponse(_MSG_UNREADABLE)
    return data


def _list_area(code: str | None, resource: dict[str, Any]) -> str | None:
    """The clinical area a List belongs to, by its code, else by its title."""
    if code is None:
        return "allergies" if "allerg" in (as_text(resource.get("title")) or "").lower() else None
    area = _AREA_OF_CODE.get(code, _UNKNOWN_CODE)
    if area is not _UNKNOWN_CODE:
        return area  # type: ignore[return-value]
    lowered = code.lower()
    if "allerg" in lowered:
        return "allergies"  # secondary lists: consultations-allergies-..., problems-allergies-...
    return "medications" if "medication" in lowered else None


def _list_info(resource: dict[str, Any], *, skip_inert: bool = False) -> _ListInfo | None:
    """What the mapper reads of a List. With `skip_inert`, None for a List that no pass over the Lists
    would use: no area, warning or contained resource, and not a consultation (whose text is read). Most
    of a record's Lists are such topic and heading Lists; their text is read through the index."""
    code = list_code(resource)
    area = _list_area(code, resource)
    warnings: tuple[str, ...] = ()
    if "extension" in resource:  # only a List that carries a warning has extensions
        warnings = tuple(
            dict.fromkeys(
                w for w in (as_text(e.get("valueCode")) or code_of(e.get("valueCodeableConcept"))
                            for e in extensions(resource, EXT_WARNING)) if w
            )
        )
    raw = resource.get("contained")
    if skip_inert and area is None and not warnings and raw is None and code != CONSULTATION_LIST:
        return None
    contained = {}
    if raw is not None:
        for item in as_list(raw):
            rid = resource_id(as_dict(item))
            if rid is not None:
                contained[rid] = item
    entries = []
    if area is not None or warnings:  # topic and heading Lists (most of them) are only walked for text
        for entry in as_list(resource.get("entry")):
            item = entry.get("item") if isinstance(entry, dict) else None
            entries.append((item, *reference_key(item)))
    return _ListInfo(area, code, warnings, resource, contained, tuple(entries))


def _is_ended_list(info: _ListInfo) -> bool:
    if info.code == ENDED_ALLERGY_LIST or (info.code and "ended" in info.code.lower()):
        return True
    title = (as_text(info.resource.get("title")) or "").lower()
    return "ended" in title or "resolved" in title


def _practice(
    patient: dict[str, Any] | None, index: ResourceIndex, organizations: list[dict[str, Any]]
) -> tuple[str | None, str | None]:
    """The practice that holds the record: managingOrganization, else the GP organisation, else the only
    Organization in the Bundle."""
    org = None
    if patient is not None:
        org = index.resolve(patient.get("managingOrganization"), "Organization")
        if org is None:
            for ref in as_list(patient.get("generalPractitioner")):
                org = index.resolve(ref, "Organization")
                if org is not None:
                    break
    if org is None and len(organizations) == 1:
        org = organizations[0]
    if org is None:
        return None, None
    return identifier_value(org, ODS_SYSTEM), as_text(org.get("name"))


class _Mapper:
    """One mapping run: collects items and unreadables as it walks the Bundle once."""

    def __init__(self, bundle: dict[str, Any], retrieved_at: datetime):
        self.retrieved_at = retrieved_at
        self.unreadable: list[Unreadable] = []
        # Lists that lost their resourceType but still read as one by their code or title
        self.untyped_lists: list[_ListInfo] = []
        containers: list[dict[str, Any]] = []  # resources other than a List that carry others inside
        # one walk groups the resources by type and indexes them (hundreds per Bundle, so kept inline)
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        self.index = index = ResourceIndex(())
        by_type = self.by_type
        add = index.add
        for entry in as_list(bundle.get("entry")):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            rtype = resource.get("resourceType") if isinstance(resource, dict) else None
            if isinstance(rtype, str):
                try:
                    by_type[rtype].append(resource)
                except KeyError:
                    by_type[rtype] = [resource]
                rid = resource.get("id")
                if isinstance(rid, str):
                    add(rtype, rid, resource)
                if "contained" in resource and rtype != "List":
                    containers.append(resource)
            else:
                self._take_odd_entry(entry, containers)
        for container in containers:
            self._count_contained(container)

    def _take_odd_entry(self, entry: Any, containers: list[dict[str, Any]]) -> None:
        """An entry that is not an object holding a resource is still counted, never skipped."""
        if not isinstance(entry, dict):
            self._unreadable("Bundle.entry", None, "entry is not an object")
            return
        if entry.get("resource") is None:
            kind = entry.get("resourceType")
            rid = resource_id(entry)
            self._unreadable(kind if isinstance(kind, str) else "Bundle.entry", rid, "entry has no resource")
            if isinstance(kind, str):
                containers.append(entry)
            return
        resource = entry["resource"]
        if isinstance(resource, dict):
            info = _list_info(resource)
            if info is not None and info.area is not None:
                # its code or title says which List it is, so what it lists and carries keeps its
                # meaning (an allergy it holds is still an ended allergy): nothing of it is lost
                log.warning("read a List that has no resourceType by its code")
                self.untyped_lists.append(info)
                return
            containers.append(resource)
        self._unreadable("Bundle.entry", None, "entry resource is not a FHIR resource")

    def _count_contained(self, container: dict[str, Any]) -> None:
        """Only a List's contained resources have a meaning here (TPP's Ended allergies); an item carried
        inside anything else cannot be placed in the record, so it is counted rather than dropped (unless
        the Bundle holds it at the top level too, where it is shown)."""
        for item in as_list(container.get("contained")):
            kind = item.get("resourceType") if isinstance(item, dict) else None
            rid = resource_id(item) if kind in _ITEM_TYPES else None
            if kind in _ITEM_TYPES and (rid is None or self.index.get(kind, rid) is None):
                self._unreadable(kind, rid, "carried inside another resource, not a List")

    def _unreadable(self, resource_type: str, rid: str | None, reason: str) -> None:
        self.unreadable.append(Unreadable(SOURCE, resource_type, rid, reason))

    def map_all(
        self, resource_type: str, resources: list[dict[str, Any]], make: Callable[[Any], T]
    ) -> list[T]:
        """Map each resource of one type; the ones that fail are counted, the rest returned in order.
        The loop is `attempt` written out, so the common case (success) builds no closure and reads no
        id."""
        found = []
        for resource in resources:
            try:
                item = make(resource)
            except Exception as exc:
                self._failed(resource_type, resource_id(resource), exc)
                continue
            if item is not None:
                found.append(item)
        return found

    def attempt(self, resource_type: str, rid: str | None, make: Callable[[], T]) -> T | None:
        """Run one item mapper; any failure becomes a counted Unreadable, never an exception."""
        try:
            return make()
        except Exception as exc:
            self._failed(resource_type, rid, exc)
        return None

    def _failed(self, resource_type: str, rid: str | None, exc: Exception) -> None:
        if isinstance(exc, Unmappable):
            self._unreadable(resource_type, rid, exc.reason)
            return
        # a single odd resource must never cost the whole record
        log.warning("could not map a %s: %s", resource_type, type(exc).__name__)
        self._unreadable(resource_type, rid, f"could not be read ({type(exc).__name__})")


def map_structured_record(body: bytes | dict[str, Any], *, retrieved_at: datetime) -> SourceRecord:
    """Map a `$gpc.getstructuredrecord` Bundle; raises UnreadableResponse only when the body is not a
    Bundle at all (anything smaller is counted in `unreadable`)."""
    m = _Mapper(_load(body), retrieved_at)
    by_type = m.by_type

    lists = [info for r in by_type.get("List", []) if (info := _list_info(r, skip_inert=True))]
    lists += m.untyped_lists
    _add_contained(by_type, lists)
    patient_resource = next(iter(by_type.get("Patient", [])), None)
    org_ods, org_name = _practice(patient_resource, m.index, by_type.get("Organization", []))
    ctx = Stu3Context(m.index, retrieved_at, org_ods, org_name, _warnings_by_item(lists))

    patient = None
    if patient_resource is not None:
        patient = m.attempt("Patient", resource_id(patient_resource), lambda: _patient(patient_resource, ctx))
    else:
        m._unreadable("Patient", None, "the record has no Patient")

    by_area: dict[str | None, list[_ListInfo]] = {}  # each area's Lists, in order, for the missing items
    for info in lists:
        by_area.setdefault(info.area, []).append(info)
    allergies = _allergies(m, ctx, by_type, lists)
    _missing_list_items(m, by_area, "allergies", {"AllergyIntolerance"})
    medications = m.map_all("MedicationStatement", by_type.get("MedicationStatement", []),
                            lambda s: map_medication(s, ctx))
    medications += _plans_not_shown(m, ctx, by_type, medications)
    _missing_list_items(m, by_area, "medications", {"MedicationStatement"})
    problems = m.map_all("Condition", by_type.get("Condition", []), lambda c: map_problem(c, ctx))

    content = consultation_content([i.resource for i in lists if i.code == CONSULTATION_LIST], ctx)
    encounters = m.map_all(
        "Encounter", by_type.get("Encounter", []),
        lambda e: map_encounter(e, ctx, content.get(resource_id(e) or "", ())),
    )
    reports_found = by_type.get("DiagnosticReport", [])
    report_of, results_of, missing_results = report_results(reports_found, m.index)
    _inherit_warnings(ctx, report_of)
    for rid in missing_results:
        m._unreadable("Observation", rid, "listed in a report but not included in the response")
    reports = m.map_all(
        "DiagnosticReport", reports_found,
        lambda r: map_report(r, ctx, results_of.get(resource_id(r) or "", ())),
    )
    observations = m.map_all(
        "Observation", by_type.get("Observation", []),
        lambda o: map_observation(o, ctx, report_id=report_of.get(resource_id(o) or "")),
    )
    immunisations = m.map_all(
        "Immunization", by_type.get("Immunization", []), lambda i: map_immunisation(i, ctx)
    )
    referrals = m.map_all(
        "ReferralRequest", by_type.get("ReferralRequest", []), lambda r: map_referral(r, ctx)
    )
    for area, types in _LISTED_TYPES.items():
        _missing_list_items(m, by_area, area, types)

    warnings = _list_warnings(lists, ctx)
    missing, outcome_warnings = _outcomes(by_type.get("OperationOutcome", []), ctx)
    allergies_supplied = any(
        info.area == "allergies" and info.code in (ALLERGY_LIST, ENDED_ALLERGY_LIST, None) for info in lists
    )
    return SourceRecord(
        source=SourceKind.GP,
        retrieved_at=retrieved_at,
        patient=patient,
        org_ods=org_ods,
        org_name=org_name,
        allergies=tuple(allergies),
        allergies_supplied=allergies_supplied,
        medications=tuple(medications),
        problems=tuple(problems),
        encounters=tuple(encounters),
        observations=tuple(observations),
        reports=tuple(reports),
        immunisations=tuple(immunisations),
        referrals=tuple(referrals),
        warnings=tuple(warnings + outcome_warnings),
        unreadable=tuple(m.unreadable),
        missing_areas=tuple(missing),
    )


def _add_contained(by_type: dict[str, list[dict[str, Any]]], lists: list[_ListInfo]) -> None:
    """Resources a List carries inside itself are part of the record too (allergies, which the Ended
    allergies List holds this way, are handled with their List's meaning by _allergies)."""
    if not any(info.contained for info in lists):
        return  # the usual case: no need to list every resource present
    present = {(r["resourceType"], resource_id(r)) for group in by_type.values() for r in group}
    for info in lists:
        for rid, resource in info.contained.items():
            kind = resource.get("resourceType")
            if not isinstance(kind, str) or kind == "AllergyIntolerance" or (kind, rid) in present:
                continue
            present.add((kind, rid))
            by_type.setdefault(kind, []).append(resource)


def _warnings_by_item(lists: list[_ListInfo]) -> dict[tuple[str, str], tuple[str, ...]]:
    """A List's warning codes belong to every item it lists (GP Connect STR: shown with the item)."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for info in lists:
        if not info.warnings:
            continue
        for _item, rtype, rid in info.entries:
            if rid is None:
                continue
            if rid.startswith("#"):
                rtype, rid = as_dict(info.contained.get(rid[1:])).get("resourceType"), rid[1:]
            if isinstance(rtype, str):
                key = (rtype, rid)
                earlier = found.get(key)  # info.warnings has no repeats: merged only for a second List
                merged = info.warnings if earlier is None else tuple(dict.fromkeys(earlier + info.warnings))
                found[key] = merged
    return found


def _inherit_warnings(ctx: Stu3Context, report_of: dict[str, str]) -> None:
    """The investigations List names reports, not results: a report's warnings apply to its results."""
    for result_id, report_id in report_of.items():
        inherited = ctx.warnings_by_item.get(("DiagnosticReport", report_id))
        if inherited:
            key = ("Observation", result_id)
            ctx.warnings_by_item[key] = tuple(dict.fromkeys(ctx.warnings_by_item.get(key, ()) + inherited))


def _plans_not_shown(
    m: _Mapper, ctx: Stu3Context, by_type: dict[str, list[dict[str, Any]]], medications: list[Medication]
) -> list[Medication]:
    """Authorisations that no shown MedicationStatement is built from would otherwise vanish: map them
    from the plan (no statement is based on them, or the one that is could not be shown).

    A plan behind a shown statement is shown through it, which reads the first plan of that id; a
    second plan with the same id that says something else is counted unreadable, so neither version
    is picked silently (the very same plan sent twice is one fact, shown once)."""
    shown = {rid for med in medications for kind, rid in med.provenance.related
             if kind == "MedicationRequest"}
    plans, orders = [], {}
    for request in by_type.get("MedicationRequest", []):
        if request.get("intent") == "plan":
            rid = resource_id(request)
            if rid not in shown:
                plans.append(request)
                continue
            first = m.index.get("MedicationRequest", rid)
            if first is not request and first != request:
                m._unreadable("MedicationRequest", rid, "a second plan with the same id says something "
                              "else; the medicine shows the first")
        else:
            for ref in as_list(request.get("basedOn")):
                orders.setdefault(reference_key(ref)[1], []).append(request)
    return m.map_all(
        "MedicationRequest", plans,
        lambda p: map_medication_plan(p, ctx, tuple(orders.get(resource_id(p), ()))),
    )


def _patient(resource: dict[str, Any], ctx: Stu3Context) -> Patient:
    """Patient elements are shaped alike in STU3 and R4, so the R4 reader is reused (one reader keeps
    the banner's cross-source comparison fair); the practice comes from this Bundle's Organization."""
    patient = map_r4_patient(
        resource, source=SourceKind.GP, retrieved_at=ctx.retrieved_at,
        org_ods=ctx.org_ods, org_name=ctx.org_name,
    )
    if not patient.nhs_number:
        raise Unmappable("patient has no NHS number")
    return replace(patient, gp_practice_ods=ctx.org_ods, gp_practice_name=ctx.org_name)


def _allergies(
    m: _Mapper, ctx: Stu3Context, by_type: dict[str, list[dict[str, Any]]], lists: list[_ListInfo]
) -> list[Allergy]:
    """Every AllergyIntolerance (top level, or contained in an allergy List such as Ended allergies),
    plus anything else an allergy List points at (allergies recorded as problems)."""
    allergies: list[Allergy] = []
    done: set[tuple[str, str | None]] = set()
    ended_ids = set()
    for info in lists:
        if info.area == "allergies" and _is_ended_list(info):
            for _item, _rtype, rid in info.entries:
                if rid is not None:
                    ended_ids.add(rid.lstrip("#"))

    for resource in by_type.get("AllergyIntolerance", []):
        rid = resource_id(resource)
        done.add(("AllergyIntolerance", rid))
        ended = rid in ended_ids
        item = m.attempt(
            "AllergyIntolerance", rid, lambda r=resource, e=ended: map_allergy(r, ctx, ended_list=e)
        )
        if item is not None:
            allergies.append(item)

    for info in lists:
        if not info.contained:
            continue
        ended = _is_ended_list(info)
        for rid, contained in info.contained.items():
            kind = as_dict(contained).get("resourceType")
            if kind != "AllergyIntolerance" or ("AllergyIntolerance", rid) in done:
                continue
            done.add(("AllergyIntolerance", rid))
            item = m.attempt(
                "AllergyIntolerance", rid, lambda r=contained, e=ended: map_allergy(r, ctx, ended_list=e)
            )
            if item is not None:
                allergies.append(item)

    for info in lists:
        if info.area != "allergies":
            continue
        ended = _is_ended_list(info)
        for _item, rtype, rid in info.entries:
            if rid is None or rid.startswith("#") or rtype is None or (rtype, rid) in done:
                continue
            target = m.index.get(rtype, rid)
            if target is None:
                continue  # counted by _missing_list_items, which the caller runs next
            done.add((rtype, rid))
            item = m.attempt(
                rtype, rid,
                lambda r=target, t=rtype, e=ended: map_allergy_recorded_elsewhere(r, ctx, t, ended_list=e),
            )
            if item is not None:
                allergies.append(item)
    return allergies


def _missing_list_items(
    m: _Mapper, by_area: dict[str | None, list[_ListInfo]], area: str, types: set[str]
) -> None:
    """A List entry that points at nothing in the Bundle is an item the practice meant to send: count it
    once, so the clinician sees that something is missing instead of a shorter list."""
    default_type = sorted(types)[0]
    seen: set[tuple[str | None, str]] = set()
    for info in by_area.get(area, ()):
        for item, rtype, rid in info.entries:
            if rid is None:
                if item is not None:  # e.g. an identifier-only reference: present but unresolvable
                    m._unreadable(default_type, None, "listed item has no reference")
                continue
            if rid.startswith("#"):
                if rid[1:] in info.contained:
                    continue
            elif rtype is not None and m.index.get(rtype, rid) is not None:
                continue
            elif rtype is None and (" " in rid.strip() or any(m.index.get(t, rid) for t in types)):
                continue  # an untyped reference to a present item, or text where a reference is due
            if (rtype, rid) in seen:
                continue
            seen.add((rtype, rid))
            reason = "listed in the record but not included in the response"
            m._unreadable(rtype or default_type, rid.lstrip("#"), reason)


def _list_warnings(lists: list[_ListInfo], ctx: Stu3Context) -> list[RecordWarning]:
    found: dict[tuple[str, str | None], RecordWarning] = {}
    for info in lists:
        for code in info.warnings:
            area = None if code in RECORD_WIDE_WARNINGS else (
                info.area or as_text(info.resource.get("title")) or info.code
            )
            key = (code, area)
            if key in found:
                continue
            message = WARNING_MESSAGES.get(code, f"The GP practice marked this part of the record: {code}")
            found[key] = RecordWarning(
                code=code, message=message, area=area,
                provenance=ctx.provenance("List", resource_id(info.resource)),
            )
    return list(found.values())


def _outcomes(outcomes: list[dict[str, Any]], ctx: Stu3Context) -> tuple[list[str], list[RecordWarning]]:
    """In-bundle OperationOutcomes: NOT_IMPLEMENTED names an area the practice's system cannot supply."""
    missing: list[str] = []
    warnings: list[RecordWarning] = []
    for outcome in outcomes:
        provenance = ctx.provenance("OperationOutcome", resource_id(outcome))
        for issue in as_list(outcome.get("issue")):
            data = as_dict(issue)
            details = as_dict(data.get("details"))
            code = code_of(details) or as_text(data.get("code")) or "UNKNOWN"
            text = " ".join(t for t in (as_text(data.get("diagnostics")), as_text(details.get("text"))) if t)
            if code == "NOT_IMPLEMENTED":
                names = _PARAMETER_NAME.findall(text)
                areas = [AREA_BY_PARAMETER.get(n, n) for n in names] or ["part of the record"]
                for area in dict.fromkeys(areas):
                    if area not in missing:
                        missing.append(area)
                    warnings.append(
                        RecordWarning(
                            code=code,
                            message=f"The GP practice's system did not supply {area}",
                            provenance=provenance,
                            area=area,
                        )
                    )
            elif as_text(data.get("severity")) in ("warning", "information", "error", "fatal"):
                display = next(
                    (as_text(as_dict(c).get("display")) for c in as_list(details.get("coding"))), None
                )
                warnings.append(
                    RecordWarning(
                        code=code,
                        message=display or "The GP practice's system reported a problem with the record",
                        provenance=provenance,
                    )
                )
    return missing, warnings
