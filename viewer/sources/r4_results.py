"""Hospital results: Observation -> Observation and DiagnosticReport -> Report, grouped by report.

Reports are mapped first so each result knows the report that groups it (`report_id`), whether the
report points at it directly or through a panel Observation's `hasMember`. A report that is not shown
(entered in error, unreadable) groups nothing, so no result points at a report the screen lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from viewer.domain.events import Observation, Report
from viewer.sources.fhir_common import as_dict, as_list, as_text, concept, notes, reference_key
from viewer.sources.r4_context import MappingContext, Skip, status_of
from viewer.sources.r4_fields import is_empty
from viewer.sources.r4_structs import R4Observation
from viewer.sources.r4_values import observation_value

_MAX_DEPTH = 4  # panels of panels are real (FBC inside a haematology report); loops are not


def report_groups(reports: list[Report], ctx: MappingContext) -> dict[str, str]:
    """Observation id -> the id of the (first) shown report grouping it, directly or via hasMember."""
    groups: dict[str, str] = {}
    for report in reports:
        report_id = report.provenance.resource_id
        if report_id is None:
            continue
        pending = [(rid, 0) for rid in report.result_ids]
        while pending:
            rid, depth = pending.pop()
            if rid in groups:
                continue
            groups[rid] = report_id
            member_of = ctx.index.get(("Observation", rid))
            if member_of is None or depth >= _MAX_DEPTH:
                continue
            typed = isinstance(member_of, R4Observation)
            for ref in as_list(member_of.members() if typed else member_of.get("hasMember")):
                rtype, member = reference_key(ref)
                if member and rtype in (None, "Observation") and not member.startswith("#"):
                    pending.append((member, depth + 1))
    return groups


def map_report(res: dict[str, Any], ctx: MappingContext) -> Report:
    status = status_of(res)
    name = ctx.concept(res.get("code"))
    if is_empty(name):
        raise Skip("no report name given")
    result_ids = []
    for ref in as_list(res.get("result")):
        rtype, rid = reference_key(ref)
        if rid and rtype in (None, "Observation") and not rid.startswith("#"):
            result_ids.append(rid)
    conclusion = as_text(res.get("conclusion"))
    if conclusion is None:
        codes = [c.label for c in (concept(x) for x in as_list(res.get("conclusionCode"))) if c.label]
        conclusion = "; ".join(codes) or None
    return Report(
        name=name,
        provenance=ctx.provenance(res),
        issued=ctx.first_date(res, "issued", "effectiveDateTime", "effectivePeriod"),
        status=status,
        result_ids=tuple(result_ids),
        conclusion=conclusion,
        notes=notes(res.get("note")),
    )


def reference_range(ranges: Any) -> tuple[float | None, float | None, str | None]:
    """Low and high of the first range that has them; the texts of every range, joined."""
    if isinstance(ranges, list) and len(ranges) == 1 and isinstance(ranges[0], dict):  # the usual shape
        only = ranges[0]
        return _number(only.get("low")), _number(only.get("high")), as_text(only.get("text"))
    low = high = None
    texts: list[str] = []
    for item in as_list(ranges):
        data = as_dict(item)
        text = as_text(data.get("text"))
        if text:
            texts.append(text)
        if low is None and high is None:
            low = _number(data.get("low"))
            high = _number(data.get("high"))
    return low, high, "; ".join(texts) or None


def _number(value: Any) -> float | None:
    raw = value.get("value") if isinstance(value, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return float(raw)


def interpretation_text(value: Any, ctx: MappingContext) -> str | None:
    labels = [c.label for c in (ctx.concept(x) for x in as_list(value)) if c.label]
    return ", ".join(labels) or None


def observation_mapper(groups: dict[str, str]) -> Callable[[dict[str, Any], MappingContext], Observation]:
    """The Observation mapper, closed over this record's report grouping."""

    def map_observation(res: dict[str, Any], ctx: MappingContext) -> Observation:
        status = status_of(res)
        test = ctx.concept(res.get("code"))
        if is_empty(test):
            raise Skip("no test name given")
        value = observation_value(res)
        low, high, range_text = (
            reference_range(res["referenceRange"]) if "referenceRange" in res else (None, None, None)
        )
        interpretation = interpretation_text(res["interpretation"], ctx) if "interpretation" in res else None
        rid = as_text(res.get("id"))
        return Observation(
            test=test,
            provenance=ctx.provenance(res),
            effective=ctx.first_date(res, "effectiveDateTime", "effectivePeriod", "effectiveInstant",
                                     "issued"),
            value=value.text if value else None,
            number=value.number if value else None,
            unit=value.unit if value else None,
            comparator=value.comparator if value else None,
            range_low=low,
            range_high=high,
            range_text=range_text,
            interpretation=interpretation,
            status=status,
            report_id=groups.get(rid) if rid else None,
            notes=notes(res.get("note")) if "note" in res else (),
        )

    return map_observation
