"""Tolerant FHIR readers: odd shapes give empty values, never exceptions."""

from viewer.domain.coding import Coding, Concept
from viewer.domain.dates import PartialDate
from viewer.sources.fhir_common import (
    ResourceIndex,
    as_list,
    as_text,
    code_of,
    concept,
    extension,
    extensions,
    first_date,
    human_name,
    identifier_value,
    notes,
    partial_date,
    reference_key,
)


def test_as_list_and_as_text_tolerate_wrong_types():
    assert as_list(None) == []
    assert as_list({"a": 1}) == [{"a": 1}]
    assert as_list([1, 2]) == [1, 2]
    assert as_text("  ") is None
    assert as_text(5) is None
    assert as_text(" & < > £ ") == " & < > £ "  # kept exactly


def test_concept_keeps_text_and_codings_and_skips_empty_codings():
    value = {"text": "Nut allergy", "coding": [{"system": "s", "code": "1", "display": "Peanut"}, {}, "x"]}
    assert concept(value) == Concept("Nut allergy", (Coding("s", "1", "Peanut"),))
    assert concept("garbage") == Concept()
    assert concept({"coding": {"code": "9"}}).codings == (Coding(None, "9", None),)  # lone object


def test_code_of_by_system():
    value = {"coding": [{"system": "a", "code": "1"}, {"system": "b", "code": "2"}]}
    assert code_of(value) == "1"
    assert code_of(value, "b") == "2"
    assert code_of(value, "c") is None


def test_dates_keep_precision():
    assert partial_date("2026-03") == PartialDate(2026, 3)
    assert partial_date(20260301) is None
    assert partial_date("not a date") is None
    assert first_date({"onsetPeriod": {"start": "2019"}}, "onsetDateTime", "onsetPeriod") == PartialDate(2019)


def test_notes_and_names():
    assert notes([{"text": "a"}, {"text": ""}, "x", {"text": "b\nc"}]) == ("a", "b\nc")
    assert (
        human_name({"family": "Gilbert", "given": ["Nichole"], "prefix": ["Miss"]}) == "Miss Nichole Gilbert"
    )
    assert human_name({"text": "Dr X"}) == "Dr X"
    assert human_name("bad") is None


def test_reference_key_forms():
    assert reference_key({"reference": "Practitioner/abc"}) == ("Practitioner", "abc")
    assert reference_key({"reference": "https://x/fhir/Medication/m1/_history/2"}) == ("Medication", "m1")
    assert reference_key({"reference": "#c1"}) == (None, "#c1")
    assert reference_key({"identifier": {"value": "x"}}) == (None, None)
    assert reference_key("Patient/1") == (None, None)


def test_extensions_match_any_host_by_tail():
    resource = {
        "extension": [
            {"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-X-1", "valueCode": "a"},
            {"url": "http://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-X-1", "valueCode": "b"},
            "junk",
        ]
    }
    assert [e["valueCode"] for e in extensions(resource, "Extension-X-1")] == ["a", "b"]
    assert extension(resource, "Missing-1") == {}
    assert extension({"extension": "junk"}, "X") == {}


def test_identifier_value():
    resource = {"identifier": [{"system": "s1", "value": "v1"}, {"system": "s2", "value": "v2"}]}
    assert identifier_value(resource, "s2") == "v2"
    assert identifier_value(resource, "s3") is None


def test_resource_index_resolves_and_tolerates_dangling_and_odd_ids():
    index = ResourceIndex(
        [
            {"resourceType": "Practitioner", "id": "a_b.c$1"},  # id the FHIR pattern forbids: still indexed
            {"resourceType": "Organization"},  # no id: ignored
        ]
    )
    assert index.resolve({"reference": "Practitioner/a_b.c$1"}) == {
        "resourceType": "Practitioner",
        "id": "a_b.c$1",
    }
    assert index.resolve({"reference": "Practitioner/missing"}) is None
    assert index.resolve({"reference": "Practitioner/a_b.c$1"}, "Organization") is None
    assert index.resolve(None) is None
