"""Issue 5: writes are atomic per record. A writer process saving version after version of several
patients' records is SIGKILLed at random moments, 200 times; then the store must pass
`PRAGMA integrity_check` and every record must be wholly one version.

Each writer is forked by a zygote process (tests/support/cache_writer.py) so the 200 rounds pay for one
interpreter start, not 200; the key reaches it through a file in tmp, never a keyring. Seeded random
delays (5-150 ms after the writer reports it is writing), so a failure can be replayed.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cache_writer import (
    PATIENTS,
    SOURCES,
    T0,
    at,
    open_store,
    versioned_patient,
    versioned_record,
    versions_in,
)
from viewer.store.record_cache import RecordCache

REPO = Path(__file__).resolve().parents[2]
KILLS = 200
SEED = 20261123

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the zygote forks writers (POSIX only)")


def version_of(moment: datetime) -> int:
    return round((moment.astimezone(UTC) - T0).total_seconds())


@pytest.mark.timeout(180)
def test_a_killed_writer_never_leaves_half_a_record(tmp_path: Path) -> None:
    store_path, key_file = tmp_path / "kill.db", tmp_path / "key"
    key_file.write_text(secrets.token_hex(32))
    with open_store(store_path, key_file) as store:  # version 0 of everything, before any kill
        cache = RecordCache(store, clock=lambda: at(0))
        for nhs_number in PATIENTS:
            for source in SOURCES:
                cache.save_source(nhs_number, versioned_record(source, 0), etag="v0")
            cache.save_demographics(nhs_number, versioned_patient(nhs_number, 0), at(0))

    rng = random.Random(SEED)
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.support.cache_writer", "--zygote", str(store_path), str(key_file)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    starts: list[int] = []
    began = time.perf_counter()
    try:
        for _ in range(KILLS):
            zygote.stdin.write("fork\n")
            zygote.stdin.flush()
            ready = zygote.stdout.readline().split()
            assert ready[:1] == ["ready"], (ready, zygote.stderr.read() if ready[:1] == ["exited"] else "")
            start, pid = int(ready[1]), int(ready[2])
            starts.append(start)
            time.sleep(rng.uniform(0.005, 0.150))
            os.kill(pid, signal.SIGKILL)
            assert zygote.stdout.readline().split() == ["exited", str(pid), str(-signal.SIGKILL)]
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)
    elapsed = time.perf_counter() - began
    print(f"{KILLS} kills in {elapsed:.1f} s; versions written up to {starts[-1] - 1}")

    assert starts == sorted(starts)  # what a writer saw committed, the next one still finds
    assert starts[-1] > KILLS // 4  # the writers really wrote between kills (~2 versions a round here)
    with open_store(store_path, key_file) as store:  # opening integrity-checks too
        with store.reading() as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        cache = RecordCache(store)
        for nhs_number in PATIENTS:
            cached = cache.load(nhs_number)
            assert cached is not None and set(cached.sources) == set(SOURCES)
            versions = []
            for source in SOURCES:
                entry = cached.sources[source]
                (version,) = versions_in(entry.record)
                assert entry.etag == f"v{version}" and version_of(entry.retrieved_at) == version
                assert entry.record.source is source
                versions.append(version)
            assert cached.demographics is not None and cached.demographics_at is not None
            demographics_version = version_of(cached.demographics_at)
            assert cached.demographics.name.family == f"v{demographics_version}"
            versions.append(demographics_version)
            # the patient row is written in the same transaction as each source row, last by the newest
            assert version_of(cached.last_opened) == max(versions)
