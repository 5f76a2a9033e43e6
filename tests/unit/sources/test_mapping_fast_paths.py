"""The mappers' fast paths (reference index by `Type/id`, per-run caches) must answer exactly as the plain
readers do, including for the odd shapes suppliers send; a cache that answered differently would change
what a clinician sees."""

from datetime import UTC, datetime

from viewer.domain.coding import Coding, Concept
from viewer.sources.fhir_common import (
    ResourceIndex,
    as_dict,
    as_list,
    code_of,
    concept,
    extension,
    notes,
    partial_date,
    reference_key,
)
from viewer.sources.stu3_context import Stu3Context
from viewer.sources.stu3_events import (
    ADMINISTERING,
    PERFORMER_ORDER,
    _administrator_rank,
    _by_role,
    _performer_rank,
)
from viewer.sources.stu3_items import _dosage
from viewer.sources.stu3_mapping import AREA_BY_LIST_CODE, _list_area, map_structured_record
from viewer.sources.stu3_structure import CONSULTATION_LIST, HEADING_LIST, TOPIC_LIST

AT = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def _slow_reference_key(ref: str) -> tuple[str | None, str | None]:
    """The general reading, written out here independently of the fast path."""
    if ref.startswith("#"):
        return None, ref
    parts = [p for p in ref.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return (parts[-2], parts[-1]) if len(parts) >= 2 else (None, ref)


def test_reference_key_fast_path_agrees_with_the_general_reading():
    forms = ["Practitioner/abc", "Practitioner/_history", "_history/x", "/abc", "abc/", "abc", "#c1",
             "https://x/fhir/Medication/m1/_history/2", "Medication//m1", " Patient/1 ", "a/b/c"]
    for ref in forms:
        assert reference_key({"reference": ref}) == _slow_reference_key(ref), ref
    assert reference_key({"reference": "   "}) == (None, None)
    assert reference_key({"reference": 5}) == (None, None)


def test_index_resolves_odd_ids_through_the_general_reader():
    resources = [
        {"resourceType": "Practitioner", "id": "p1"},
        {"resourceType": "Practitioner", "id": "p1", "name": "second copy is ignored"},
        {"resourceType": "Medication", "id": "a/b"},  # breaks the id pattern: the string would mislead
        {"resourceType": "Observation", "id": "_history"},
    ]
    index = ResourceIndex(resources)
    assert index.resolve({"reference": "Practitioner/p1"}) is resources[0]
    assert index.resolve({"reference": "Practitioner/p1"}, "Organization") is None
    assert index.resolve({"reference": "p1"}, "Practitioner") is resources[0]  # untyped: expected type
    assert index.target({"reference": "p1"}) is None
    assert index.resolve({"reference": "https://x/Practitioner/p1/_history/3"}) is resources[0]
    assert index.resolve({"reference": "Medication/a/b"}) is None  # read as (a, b), as before
    assert index.target({"reference": "Medication/a/b"}) is None
    assert index.get("Medication", "a/b") is resources[2]
    assert index.resolve({"reference": "Observation/_history"}) is None
    assert index.resolve({"reference": "#p1"}) is None


def test_index_built_one_resource_at_a_time_answers_as_one_built_from_a_list():
    """The STU3 mapper indexes while it groups the Bundle (`add`); every lookup must agree with the
    index built from the whole list, odd ids included."""
    resources = [
        {"resourceType": "Practitioner", "id": "p1"},
        {"resourceType": "Practitioner", "id": "p1", "name": "second copy is ignored"},
        {"resourceType": "Medication", "id": "a/b"},
        {"resourceType": "Observation", "id": "_history"},
        {"resourceType": "_history", "id": "x"},
        {"resourceType": "#odd", "id": "y"},
        {"resourceType": "List", "id": ""},
    ]
    whole = ResourceIndex(resources)
    added = ResourceIndex(())
    for resource in resources:
        added.add(resource["resourceType"], resource["id"], resource)
    references = ["Practitioner/p1", "Medication/a/b", "Observation/_history", "_history/x", "#odd/y",
                  "List/", "p1", "https://x/Practitioner/p1/_history/3", "#p1"]
    for ref in references:
        assert added.target({"reference": ref}) is whole.target({"reference": ref}), ref
        assert added.resolve({"reference": ref}) is whole.resolve({"reference": ref}), ref
    for resource in resources:
        rtype, rid = resource["resourceType"], resource["id"]
        assert added.get(rtype, rid) is whole.get(rtype, rid)
    assert added.get("Practitioner", "p1") is resources[0]


def _warned_list(code: str, refs: list[str], warning: str | None) -> dict:
    extension = [{"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-"
                          "ListWarningCode-1", "valueCode": warning}] if warning else []
    return {"resourceType": "List", "id": f"list-{code}", "code": {"coding": [{"code": code}]},
            "entry": [{"item": {"reference": r}} for r in refs], "extension": extension}


def test_lists_without_an_area_still_pass_their_warnings_and_never_count_missing_items():
    """Only Lists with an area or a warning have their entries read up front; a heading List (no area)
    with a warning must still mark its items, and a dangling entry of a List without an area is not
    counted (as before: only the primary Lists name items the practice meant to send)."""
    observation = {"resourceType": "Observation", "id": "o1", "code": {"text": "Weight"}}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": r} for r in [
        {"resourceType": "Patient", "id": "p", "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}]},
        observation,
        _warned_list("24781000000107", ["Observation/o1", "Observation/gone"], "confidential-items"),
        _warned_list("25851000000105", ["Observation/o1", "Observation/gone-too"], None),
    ]]}
    record = map_structured_record(bundle, retrieved_at=AT)
    assert [o.provenance.warnings for o in record.observations] == [("confidential-items",)]
    assert record.unreadable == ()


