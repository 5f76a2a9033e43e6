"""`python -m viewer inspect` in a subprocess, as support staff and the safety tests run it.

The supplier files are the most realistic GP Connect output there is; each clinical resource in them is
counted here from the raw JSON (independently of the mapper) and must be found in some item's provenance
or in `unreadable`: a resource that silently disappears is the defect this guards against.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from viewer.record.merge import SECTIONS
from viewer.sandbox.gpconnect_stu3 import structured_record
from viewer.sandbox.hospital_r4 import HospitalRecords
from viewer.sandbox.population import build_world, patient_for
from viewer.sandbox.world import Area, SyntheticPatient, World

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "docs" / "inspect-schema.json"
SUPPLIERS = REPO / ".." / "shared" / "reference" / "gpconnect" / "vendor-test-patients"
SUPPLIER_FILES = sorted(SUPPLIERS.glob("*/*.json")) if SUPPLIERS.is_dir() else []
CLINICAL = ("AllergyIntolerance", "MedicationStatement", "MedicationRequest", "Condition", "Immunization",
               "Encounter", "Observation")
NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


# ---- helpers ---------------------------------------------------------------------------------------


def run(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "USERPROFILE": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "viewer", "inspect", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def inspect_json(*files: str | Path, home: Path, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    proc = run("--json", *extra, *files, home=home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(2026)


def _resources(bundle: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every resource of a Bundle, including those contained in a List (ended allergies)."""
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        yield resource
        if resource.get("resourceType") == "List":
            yield from (c for c in resource.get("contained") or [] if isinstance(c, dict))


def clinical_keys(
    bundle: dict[str, Any], types: tuple[str, ...], *, plans_only: bool
) -> set[tuple[str, str]]:
    keys = set()
    for resource in _resources(bundle):
        rtype = resource.get("resourceType")
        if rtype not in types:
            continue
        if plans_only and rtype == "MedicationRequest" and resource.get("intent") != "plan":
            continue
        keys.add((rtype, str(resource.get("id"))))
    return keys


def accounted(out: dict[str, Any]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    shown = {(p["resource_type"], str(p["id"])) for items in out["sections"].values() for item in items
             for p in item["provenance"]}
    unreadable = {(u["resource_type"], str(u["id"])) for u in out["unreadable"]}
    return shown, unreadable


def gp_bundle(world: World, patient: SyntheticPatient) -> dict[str, Any]:
    parts = [{"name": a.value} for a in Area if a is not Area.ALLERGIES]
    parts.append({"name": Area.ALLERGIES.value,
                  "part": [{"name": "includeResolvedAllergies", "valueBoolean": True}]})
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "patientNHSNumber",
         "valueIdentifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": patient.nhs_number}},
        *parts,
    ]}
    assert patient.practice_ods is not None
    status, body = structured_record(world, parameters, patient.practice_ods, now=NOW)
    assert status == 200
    return body


def hospital_bundle(world: World, patient: SyntheticPatient) -> dict[str, Any]:
    record = HospitalRecords(world, "https://127.0.0.1:9").record_for_nhs(patient.nhs_number)
    assert record is not None
    entries = [{"resource": record.patient, "search": {"mode": "include"}}]
    entries += [{"resource": i.resource, "search": {"mode": "match"}}
                for items in record.resources.values() for i in items]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---- supplier files --------------------------------------------------------------------------------


