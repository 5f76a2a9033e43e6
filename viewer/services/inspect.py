"""`wardview inspect FILE...`: replay captured GP Connect and hospital FHIR responses through the real
mapping and merge, without a network, a sign-in or Qt.

Support staff use it to see what the viewer makes of a supplier's response, and the safety tests use it
as a black box, so it runs the same code as the app (map_structured_record, map_hospital_record, combine).
A file that cannot be read at all (missing, not JSON, FHIR XML, not a FHIR resource) stops the command
with exit status 2 and nothing on stdout: a record printed without one of its inputs would look whole.
Anything smaller (an odd resource) is the mappers' business and shows up in `unreadable`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import orjson

from viewer.domain.provenance import SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.record.combined import CombinedRecord, combine
from viewer.record.export import SourceFile, record_to_dict, record_to_text
from viewer.record.status import SourceState, SourceStatus
from viewer.sources.errors import SourceError
from viewer.sources.r4_mapping import map_hospital_record
from viewer.sources.stu3_mapping import map_structured_record

log = logging.getLogger(__name__)

UNKNOWN = "unknown"
XML_NOT_SUPPORTED = "FHIR XML is not supported; convert to JSON"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
_JEKYLL_LINE = re.compile(rb"^\s*\{%.*%\}\s*$", re.MULTILINE)
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")
_STU3_PROFILE_MARKERS = ("GPConnect", "CareConnect", "/STU3/")
_NOT_CONFIGURED_REASON = "no file of this kind was given"


class FileKind(StrEnum):
    GP_CONNECT_STU3 = "gpconnect-stu3"
    FHIR_R4 = "fhir-r4"


class InspectFileError(Exception):
    """A file that cannot be read at all. The message names the file and says why, and holds no
    patient data (only the path the user typed and the kind of failure)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class UnreadableFiles(Exception):
    """Every file that could not be read, so one run names them all rather than the first only."""

    def __init__(self, errors: Sequence[InspectFileError]) -> None:
        super().__init__(f"{len(errors)} file(s) could not be read")
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class LoadedFile:
    path: Path
    kind: FileKind
    data: dict[str, Any]
    modified: datetime  # UTC; stands in for the retrieval time of a captured response


@dataclass(frozen=True, slots=True)
class InspectResult:
    record: CombinedRecord
    files: tuple[SourceFile, ...]


def strip_jekyll(body: bytes) -> bytes:
    """The GP Connect spec's examples are Jekyll includes wrapped in `{% highlight json %}` lines."""
    return _JEKYLL_LINE.sub(b"", body)


def parse_json(path: Path, body: bytes) -> Any:
    """JSON as captured; retried without Jekyll wrapper lines; XML gets a message saying what to do."""
    text = body.removeprefix(b"\xef\xbb\xbf")
    if text.lstrip().startswith(b"<"):
        raise InspectFileError(path, XML_NOT_SUPPORTED)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    stripped = strip_jekyll(text)
    if stripped != text:
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
    raise InspectFileError(path, "not valid JSON")


def _profiles(resource: dict[str, Any]) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    return [p for p in profiles if isinstance(p, str)] if isinstance(profiles, list) else []


def _entry_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    out = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            out.append(resource)
    return out


def _has_nhs_number(resource: dict[str, Any]) -> bool:
    identifiers = resource.get("identifier")
    return isinstance(identifiers, list) and any(
        isinstance(i, dict) and i.get("system") == NHS_NUMBER_SYSTEM for i in identifiers
    )


def detect_kind(data: Any) -> FileKind | None:
    """A GP Connect structured record (STU3) or FHIR R4; None when it is not a FHIR resource at all.

    GP Connect is recognised by its profile URLs (on the Bundle or its entries) or, for captures whose
    meta was stripped, by its shape: a Patient with an NHS number alongside Lists. Everything else that is
    a FHIR resource is read as the hospital's R4.
    """
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        return None
    if data["resourceType"] != "Bundle":
        return FileKind.FHIR_R4
    resources = _entry_resources(data)
    for resource in (data, *resources):
        if any(marker in p for p in _profiles(resource) for marker in _STU3_PROFILE_MARKERS):
            return FileKind.GP_CONNECT_STU3
    types = {r.get("resourceType") for r in resources}
    has_patient = any(r.get("resourceType") == "Patient" and _has_nhs_number(r) for r in resources)
    if has_patient and "List" in types:
        return FileKind.GP_CONNECT_STU3
    return FileKind.FHIR_R4