def _general_rank(roles: list, order: tuple[str, ...]) -> int:
    """The role rule written out here independently: the best-placed known role, unknown ones after."""
    return min((order.index(r) for r in roles if r in order), default=len(order))


def test_participants_are_ordered_by_the_general_role_rule():
    """The mappers rank roles with written-out functions; they must order participants exactly as the
    general rule does, odd shapes included (stable: equal ranks keep their place)."""
    def role(code):
        return {"coding": [{"code": code}]}

    participants = [
        {"type": [role("REC")], "n": 1}, {"type": [role("XYZ")], "n": 2}, {"type": [role("PPRF")], "n": 3},
        {"type": [role("AUT"), role("PART")], "n": 4}, "junk", {"type": role("PPRF"), "n": 5},
        {"type": [{"coding": "x"}, 5], "n": 6}, {"n": 7}, {"type": [role("REC")], "n": 8},
    ]
    ordered = _by_role(participants, _performer_rank)
    assert ordered == sorted(participants, key=lambda p: _general_rank(
        [code_of(t) for t in as_list(as_dict(p).get("type"))], PERFORMER_ORDER))
    assert [p["n"] for p in ordered[:3]] == [3, 5, 4]

    vaccinators = [{"role": role("OP"), "n": 1}, "junk", {"role": [role("AP")], "n": 2},
                   {"role": role("AP"), "n": 3}, {"n": 4}]
    ordered = _by_role(vaccinators, _administrator_rank)
    assert ordered == sorted(vaccinators, key=lambda p: _general_rank([code_of(as_dict(p).get("role"))],
                                                                     (ADMINISTERING,)))
    assert ordered[0]["n"] == 3
    assert _by_role(["lone"], _performer_rank) == ["lone"]


def test_extension_returns_the_first_match_or_an_empty_object():
    first = {"url": "https://a/Extension-X-1", "valueCode": "a"}
    resource = {"extension": ["junk", {"url": 5}, first, {"url": "http://b/Extension-X-1"}]}
    assert extension(resource, "Extension-X-1") is first
    assert extension(resource, "Y") == {}
    assert extension({"extension": first}, "X-1") is first  # a lone object where a list is due
    assert extension("junk", "X") == {}


def test_context_concepts_equal_the_plain_reader_and_are_shared():
    ctx = Stu3Context(ResourceIndex([]), AT)
    two = {"coding": [{"system": "s", "code": "1", "display": "A", "userSelected": True},
                      {"system": "t", "code": "2"}]}
    values = [two, {"text": "Only text"}, {"coding": {"code": "9"}}, {"coding": [{"code": ["x"]}]},
              {"coding": [{}, "x", {"code": "3"}]}, {"text": "T", "coding": []}, "junk", None]
    for value in values:
        assert ctx.concept(value) == concept(value), value
    assert ctx.concept(dict(two)) is ctx.concept(two)
    assert ctx.concept(two) == Concept(None, (Coding("s", "1", "A"), Coding("t", "2", None)))
    # text-only and no-coding concepts with the same text are the same Concept
    assert ctx.concept({"text": "T", "coding": []}) == ctx.concept({"text": "T"})


def test_context_dates_equal_the_plain_reader_including_unreadable_ones():
    ctx = Stu3Context(ResourceIndex([]), AT)
    for text in ["2026", "2026-03", "2026-03-01T10:00:00+00:00", "not a date", "2026-13", " 2026-03 "]:
        assert ctx.date(text) == partial_date(text)
        assert ctx.date(text) == partial_date(text)  # second read comes from the cache
    assert ctx.date(20260301) is None
    assert ctx.first_date({"onsetPeriod": {"end": "2019"}}, "onsetDateTime", "onsetPeriod") == partial_date(
        "2019"
    )


def test_context_person_names_depend_on_reference_and_display_only():
    index = ResourceIndex([
        {"resourceType": "Practitioner", "id": "p1", "name": [{"family": "Gose", "given": ["Sandra"]}]},
        {"resourceType": "PractitionerRole", "id": "r1", "practitioner": {"reference": "Practitioner/p1"}},
        {"resourceType": "Organization", "id": "o1", "name": "Practice"},
    ])
    ctx = Stu3Context(index, AT)
    assert ctx.person_name({"reference": "Practitioner/p1"}) == "Sandra Gose"
    assert ctx.person_name({"reference": "PractitionerRole/r1"}) == "Sandra Gose"
    assert ctx.person_name({"reference": "Organization/o1", "display": "ignored"}) == "Practice"
    assert ctx.person_name({"reference": "Practitioner/gone", "display": "Dr Shown"}) == "Dr Shown"
    assert ctx.person_name({"reference": "Practitioner/gone", "display": "Dr Other"}) == "Dr Other"
    assert ctx.person_name({"reference": "Practitioner/gone"}) is None
    assert ctx.person_name({"reference": ["odd"], "display": "Dr List"}) == "Dr List"  # unhashable
    assert ctx.person_name("Practitioner/p1") is None
    assert ctx.person_name(None) is None


