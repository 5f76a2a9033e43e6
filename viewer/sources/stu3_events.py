"""GP Connect STU3 consultations, observations, investigation reports, immunisations and referrals -> domain.

Like stu3_items, each mapper is a pure function of (resource, context) that returns one item or raises
Unmappable with a fixed reason. What the Bundle's structure adds (a consultation's readable content, the
DiagnosticReport that groups a result) is worked out by the caller and passed in, so these stay small.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from viewer.domain.coding import SNOMED, Concept
from viewer.domain.events import Encounter, Immunisation, Observation, Referral, Report
from viewer.sources.fhir_common import (
    as_dict,
    as_list,
    as_text,
    code_of,
    concept,
    extension,
    notes,
)
from viewer.sources.stu3_context import Stu3Context, Unmappable, resource_id
from viewer.sources.stu3_items import status_code
from viewer.sources.stu3_values import number_of, quantity, reference_range

CONSULTATION = "consultation"
PERFORMER_ORDER = ("PPRF", "PART", "AUT", "AUTH", "REC")  # who a clinician asks about first
ADMINISTERING = "AP"
NULL_FLAVOR = "NullFlavor"
EXT_PARENT_PRESENT = "ParentPresent-1"
EXT_DATE_RECORDED = "DateRecorded-1"
EXT_VACCINATION_PROCEDURE = "VaccinationProcedure-1"
GENERIC_REPORT = "721981007"  # Diagnostic studies report
COMMENT_NOTE = "37331000000100"
_EFFECTIVE = ("effectiveDateTime", "effectivePeriod")


def _first_concept(values: Any, ctx: Stu3Context) -> Concept | None:
    for value in as_list(values):
        found = ctx.concept(value)
        if found.label:
            return found
    return None


def _by_role(entries: list[Any], rank: Callable[[Any], int]) -> list[Any]:
    """Participants ordered by role (primary performer first); unknown roles keep their place after."""
    return sorted(entries, key=rank) if len(entries) > 1 else entries


_PERFORMER_RANK = {role: i for i, role in enumerate(PERFORMER_ORDER)}


def _performer_rank(entry: Any) -> int:
    """A consultation participant's best-placed role in PERFORMER_ORDER; unknown roles after. Written
    out, without a list or generator per participant: every consultation sorts its participants."""
    best = len(PERFORMER_ORDER)
    for kind in as_list(as_dict(entry).get("type")):
        rank = _PERFORMER_RANK.get(code_of(kind), best)  # type: ignore[arg-type]
        if rank < best:
            best = rank
    return best


def _administrator_rank(entry: Any) -> int:
    """The practitioner who gave a vaccine first."""
    return 0 if code_of(as_dict(entry).get("role")) == ADMINISTERING else 1


def map_encounter(resource: dict[str, Any], ctx: Stu3Context, content: tuple[str, ...] = ()) -> Encounter:
    """A GP consultation. `content` is the readable text of its consultation List (topics, headings)."""
    period = as_dict(resource.get("period"))
    start = ctx.date(period.get("start"))
    kind = _first_concept(resource.get("type"), ctx)
    if kind is None and start is None:
        raise Unmappable("consultation has no type or date")
    clinician = None
    for participant in _by_role(as_list(resource.get("participant")), _performer_rank):
        clinician = ctx.person_name(as_dict(participant).get("individual"))
        if clinician:
            break
    location = None
    for place in as_list(resource.get("location")):
        location = ctx.person_name(as_dict(place).get("location"))
        if location:
            break
    return Encounter(
        provenance=ctx.provenance("Encounter", resource_id(resource)),
        kind=CONSULTATION,
        type=kind,
        status=status_code(resource.get("status")),
        start=start,
        end=ctx.date(period.get("end")),
        reasons=tuple(c for c in (ctx.concept(r) for r in as_list(resource.get("reason"))) if c.label),
        clinician=clinician,
        location=location,
        notes=content,
    )


def map_observation(
    resource: dict[str, Any], ctx: Stu3Context, *, report_id: str | None = None
) -> Observation:
    """Uncategorised data, a test result, a test group header or a filing comment: all are results a
    clinician reads in date order, so all become Observations; `report_id` links a result to its report."""
    test, value, parts = ctx.reading(resource)  # shared with the consultation's text
    if not test.label:
        raise Unmappable("observation has no code or text")
    text = value.text or parts
    low, high, range_text = (
        reference_range(resource) if "referenceRange" in resource else (None, None, None)
    )
    interpretation = (
        _first_concept(resource["interpretation"], ctx) if "interpretation" in resource else None
    )
    extra = []
    comment = as_text(resource.get("comment"))
    if comment:
        extra.append(comment)
    if text is None and "dataAbsentReason" in resource:
        absent = ctx.concept(resource["dataAbsentReason"]).label
        if absent:
            extra.append(f"No value: {absent}")
    return Observation(
        test=test,
        provenance=ctx.provenance("Observation", resource_id(resource)),
        effective=ctx.first_date(resource, *_EFFECTIVE) or ctx.date(resource.get("issued")),
        value=text,
        number=value.number,
        unit=value.unit,
        comparator=value.comparator,
        range_low=low,
        range_high=high,
        range_text=range_text,
        interpretation=interpretation.label if interpretation else None,
        status=status_code(resource.get("status")),
        report_id=report_id,
        notes=tuple(extra),
    )


def _named_by_results(resource: dict[str, Any], ctx: Stu3Context, name: Concept) -> Concept:
    """GP systems code every report as 'Diagnostic studies report'; a clinician knows it by its test
    (`Full blood count`), so the first result that is a test (not a filing comment) names it."""
    for ref in as_list(resource.get("result")):
        result = ctx.index.resolve(ref, "Observation")
        test = ctx.concept(as_dict(result).get("code"))
        if test.label and test.code_in(SNOMED) != COMMENT_NOTE:
            return Concept(test.label, name.codings)
    return name


def map_report(resource: dict[str, Any], ctx: Stu3Context, result_ids: tuple[str, ...] = ()) -> Report:
    """A DiagnosticReport; `result_ids` are every Observation under it (test groups' members included)."""
    name = ctx.concept(resource.get("code"))
    if not name.text and name.code_in(SNOMED) == GENERIC_REPORT:
        name = _named_by_results(resource, ctx, name)
    if not name.label:
        raise Unmappable("investigation report has no code or text")
    diagnoses = tuple(c.label for c in map(concept, as_list(resource.get("codedDiagnosis"))) if c.label)
    return Report(
        name=name,
        provenance=ctx.provenance("DiagnosticReport", resource_id(resource)),
        issued=ctx.date(resource.get("issued")) or ctx.first_date(resource, *_EFFECTIVE),
        status=status_code(resource.get("status")),
        result_ids=result_ids,
        conclusion=as_text(resource.get("conclusion")),
        notes=diagnoses,
    )


def _is_unknown(value: Concept) -> bool:
    """GP systems send vaccineCode `UNK` (NullFlavor) when only the procedure was coded."""
    return not value.label or any(
        c.code == "UNK" and NULL_FLAVOR in (c.system or "") for c in value.codings
    ) or value.label.lower() == "unknown"


def _dose(resource: dict[str, Any]) -> str | None:
    for protocol in as_list(resource.get("vaccinationProtocol")):
        data = as_dict(protocol)
        number = number_of(data.get("doseSequence"))[0]
        series = number_of(data.get("seriesDoses"))[0]
        name = as_text(data.get("series")) or as_text(data.get("description"))
        dose = f"Dose {number}" + (f" of {series}" if series else "") if number else None
        shown = ", ".join(p for p in (dose, name) if p)
        if shown:
            return shown
    return None


def _immunisation_notes(resource: dict[str, Any], ctx: Stu3Context) -> tuple[str, ...]:
    """The spec's parent-present and date-recorded extensions, the amount given and the reasons: the
    domain item has no field of its own for these, and a clinician asks about them."""
    found = list(notes(resource.get("note")))
    parent = extension(resource, EXT_PARENT_PRESENT).get("valueBoolean")
    if isinstance(parent, bool):
        found.append("Parent present" if parent else "Parent not present")
    recorded_ext = extension(resource, EXT_DATE_RECORDED)
    recorded = ctx.date(recorded_ext.get("valueDateTime")) or ctx.date(recorded_ext.get("valueDate"))
    if recorded is not None:
        found.append(f"Recorded {recorded.display()}")
    amount = quantity(resource.get("doseQuantity"))
    if amount.text:
        found.append(f"Amount given: {amount.text}" + (f" {amount.unit}" if amount.unit else ""))
    explanation = as_dict(resource.get("explanation"))
    for name, label in (("reason", "Reason"), ("reasonNotGiven", "Reason not given")):
        for reason in as_list(explanation.get(name)):
            text = ctx.concept(reason).label
            if text:
                found.append(f"{label}: {text}")
    return tuple(dict.fromkeys(found))


def map_immunisation(resource: dict[str, Any], ctx: Stu3Context) -> Immunisation:
    """An Immunization. The vaccine is the product when coded, else the vaccination procedure extension."""
    vaccine = ctx.concept(resource.get("vaccineCode"))
    procedure = ctx.concept(extension(resource, EXT_VACCINATION_PROCEDURE).get("valueCodeableConcept"))
    if _is_unknown(vaccine) and procedure.label:
        vaccine = procedure
    if not vaccine.label:
        raise Unmappable("immunisation has no vaccine or procedure")
    status = status_code(resource.get("status"))
    if resource.get("notGiven") is True and status in (None, "completed"):
        status = "not-done"
    performer = None
    practitioners = _by_role(as_list(resource.get("practitioner")), _administrator_rank)
    for practitioner in practitioners:
        performer = ctx.person_name(as_dict(practitioner).get("actor"))
        if performer:
            break
    return Immunisation(
        vaccine=vaccine,
        provenance=ctx.provenance("Immunization", resource_id(resource)),
        given=ctx.date(resource.get("date")),
        status=status,
        dose=_dose(resource),
        site=ctx.concept(resource.get("site")).label or None,
        route=ctx.concept(resource.get("route")).label or None,
        batch=as_text(resource.get("lotNumber")),
        performer=performer,
        notes=_immunisation_notes(resource, ctx),
    )


def map_referral(resource: dict[str, Any], ctx: Stu3Context) -> Referral:
    """A ReferralRequest: the service is the specialty or service requested, else the recipient service."""
    recipients = [n for n in (ctx.person_name(r) for r in as_list(resource.get("recipient"))) if n]
    service = ctx.concept(resource.get("specialty")).label or None
    if service is None:
        requested = _first_concept(resource.get("serviceRequested"), ctx)
        service = requested.label if requested else None
    if service is None:
        for ref in as_list(resource.get("recipient")):
            target = ctx.index.resolve(ref, "HealthcareService")
            if target is not None and as_text(target.get("name")):
                service = target["name"]
                break
    reasons = tuple(c for c in (ctx.concept(r) for r in as_list(resource.get("reasonCode"))) if c.label)
    authored = ctx.date(resource.get("authoredOn"))
    description = as_text(resource.get("description"))
    if not (service or recipients or reasons or authored or description):
        raise Unmappable("referral has no service, reason or date")
    requester = as_dict(resource.get("requester"))
    who = ctx.person_name(requester.get("agent")) if "agent" in requester else ctx.person_name(requester)
    return Referral(
        provenance=ctx.provenance("ReferralRequest", resource_id(resource)),
        service=service,
        reasons=reasons,
        authored=authored,
        status=status_code(resource.get("status")),
        priority=as_text(resource.get("priority")),
        requester=who or ctx.person_name(requester.get("onBehalfOf")),
        recipient="; ".join(dict.fromkeys(recipients)) or None,
        notes=tuple(dict.fromkeys((description, *notes(resource.get("note"))) if description
                                  else notes(resource.get("note")))),
    )
