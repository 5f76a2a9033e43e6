"""What the shape of a GP Connect Bundle says about its items: the readable content of a consultation
(consultation List -> topic Lists -> heading Lists -> items) and which DiagnosticReport a result belongs
to (directly, or through a test group's has-member links).

Both are walked over references that suppliers get wrong (untyped, dangling, cyclic), so every walk
tolerates a missing target and never visits a List twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from viewer.sources.fhir_common import ResourceIndex, as_dict, as_list, as_text, label_of, reference_key
from viewer.sources.stu3_context import Stu3Context, resource_id
from viewer.sources.stu3_values import shown

CONSULTATION_LIST = "325851000000107"
TOPIC_LIST = "25851000000105"
HEADING_LIST = "24781000000107"
COMMENT_NOTE = "37331000000100"
HAS_MEMBER = "has-member"

_CODE_ELEMENT = {"Immunization": "vaccineCode", "ReferralRequest": "reasonCode", "DocumentReference": "type"}
_INTENT = {"plan": "authorised", "order": "issued"}
_PREFIX = {
    "AllergyIntolerance": "Allergy",
    "Condition": "Problem",
    "DiagnosticReport": "Investigation",
    "DocumentReference": "Document",
    "Immunization": "Immunisation",
    "MedicationRequest": "Medication",
    "MedicationStatement": "Medication",
    "ProcedureRequest": "Diary entry",
    "ReferralRequest": "Referral",
}


def list_code(resource: dict[str, Any]) -> str | None:
    code = resource.get("code")
    for coding in as_list(code.get("coding") if isinstance(code, dict) else None):
        found = coding.get("code") if isinstance(coding, dict) else None
        if isinstance(found, str) and found.strip():
            return found
    return None


def _target(item: Any, index: ResourceIndex, default_type: str | None = None) -> dict[str, Any] | None:
    found = index.target(item)
    if found is not None:
        return found
    rtype, rid = reference_key(item)
    if rid is None or rid.startswith("#"):
        return None
    if rtype is not None:
        return index.get(rtype, rid)
    for kind in (default_type, "List", "Observation"):
        found = index.get(kind, rid) if kind else None
        if found is not None:
            return found
    return None


def _observation_text(resource: dict[str, Any], ctx: Stu3Context) -> str | None:
    test, value, parts = ctx.reading(resource)
    label = test.label
    value_text = shown(value) or parts
    comment = as_text(resource.get("comment"))
    if comment and not value_text and (list_code(resource) == COMMENT_NOTE or not label):
        return comment
    line = f"{label} {value_text}" if label and value_text else label or value_text or None
    if comment:
        return f"{line}: {comment}" if line else comment
    return line


def _medicine_name(resource: dict[str, Any], index: ResourceIndex) -> str | None:
    medication = index.resolve(resource.get("medicationReference"), "Medication")
    return (
        label_of(as_dict(medication).get("code"))
        or label_of(resource.get("medicationCodeableConcept"))
        or as_text(as_dict(resource.get("medicationReference")).get("display"))
    )


def item_text(resource: dict[str, Any], ctx: Stu3Context) -> str | None:
    """One line for an item inside a consultation, as a clinician would read it in the GP system."""
    kind = resource.get("resourceType")
    if kind == "Observation":
        return _observation_text(resource, ctx)
    if kind in ("MedicationRequest", "MedicationStatement"):
        text = _medicine_name(resource, ctx.index)
        intent = _INTENT.get(resource.get("intent"))  # type: ignore[arg-type]
        if text and intent:
            return f"Medication {intent}: {text}"
    else:
        code = resource.get(_CODE_ELEMENT.get(kind, "code"))  # type: ignore[arg-type]
        text = label_of(as_list(code)[0] if isinstance(code, list) and code else code) or None
        text = text or as_text(resource.get("description"))
    if not text:
        return None
    prefix = _PREFIX.get(kind)  # type: ignore[arg-type]
    return f"{prefix}: {text}" if prefix else text


def _entry_text(item: Any, ctx: Stu3Context, target: dict[str, Any] | None = None) -> str | None:
    """The line of one listed item; `target` is the item's resource when the caller has resolved it."""
    if target is None:
        target = _target(item, ctx.index)
    if target is not None:
        return item_text(target, ctx)
    data = as_dict(item)
    reference = as_text(data.get("reference")) or ""
    # Some systems put the reason an item is absent in the reference itself ("... not supported ...").
    return as_text(data.get("display")) or (reference if " " in reference.strip() else None)


