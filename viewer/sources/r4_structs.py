"""The Structs the hospital record's bulk is decoded into: results (Observation) and reports
(DiagnosticReport), with only the elements the mappers read (see fhir_decode for why and how).

Elements read only by the dict mapper are declared as raw JSON so their presence is seen cheaply: the
typed mapper (r4_typed) then declines the resource and the dict mapper reads it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from viewer.sources.fhir_decode import (
    Period,
    Reference,
    TypedResource,
    load,
    resource_decoder,
    typed_resource,
)

_ABSENT = msgspec.Raw()


@typed_resource
class R4Observation(TypedResource, tag="Observation"):
    id: str | None = None
    status: str | None = None
    code: msgspec.Raw = _ABSENT
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    effectiveInstant: str | None = None
    issued: str | None = None
    # presence decides which value is read: raw elements see an explicit null (b"null") as present, and
    # the string is UNSET when absent
    valueQuantity: msgspec.Raw = _ABSENT
    valueString: str | msgspec.UnsetType | None = msgspec.UNSET
    valueCodeableConcept: msgspec.Raw = _ABSENT
    referenceRange: msgspec.Raw = _ABSENT
    interpretation: msgspec.Raw = _ABSENT
    note: msgspec.Raw = _ABSENT
    hasMember: msgspec.Raw = _ABSENT
    # read by the dict mapper only: present -> NotPlain
    component: msgspec.Raw = _ABSENT
    dataAbsentReason: msgspec.Raw = _ABSENT
    valueInteger: msgspec.Raw = _ABSENT
    valueBoolean: msgspec.Raw = _ABSENT
    valueRange: msgspec.Raw = _ABSENT
    valueRatio: msgspec.Raw = _ABSENT
    valueDateTime: msgspec.Raw = _ABSENT
    valueTime: msgspec.Raw = _ABSENT
    valuePeriod: msgspec.Raw = _ABSENT
    valueSampledData: msgspec.Raw = _ABSENT

    def members(self) -> Any:
        """`hasMember` as the dict path reads it (panels only, so parsed on demand)."""
        return load(self.hasMember)


@typed_resource
class R4DiagnosticReport(TypedResource, tag="DiagnosticReport"):
    id: str | None = None
    status: str | None = None
    code: msgspec.Raw = _ABSENT
    issued: str | None = None
    effectiveDateTime: str | None = None
    effectivePeriod: Period | None = None
    result: list[Reference] | None = None
    conclusion: str | None = None
    conclusionCode: msgspec.Raw = _ABSENT
    note: msgspec.Raw = _ABSENT


TYPED = (R4Observation, R4DiagnosticReport)
DECODER = resource_decoder(*TYPED)
