"""Mapping benchmark: our STU3 and R4 mapping against fhir.resources validation and bare orjson.loads.

Run it as a script (pytest never collects tests/bench, and nothing here is pass/fail):

    .venv/bin/python tests/bench/bench_mapping.py [--runs N] [--json]

Inputs, each timed from the same bytes: the largest GP Connect supplier bundle in
../shared/reference/gpconnect/vendor-test-patients (skipped with a message when that folder is absent), and
the hospital record of the sandbox's large-record patient (over 10,000 R4 resources) as one searchset
Bundle. Columns: our mapping (parse + map, as the app runs it: the hospital Bundle is read the way the
hospital client reads each search page), fhir.resources `Bundle.model_validate_json` (STU3 for GP
Connect, R4B for the hospital), and `orjson.loads` alone, the floor any mapping from these bytes must
pay. The aim (issue 3): >= 20x faster than fhir.resources and within 3x of the floor. All in one process,
interleaved: each round times the three once, in rotating order (`interleaved_ms`), and the table gives
each column's median and the median of the rounds' own ratios, so the machine's drift cannot favour one.

One run (--runs 15, Python 3.11.7, the shared 2-core development PC, fairly quiet, 24-Nov-2026):

| input | resources | MB | ours ms | fhir.resources ms | orjson ms | fhir.resources/ours | ours/floor |
|---|---|---|---|---|---|---|---|
| GP Connect STU3 (EMIS) | 301 | 0.70 | 2.5 | 61.3 | 0.9 | 23.7x | 2.84x |
| Hospital R4 (sandbox large record) | 13290 | 13.99 | 103.7 | 3158.0 | 100.6 | 29.7x | 1.05x |

See tests/bench/README.md for what each row's time is spent on.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SUPPLIERS = REPO / ".." / "shared" / "reference" / "gpconnect" / "vendor-test-patients"
RETRIEVED = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Row:
    input: str
    resources: int
    megabytes: float
    ours_ms: float
    fhir_resources_ms: float
    fhir_resources_valid: bool
    orjson_ms: float
    fhir_over_ours: float
    ours_over_floor: float


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls after one warm-up, the collector paused (bench_trends times its
    single actions with this)."""
    action()
    times = []
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times) * 1000


def interleaved_ms(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Each action's time (ms) in each of `rounds` rounds. A round times every action once, in an order
    that rotates from round to round, so a drift in the machine's speed (up to 2x over minutes on the
    shared PC) lands on all of them alike instead of on the one timed in that stretch.

    One action's time in a round is the median of a short burst of calls (at least one, for at least
    BURST_S), after untimed calls for as long: straight after fhir.resources has filled and freed tens of
    MB, a 3 ms mapping otherwise pays page faults and cold caches that are not its own cost (1.5-3x).
    The collector is paused during a burst so it does not land in one call and not another."""
    names = list(actions)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            gc.disable()
            try:
                _burst(actions[name])  # warm-up
                times[name].append(statistics.median(_burst(actions[name])))
            finally:
                gc.enable()
    return times


BURST_S = 0.03


def _burst(action: Callable[[], object]) -> list[float]:
    """Times (ms) of calls to `action` until BURST_S has passed (at least one call)."""
    found: list[float] = []
    clock = time.perf_counter
    began = clock()
    while not found or clock() - began < BURST_S:
        start = clock()
        action()
        found.append((clock() - start) * 1000)
    return found


def validates(model: Any, body: bytes) -> bool:
    """fhir.resources' time counts whether or not the bytes pass: it reads all of them either way."""
    try:
        model.model_validate_json(body)
    except ValueError:  # pydantic.ValidationError is a ValueError
        return False
    return True


def gp_input() -> tuple[str, bytes] | None:
    files = sorted(SUPPLIERS.glob("*/*.json"), key=lambda p: p.stat().st_size) if SUPPLIERS.is_dir() else []
    if not files:
        print(f"skipped the GP Connect supplier bundle: {SUPPLIERS} not found", file=sys.stderr)
        return None
    largest = files[-1]
    return f"GP Connect STU3 ({largest.parent.name})", largest.read_bytes()