def _heading_lines(heading: dict[str, Any], ctx: Stu3Context) -> list[str]:
    title = as_text(heading.get("title"))
    lines = []
    target_of = ctx.index.target  # the `Type/id` fast path of _target, for the hundreds of items
    for entry in as_list(heading.get("entry")):
        item = entry.get("item") if isinstance(entry, dict) else None
        target = target_of(item)
        text = item_text(target, ctx) if target is not None else _entry_text(item, ctx)
        if text:
            lines.append(f"{title}: {text}" if title else text)
    return lines


def _consultation_lines(consultation: dict[str, Any], ctx: Stu3Context, seen: set[int]) -> list[str]:
    """Topics, then each heading's items. A target resolved as a possible List is the same resource
    _entry_text would resolve (an untyped reference is tried as a List first either way), so it is
    handed over rather than looked up again."""
    index = ctx.index
    lines: list[str] = []
    for entry in as_list(consultation.get("entry")):
        item = entry.get("item") if isinstance(entry, dict) else None
        topic = index.target(item) or _target(item, index, "List")
        if topic is None or topic.get("resourceType") != "List":
            text = _entry_text(item, ctx, topic)
            if text:
                lines.append(text)
            continue
        if id(topic) in seen:
            continue
        seen.add(id(topic))
        title = as_text(topic.get("title"))
        if title:
            lines.append(f"Topic: {title}")
        for topic_entry in as_list(topic.get("entry")):
            inner = topic_entry.get("item") if isinstance(topic_entry, dict) else None
            heading = index.target(inner) or _target(inner, index, "List")
            if heading is not None and heading.get("resourceType") == "List":
                if id(heading) not in seen:
                    seen.add(id(heading))
                    lines.extend(_heading_lines(heading, ctx))
                continue
            text = _entry_text(inner, ctx, heading)
            if text:
                lines.append(text)
    return lines


def consultation_content(lists: Iterable[dict[str, Any]], ctx: Stu3Context) -> dict[str, tuple[str, ...]]:
    """Encounter id -> the readable lines of its consultation (topic titles, then `Heading: item`).
    Observations are read through `ctx.reading`, so the results list does not read them again."""
    content: dict[str, list[str]] = {}
    seen: set[int] = set()
    for resource in lists:
        if list_code(resource) != CONSULTATION_LIST or id(resource) in seen:
            continue
        seen.add(id(resource))
        rtype, encounter_id = reference_key(resource.get("encounter"))
        if encounter_id is None or rtype not in (None, "Encounter"):
            continue
        content.setdefault(encounter_id, []).extend(_consultation_lines(resource, ctx, seen))
    return {k: tuple(v) for k, v in content.items()}


def report_results(
    reports: Iterable[dict[str, Any]], index: ResourceIndex
) -> tuple[dict[str, str], dict[str, tuple[str, ...]], list[str]]:
    """(report id of each result, result ids of each report, result ids a report names but the Bundle
    lacks). A test group's members belong to the group's report; the first report to claim a result
    keeps it."""
    report_of: dict[str, str] = {}
    results_of: dict[str, tuple[str, ...]] = {}
    missing: list[str] = []
    for report in reports:
        report_id = resource_id(report)
        if report_id is None:
            continue
        found: list[str] = []
        pending = [as_dict(r) for r in reversed(as_list(report.get("result")))]
        while pending:  # depth first, so a group's members follow the group
            rtype, oid = reference_key(pending.pop())
            if oid is None or oid.startswith("#") or rtype not in (None, "Observation") or oid in found:
                continue
            observation = index.get("Observation", oid)
            if observation is None:
                missing.append(oid)
                continue
            found.append(oid)
            report_of.setdefault(oid, report_id)
            members = [as_dict(r) for r in as_list(observation.get("related"))]
            pending += [as_dict(r.get("target")) for r in reversed(members) if r.get("type") == HAS_MEMBER]
        results_of[report_id] = tuple(found)
    return report_of, results_of, list(dict.fromkeys(missing))
