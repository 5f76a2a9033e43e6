"""What the find bar's "Recent patients" costs each time it is refreshed (sign-in, every open, unlock).

Run it as a script (never collected by pytest, nothing here passes or fails):

    .venv/bin/python tests/bench/bench_recent.py [--runs N] [--entries N]

On an encrypted store holding the sandbox's large-record patient in the cache and an audit log of
`--entries` entries (default 20,000: months of a busy ward PC), with ten patients opened by the clinician:
- **query_ms**: `AuditLog.recent_patients` alone (the audit log has no index on user: a full scan);
- **names_ms**: the kept names (`RecordCache.kept_patient`: the PDS demographics alone), beside
  **whole_load_ms**, what reading them through `RecordCache.load` (every source decoded) would cost;
- **refresh_ms**: `Workspace.recent_patients` end to end, on a worker thread as the window runs it.
The work runs off the GUI thread, but a decode holds the GIL, so it is printed to be watched.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "tests.support.memory_keyring.MemoryKeyring")

USER = "555555555555"


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--entries", type=int, default=20_000)
    args = parser.parse_args()

    from tests.support.large_record import large_record
    from tests.support.memory_keyring import MemoryKeyring
    from viewer.domain.nhs_number import check_digit
    from viewer.services.audit import Audit
    from viewer.services.workspace import Workspace
    from viewer.store.audit_log import AuditAction, AuditLog
    from viewer.store.database import Store
    from viewer.store.record_cache import RecordCache

    record = large_record()
    with tempfile.TemporaryDirectory(prefix="wardview-bench-recent-") as folder:
        store = Store.open(Path(folder) / "bench.db", backend=MemoryKeyring())
        cache, log = RecordCache(store), AuditLog(store)
        nhs, gp = record.nhs_number, record.gp
        cache.save_demographics(nhs, gp.patient, gp.retrieved_at)  # type: ignore[arg-type]
        cache.save_source(nhs, gp)
        cache.save_source(nhs, record.hospital)
        others = [f"{stem}{check_digit(str(stem))}" for stem in range(999000001, 999000100)
                  if check_digit(str(stem)) is not None][:9]
        for i in range(args.entries):
            mine = i % 4 == 0
            patient = [nhs, *others][(i // 4) % 10] if mine else others[i % 9]
            log.append(AuditAction.RECORD_OPEN if mine else AuditAction.SECTION_VIEW,
                       user_id=USER if mine else "666666666666", patient=patient)
        workspace = Workspace(oidc=None, browser_for=lambda _u: (lambda _url: None),  # type: ignore[arg-type]
                              open_record=SimpleNamespace(cache=cache), org_ods="RWV99",  # type: ignore[arg-type]
                              audit=Audit(log))
        session = SimpleNamespace(user_id=USER)
        numbers = log.recent_patients(USER, 10)
        rows = [
            ("query_ms", median_ms(lambda: log.recent_patients(USER, 10), args.runs)),
            ("names_ms", median_ms(lambda: [cache.kept_patient(n) for n in numbers], args.runs)),
            ("whole_load_ms", median_ms(lambda: [cache.load(n) for n in numbers], args.runs)),
            ("refresh_ms", median_ms(
                lambda: asyncio.run(workspace.recent_patients(session, 10)), args.runs)),  # type: ignore[arg-type]
        ]
        store.close()
    print(f"audit entries: {args.entries}, recent patients: {len(numbers)} (one is the large record)")
    print("| measure | median ms |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.1f} |")


if __name__ == "__main__":
    main()