def hospital_input() -> tuple[str, bytes]:
    import orjson

    from viewer.sandbox.hospital_r4 import HospitalRecords
    from viewer.sandbox.population import build_world, patient_for

    world = build_world(2026)
    patient = patient_for(world, "large-record")
    record = HospitalRecords(world, "https://127.0.0.1:9").record_for_nhs(patient.nhs_number)
    assert record is not None
    entries = [{"fullUrl": f"urn:uuid:{record.patient['id']}", "resource": record.patient}]
    entries += [{"resource": i.resource} for items in record.resources.values() for i in items]
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
    return "Hospital R4 (sandbox large record)", orjson.dumps(bundle)


def map_gp(body: bytes) -> object:
    from viewer.sources.stu3_mapping import map_structured_record

    return map_structured_record(body, retrieved_at=RETRIEVED)


def map_hospital(body: bytes) -> object:
    """Read the page as the hospital client reads each search page (hospital_page: results and reports
    decoded typed, the rest as dicts, grouped by type), take the Patient out as `fetch_record` hands it
    over, and map."""
    from viewer.sources.hospital_page import read_search_page
    from viewer.sources.r4_mapping import map_hospital_record

    by_type = read_search_page(body, "Observation").resources  # the type only names placeholders
    patients = by_type.pop("Patient", [])
    return map_hospital_record(patients[0] if patients else None, by_type, retrieved_at=RETRIEVED,
                               org_ods="RX1", org_name="Bench Trust")


def measure(name: str, body: bytes, mapper: Callable[[bytes], object], model: Any, runs: int) -> Row:
    """Medians of the three times, and the ratios as the median of each round's ratio (the three were
    timed within moments of each other, so a round's ratio is the fairest one figure)."""
    import orjson

    entries = orjson.loads(body).get("entry") or []
    valid = validates(model, body)
    times = interleaved_ms({"ours": lambda: mapper(body), "theirs": lambda: validates(model, body),
                            "floor": lambda: orjson.loads(body)}, runs)
    ours, theirs, floor = (statistics.median(times[k]) for k in ("ours", "theirs", "floor"))
    fhir_over_ours = statistics.median(t / o for t, o in zip(times["theirs"], times["ours"], strict=True))
    ours_over_floor = statistics.median(o / f for o, f in zip(times["ours"], times["floor"], strict=True))
    return Row(name, len(entries), round(len(body) / 1e6, 2), round(ours, 2), round(theirs, 1), valid,
               round(floor, 2), round(fhir_over_ours, 1), round(ours_over_floor, 2))


def table(rows: list[Row]) -> str:
    head = ("input", "resources", "MB", "ours ms", "fhir.resources ms", "orjson.loads ms",
            "fhir.resources / ours", "ours / floor")
    body = [(r.input, str(r.resources), f"{r.megabytes:.2f}", f"{r.ours_ms:.1f}",
             f"{r.fhir_resources_ms:.1f}" + ("" if r.fhir_resources_valid else " (invalid)"),
             f"{r.orjson_ms:.1f}", f"{r.fhir_over_ours:.1f}x", f"{r.ours_over_floor:.2f}x") for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7,
                        help="timed rounds (each times ours, fhir.resources and orjson once)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--gp-only", action="store_true", help="only the GP Connect row (quick)")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from fhir.resources.R4B.bundle import Bundle as R4BBundle
    from fhir.resources.STU3.bundle import Bundle as Stu3Bundle

    rows = []
    gp = gp_input()
    if gp is not None:
        rows.append(measure(gp[0], gp[1], map_gp, Stu3Bundle, args.runs))
    if not args.gp_only:
        name, body = hospital_input()
        rows.append(measure(name, body, map_hospital, R4BBundle, args.runs))
    if args.json:
        print(json.dumps({"runs": args.runs, "python": sys.version.split()[0],
                          "rows": [asdict(r) for r in rows]}, indent=2))
    else:
        print(f"medians of {args.runs} interleaved rounds, Python {sys.version.split()[0]}")
        print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
