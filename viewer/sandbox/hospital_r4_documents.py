"""UK Core DocumentReference: letters and summaries, their content served as Binary."""

from __future__ import annotations

from typing import Any

from viewer.sandbox.fhir_values import as_utc, fhir_instant
from viewer.sandbox.hospital_r4_context import PatientContext
from viewer.sandbox.hospital_r4_index import Indexed, SearchKeys
from viewer.sandbox.world import SynthDocument


def write_document(ctx: PatientContext, d: SynthDocument) -> Indexed:
    rid = ctx.rid("doc", d.id)
    created = fhir_instant(d.created)
    res: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": rid,
        "meta": ctx.meta("DocumentReference"),
        "status": "current",
        "type": {"text": d.title},
        "subject": ctx.subject,
        "date": created,
        "author": [{"display": d.author}],
        "custodian": ctx.trust,
        "description": d.title,
        "content": [{"attachment": {
            "contentType": d.content_type,
            "url": f"{ctx.base}/Binary/{rid}",
            "title": d.title,
            "creation": created,
        }}],
    }
    return Indexed(res, SearchKeys("current", frozenset(), as_utc(d.created)))
