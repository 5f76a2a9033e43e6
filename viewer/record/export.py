"""The combined record as plain JSON-able data (the versioned `inspect` schema) and as readable text.

Support staff replay a supplier's response with `wardview inspect`, and the safety tests read the same
JSON, so the shape is a contract: docs/inspect-schema.json describes it and SCHEMA_VERSION changes when a
field is removed or changes meaning. Items are serialised generically from their dataclass fields, so a
field the domain gains appears here without a change (and is then added to the schema), and a merged item
with several originals and conflicts needs no special case.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from viewer.domain.clinical import RecordWarning, Unreadable
from viewer.domain.coding import Concept
from viewer.domain.dates import PartialDate
from viewer.domain.nhs_number import format_nhs_number
from viewer.domain.patient import Patient
from viewer.domain.provenance import Provenance, SourceKind
from viewer.domain.record_value import RecordValue
from viewer.record.combined import CombinedRecord, Mismatch
from viewer.record.merge import SECTIONS, MergedItem
from viewer.record.status import SourceState, SourceStatus

SCHEMA_VERSION = 1
SCHEMA_ID = f"https://wardview.invalid/schemas/inspect/{SCHEMA_VERSION}"

# Which field names a clinician reads as an item's name, in order of preference.
_LABEL_FIELDS = ("substance", "name", "condition", "test", "vaccine", "title", "text", "service", "type",
                 "kind", "reasons")
# The few fields worth a place on an item's line in the text output, per section.
_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "allergies": ("clinical_status", "verification_status", "criticality", "asserted", "onset", "end_date"),
    "medications": ("status", "kind", "dosage", "quantity", "started", "last_issued", "ended"),
    "problems": ("clinical_status", "significance", "onset", "abated"),
    "encounters": ("kind", "status", "start", "end", "clinician", "location"),
    "observations": ("_result", "range_text", "interpretation", "effective", "status"),
    "reports": ("status", "issued", "conclusion"),
    "immunisations": ("status", "given", "dose"),
    "referrals": ("service", "status", "priority", "authored", "recipient"),
    "documents": ("status", "created", "author", "content_type"),
    "flags": ("status", "category", "start", "end"),
}


# Dates on a text line say which date they are.
_DATE_WORDS = {
    "asserted": "recorded", "end_date": "ended", "last_issued": "last issued", "abated": "resolved",
    "authored": "referred", "start": "from", "end": "to", "effective": "taken",
}


@dataclasses.dataclass(frozen=True, slots=True)
class SourceFile:
    """One input of `inspect`: where it was read from and what it was recognised as."""

    path: str
    kind: str  # "gpconnect-stu3" | "fhir-r4"


def partial_date_text(value: PartialDate) -> str:
    """FHIR-style, keeping the precision received: `2026`, `2026-03`, `2026-03-04` or a UTC instant."""
    if value.instant is not None:
        return instant_text(value.instant)
    if value.month is None:
        return f"{value.year:04d}"
    if value.day is None:
        return f"{value.year:04d}-{value.month:02d}"
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def instant_text(value: datetime) -> str:
    """UTC with a `Z`; a naive value is taken as UTC already (the model keeps time in UTC inside)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def provenance_dict(value: Provenance) -> dict[str, Any]:
    return {
        "source": value.source.value,
        "resource_type": value.resource_type,
        "id": value.resource_id,
        "org_ods": value.org_ods,
        "org_name": value.org_name,
        "retrieved_at": instant_text(value.retrieved_at),
        "warnings": list(value.warnings),
    }


def provenance_entries(value: Provenance) -> list[dict[str, Any]]:
    """The item's own resource, then each resource it was built from, marked with `supports`."""
    main = provenance_dict(value)
    return [main, *({**main, "resource_type": rtype, "id": rid, "warnings": [], "supports": value.resource_id}
                    for rtype, rid in value.related)]


