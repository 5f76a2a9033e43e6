"""The typed path for the bulk of a hospital record: results (Observation) and reports (DiagnosticReport).

A large record is ten thousand results, so these two types are decoded into Structs (see fhir_decode)
and mapped here from attributes. Each typed mapper gives the same domain item as its dict mapper in
r4_results for every resource it accepts (tests/unit/sources/test_r4_typed.py checks this over the
sandbox population); it raises `NotPlain` for anything it does not handle (components, the rarer value
types), and the caller then maps the resource's dict with the dict mapper.

Elements that repeat across results (the test's code, its value, reference range, interpretation) are
kept as raw JSON and read through the context's cache by the dict path's own readers, so they cannot
disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from viewer.domain.events import Observation, Report
from viewer.domain.provenance import Provenance
from viewer.sources.fhir_common import as_list, as_text, concept, notes, split_reference
from viewer.sources.fhir_decode import NotPlain, Period, load
from viewer.sources.r4_context import ENTERED_IN_ERROR, SOURCE, MappingContext, Skip
from viewer.sources.r4_fields import is_empty
from viewer.sources.r4_results import interpretation_text, reference_range
from viewer.sources.r4_structs import R4DiagnosticReport, R4Observation
from viewer.sources.r4_values import Value, quantity

_NO_RANGE = (None, None, None)
_NO_VALUE = (None, None, None, None)


def _provenance_of(ctx: MappingContext, resource_type: str, rid: str | None) -> Provenance:
    return Provenance(source=SOURCE, resource_type=resource_type, resource_id=rid,
                       retrieved_at=ctx.retrieved_at, org_ods=ctx.org_ods, org_name=ctx.org_name)


def _status(res: R4Observation | R4DiagnosticReport) -> str | None:
    if res.status == ENTERED_IN_ERROR:
        raise Skip("entered in error")
    return res.status


def _first_date(ctx: MappingContext, *values: str | Period | None) -> Any:
    """`MappingContext.first_date` over typed elements: a Period gives its start, else its end."""
    for value in values:
        found = (ctx.date(value.start) or ctx.date(value.end)) if type(value) is Period else ctx.date(value)
        if found is not None:
            return found
    return None


def _value(res: R4Observation, ctx: MappingContext) -> Value | None:
    """`r4_values.observation_value` for the shapes this path accepts (no components, no absent-reason,
    a Quantity, string or CodeableConcept value or none); a Quantity is read by the dict path's reader,
    once per distinct text (a record repeats `122 g/L` many times)."""
    if res.component or res.dataAbsentReason:
        raise NotPlain("components or absent reason")
    if res.valueQuantity:
        return ctx.from_raw(ctx.raw_quantities, res.valueQuantity, quantity)
    if res.valueString is not msgspec.UNSET:
        text = as_text(res.valueString)
        return Value(text) if text else None
    if res.valueCodeableConcept:
        label = ctx.from_raw(ctx.raw_concepts, res.valueCodeableConcept, concept).label
        return Value(label) if label else None
    if (res.valueInteger or res.valueBoolean or res.valueRange or res.valueRatio or res.valueDateTime
            or res.valueTime or res.valuePeriod or res.valueSampledData):
        raise NotPlain("a rarer value type")
    return None


def typed_observation_mapper(
    groups: dict[str, str],
) -> Callable[[R4Observation, MappingContext], Observation]:
    """The typed twin of `r4_results.observation_mapper`, closed over the same report grouping. Written
    flat (no helper per element): it runs once per result of a ten-thousand-result record."""

    def map_observation(res: R4Observation, ctx: MappingContext) -> Observation:
        status = _status(res)
        from_raw = ctx.from_raw
        code = bytes(res.code)  # ctx.from_raw written out for the one element every result has
        test = ctx.raw_concepts.get(code)
        if test is None:
            test = ctx.raw_concepts[code] = concept(load(res.code))
        if is_empty(test):
            raise Skip("no test name given")
        text, number, unit, comparator = _value(res, ctx) or _NO_VALUE
        low, high, range_text = (
            from_raw(ctx.raw_ranges, res.referenceRange, reference_range) if res.referenceRange else _NO_RANGE
        )
        interpretation = (
            from_raw(ctx.raw_interpretations, res.interpretation, lambda v: interpretation_text(v, ctx))
            if res.interpretation else None
        )
        rid = as_text(res.id)
        # the usual case first, written out: a result taken at one instant
        effective = ctx.date(res.effectiveDateTime) or _first_date(
            ctx, res.effectivePeriod, res.effectiveInstant, res.issued
        )
        return Observation(
            test=test, provenance=_provenance_of(ctx, "Observation", rid), effective=effective, value=text,
            number=number, unit=unit, comparator=comparator, range_low=low, range_high=high,
            range_text=range_text, interpretation=interpretation, status=status,
            report_id=groups.get(rid) if rid else None, notes=notes(load(res.note)) if res.note else (),
        )

    return map_observation


def map_typed_report(res: R4DiagnosticReport, ctx: MappingContext) -> Report:
    """The typed twin of `r4_results.map_report`."""
    status = _status(res)
    name = ctx.from_raw(ctx.raw_concepts, res.code, concept)
    if is_empty(name):
        raise Skip("no report name given")
    result_ids = []
    for ref in res.result or ():
        rtype, rid = split_reference(ref.reference)
        if rid and rtype in (None, "Observation") and not rid.startswith("#"):
            result_ids.append(rid)
    conclusion = as_text(res.conclusion)
    if conclusion is None and res.conclusionCode:
        codes = [c.label for c in (concept(x) for x in as_list(load(res.conclusionCode))) if c.label]
        conclusion = "; ".join(codes) or None
    return Report(
        name=name,
        provenance=_provenance_of(ctx, "DiagnosticReport", as_text(res.id)),
        issued=_first_date(ctx, res.issued, res.effectiveDateTime, res.effectivePeriod),
        status=status,
        result_ids=tuple(result_ids),
        conclusion=conclusion,
        notes=notes(load(res.note)) if res.note else (),
    )
