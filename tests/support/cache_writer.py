"""A writer process for the kill test: saves version 1, 2, 3 ... of several patients' records until killed.

    python -m tests.support.cache_writer STORE KEY_FILE            # one writer
    python -m tests.support.cache_writer --zygote STORE KEY_FILE   # a writer per `fork` line on stdin

The zygote imports once (~0.2 s on a busy PC) and forks a fresh writer each time it reads `fork`, so 200
kills do not cost 200 interpreter starts; each writer is a process of its own, killed as hard as any. The
zygote itself is single-threaded and never opens the store, so a fork inherits no lock or connection. It
prints `exited PID STATUS` when a writer ends (STATUS -9 after SIGKILL).

The key comes from a file the test made in tmp (never the keyring). Every value of a saved record carries
its version (etag, retrieval time, organisation name, each item's text and provenance), and the clock
that stamps `last_opened` reads the version too, so a record or a patient row that mixes two writes shows
at once. Prints `ready N` once the store is open (the open itself integrity-checks what the last kill
left) and N is the first version it will write.
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

from viewer.domain.clinical import Medication
from viewer.domain.coding import Concept
from viewer.domain.patient import HumanName, Patient
from viewer.domain.provenance import Provenance, SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.store.database import Store, open_database
from viewer.store.keys import StoreKey
from viewer.store.record_cache import RecordCache

PATIENTS = ("9990000018", "9990000026", "9990000034", "9990000042")
SOURCES = (SourceKind.GP, SourceKind.HOSPITAL)
ITEMS = 120  # ~20 KB a record: a write spans several pages
T0 = datetime(2026, 11, 23, tzinfo=UTC)


def at(version: int) -> datetime:
    return T0 + timedelta(seconds=version)


def versioned_record(source: SourceKind, version: int) -> SourceRecord:
    prov = Provenance(source, "MedicationStatement", f"v{version}", at(version), "A12345", f"v{version}")
    return SourceRecord(
        source=source,
        retrieved_at=at(version),
        patient=None,
        org_name=f"v{version}",
        medications=tuple(Medication(Concept(f"v{version} item {i}"), prov, dosage=f"v{version}")
                          for i in range(ITEMS)),
    )


def versioned_patient(nhs_number: str, version: int) -> Patient:
    prov = Provenance(SourceKind.PDS, "Patient", f"v{version}", at(version))
    return Patient(nhs_number, HumanName(f"v{version}"), None, None, prov)


def versions_in(record: SourceRecord) -> set[int]:
    """Every version number a record's values carry: one, for a record written whole."""
    texts = [record.org_name or ""]
    for m in record.medications:
        texts += [m.name.label.split()[0], m.dosage or "", m.provenance.org_name or "",
                  m.provenance.resource_id or ""]
    found = {int(t.removeprefix("v")) for t in texts}
    found.add(round((record.retrieved_at - T0).total_seconds()))
    if len(record.medications) != ITEMS:
        found.add(-1)
    return found


def open_store(path: Path, key_file: Path) -> Store:
    key = StoreKey(bytes.fromhex(key_file.read_text().strip()))
    return Store(open_database(path, key), path, path.stem)


def write(store_path: Path, key_file: Path) -> None:
    store = open_store(store_path, key_file)
    with store.reading() as db:
        row = db.execute("SELECT max(retrieved_at) FROM cached_source").fetchone()
    start = round((datetime.fromisoformat(row[0]) - T0).total_seconds()) + 1 if row[0] else 1
    current = {"version": start}
    cache = RecordCache(store, clock=lambda: at(current["version"]))
    print(f"ready {start} {os.getpid()}", flush=True)
    for version in count(start):
        current["version"] = version
        for nhs_number in PATIENTS:
            for source in SOURCES:
                cache.save_source(nhs_number, versioned_record(source, version), etag=f"v{version}")
            cache.save_demographics(nhs_number, versioned_patient(nhs_number, version), at(version))


def zygote(store_path: Path, key_file: Path) -> None:
    for line in sys.stdin:
        if line.strip() != "fork":
            continue
        pid = os.fork()
        if pid == 0:
            try:
                write(store_path, key_file)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        print(f"exited {pid} {os.waitstatus_to_exitcode(status)}", flush=True)


def main(argv: list[str]) -> int:
    if argv[0] == "--zygote":
        zygote(Path(argv[1]), Path(argv[2]))
    else:
        write(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