def test_context_reading_is_computed_once_per_observation():
    ctx = Stu3Context(ResourceIndex([]), AT)
    observation = {"code": {"text": "BP"}, "component": [
        {"code": {"text": "Systolic"}, "valueQuantity": {"value": 120, "unit": "mm[Hg]"}}]}
    first = ctx.reading(observation)
    assert first[0] == Concept("BP") and first[1].text is None and first[2] == "Systolic 120 mm[Hg]"
    assert ctx.reading(observation) is first
    plain = ctx.reading({"code": {"text": "Weight"}, "valueQuantity": {"value": 70, "unit": "kg"}})
    assert plain[1].text == "70" and plain[1].unit == "kg" and plain[2] is None


def _general_area(code: str | None, title: object) -> str | None:
    """The List area rule written out here independently of the code table the mapper reads first."""
    area = AREA_BY_LIST_CODE.get(code or "")
    if area is None and code and "allerg" in code.lower():
        return "allergies"
    if area is None and code and "medication" in code.lower():
        return "medications"
    if area is None and not code and "allerg" in (title if isinstance(title, str) else "").lower():
        return "allergies"
    return area


def test_list_areas_from_the_code_table_answer_as_the_general_rule():
    codes = [*AREA_BY_LIST_CODE, CONSULTATION_LIST, TOPIC_LIST, HEADING_LIST, "consultations-allergies-1",
             "problems-ALLERGIES", "Medication-list", "12345", None]
    titles = ["Ended allergies", "Consultation", "", "  ", 5, None]
    for code in codes:
        for title in titles:
            assert _list_area(code, {"title": title}) == _general_area(code, title), (code, title)


def test_an_item_in_several_warned_lists_carries_each_warning_once_in_list_order():
    observation = {"resourceType": "Observation", "id": "o1", "code": {"text": "Weight"}}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": r} for r in [
        {"resourceType": "Patient", "id": "p", "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}]},
        observation,
        _warned_list("24781000000107", ["Observation/o1", "Observation/o1"], "confidential-items"),
        _warned_list("25851000000105", ["Observation/o1"], "data-awaiting-filing"),
        _warned_list("826501000000100", ["Observation/o1"], "confidential-items"),
    ]]}
    (weight,) = map_structured_record(bundle, retrieved_at=AT).observations
    assert weight.provenance.warnings == ("confidential-items", "data-awaiting-filing")


def test_dosages_and_notes_that_are_empty_or_odd_read_as_nothing():
    """`_dosage` and `notes` return early for a missing or empty value; every odd value still reads as
    the general reader (one item through as_list) reads it."""
    for value in (None, [], {}, "", 0, False, "text", 5, [None, "x", {"text": " "}]):
        assert _dosage(value) == (None, []), value
        assert notes(value) == (), value
    assert _dosage({"text": "Once a day", "patientInstruction": "With food"}) == ("Once a day", ["With food"])
    assert _dosage([{"text": "A"}, {"text": "A"}, {"text": "B"}]) == ("A; B", [])
    assert notes({"text": "Lone note"}) == ("Lone note",)


def test_consultation_items_resolved_as_possible_lists_read_as_the_items_they_are():
    """A consultation's or topic's entry is resolved once, as a possible List; when it is an item (an
    untyped reference too: tried as a List, then as an Observation) it reads as the item."""
    encounter = {"resourceType": "Encounter", "id": "enc1", "type": [{"text": "Visit"}]}
    weight = {"resourceType": "Observation", "id": "o1", "code": {"text": "Weight"},
              "valueQuantity": {"value": 70, "unit": "kg"}}
    height = {"resourceType": "Observation", "id": "o2", "code": {"text": "Height"}}
    consultation = {"resourceType": "List", "id": "c1", "code": {"coding": [{"code": CONSULTATION_LIST}]},
                    "encounter": {"reference": "Encounter/enc1"},
                    "entry": [{"item": {"reference": "o1"}}, {"item": {"reference": "List/t1"}},
                              {"item": {"reference": "Observation/gone", "display": "Shown instead"}}]}
    topic = {"resourceType": "List", "id": "t1", "title": "Review",
             "code": {"coding": [{"code": TOPIC_LIST}]}, "entry": [{"item": {"reference": "o2"}}]}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": r} for r in
                                                  (encounter, weight, height, consultation, topic)]}
    (visit,) = map_structured_record(bundle, retrieved_at=AT).encounters
    assert visit.notes == ("Weight 70 kg", "Topic: Review", "Height", "Shown instead")
