"""Hospital encounters, immunisations, referrals, document metadata and flags (FHIR R4 / UK Core).

Each mapper returns one domain item or raises `Skip` with the reason it cannot be shown. Narrative
(`text.div`) is never read here: it is XHTML the viewer must sanitise before showing, so only plain
elements are mapped.
"""

from __future__ import annotations

from typing import Any

from viewer.domain.coding import Concept
from viewer.domain.events import Document, Encounter, Flag, Immunisation, Referral
from viewer.sources.fhir_common import as_dict, as_list, as_text, concept, notes
from viewer.sources.r4_context import MappingContext, Skip, status_of
from viewer.sources.r4_fields import is_empty

# Encounter.class (v3 ActCode) -> what the ward calls it; any other class is shown as given.
ENCOUNTER_KINDS = {"AMB": "outpatient", "IMP": "inpatient", "EMER": "emergency"}


def _concepts(values: Any) -> list[Concept]:
    return [c for c in (concept(v) for v in as_list(values)) if not is_empty(c)]


def _reasons(res: dict[str, Any], ctx: MappingContext) -> tuple[Concept, ...]:
    """reasonCode, then each reasonReference: its display (the author's own summary of why), else the
    referenced resource's code (a Condition fetched alongside)."""
    reasons = _concepts(res.get("reasonCode"))
    for ref in as_list(res.get("reasonReference")):
        found = Concept(as_text(as_dict(ref).get("display")))
        if is_empty(found):
            target = ctx.resolve(res, ref)
            found = concept(target.get("code")) if target is not None else Concept()
        if not is_empty(found) and found not in reasons:
            reasons.append(found)
    return tuple(reasons)


def _kind(value: Any) -> str | None:
    """R4 class is one Coding; a CodeableConcept or a list of either (R5 style) is read too."""
    for item in as_list(value):
        data = as_dict(item)
        if "coding" in data or "text" in data:
            found = _kind(data.get("coding")) or as_text(data.get("text"))
            if found:
                return found
            continue
        code = as_text(data.get("code"))
        if code in ENCOUNTER_KINDS:
            return ENCOUNTER_KINDS[code]
        if code or as_text(data.get("display")):
            return as_text(data.get("display")) or code
    return None


def map_encounter(res: dict[str, Any], ctx: MappingContext) -> Encounter:
    status = status_of(res)
    period = as_dict(res.get("period"))
    start, end = ctx.date(period.get("start")), ctx.date(period.get("end"))
    kind = _kind(res.get("class"))
    types = _concepts(res.get("type"))
    reasons = _reasons(res, ctx)
    if start is None and end is None and kind is None and not types and not reasons:
        raise Skip("no date, class or type given")
    clinician = ctx.people(res, [as_dict(p).get("individual") for p in as_list(res.get("participant"))])
    location = ctx.people(res, [as_dict(loc).get("location") for loc in as_list(res.get("location"))])
    return Encounter(
        provenance=ctx.provenance(res),
        kind=kind,
        type=types[0] if types else None,
        status=status,
        start=start,
        end=end,
        reasons=reasons,
        clinician=clinician,
        location=location,
        notes=notes(res.get("note")),
    )


def _dose(protocols: Any) -> str | None:
    """`2` or `2 of 3` (dose number of series doses), as given."""
    for item in as_list(protocols):
        data = as_dict(item)
        number = data.get("doseNumberPositiveInt", data.get("doseNumberString"))
        series = data.get("seriesDosesPositiveInt", data.get("seriesDosesString"))
        number = str(number) if isinstance(number, int | str) and not isinstance(number, bool) else None
        series = str(series) if isinstance(series, int | str) and not isinstance(series, bool) else None
        if number and number.strip():
            return f"{number} of {series}" if series and series.strip() else number
    return None


