"""CombinedRecord -> inspect JSON and text: every field kind, merged items, empty sections, the schema."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import msgspec
import pytest

from viewer.domain import (
    Allergy,
    Coding,
    Concept,
    Document,
    Encounter,
    Flag,
    HumanName,
    Immunisation,
    Medication,
    Observation,
    PartialDate,
    Patient,
    Problem,
    Provenance,
    Reaction,
    RecordWarning,
    Referral,
    Report,
    SourceKind,
    SourceRecord,
    Unreadable,
)
from viewer.record.combined import AllergyState, CombinedRecord, Mismatch
from viewer.record.export import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    SourceFile,
    item_label,
    merged_item_dict,
    partial_date_text,
    record_to_dict,
    record_to_text,
    to_plain,
)
from viewer.record.merge import SECTIONS, MergedItem
from viewer.record.status import SourceState, SourceStatus

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "inspect-schema.json"
NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
SNOMED = "http://snomed.info/sct"
NHS = "9990000018"


def prov(source: SourceKind = SourceKind.GP, rtype: str = "AllergyIntolerance", rid: str = "a1",
         warnings: tuple[str, ...] = ()) -> Provenance:
    ods, name = ("Y90001", "Test Surgery") if source is SourceKind.GP else ("RX1", "Test Hospital")
    return Provenance(source, rtype, rid, NOW, ods, name, warnings)


def concept(text: str | None, code: str = "91936005", display: str = "Allergy to penicillin") -> Concept:
    return Concept(text, (Coding(SNOMED, code, display), Coding(None, None, None)))


DAY = PartialDate.parse("2026-03-04")
MONTH = PartialDate.parse("2026-03")
YEAR = PartialDate.parse("2026")
INSTANT = PartialDate.parse("2026-07-04T10:42:00+01:00")


def every_item() -> dict[str, object]:
    """One item per section with every field set (or set to each kind of value it can hold)."""
    return {
        "allergies": Allergy(
            concept("Penicillin"), prov(warnings=("confidential-items",)), "active", "confirmed",
            ("medication",), "high", DAY, MONTH, "Dr A", ("note 1",), None, None,
            (Reaction((concept(None, "271807003", "Rash"),), "severe", "itchy rash", YEAR),), False,
        ),
        "medications": Medication(
            concept(None, "39720311000001101", "Paracetamol 500mg tablets"),
            prov(rtype="MedicationStatement"),
            "active", "repeat", "1 tablet four times a day", "32 tablet", DAY, None, INSTANT, "Dr B",
            ("take with food",), ("review in May",), True, False,
        ),
        "problems": Problem(concept("Asthma", "195967001", "Asthma"), prov(rtype="Condition"), "active",
                            "major", YEAR, None, ()),
        "encounters": Encounter(prov(SourceKind.HOSPITAL, "Encounter", "e1"), "inpatient",
                                concept(None, "32485007", "Hospital admission"), "finished", INSTANT, DAY,
                                (concept("Chest pain"),), "Dr C", "Ward 7", ()),
        "observations": Observation(concept("Haemoglobin"), prov(SourceKind.HOSPITAL, "Observation", "o1"),
                                    INSTANT, "128", 128.0, "g/L", "<", 115.0, 165.0, "115-165", "normal",
                                    "final", "r1", ("haemolysed",)),
        "reports": Report(concept("Full blood count"), prov(SourceKind.HOSPITAL, "DiagnosticReport", "r1"),
                          INSTANT, "final", ("o1",), "Normal", ()),
        "immunisations": Immunisation(concept("Influenza vaccine"), prov(rtype="Immunization", rid="i1"),
                                      DAY, "completed", "1", "left arm", "intramuscular", "BATCH1",
                                      "Nurse D", ()),
        "referrals": Referral(prov(rtype="ReferralRequest", rid="f1"), None, (concept("Knee pain"),), MONTH,
                              "active", "routine", "Dr E", "Orthopaedics", ()),
        "documents": Document("Discharge summary", prov(SourceKind.HOSPITAL, "DocumentReference", "d1"),
                              concept("Discharge letter"), DAY, "Dr F", "current", "application/pdf",
                              "https://127.0.0.1/Binary/1"),
        "flags": Flag(concept("Anticoagulated"), prov(SourceKind.HOSPITAL, "Flag", "g1"), "active",
                      "clinical", DAY, None),
    }


def patient() -> Patient:
    return Patient(NHS, HumanName("Smith", ("Ann", "Marie"), ("Mrs",)), "female",
                   PartialDate.parse("1950-01-02"), prov(rtype="Patient", rid="p1"),
                   address=("1 Test Street", "Leeds"), postcode="LS1 1AA", gp_practice_ods="Y90001")


def statuses() -> dict[SourceKind, SourceStatus]:
    return {SourceKind.GP: SourceStatus(SourceKind.GP, SourceState.LOADED, NOW),
            SourceKind.HOSPITAL: SourceStatus(SourceKind.HOSPITAL, SourceState.NOT_CONFIGURED,
                                              reason="no file of this kind was given")}


def record(sections: dict[str, tuple[MergedItem, ...]] | None = None, **extra: object) -> CombinedRecord:
    gp = SourceRecord(
        SourceKind.GP, NOW, patient(), allergies=(every_item()["allergies"],),  # type: ignore[arg-type]
        warnings=(RecordWarning("data-in-transit", "Transfer not complete", prov(rtype="List", rid="l1")),),
        unreadable=(Unreadable("gp", "Observation", "x1", "value could not be read"),
                    Unreadable("gp", "Observation", "x2", "value could not be read"),
                    Unreadable("gp", "Condition", None, "entry has no resource")),
    )
    if sections is None:
        sections = {name: (MergedItem(item, (item,)),) for name, item in every_item().items()}
    return CombinedRecord(patient(), statuses(), gp=gp, sections=sections, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# ---- values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2026", "2026"),
    ("2026-03", "2026-03"),
    ("2026-03-04", "2026-03-04"),
    ("2026-07-04T10:42:00+01:00", "2026-07-04T09:42:00Z"),
    ("2026-01-04T10:42:00.250Z", "2026-01-04T10:42:00.250000Z"),
])
def test_partial_dates_keep_their_precision(text: str, expected: str) -> None:
    value = PartialDate.parse(text)
    assert value is not None
    assert partial_date_text(value) == expected
    assert to_plain(value) == expected


def test_concepts_keep_text_and_every_coding() -> None:
    assert to_plain(concept("Penicillin")) == {
        "text": "Penicillin",
        "codings": [{"system": SNOMED, "code": "91936005", "display": "Allergy to penicillin"},
                    {"system": None, "code": None, "display": None}],
    }


def test_plain_values_enums_tuples_and_instants() -> None:
    assert to_plain(SourceKind.HOSPITAL) == "hospital"
    assert to_plain(("a", ("b",))) == ["a", ["b"]]
    assert to_plain(NOW) == "2026-11-23T10:42:00Z"
    assert to_plain(None) is None
    assert to_plain(True) is True
    assert to_plain(1.5) == 1.5
    assert to_plain(float("nan")) == "nan"  # never invalid JSON


def test_provenance_uses_the_schema_names() -> None:
    out = to_plain(prov(warnings=("data-in-transit",)))
    assert out == {"source": "gp", "resource_type": "AllergyIntolerance", "id": "a1", "org_ods": "Y90001",
                   "org_name": "Test Surgery", "retrieved_at": "2026-11-23T10:42:00Z",
                   "warnings": ["data-in-transit"]}


# ---- items -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTIONS)
def test_every_field_of_every_item_kind_is_exported(section: str) -> None:
    item = every_item()[section]
    out = merged_item_dict(MergedItem(item, (item,)))
    names = [f.name for f in msgspec.structs.fields(item)]
    assert set(out) == {*names, "label", "conflicts"}  # provenance replaced by the originals' list
    assert out["label"]
    for name in names:
        if name != "provenance":
            assert out[name] == to_plain(getattr(item, name)), name
    assert out["provenance"] == [to_plain(item.provenance)]  # type: ignore[attr-defined]
    assert out["conflicts"] == []


def test_nested_fields_are_exported_in_full() -> None:
    allergy = merged_item_dict(MergedItem(every_item()["allergies"], (every_item()["allergies"],)))
    assert allergy["reactions"] == [{
        "manifestations": [to_plain(concept(None, "271807003", "Rash"))],
        "severity": "severe", "description": "itchy rash", "onset": "2026",
    }]
    assert allergy["category"] == ["medication"]
    assert allergy["asserted"] == "2026-03-04" and allergy["onset"] == "2026-03"
    obs = merged_item_dict(MergedItem(every_item()["observations"], (every_item()["observations"],)))
    assert (obs["number"], obs["range_low"], obs["comparator"]) == (128.0, 115.0, "<")
    assert obs["effective"] == "2026-07-04T09:42:00Z"


def test_a_merged_item_lists_every_original_and_its_conflicts() -> None:
    gp = Medication(concept("Warfarin 1mg tablets"), prov(rtype="MedicationStatement", rid="ms1",
                                                             warnings=("data-in-transit",)), "active")
    hospital = Medication(concept("Warfarin 1mg tablets"), prov(SourceKind.HOSPITAL, "MedicationRequest",
                                                                   "mr9"), "stopped")
    merged = MergedItem(gp, (gp, hospital), ("Active in the GP record, stopped in the hospital record",))
    out = merged_item_dict(merged)
    assert out["label"] == "Warfarin 1mg tablets"
    assert out["status"] == "active"  # the item shown; the originals are accounted for by provenance
    assert [(p["source"], p["resource_type"], p["id"]) for p in out["provenance"]] == [
        ("gp", "MedicationStatement", "ms1"), ("hospital", "MedicationRequest", "mr9")]
    assert out["provenance"][0]["warnings"] == ["data-in-transit"]
    assert out["provenance"][1]["org_ods"] == "RX1"
    assert out["conflicts"] == ["Active in the GP record, stopped in the hospital record"]


@pytest.mark.parametrize(("item", "label"), [
    (Allergy(concept(None), prov()), "Allergy to penicillin"),
    (Encounter(prov(), kind="consultation"), "consultation"),
    (Encounter(prov(), type=concept("Surgery consultation"), kind="consultation"), "Surgery consultation"),
    (Referral(prov(), reasons=(concept("Knee pain"), concept("Hip pain"))), "Knee pain; Hip pain"),
    (Referral(prov(), service="Cardiology", reasons=(concept("Chest pain"),)), "Cardiology"),
    (Document("Letter", prov()), "Letter"),
    (Encounter(prov()), "(encounter without a name)"),
    (Allergy(Concept(None, (Coding(SNOMED, "91936005"),)), prov()), "91936005"),
])
def test_labels_are_what_a_clinician_reads_and_never_empty(item: object, label: str) -> None:
    assert item_label(item) == label


# ---- the whole record ------------------------------------------------------------------------------


def test_record_has_every_top_level_part(validator: jsonschema.Draft202012Validator) -> None:
    files = (SourceFile("gp.json", "gpconnect-stu3"),)
    mismatch = Mismatch("Family name", ((SourceKind.GP, "SMITH"), (SourceKind.HOSPITAL, "SMYTH")))
    out = record_to_dict(record(mismatches=(mismatch,)), files=files, generated_at=NOW)
    validator.validate(out)
    assert out["schema"] == SCHEMA_ID == "https://wardview.invalid/schemas/inspect/1"
    assert out["schema_version"] == SCHEMA_VERSION == 1
    assert out["generated_at"] == "2026-11-23T10:42:00Z"
    assert out["files"] == [{"path": "gp.json", "kind": "gpconnect-stu3"}]
    assert out["patient"]["nhs_number"] == NHS
    assert out["patient"]["banner_name"] == "SMITH, Ann Marie (Mrs)"
    assert out["patient"]["birth_date"] == "1950-01-02"
    assert out["sources"] == {
        "gp": {"state": "loaded", "reason": None, "retrieved_at": "2026-11-23T10:42:00Z"},
        "hospital": {"state": "not-configured", "reason": "no file of this kind was given",
                     "retrieved_at": None},
    }
    assert out["allergy_state"] == AllergyState.KNOWN.value
    assert list(out["sections"]) == list(SECTIONS)
    assert all(len(items) == 1 for items in out["sections"].values())
    assert out["warnings"] == [{"code": "data-in-transit", "message": "Transfer not complete", "area": None,
                                "source": "gp"}]
    assert out["unreadable"][0] == {"source": "gp", "resource_type": "Observation", "id": "x1",
                                    "reason": "value could not be read"}
    assert len(out["unreadable"]) == 3
    assert out["mismatches"] == [{"field": "Family name",
                                  "values": [{"source": "gp", "value": "SMITH"},
                                             {"source": "hospital", "value": "SMYTH"}],
                                  "text": mismatch.text()}]
    json.dumps(out, allow_nan=False)  # plain JSON, nothing left unserialised


def test_empty_sections_are_present_as_empty_lists(validator: jsonschema.Draft202012Validator) -> None:
    empty = CombinedRecord(None, statuses())
    out = record_to_dict(empty, generated_at=NOW)
    validator.validate(out)
    assert out["sections"] == {name: [] for name in SECTIONS}
    assert out["patient"] is None
    assert out["unreadable"] == [] and out["warnings"] == [] and out["files"] == []


def test_schema_rejects_what_it_should(validator: jsonschema.Draft202012Validator) -> None:
    """The schema is a contract, not a formality: broken output must fail it."""
    good = record_to_dict(record(), generated_at=NOW)
    broken = json.loads(json.dumps(good))
    del broken["sections"]["flags"]
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(good))
    broken["sections"]["allergies"][0]["provenance"] = []
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(good))
    broken["sections"]["allergies"][0]["asserted"] = "04-Mar-2026"
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(good))
    del broken["unreadable"][0]["reason"]
    assert not validator.is_valid(broken)


@pytest.mark.parametrize("section", SECTIONS)
def test_schema_describes_every_field_of_every_section(section: str) -> None:
    """When the domain gains a field, it appears in the output at once; this makes sure the schema (and so
    the documentation) says what it is. A field removed from the domain is a new schema version."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    item_schema = schema["properties"]["sections"]["properties"][section]["items"]
    described = set(item_schema["allOf"][1]["properties"]) | set(schema["$defs"]["itemBase"]["properties"])
    hints = typing.get_type_hints(SourceRecord)
    item_type = typing.get_args(hints[section])[0]
    fields = {f.name for f in msgspec.structs.fields(item_type)} - {"provenance"}
    assert fields | {"label", "provenance", "conflicts"} == described