def to_plain(value: Any) -> Any:
    """Any domain value as JSON-able data: dataclasses by field, tuples as lists, dates as FHIR text."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PartialDate):
        return partial_date_text(value)
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Provenance):
        return provenance_dict(value)
    if isinstance(value, RecordValue):
        return {name: to_plain(getattr(value, name)) for name in value.__struct_fields__}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(to_plain(k)): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v) for v in value]
    return str(value)


def item_label(item: Any) -> str:
    """The words a clinician reads for an item; never empty, so no line of a section is blank."""
    for name in _LABEL_FIELDS:
        value = getattr(item, name, None)
        if isinstance(value, Concept) and value.label:
            return value.label
        if isinstance(value, str) and value:
            return value
        if isinstance(value, tuple):
            labels = [v.label for v in value if isinstance(v, Concept) and v.label]
            if labels:
                return "; ".join(labels)
    return f"({type(item).__name__.lower()} without a name)"


def merged_item_dict(merged: MergedItem) -> dict[str, Any]:
    """The item shown, its fields, every original's provenance, and any conflict the merge found."""
    item = merged.item
    out: dict[str, Any] = {"label": item_label(item)}
    for name in item.__struct_fields__:
        if name != "provenance":
            out[name] = to_plain(getattr(item, name))
    out["provenance"] = [entry for p in merged.provenances for entry in provenance_entries(p)]
    out["conflicts"] = list(merged.conflicts)
    return out


def _unreadable_dict(value: Unreadable) -> dict[str, Any]:
    return {"source": value.source, "resource_type": value.resource_type, "id": value.resource_id,
            "reason": value.reason}


def _warning_dict(value: RecordWarning) -> dict[str, Any]:
    return {"code": value.code, "message": value.message, "area": value.area,
            "source": value.provenance.source.value}


def _mismatch_dict(value: Mismatch) -> dict[str, Any]:
    return {
        "field": value.field,
        "values": [{"source": source.value, "value": text} for source, text in value.values],
        "text": value.text(),
    }


def _status_dict(value: SourceStatus) -> dict[str, Any]:
    return {"state": value.state.value, "reason": value.reason,
            "retrieved_at": instant_text(value.at) if value.at is not None else None}


def _patient_dict(patient: Patient) -> dict[str, Any]:
    out = to_plain(patient)
    out["banner_name"] = patient.name.banner()
    return out


def record_to_dict(
    record: CombinedRecord, *, files: Sequence[SourceFile] = (), generated_at: datetime | None = None
) -> dict[str, Any]:
    """The whole record in the `inspect` JSON schema; every section of SECTIONS is present."""
    generated = generated_at or datetime.now(UTC)
    return {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "generated_at": instant_text(generated),
        "files": [{"path": f.path, "kind": f.kind} for f in files],
        "patient": _patient_dict(record.patient) if record.patient is not None else None,
        "sources": {kind.value: _status_dict(status) for kind, status in record.statuses.items()},
        "allergy_state": record.allergy_state.value,
        "sections": {
            name: [merged_item_dict(m) for m in record.sections.get(name, ())] for name in SECTIONS
        },
        "warnings": [_warning_dict(w) for w in record.warnings],
        "unreadable": [_unreadable_dict(u) for u in record.unreadable],
        "mismatches": [_mismatch_dict(m) for m in record.mismatches],
    }


# ---- readable text ----------------------------------------------------------------------------------


def _field_text(value: Any) -> str | None:
    if value is None or value == () or value == "":
        return None
    if isinstance(value, PartialDate):
        return value.display_with_time()
    if isinstance(value, Concept):
        return value.label or None
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        parts = [t for t in (_field_text(v) for v in value) if t]
        return ", ".join(parts) or None
    return str(value)


def _labelled(name: str, value: Any) -> str | None:
    text = _field_text(value)
    if text and isinstance(value, PartialDate):
        return f"{_DATE_WORDS.get(name, name.replace('_', ' '))} {text}"
    return text


def _status_text(status: SourceStatus) -> str:
    if status.state is SourceState.NOT_CONFIGURED and status.reason:
        return f"{status.source.label}: {status.reason}"
    return status.text()


