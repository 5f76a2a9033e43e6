"""Every benchmark of the project in one run, on the sandbox: one table, or with `--json` one object.

    .venv/bin/python tests/bench/run.py [--json] [--runs N]

Each benchmark runs in its own process (so one's imports, caches and memory do not colour another's) with
`--json`, and this collects their figures. Nothing passes or fails: the aims are printed beside the
figures, and a missed aim is marked so the README's Performance table says so plainly.

Figures (issue 8): startup_ms, cache_open_ms, fetch_overhead_ms, map_vs_fhir_resources and
map_vs_orjson_floor (on the largest bundle, GP Connect or hospital, the worse of the two is reported),
store_vs_sqlite, gui_max_stall_ms, peak_rss_mb; plus the details each benchmark prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# figure -> (aim, "max" when lower is better / "min" when higher is better)
AIMS: dict[str, tuple[float, str]] = {
    "startup_ms": (800, "max"),
    "cache_open_ms": (100, "max"),
    "fetch_overhead_ms": (400, "max"),
    "map_vs_fhir_resources": (20, "min"),
    "map_vs_orjson_floor": (3, "max"),
    "store_vs_sqlite": (1.5, "max"),
    "gui_max_stall_ms": (50, "max"),
    "peak_rss_mb": (350, "max"),
}


def last_json(text: str) -> Any:
    """The last line of `text` that parses as JSON (benchmarks print a table or log lines before it)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    start = text.find("{")
    return json.loads(text[start:]) if start >= 0 else {}


def run_bench(script: str, *args: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(HERE / script), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed ({done.returncode}): {done.stderr[-1500:]}")
    print(f"  {script}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return last_json(done.stdout)


def collect(runs: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    mapping = run_bench("bench_mapping.py", "--json", "--runs", str(max(runs, 7)))
    rows = mapping.get("rows", [])
    if rows:
        figures["map_vs_fhir_resources"] = min(r["fhir_over_ours"] for r in rows)
        figures["map_vs_orjson_floor"] = max(r["ours_over_floor"] for r in rows)
        figures["mapping"] = {r["input"]: {k: r[k] for k in ("ours_ms", "fhir_resources_ms", "orjson_ms")}
                              for r in rows}
    store = run_bench("bench_store.py", "--json", "--runs", str(runs))
    figures["cache_open_ms"] = store["cache_open_ms"]
    figures["store_vs_sqlite"] = store["store_vs_sqlite"]
    figures["store"] = store
    fetch = run_bench("bench_fetch.py", "--json", "--runs", str(runs))
    figures["fetch_overhead_ms"] = fetch["fetch_overhead_ms"]
    figures["fetch"] = fetch
    gui = run_bench("bench_gui.py", "--json", "--runs", str(runs))["figures"]
    figures.update({k: gui[k] for k in ("startup_ms", "gui_max_stall_ms", "peak_rss_mb")})
    figures["paint_ms"] = gui["paint_ms"]
    figures["gui_max_stall_worst_ms"] = gui["gui_max_stall_worst_ms"]
    return figures


def verdict(name: str, value: float) -> str:
    aim, kind = AIMS[name]
    met = value <= aim if kind == "max" else value >= aim
    return "met" if met else "**missed**"


def table(figures: dict[str, Any]) -> str:
    lines = ["| figure | value | aim | |", "|---|---|---|---|"]
    for name, (aim, kind) in AIMS.items():
        if name in figures:
            sign = "<=" if kind == "max" else ">="
            lines.append(f"| {name} | {figures[name]} | {sign} {aim:g} | {verdict(name, figures[name])} |")
    return "\n".join(lines)


def machine() -> str:
    cpus = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.system()} {platform.machine()}, {cpus} cores, Python {platform.python_version()}, "
            f"load average {load:.1f} at the start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (medians)")
    args = parser.parse_args(argv)
    where = machine()
    figures = collect(args.runs)
    if args.json:
        print(json.dumps({"machine": where, "runs": args.runs, **figures}, indent=2))
    else:
        print(f"{where}; medians of {args.runs} runs\n")
        print(table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
