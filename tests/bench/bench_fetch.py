"""Fetch overhead (issue 8): what the viewer adds on top of the servers when it opens the large patient.

Run it as a script (never collected by pytest, nothing here passes or fails):

    .venv/bin/python tests/bench/bench_fetch.py [--runs N] [--json]

Against `wardview sandbox serve` in its own process, the large-record patient is opened twice per run with
the same clients, the same requests and the same HTTP connection pool:

- **full**: `OpenRecord` as the app runs it for a patient not yet cached (the issue's "fetch + map + merge
  + store"; painting a kept copy first is `cache_open_ms` in bench_store): PDS trace, SDS, GP Connect and
  the hospital pages fetched in parallel, both records mapped, merged (`combine` on every update) and kept
  in the encrypted cache;
- **transport only**: the same requests with mapping, merging and the cache switched off (the mappers
  return an empty record): what the servers and the network cost.

`fetch_overhead_ms` = median(full) - median(transport only), wall clock. Aim (issue 8): <= 400 ms. On a
2-core PC the served sandbox and the viewer compete for the cores, so the CPU time of the viewer's own
process is printed beside it (`viewer_cpu_*`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "bench"))
sys.path.insert(0, str(REPO))

from bench_gui import ServedSandbox  # noqa: E402  (sets the isolated HOME, XDG dirs and test keyring)


def _empty_gp(body: bytes, *, retrieved_at: Any) -> Any:
    from viewer.domain.provenance import SourceKind
    from viewer.domain.source_record import SourceRecord

    return SourceRecord(SourceKind.GP, retrieved_at, None)


def _empty_hospital(patient: Any, resources: Any, *, retrieved_at: Any, org_ods: str, org_name: str) -> Any:
    from viewer.domain.provenance import SourceKind
    from viewer.domain.source_record import SourceRecord

    return SourceRecord(SourceKind.HOSPITAL, retrieved_at, None)


async def measure(sandbox: Any, runs: int) -> tuple[list[float], list[float]]:
    from tests.support.sandbox_wiring import patient_number, sandbox_settings
    from viewer.app import sandbox_browser
    from viewer.services.compose import build_open_record, http_client_for, open_local_store
    from viewer.services.workspace import Workspace

    settings = sandbox_settings(sandbox)
    http = http_client_for(settings)
    number = patient_number(sandbox, "large-record")
    with tempfile.TemporaryDirectory(prefix="wardview-bench-fetch-") as folder:
        local = open_local_store(settings, http, path=Path(folder) / "bench.db", token=lambda: None)
        full = build_open_record(settings, http, cache=local.cache)
        bare = build_open_record(settings, http)
        bare._s = replace(bare._s, map_gp=_empty_gp, map_hospital=_empty_hospital)  # type: ignore[attr-defined]
        from viewer.services.compose import build_workspace

        workspace: Workspace = build_workspace(settings, http, sandbox_browser(sandbox.info["ca_cert"]),
                                               sandbox=True)
        session = await workspace.sign_in("dr.morgan")
        ctx = session.request_context(settings.ods_code)
        await full(number, ctx)  # warm: connections, TLS sessions, the sandbox's own caches
        await bare(number, ctx)
        full_times, bare_times, full_cpu, bare_cpu = [], [], [], []
        for _ in range(runs):  # taking turns, so a load that drifts touches both alike
            for use_case, times, cpu in ((full, full_times, full_cpu), (bare, bare_times, bare_cpu)):
                if local.cache is not None:  # fetch + map + merge + store: the cache-first paint is
                    local.cache.forget(number)  # measured on its own (bench_store: cache_open_ms)
                start, start_cpu = time.perf_counter(), time.process_time()
                await use_case(number, ctx)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
        await workspace.sign_out(session)
        local.close()
    await http.aclose()
    return full_times, bare_times, full_cpu, bare_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with ServedSandbox() as sandbox:
        full, bare, full_cpu, bare_cpu = asyncio.run(measure(sandbox, args.runs))
    figures = {"fetch_full_ms": round(statistics.median(full), 1),
               "fetch_transport_ms": round(statistics.median(bare), 1)}
    figures["fetch_overhead_ms"] = round(figures["fetch_full_ms"] - figures["fetch_transport_ms"], 1)
    # CPU time of the viewer's own process: on a 2-core PC the served sandbox competes with the viewer for
    # the cores, so the wall-clock difference also holds the servers' own work slowed by ours
    figures["viewer_cpu_full_ms"] = round(statistics.median(full_cpu), 1)
    figures["viewer_cpu_transport_ms"] = round(statistics.median(bare_cpu), 1)
    figures["viewer_cpu_overhead_ms"] = round(
        figures["viewer_cpu_full_ms"] - figures["viewer_cpu_transport_ms"], 1)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"median of {args.runs} runs, Python {sys.version.split()[0]}")
        print("| figure | ms |\n|---|---|")
        for name, value in figures.items():
            print(f"| {name} | {value} |")
        print("aim: fetch_overhead_ms <= 400")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