def map_immunisation(res: dict[str, Any], ctx: MappingContext) -> Immunisation:
    status = status_of(res)
    vaccine = concept(res.get("vaccineCode"))
    if is_empty(vaccine):
        raise Skip("no vaccine given")
    extra: list[str] = []
    if status == "not-done":
        reason = concept(res.get("statusReason")).label
        extra.append(f"Not given: {reason}" if reason else "Not given")
    occurrence = as_text(res.get("occurrenceString"))
    given = ctx.date(res.get("occurrenceDateTime"))
    if given is None and occurrence:
        extra.append(f"Given: {occurrence}")
    return Immunisation(
        vaccine=vaccine,
        provenance=ctx.provenance(res),
        given=given,
        status=status,
        dose=_dose(res.get("protocolApplied")),
        site=concept(res.get("site")).label or None,
        route=concept(res.get("route")).label or None,
        batch=as_text(res.get("lotNumber")),
        performer=ctx.people(res, [as_dict(p).get("actor") for p in as_list(res.get("performer"))]),
        notes=(*extra, *notes(res.get("note"))),
    )


def _service(res: dict[str, Any]) -> str | None:
    """What is asked for and of whom: `Colonoscopy (Gastroenterology)`; the category as a last resort."""
    asked = concept(res.get("code")).label or None
    performer = next((c.label for c in _concepts(res.get("performerType"))), None)
    if asked and performer and performer != asked:
        return f"{asked} ({performer})"
    return asked or performer or next((c.label for c in _concepts(res.get("category"))), None)


def map_referral(res: dict[str, Any], ctx: MappingContext) -> Referral:
    status = status_of(res)
    service = _service(res)
    if service is None:
        raise Skip("no service given")
    priority = res.get("priority")
    extra = []
    instruction = as_text(res.get("patientInstruction"))
    if instruction:
        extra.append(f"Patient instruction: {instruction}")
    return Referral(
        provenance=ctx.provenance(res),
        service=service,
        reasons=_reasons(res, ctx),
        authored=ctx.date(res.get("authoredOn")),
        status=status,
        priority=priority if isinstance(priority, str) else None,
        requester=ctx.person(res, res.get("requester")),
        recipient=ctx.people(res, res.get("performer")),
        notes=(*notes(res.get("note")), *extra),
    )


def map_document(res: dict[str, Any], ctx: MappingContext) -> Document:
    """Metadata only. Title: the description, else the attachment's own title, else the type."""
    status = status_of(res)
    attachments = [as_dict(as_dict(c).get("attachment")) for c in as_list(res.get("content"))]
    attachment = next((a for a in attachments if as_text(a.get("url"))), None)
    attachment = attachment or next((a for a in attachments if a), {})
    doc_type = concept(res.get("type"))
    title = (as_text(res.get("description")) or as_text(attachment.get("title"))
             or next((as_text(a.get("title")) for a in attachments if as_text(a.get("title"))), None)
             or doc_type.label or None)
    if title is None:
        raise Skip("no title or type given")
    context_period = as_dict(as_dict(res.get("context")).get("period"))
    return Document(
        title=title,
        provenance=ctx.provenance(res),
        type=None if is_empty(doc_type) else doc_type,
        created=(ctx.date(res.get("date")) or ctx.date(attachment.get("creation"))
                 or ctx.date(context_period.get("start"))),
        author=ctx.people(res, res.get("author")),
        status=status,
        content_type=as_text(attachment.get("contentType")),
        url=as_text(attachment.get("url")),
    )


def map_flag(res: dict[str, Any], ctx: MappingContext) -> Flag:
    status = status_of(res)
    text = concept(res.get("code"))
    if is_empty(text):
        raise Skip("no flag text given")
    period = as_dict(res.get("period"))
    categories = [c.label for c in _concepts(res.get("category"))]
    return Flag(
        text=text,
        provenance=ctx.provenance(res),
        status=status,
        category=", ".join(categories) or None,
        start=ctx.date(period.get("start")),
        end=ctx.date(period.get("end")),
    )