@pytest.mark.skipif(not SUPPLIER_FILES, reason=f"supplier test patients not found at {SUPPLIERS}")
@pytest.mark.parametrize("path", SUPPLIER_FILES, ids=lambda p: p.parent.name)
def test_every_clinical_resource_of_a_supplier_file_is_accounted_for(
    path: Path, tmp_path: Path, validator: jsonschema.Draft202012Validator, record_property: Any
) -> None:
    out = inspect_json(path, home=tmp_path)
    validator.validate(out)
    assert out["files"] == [{"path": str(path), "kind": "gpconnect-stu3"}]
    assert out["sources"]["gp"]["state"] == "loaded"
    assert out["sources"]["hospital"]["state"] == "not-configured"
    assert out["patient"] is not None and out["patient"]["nhs_number"] in path.name
    assert list(out["sections"]) == list(SECTIONS)

    raw = json.loads(path.read_bytes())
    expected = clinical_keys(raw, CLINICAL, plans_only=True)
    shown, unreadable = accounted(out)
    missing = sorted(expected - shown - unreadable)
    counts = {t: sum(1 for k in expected if k[0] == t) for t in CLINICAL}
    plans = {k for k in expected if k[0] == "MedicationRequest"}
    supporting = {(p["resource_type"], str(p["id"])) for items in out["sections"].values() for item in items
                  for p in item["provenance"] if p.get("supports")}
    tally = (len(expected & shown), len(expected & unreadable - shown), len(plans & supporting))
    record_property("clinical_resources", counts)
    record_property("shown_unreadable_plans_as_supporting", tally)
    print(f"{path.parent.name}: {len(expected)} clinical resources {counts}; {tally[0]} shown, "
          f"{tally[1]} unreadable, {tally[2]} plans named as supporting resources of their medicine")
    # every plan is named in provenance as the resource its medicine was built from
    assert plans <= supporting | unreadable
    assert expected, "a full record with no clinical resources: the counting is wrong"
    assert not missing, f"{len(missing)} clinical resources neither shown nor unreadable: {missing[:10]}"
    # provenance names the practice and the retrieval time of every GP item
    for items in out["sections"].values():
        for item in items:
            for p in item["provenance"]:
                assert p["source"] == "gp"
                assert p["retrieved_at"] == out["sources"]["gp"]["retrieved_at"]