def load_file(path: Path) -> LoadedFile:
    """Read, parse and recognise one captured response; InspectFileError when that is impossible."""
    try:
        body = path.read_bytes()
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except FileNotFoundError:
        raise InspectFileError(path, "no such file") from None
    except IsADirectoryError:
        raise InspectFileError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise InspectFileError(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    data = parse_json(path, body)
    kind = detect_kind(data)
    if kind is None:
        raise InspectFileError(path, "not a FHIR resource (no resourceType)")
    if data["resourceType"] == "OperationOutcome":
        raise InspectFileError(path, "is an error response (OperationOutcome), not a record")
    return LoadedFile(path, kind, data, modified)


def _gp_bundle(files: Sequence[LoadedFile]) -> dict[str, Any]:
    """Several GP captures (e.g. one per clinical area) are read as one Bundle of all their entries."""
    if len(files) == 1:
        return files[0].data
    entries: list[Any] = []
    for f in files:
        more = f.data.get("entry")
        if isinstance(more, list):
            entries.extend(more)
    return {**files[0].data, "entry": entries}


def searched_type(bundle: dict[str, Any]) -> str | None:
    """The resource type a captured searchset answered (from its `self` link, `.../AllergyIntolerance?...`),
    so an empty result reads as "none recorded" rather than "not supplied"."""
    if bundle.get("type") != "searchset" or not isinstance(bundle.get("link"), list):
        return None
    for link in bundle["link"]:
        if isinstance(link, dict) and link.get("relation") == "self" and isinstance(link.get("url"), str):
            path = link["url"].split("?", 1)[0].rstrip("/")
            name = path.rsplit("/", 1)[-1]
            return name if _RESOURCE_TYPE.match(name) else None
    return None


def hospital_resources(files: Sequence[LoadedFile]) -> tuple[dict[str, Any] | None, dict[str, list[dict]]]:
    """The patient and the resources by type, from Bundles and single resources, in file order. A type no
    file holds is left out, which the mapping reports as not supplied: a capture cannot tell an empty
    search from no search, except a searchset that names its search in its `self` link."""
    by_type: dict[str, list[dict]] = {}
    for f in files:
        searched = searched_type(f.data) if f.data.get("resourceType") == "Bundle" else None
        if searched is not None and searched != "Patient":
            by_type.setdefault(searched, [])
        found = _entry_resources(f.data) if f.data.get("resourceType") == "Bundle" else [f.data]
        for resource in found:
            rtype = resource.get("resourceType")
            if isinstance(rtype, str):
                by_type.setdefault(rtype, []).append(resource)
    patients = by_type.pop("Patient", [])
    patient = next((p for p in patients if _has_nhs_number(p)), patients[0] if patients else None)
    return patient, by_type


def _status(kind: SourceKind, files: Sequence[LoadedFile]) -> SourceStatus:
    if not files:
        return SourceStatus(kind, SourceState.NOT_CONFIGURED, reason=_NOT_CONFIGURED_REASON)
    return SourceStatus(kind, SourceState.LOADED, at=min(f.modified for f in files))


def inspect_files(
    paths: Sequence[Path], *, hospital_ods: str | None = None, hospital_name: str | None = None
) -> InspectResult:
    """Map and combine the files; raises UnreadableFiles naming every file that could not be read.

    The retrieval time of a source is the oldest modification time of its files: the record is as old as
    its oldest part.
    """
    loaded: list[LoadedFile] = []
    errors: list[InspectFileError] = []
    for path in paths:
        try:
            loaded.append(load_file(Path(path)))
        except InspectFileError as exc:
            errors.append(exc)
    if errors:
        raise UnreadableFiles(errors)
    gp_files = [f for f in loaded if f.kind is FileKind.GP_CONNECT_STU3]
    r4_files = [f for f in loaded if f.kind is FileKind.FHIR_R4]

    gp: SourceRecord | None = None
    hospital: SourceRecord | None = None
    gp_status = _status(SourceKind.GP, gp_files)
    hospital_status = _status(SourceKind.HOSPITAL, r4_files)
    if gp_files:
        try:
            gp = map_structured_record(_gp_bundle(gp_files), retrieved_at=gp_status.at or datetime.now(UTC))
        except SourceError as exc:
            raise UnreadableFiles([InspectFileError(f.path, exc.user_message) for f in gp_files]) from None
    if r4_files:
        patient, resources = hospital_resources(r4_files)
        hospital = map_hospital_record(
            patient, resources, retrieved_at=hospital_status.at or datetime.now(UTC),
            org_ods=hospital_ods or UNKNOWN, org_name=hospital_name or UNKNOWN,
        )
    statuses = {SourceKind.GP: gp_status, SourceKind.HOSPITAL: hospital_status}
    record = combine(pds=None, statuses=statuses, gp=gp, hospital=hospital)
    files = tuple(SourceFile(str(f.path), f.kind.value) for f in loaded)
    log.debug("inspected %d file(s): %d GP, %d hospital", len(loaded), len(gp_files), len(r4_files))
    return InspectResult(record, files)


def run_inspect(
    paths: Sequence[Path],
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    hospital_ods: str | None = None,
    hospital_name: str | None = None,
) -> int:
    """The `inspect` sub-command: 0 when every file was read (even with unreadable items), else 2."""
    try:
        result = inspect_files(paths, hospital_ods=hospital_ods, hospital_name=hospital_name)
    except UnreadableFiles as failed:
        for exc in failed.errors:
            print(f"wardview inspect: {exc}", file=err)
        return 2
    if as_json:
        document = record_to_dict(result.record, files=result.files)
        out.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        out.write("\n")
    else:
        out.write(record_to_text(result.record, files=result.files))
    out.flush()
    return 0