def test_schema_sections_are_the_record_sections() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$id"] == SCHEMA_ID
    assert schema["properties"]["sections"]["required"] == list(SECTIONS)


# ---- text ------------------------------------------------------------------------------------------


def test_text_shows_patient_sources_sections_warnings_and_gaps() -> None:
    gp = Medication(concept("Warfarin 1mg tablets"), prov(rtype="MedicationStatement", rid="ms1"), "active",
                    dosage="as directed by the anticoagulant clinic")
    hospital = Medication(concept("Warfarin 1mg tablets"), prov(SourceKind.HOSPITAL, "MedicationRequest"),
                          "stopped")
    obs = every_item()["observations"]
    sections = {
        "medications": (MergedItem(gp, (gp, hospital), ("Stopped in the hospital record",)),),
        "observations": (MergedItem(obs, (obs,)),),
    }
    text = record_to_text(record(sections), files=(SourceFile("gp.json", "gpconnect-stu3"),))
    lines = text.splitlines()
    assert lines[0] == "Patient: SMITH, Ann Marie (Mrs)  NHS 999 000 0018  born 02-Jan-1950  female  " \
                       "GP practice Y90001"
    assert "File: gp.json (gpconnect-stu3)" in lines
    assert "Sources: GP: loaded 10:42 23-Nov-2026 | Hospital: no file of this kind was given" in lines
    assert "Allergy banner: Known allergies" in lines
    assert "Medications (1)" in lines and "Allergies (0)" in lines
    med = next(line for line in lines if "Warfarin" in line)
    assert "active" in med and "as directed by the anticoagulant clinic" in med
    assert med.endswith("(GP Y90001, Hospital RX1)")
    assert lines[lines.index(med) + 1].strip() == "! Stopped in the hospital record"
    result = next(line for line in lines if line.startswith("  - Haemoglobin"))
    assert "<128 g/L" in result and "taken 04-Jul-2026 10:42" in result
    assert text.count("(none)") == len(SECTIONS) - 2
    assert "  - GP: Transfer not complete (data-in-transit)" in lines
    assert "3 items could not be displayed:" in lines
    assert "  - 2 x GP Observation: value could not be read" in lines
    assert "  - 1 x GP Condition: entry has no resource" in lines


def test_text_without_a_patient_or_gaps() -> None:
    text = record_to_text(CombinedRecord(None, statuses()))
    assert text.startswith("Patient: not in the record\n")
    assert "could not be displayed" not in text and "Warnings:" not in text
