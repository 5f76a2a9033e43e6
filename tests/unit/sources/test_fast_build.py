"""fast_build's constructors give the objects the domain's own constructors give, or are those."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from viewer.domain.coding import Concept
from viewer.domain.events import Observation, Report
from viewer.domain.provenance import Provenance, SourceKind
from viewer.sources.fast_build import builder

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def test_built_items_equal_constructed_ones() -> None:
    provenance = builder(Provenance)(source=SourceKind.HOSPITAL, resource_type="Observation",
                                     resource_id="o1", retrieved_at=NOW, org_ods="RX1", org_name="Trust")
    assert provenance == Provenance(SourceKind.HOSPITAL, "Observation", "o1", NOW, "RX1", "Trust")
    assert hash(provenance) == hash(Provenance(SourceKind.HOSPITAL, "Observation", "o1", NOW, "RX1", "Trust"))
    assert provenance.warnings == () and provenance.related == ()  # defaults as declared
    full = {"test": Concept("Hb"), "provenance": provenance, "value": "131", "number": 131.0, "unit": "g/L",
            "range_low": 130.0, "status": "final", "notes": ("a & <b>",)}
    assert builder(Observation)(**full) == Observation(**full)
    assert builder(Report)(name=Concept("FBC"), provenance=provenance) == Report(Concept("FBC"), provenance)


def test_built_items_stay_frozen_and_need_their_required_fields() -> None:
    built = builder(Report)(name=Concept("FBC"), provenance=None)
    with pytest.raises(AttributeError):
        built.name = Concept("x")  # type: ignore[misc]
    with pytest.raises(TypeError):
        builder(Report)(name=Concept("FBC"))
    with pytest.raises(TypeError):
        builder(Report)(Concept("FBC"), None)  # keywords only: a new field can never shift the others


def test_classes_with_checks_or_built_defaults_keep_their_own_constructor() -> None:
    @dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    @dataclass(frozen=True, slots=True)
    class Listed:
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True)
    class Unslotted:
        value: int

    assert builder(Checked) is Checked and builder(Listed) is Listed and builder(Unslotted) is Unslotted
