"""Snapshot of what the GP Connect mapper makes of a corpus of Bundles, to prove a faster mapper identical.

    .venv/bin/python tests/bench/stu3_snapshot.py record [--out DIR] [--mutations N]
    .venv/bin/python tests/bench/stu3_snapshot.py check  [--out DIR]

`record` maps every input with the mapper as it is now and stores each input's bytes with its outcome
(the SourceRecord, or the exception's type and message) outside the repository (default
/tmp/wardview-stu3-snapshot); `check` maps the stored bytes again with the mapper as it is then and
reports every input whose outcome differs. Equal means `==` on the SourceRecords and the same msgpack
bytes (so -0.0 against 0.0 or a tuple against a list would show).

Inputs: every JSON file under ../shared/reference/gpconnect/ (cleaned as the conformance tests clean
them: request Parameters included, they must still be refused the same way), the GP Connect Bundle of
every sandbox patient, and N damaged copies of those (tests/support/bundle_mutation.py, the fuzz tests'
mutations, drawn deterministically), so malformed input is held to the same outcome as real input.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GPCONNECT = REPO / ".." / "shared" / "reference" / "gpconnect"
NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
DEFAULT_OUT = Path("/tmp/wardview-stu3-snapshot")


def reference_inputs() -> list[tuple[str, bytes]]:
    from tests.conformance.test_gpconnect_conformance import load

    if not GPCONNECT.is_dir():
        print(f"skipped the reference Bundles: {GPCONNECT} not found", file=sys.stderr)
        return []
    return [(str(p.relative_to(GPCONNECT)), load(p)) for p in sorted(GPCONNECT.rglob("*.json"))]


def sandbox_bundles() -> list[tuple[str, dict[str, Any]]]:
    from tests.support.real_bundles import gp_bundle
    from viewer.sandbox.population import build_world

    world = build_world(2026)
    found = []
    for patient in world.patients:
        bundle = gp_bundle(world, patient, NOW)
        if bundle is not None:
            found.append((f"sandbox/{patient.scenario}", bundle))
    return found


def mutated_inputs(documents: list[dict[str, Any]], count: int) -> list[tuple[str, bytes]]:
    """`count` damaged copies, drawn with Hypothesis derandomized (the same draws run to run)."""
    from hypothesis import HealthCheck, given, settings

    from tests.support.bundle_mutation import dump, mutated

    found: list[tuple[str, bytes]] = []

    @settings(max_examples=count, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(mutated(documents))
    def draw(case: tuple[Any, list[str]]) -> None:
        document, operations = case
        found.append((f"mutated/{len(found)}/{'+'.join(operations)}", dump(document)))

    draw()
    return found


def outcome(body: bytes) -> tuple[str, Any]:
    from viewer.sources.stu3_mapping import map_structured_record

    try:
        return "record", map_structured_record(body, retrieved_at=NOW)
    except Exception as exc:  # the outcome being compared, whatever it is
        return "error", (type(exc).__name__, str(exc))


def same(expected: tuple[str, Any], got: tuple[str, Any]) -> bool:
    import msgspec

    if expected[0] != got[0] or expected[1] != got[1]:
        return False
    if expected[0] == "record":
        return msgspec.msgpack.encode(expected[1]) == msgspec.msgpack.encode(got[1])
    return True


def record(out: Path, mutations: int) -> int:
    import orjson

    started = time.perf_counter()
    inputs = reference_inputs()
    bundles = sandbox_bundles()
    inputs += [(name, orjson.dumps(bundle)) for name, bundle in bundles]
    suppliers = [orjson.loads(body) for name, body in inputs if name.startswith("vendor-test-patients/")]
    inputs += mutated_inputs([b for _, b in bundles] + suppliers, mutations)
    cases = [(name, body, outcome(body)) for name, body in inputs]
    out.mkdir(parents=True, exist_ok=True)
    (out / "snapshot.pickle").write_bytes(pickle.dumps(cases, protocol=pickle.HIGHEST_PROTOCOL))
    errors = sum(1 for *_, (kind, _) in cases if kind == "error")
    print(f"recorded {len(cases)} inputs ({errors} refused whole) in {out} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0


def check(out: Path) -> int:
    cases = pickle.loads((out / "snapshot.pickle").read_bytes())  # our own file, made by `record`
    started = time.perf_counter()
    differ = [name for name, body, expected in cases if not same(expected, outcome(body))]
    print(f"checked {len(cases)} inputs in {time.perf_counter() - started:.0f} s: "
          f"{len(differ)} differ" + "".join(f"\n  {name}" for name in differ[:50]))
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the snapshot is kept")
    parser.add_argument("--mutations", type=int, default=3000, help="damaged copies to add (record)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the mapper's one line per odd resource, thousands of them here
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return record(args.out, args.mutations) if args.action == "record" else check(args.out)


if __name__ == "__main__":
    raise SystemExit(main())