def _patient_text(patient: Patient | None) -> str:
    if patient is None:
        return "Patient: not in the record"
    parts = [patient.name.banner(), f"NHS {format_nhs_number(patient.nhs_number)}"]
    if patient.birth_date is not None:
        parts.append(f"born {patient.birth_date.display()}")
    if patient.gender:
        parts.append(patient.gender)
    if patient.deceased:
        died = patient.deceased_date.display() if patient.deceased_date else "date not known"
        parts.append(f"DECEASED ({died})")
    if patient.gp_practice_ods:
        parts.append(f"GP practice {patient.gp_practice_ods}")
    return "Patient: " + "  ".join(parts)


def _sources_of(merged: MergedItem) -> str:
    names: list[str] = []
    for p in merged.provenances:
        org = f" {p.org_ods}" if p.org_ods else ""
        name = f"{p.source.label}{org}"
        if name not in names:
            names.append(name)
    return ", ".join(names)


def _result_text(item: Any) -> str | None:
    """`<5.2 mmol/L`: the value as the source gave it, with its comparator and unit."""
    value = getattr(item, "value", None)
    if value is None:
        return None
    unit = getattr(item, "unit", None)
    comparator = getattr(item, "comparator", None) or ""
    return f"{comparator}{value}" + (f" {unit}" if unit else "")


def item_details(section: str, item: Any) -> list[str]:
    """The few fields worth reading on an item's line (status, dose, dates...), as text; shared by the text
    output and the printed record so both say the same."""
    fields = [
        t for t in (
            _result_text(item) if n == "_result" else _labelled(n, getattr(item, n, None))
            for n in _TEXT_FIELDS.get(section, ())
        ) if t
    ]
    if getattr(item, "no_known_allergies", False):
        fields.insert(0, "no known allergies")
    return fields


def _item_lines(section: str, merged: MergedItem) -> Iterable[str]:
    item = merged.item
    fields = item_details(section, item)
    detail = f" [{'; '.join(fields)}]" if fields else ""
    yield f"  - {item_label(item)}{detail} ({_sources_of(merged)})"
    for conflict in merged.conflicts:
        yield f"      ! {conflict}"


def _source_label(source: str) -> str:
    try:
        return SourceKind(source).label
    except ValueError:
        return source


def _unreadable_lines(items: Sequence[Unreadable]) -> Iterable[str]:
    if not items:
        return
    yield f"{len(items)} item{'s' if len(items) != 1 else ''} could not be displayed:"
    counts = Counter((_source_label(u.source), u.resource_type, u.reason) for u in items)
    for (source, rtype, reason), n in counts.items():
        yield f"  - {n} x {source} {rtype}: {reason}"


def record_to_text(record: CombinedRecord, *, files: Sequence[SourceFile] = ()) -> str:
    """What a support engineer reads: patient, sources, each section with its items, then the gaps."""
    lines = [_patient_text(record.patient)]
    for source_file in files:
        lines.append(f"File: {source_file.path} ({source_file.kind})")
    lines.append("Sources: " + " | ".join(_status_text(s) for s in record.statuses.values()))
    lines.append(f"Allergy banner: {record.allergy_state.value}")
    for mismatch in record.mismatches:
        lines.append(f"Mismatch: {mismatch.text()}")
    for name in SECTIONS:
        items = record.sections.get(name, ())
        lines.append("")
        lines.append(f"{name.capitalize()} ({len(items)})")
        if not items:
            lines.append("  (none)")
        for merged in items:
            lines.extend(_item_lines(name, merged))
    warnings = record.warnings
    if warnings:
        lines.append("")
        lines.append("Warnings:")
        for w in warnings:
            area = f" [{w.area}]" if w.area else ""
            lines.append(f"  - {w.provenance.source.label}{area}: {w.message} ({w.code})")
    unreadable = list(_unreadable_lines(record.unreadable))
    if unreadable:
        lines.append("")
        lines.extend(unreadable)
    return "\n".join(lines) + "\n"