@pytest.mark.skipif(not SUPPLIER_FILES, reason=f"supplier test patients not found at {SUPPLIERS}")
def test_text_output_of_a_supplier_file(tmp_path: Path) -> None:
    path = SUPPLIER_FILES[0]
    proc = run(path, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Patient: ")
    assert any(line.startswith("Sources: GP: loaded") for line in lines)
    for name in SECTIONS:
        assert any(line.startswith(f"{name.capitalize()} (") for line in lines), name


# ---- files the sandbox writes ----------------------------------------------------------------------


def test_hospital_r4_bundle_gives_hospital_items(
    tmp_path: Path, world: World, validator: jsonschema.Draft202012Validator
) -> None:
    patient = patient_for(world, "same-medicine")
    bundle = hospital_bundle(world, patient)
    path = write(tmp_path / "hospital.json", bundle)
    out = inspect_json(path, home=tmp_path, extra=("--hospital-ods", "RX1", "--hospital-name", "Test Trust"))
    validator.validate(out)
    assert out["files"] == [{"path": str(path), "kind": "fhir-r4"}]
    assert out["sources"]["hospital"]["state"] == "loaded"
    assert out["sources"]["gp"]["state"] == "not-configured"
    assert out["patient"]["nhs_number"] == patient.nhs_number
    meds = out["sections"]["medications"]
    assert any("torvastatin" in m["label"] for m in meds)
    provenance = [p for items in out["sections"].values() for i in items for p in i["provenance"]]
    assert provenance and all(p["source"] == "hospital" for p in provenance)
    assert {(p["org_ods"], p["org_name"]) for p in provenance} == {("RX1", "Test Trust")}
    expected = clinical_keys(bundle, CLINICAL, plans_only=False)
    shown, unreadable = accounted(out)
    assert expected and not expected - shown - unreadable
    assert {k[0] for k in expected} >= {"MedicationRequest", "Encounter"}
    assert any(k[0].startswith("Medication") for k in expected & shown)


def test_single_resources_in_several_files_form_one_hospital_record(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "p1",
               "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
               "name": [{"family": "Testing", "given": ["Alex"]}], "gender": "female",
               "birthDate": "1950-03-04"}
    allergy = {"resourceType": "AllergyIntolerance", "id": "a1",
               "clinicalStatus": {"coding": [{"code": "active"}]},
               "verificationStatus": {"coding": [{"code": "confirmed"}]},
               "code": {"coding": [{"system": "http://snomed.info/sct", "code": "294505008",
                                    "display": "Allergy to amoxicillin"}]},
               "patient": {"reference": "Patient/p1"}, "recordedDate": "2026-03"}
    in_error = {**allergy, "id": "a2", "verificationStatus": {"coding": [{"code": "entered-in-error"}]}}
    condition = {"resourceType": "Condition", "id": "c1", "code": {"text": "Asthma"},
                 "clinicalStatus": {"coding": [{"code": "active"}]}, "subject": {"reference": "Patient/p1"},
                 "onsetDateTime": "2019"}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": allergy}, {"resource": in_error}, {"resource": condition}]}
    files = [write(tmp_path / "patient.json", patient), write(tmp_path / "bundle.json", bundle)]
    out = inspect_json(*files, home=tmp_path)
    assert [f["kind"] for f in out["files"]] == ["fhir-r4", "fhir-r4"]
    assert out["patient"]["banner_name"] == "TESTING, Alex"
    allergies = out["sections"]["allergies"]
    assert [(a["label"], a["asserted"]) for a in allergies] == [("Allergy to amoxicillin", "2026-03")]
    assert allergies[0]["provenance"][0]["org_ods"] == "unknown"
    assert out["sections"]["problems"][0]["onset"] == "2019"
    assert [(u["resource_type"], u["id"]) for u in out["unreadable"]] == [("AllergyIntolerance", "a2")]
    assert out["allergy_state"] == "Known allergies"


def test_gp_and_hospital_files_are_combined(tmp_path: Path, world: World) -> None:
    patient = patient_for(world, "same-medicine")
    gp = write(tmp_path / "gp.json", gp_bundle(world, patient))
    hospital = write(tmp_path / "hospital.json", hospital_bundle(world, patient))
    os.utime(gp, (NOW.timestamp(), NOW.timestamp()))
    out = inspect_json(hospital, gp, home=tmp_path)
    assert [f["kind"] for f in out["files"]] == ["fhir-r4", "gpconnect-stu3"]
    assert out["sources"]["gp"] == {"state": "loaded", "reason": None, "retrieved_at": "2026-11-23T10:42:00Z"}
    assert out["sources"]["hospital"]["state"] == "loaded"
    sources = {p["source"] for items in out["sections"].values() for i in items for p in i["provenance"]}
    assert sources == {"gp", "hospital"}
    # the same medicine in both records: one line, both originals behind it
    atorvastatin = [m for m in out["sections"]["medications"] if "torvastatin" in m["label"]]
    assert atorvastatin
    both = [m for m in atorvastatin if {p["source"] for p in m["provenance"]} == {"gp", "hospital"}]
    assert both, atorvastatin


def test_jekyll_wrapped_example_is_read(tmp_path: Path, world: World) -> None:
    body = json.dumps(gp_bundle(world, patient_for(world, "gp-only-allergy")), indent=1)
    path = tmp_path / "example.json"
    path.write_text("{% highlight json %}\n" + body + "\n{% endhighlight %}\n", encoding="utf-8")
    out = inspect_json(path, home=tmp_path)
    assert out["files"][0]["kind"] == "gpconnect-stu3"
    assert any("buprofen" in a["label"] for a in out["sections"]["allergies"])


# ---- files that cannot be read ---------------------------------------------------------------------


def test_fhir_xml_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "record.xml"
    path.write_text('<?xml version="1.0"?>\n<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>'
                    "</Bundle>\n", encoding="utf-8")
    proc = run("--json", path, home=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{path}: FHIR XML is not supported; convert to JSON" in proc.stderr


def test_missing_file_is_named_and_nothing_is_printed(tmp_path: Path, world: World) -> None:
    good = write(tmp_path / "gp.json", gp_bundle(world, patient_for(world, "same-medicine")))
    missing = tmp_path / "nowhere.json"
    proc = run(good, missing, home=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""  # a record without one of its inputs would look whole
    assert f"{missing}: no such file" in proc.stderr
    assert str(good) not in proc.stderr


@pytest.mark.parametrize(("content", "problem"), [
    ("this is not json", "not valid JSON"),
    ('{"hello": "world"}', "not a FHIR resource"),
    ('{"resourceType": "OperationOutcome", "issue": []}', "error response"),
])
def test_unreadable_files_exit_2(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "capture.json"
    path.write_text(content, encoding="utf-8")
    proc = run(path, home=tmp_path)
    assert proc.returncode == 2
    assert str(path) in proc.stderr and problem in proc.stderr


def test_inspect_does_not_import_qt_or_log_patient_data(tmp_path: Path, world: World) -> None:
    patient = patient_for(world, "same-medicine")
    gp = write(tmp_path / "gp.json", gp_bundle(world, patient))
    script = ("import sys; from viewer.cli import main; code = main(['inspect', sys.argv[1]]); "
              "assert 'PySide6' not in sys.modules, 'inspect imported Qt'; sys.exit(code)")
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", script, str(gp)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert patient.nhs_number[:3] + " " + patient.nhs_number[3:6] in proc.stdout  # the record is printed
    assert patient.nhs_number not in proc.stderr
    assert patient.pds.name.family.lower() not in proc.stderr.lower()


# ---- in process: recognising files and joining GP captures -------------------------------------------


NHS_ID = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}
GPC_BUNDLE = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1"


@pytest.mark.parametrize(("data", "kind"), [
    ({"resourceType": "Bundle", "meta": {"profile": [GPC_BUNDLE]}}, "gpconnect-stu3"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "meta": {"profile": [
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"]}}}]}, "gpconnect-stu3"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "identifier": [NHS_ID]}},
                                          {"resource": {"resourceType": "List"}}]}, "gpconnect-stu3"),
    ({"resourceType": "Bundle", "type": "searchset",
      "entry": [{"resource": {"resourceType": "Patient", "identifier": [NHS_ID], "meta": {"profile": [
          "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]}}}]}, "fhir-r4"),
    ({"resourceType": "Condition", "id": "c1"}, "fhir-r4"),
    ({"resourceType": 3}, None),
    ([{"resourceType": "Patient"}], None),
])
def test_kind_of_a_file_is_recognised(data: Any, kind: str | None) -> None:
    from viewer.services.inspect import detect_kind

    found = detect_kind(data)
    assert (found.value if found else None) == kind


def test_several_gp_captures_are_read_as_one_record(tmp_path: Path, world: World) -> None:
    from viewer.services.inspect import inspect_files

    patient = patient_for(world, "gp-only-allergy")
    whole = gp_bundle(world, patient)
    allergies = [e for e in whole["entry"] if e["resource"]["resourceType"] != "MedicationStatement"]
    medicines = [e for e in whole["entry"] if e["resource"]["resourceType"] in ("Patient", "Organization",
                                                                                "MedicationStatement")]
    assert len(medicines) > 2
    first = write(tmp_path / "part1.json", {**whole, "entry": allergies})
    second = write(tmp_path / "part2.json", {**whole, "entry": medicines})
    joined = inspect_files([first, second]).record
    alone = inspect_files([write(tmp_path / "whole.json", whole)]).record
    assert [f.kind for f in inspect_files([first, second]).files] == ["gpconnect-stu3"] * 2
    for name in ("allergies", "medications", "problems", "encounters"):
        assert len(joined.sections[name]) == len(alone.sections[name]), name
    assert joined.sections["medications"]


def test_an_empty_allergy_search_is_none_recorded_and_a_missing_one_unavailable(tmp_path: Path) -> None:
    """A capture cannot tell an empty search from no search, unless the searchset names its search."""
    from viewer.services.inspect import inspect_files

    patient = {"resourceType": "Patient", "id": "p1", "identifier": [NHS_ID], "name": [{"family": "Testing"}]}
    patients = write(tmp_path / "patient.json", patient)
    empty_search = write(tmp_path / "allergies.json", {
        "resourceType": "Bundle", "type": "searchset", "total": 0,
        "link": [{"relation": "self",
                  "url": "https://127.0.0.1:9/fhir/AllergyIntolerance?patient=Patient%2Fp1&_count=100"}],
    })
    assert inspect_files([patients]).record.allergy_state.value == "Allergies unavailable"
    searched = inspect_files([patients, empty_search]).record
    assert searched.allergy_state.value == "Allergies not recorded"
    assert searched.hospital is not None and searched.hospital.allergies_supplied
