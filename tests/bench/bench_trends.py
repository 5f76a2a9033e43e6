"""Trend benchmark: what the Results tab's chart costs on the GUI thread for the sandbox's large record.

Run it as a script (pytest never collects tests/bench, and nothing here is pass/fail):

    .venv/bin/python tests/bench/bench_trends.py [--runs N]

Prints medians of:
- grouping every result of the record by test (`ResultTrends(...)`): runs once per record update;
- building the busiest test's series (`test_of`): runs the first time a row of that test is selected;
- showing that series in the chart and painting it into a 1366x400 image (offscreen Qt), and moving the
  focused point one step (the chart repaints only the focus marks over its cached layer); the same for a
  3,000-point series.
The issue's budget is one frame (~15 ms) on the GUI thread for each.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_mapping import median_ms  # the script's folder is on sys.path when it is run

REPO = Path(__file__).resolve().parents[2]
RETRIEVED = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def large_record_results() -> tuple:
    """The large-record patient's merged results, built as the app builds them (GP + hospital mapped and
    combined), without servers."""
    import orjson

    from viewer.domain.provenance import SourceKind
    from viewer.record.combined import combine
    from viewer.record.status import SourceState, SourceStatus
    from viewer.sandbox.gpconnect_stu3 import structured_record
    from viewer.sandbox.hospital_r4 import HospitalRecords
    from viewer.sandbox.population import build_world, patient_for
    from viewer.sources.gpconnect import NHS_NUMBER_SYSTEM
    from viewer.sources.r4_mapping import map_hospital_record
    from viewer.sources.stu3_mapping import map_structured_record

    world = build_world(2026)
    patient = patient_for(world, "large-record")
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "patientNHSNumber", "valueIdentifier": {"system": NHS_NUMBER_SYSTEM,
                                                         "value": patient.nhs_number}},
        {"name": "includeInvestigations"}, {"name": "includeUncategorisedData"},
    ]}
    status, body = structured_record(world, parameters, patient.practice_ods, now=RETRIEVED)
    assert status == 200, body
    gp = map_structured_record(orjson.dumps(body), retrieved_at=RETRIEVED)
    record = HospitalRecords(world, "https://127.0.0.1:9").record_for_nhs(patient.nhs_number)
    assert record is not None
    by_type = {kind: [i.resource for i in items] for kind, items in record.resources.items()}
    hospital = map_hospital_record(record.patient, by_type, retrieved_at=RETRIEVED, org_ods="RX1",
                                   org_name="Bench Trust")
    statuses = {s: SourceStatus(s, SourceState.LOADED) for s in (SourceKind.GP, SourceKind.HOSPITAL)}
    return combine(None, statuses, gp, hospital).sections["observations"]


def long_series(count: int):
    """A synthetic series of `count` daily results with a range that changes once, some out of range."""
    from viewer.domain import Concept, Observation, PartialDate, Provenance, SourceKind
    from viewer.record.merge import MergedItem
    from viewer.record.trends import build_test

    start = datetime(2010, 1, 1, 9, tzinfo=UTC)
    items = []
    for n in range(count):
        source = SourceKind.GP if n % 3 else SourceKind.HOSPITAL
        when = start + timedelta(days=n * 5)
        value = 4.4 + ((n * 37) % 23 - 11) / 10
        o = Observation(Concept("Serum potassium"), Provenance(source, "Observation", str(n), RETRIEVED),
                        PartialDate.parse(when.isoformat()), f"{value:.1f}", value, "mmol/L",
                        range_low=3.5, range_high=5.3 if n < count // 2 else 5.0)
        items.append(MergedItem(o, (o,)))
    return build_test(items).series[0]


def paint_ms(series, runs: int) -> tuple[float, float]:
    """(show the series and paint it, move the focus one point and repaint) in ms."""
    from PySide6.QtGui import QImage

    from viewer.ui.trend_chart import TrendChart

    chart = TrendChart()
    chart.resize(1366, 400)
    image = QImage(chart.size(), QImage.Format.Format_ARGB32_Premultiplied)

    def show() -> None:
        chart.set_series(series)
        chart.render(image)

    def step() -> None:
        chart.set_focused(chart.focused_index - 1 if chart.focused_index else len(series.points) - 1)
        chart.render(image)

    shown = median_ms(show, runs)
    return shown, median_ms(step, runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per measurement (median)")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from viewer.record.trends import ResultTrends, build_test

    app = QApplication.instance() or QApplication([])
    items = large_record_results()
    trends = ResultTrends(items)
    busiest = trends.busiest()
    assert busiest is not None
    group = [i for i in items if trends.test_of(i) is busiest]
    series = busiest.series[0]
    long = long_series(3000)
    rows = [
        (f"group {len(items):,} results into {len(trends)} tests (per record update)",
         median_ms(lambda: ResultTrends(items), args.runs)),
        (f"build the busiest test's series ({busiest.count} results, first selection)",
         median_ms(lambda: build_test(group), args.runs)),
    ]
    for name, shown in ((f"the busiest test ({len(series.points)} points)", series),
                        ("a 3,000-point series", long)):
        show, step = paint_ms(shown, args.runs)
        rows += [(f"show and paint {name}, 1366x400", show), (f"move the focus one point in {name}", step)]
    print(f"median of {args.runs} runs, Python {sys.version.split()[0]}")
    print("| step | ms |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.1f} |")
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
