"""Record cache benchmark: the large sandbox patient saved and loaded through RecordCache on SQLCipher and on
plain sqlite3 (same schema, same code and SQL, no key), and "open from cache to record ready".

Run it as a script (pytest never collects tests/bench, and nothing here is pass/fail):

    .venv/bin/python tests/bench/bench_store.py [--runs N] [--profile]

Input: the sandbox's large-record patient mapped from both sources (GP Connect ~2,000 entries, hospital
over 10,000 results) as an open caches it: save = GP record + hospital record + PDS demographics, three
transactions; load = `RecordCache.load` (read + decode). The ratio SQLCipher / sqlite3 is the cost of
encryption (issue 5 aims at <= 1.5x). "Open from cache to record ready" = `RecordCache.load` +
`viewer.record.combined.combine(...)` as OpenRecord calls it (aim <= 100 ms). `--profile` prints where
`combine` spends its time. Medians of several runs, all in one process; the store files live in a fresh
temporary folder.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def interleaved(actions: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall time of each action over `runs` rounds, each round running every action once (after
    one warm-up round); the collector runs as it would in the app."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for round_number in range(runs + 1):
        for name, action in actions.items():
            gc.collect()
            start = time.perf_counter()
            action()
            if round_number:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def plain_store(path: Path) -> object:
    """The same schema and connection settings on plain sqlite3: what the store would cost unencrypted."""
    from viewer.store.database import Store, configure
    from viewer.store.migrations import migrate

    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    configure(connection)
    migrate(connection)
    return Store(connection, path, "bench-plain")


def encrypted_store(path: Path) -> object:
    from tests.support.memory_keyring import MemoryKeyring
    from viewer.store.database import Store

    return Store.open(path, backend=MemoryKeyring())


def table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per measurement (median)")
    parser.add_argument("--profile", action="store_true", help="profile combine() and print the top entries")
    parser.add_argument("--json", action="store_true",
                        help="also print the figures as one JSON object on the last line")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import msgspec

    from tests.support.large_record import large_record
    from viewer.domain.provenance import SourceKind
    from viewer.record.collector import collector_paused
    from viewer.record.combined import combine
    from viewer.record.status import SourceState, SourceStatus
    from viewer.store.record_cache import RecordCache

    record = large_record()
    nhs, gp, hospital = record.nhs_number, record.gp, record.hospital
    assert gp.patient is not None
    sizes = [len(msgspec.msgpack.encode(r)) for r in (gp, hospital)]
    items = sum(len(getattr(r, f)) for r in (gp, hospital) for f in
                ("allergies", "medications", "problems", "encounters", "observations", "reports",
                 "immunisations", "referrals", "documents", "flags"))
    print(f"median of {args.runs} runs, Python {sys.version.split()[0]}; large sandbox patient: "
          f"{items} items, payload GP {sizes[0] / 1e6:.2f} MB + hospital {sizes[1] / 1e6:.2f} MB (msgpack)")

    def save(cache: RecordCache) -> None:
        cache.save_demographics(nhs, gp.patient, gp.retrieved_at)  # type: ignore[arg-type]
        cache.save_source(nhs, gp, etag='W/"1"')
        cache.save_source(nhs, hospital)

    statuses = {kind: SourceStatus(kind, SourceState.LOADED, at=gp.retrieved_at)
                for kind in (SourceKind.GP, SourceKind.HOSPITAL)}
    blobs = [msgspec.msgpack.encode(gp), msgspec.msgpack.encode(hospital)]
    decoder = msgspec.msgpack.Decoder(type(gp))

    def decode_only() -> object:
        with collector_paused():
            return [decoder.decode(b) for b in blobs]

    with tempfile.TemporaryDirectory(prefix="wardview-bench-") as folder:
        encrypted = RecordCache(encrypted_store(Path(folder) / "sqlcipher.db"))  # type: ignore[arg-type]
        plain = RecordCache(plain_store(Path(folder) / "sqlite3.db"))  # type: ignore[arg-type]

        def ready() -> object:
            # as OpenRecord does it: the collector waits while the copy is read and merged
            with collector_paused():
                cached = encrypted.load(nhs)
                assert cached is not None
                return combine(cached.demographics, statuses, cached.sources[SourceKind.GP].record,
                               cached.sources[SourceKind.HOSPITAL].record)

        save(encrypted)
        save(plain)
        # interleaved: every round runs each action once, so a slow moment of this shared machine falls
        # on both sides of a ratio rather than on one
        ms = interleaved({
            "enc_save": lambda: save(encrypted), "plain_save": lambda: save(plain),
            "enc_load": lambda: encrypted.load(nhs), "plain_load": lambda: plain.load(nhs),
            "ready": ready, "decode": decode_only,
            "combine": lambda: combine(gp.patient, statuses, gp, hospital),
        }, args.runs)
        encrypted.store.close()
        plain.store.close()
    enc_save, enc_load, plain_save, plain_load, total = (
        ms["enc_save"], ms["enc_load"], ms["plain_save"], ms["plain_load"], ms["ready"])
    print("\nStore write and read-back (GP + hospital + demographics)\n")
    print(table(("store", "save ms", "load ms"), [
        ("SQLCipher 4 (encrypted)", f"{enc_save:.1f}", f"{enc_load:.1f}"),
        ("sqlite3 (plain)", f"{plain_save:.1f}", f"{plain_load:.1f}"),
        ("SQLCipher / sqlite3", f"{enc_save / plain_save:.2f}x", f"{enc_load / plain_load:.2f}x"),
    ]))
    print("\nOpen from cache to record ready (SQLCipher)\n")
    print(table(("step", "ms"), [
        ("RecordCache.load (read + decode)", f"{enc_load:.1f}"),
        ("  of which msgpack decode alone", f"{ms['decode']:.1f}"),
        ("combine(...) alone", f"{ms['combine']:.1f}"),
        ("load + combine (record ready)", f"{total:.1f}"),
    ]))
    if args.json:
        print(json.dumps({"store_save_ms": round(enc_save, 1), "store_load_ms": round(enc_load, 1),
                          "sqlite_save_ms": round(plain_save, 1), "sqlite_load_ms": round(plain_load, 1),
                          "store_vs_sqlite": round(max(enc_save / plain_save, enc_load / plain_load), 2),
                          "cache_open_ms": round(total, 1)}))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            combine(gp.patient, statuses, gp, hospital)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(18)
        print("\ncombine() x3, by cumulative time\n")
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
