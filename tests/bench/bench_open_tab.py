"""The GUI thread's cost of opening a patient tab (issue 6: the GUI loop must never stall > 50 ms).

Run it as a script (never collected by pytest, nothing here passes or fails):

    .venv/bin/python tests/bench/bench_open_tab.py [--runs N] [--json] [--top K]

Each run is a fresh process (what the first open of a process pays is the point): the real MainWindow,
signed in against the sandbox (served from its own process, as in bench_gui.py), opens three patients,
one after the other, each once the previous one has loaded. Per open:

- **open_ms**: the `MainWindow.open_patient(...)` call itself, run on the GUI thread in one go;
- **turn_ms**: the longest single turn of the GUI loop from that call until the tab is painted and the
  loop is idle (the sources are held back until then, so this is the tab appearing, not the record);
- **stall_ms**: the longest gap of a 5 ms timer from the call until every source has finished (as
  bench_gui.py's gui_max_stall_ms, but per open; record arrival, GC and worker threads count here);
- **classes_left**: PySide6 classes the window had not made yet when the open began (viewer/ui/
  lazy_classes.py; nan for code without it): above 0, the open may still pay for them in one go.

The first open comes at once after sign-in, as with `--patient`, a demo or bench_gui.py; `--settle` lets
the workspace page paint first, as when a clinician types a number.

The table gives the median of the runs for each figure. Then one more fresh process opens the first
patient under cProfile and the top entries of that call (and of the turns after it) are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gui import ENV, REPO, ServedSandbox  # sets the isolated HOME and keyring

PATIENTS = ("large-record", "polypharmacy-elderly", "ordinary-adult")
TIMER_MS = 5


class LoopWatch:
    """A 5 ms precise timer that records the gaps between its ticks: the GUI loop's stalls."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.clock = QElapsedTimer()
        self.timer = QTimer(interval=TIMER_MS)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0

    def start(self) -> None:
        self.gaps = []
        self.clock.start()
        self._last = self.clock.nsecsElapsed()
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now

    def stop(self) -> float:
        self.timer.stop()
        self._tick()  # the gap up to now counts too
        return max(0.0, max(self.gaps) - TIMER_MS)


class Gate:
    """Holds every `open_record` back until released, so the tab's own appearance is measured alone."""

    def __init__(self, workspace: Any):
        self.workspace = workspace
        self.released = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.workspace, name)

    async def open_record(self, *args: Any, **kwargs: Any) -> Any:
        self.loop = asyncio.get_running_loop()
        await self.released.wait()
        return await self.workspace.open_record(*args, **kwargs)

    def hold(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.released.clear)
        else:
            self.released.clear()

    def release(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.released.set)
        else:
            self.released.set()


def _turns_until_idle(app: Any, turns: list[float], quiet_s: float = 0.15) -> None:
    """Run the GUI loop one turn at a time until nothing happened for `quiet_s`; each turn's length."""
    idle_since = time.perf_counter()
    while time.perf_counter() - idle_since < quiet_s:
        start = time.perf_counter()
        app.processEvents()
        took = (time.perf_counter() - start) * 1000
        turns.append(took)
        if took > 1.0:
            idle_since = time.perf_counter()
        time.sleep(0.002)


def child(info_path: Path, profile: bool, top: int, settle: bool) -> dict[str, Any]:
    """One fresh process: sign in, open the patients one after the other; figures as a dict."""
    from PySide6.QtWidgets import QApplication

    from tests.support.sandbox_wiring import make_workspace, patient_number
    from tests.support.window import loaded, signed_in_window
    from viewer.ui.runner import AsyncRunner

    sandbox = SimpleNamespace(info=json.loads(info_path.read_text()))
    app = QApplication.instance() or QApplication(["bench"])
    runner = AsyncRunner()

    async def wire() -> Any:
        return make_workspace(sandbox)

    workspace, http = runner.run_blocking(wire())
    gate = Gate(workspace)
    window = signed_in_window(gate, runner)
    deadline = time.monotonic() + 60
    if settle:
        _turns_until_idle(app, [])  # the workspace page painted, as when a clinician types a number
    watch = LoopWatch()
    opens: list[dict[str, float]] = []
    profiles: list[str] = []
    for scenario in PATIENTS if not profile else PATIENTS[:1]:
        gate.hold()
        number = patient_number(sandbox, scenario)
        call = cProfile.Profile() if profile else None
        after = cProfile.Profile() if profile else None
        warmup = getattr(window, "lazy_classes", None)  # viewer/ui/lazy_classes.py, where the code has it
        classes_left = float(warmup.pending) if warmup is not None else float("nan")
        watch.start()
        start = time.perf_counter()
        if call is not None:
            call.enable()
        view = window.open_patient(number)
        if call is not None:
            call.disable()
        open_ms = (time.perf_counter() - start) * 1000
        turns = []
        if after is not None:
            after.enable()
        _turns_until_idle(app, turns)
        if after is not None:
            after.disable()
        gate.release()
        while view is not None and not loaded(view) and time.monotonic() < deadline + 120:
            app.processEvents()
            time.sleep(0.001)
        stall = watch.stop()
        _turns_until_idle(app, [])
        opens.append({"open_ms": open_ms, "turn_ms": max(turns), "stall_ms": stall,
                      "classes_left": classes_left})
        for title, profiler in (("the open_patient call", call), ("the GUI turns after it", after)):
            if profiler is not None:
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
                profiles.append(f"{title}, by cumulative time:\n{text.getvalue()}")
    window.close()
    runner.stop(http.aclose)
    return {"opens": opens, "profile": profiles}


def run_child(info_path: Path, profile: bool, top: int, settle: bool) -> dict[str, Any]:
    env = {**ENV, "PYTHONPATH": str(REPO)}
    args = [sys.executable, __file__, "--child", str(info_path), "--top", str(top)]
    args += ["--profile"] * profile + ["--settle"] * settle
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=25, help="profile entries to print")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--settle", action="store_true",
                        help="let the workspace page paint before the first open (default: open at once "
                        "after sign-in, as `--patient`, a demo or bench_gui.py do)")
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.profile, args.top, args.settle)))
        return 0

    with ServedSandbox() as sandbox, tempfile.TemporaryDirectory() as folder:
        info_path = Path(folder) / "sandbox.json"
        info_path.write_text(json.dumps(sandbox.info))
        runs = [run_child(info_path, False, args.top, args.settle)["opens"] for _ in range(args.runs)]
        profile = [] if args.no_profile else run_child(info_path, True, args.top, args.settle)["profile"]
    rows = []
    for position, scenario in enumerate(PATIENTS):
        row: dict[str, Any] = {"open": position + 1, "patient": scenario}
        for figure in ("open_ms", "turn_ms", "stall_ms", "classes_left"):
            values = [run[position][figure] for run in runs]
            row[figure] = round(statistics.median(values), 1)
            row[figure.removesuffix("_ms") + "_all"] = [round(v, 1) for v in values]
        rows.append(row)
    if args.json:
        print(json.dumps({"runs": args.runs, "rows": rows}, indent=2))
        return 0
    print(f"median of {args.runs} fresh processes, Python {sys.version.split()[0]}")
    print("| open | patient | open_ms | turn_ms | stall_ms | classes_left | open_ms of each run |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['open']} | {row['patient']} | {row['open_ms']} | {row['turn_ms']} | {row['stall_ms']} "
              f"| {row['classes_left']} "
              f"| {', '.join(map(str, row['open_all']))} |")
    for text in profile:
        print("\nfirst open of a process under cProfile,", text.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
