"""Print and export benchmark: how long printing or exporting an open record takes.

Run it as a script (pytest never collects tests/bench, and nothing here is pass/fail):

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_print.py [--scenario large-record]

The record is fetched from a local sandbox through the real services, as the window opens it. Times, one
run each (a print is not repeated in practice): the HTML rendering (viewer.record.print_html), the
layout and painting of every page to a PDF file (viewer.ui.record_print), and the JSON export
(viewer.record.export_file). The window runs all three on Qt's thread pool, so these are how long the
clinician waits for "Record printed", not how long the window is frozen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memory_keyring.MemoryKeyring"  # never the real one


def fetch_record(sandbox: object, scenario: str) -> object:
    from tests.support.sandbox_wiring import make_workspace, patient_number

    async def run() -> object:
        workspace, http = make_workspace(sandbox)
        try:
            session = await workspace.sign_in("dr.morgan")
            return await workspace.open_record(patient_number(sandbox, scenario), session, lambda _r: None)
        finally:
            await http.aclose()

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large-record", help="sandbox patient scenario")
    args = parser.parse_args()

    from PySide6.QtPrintSupport import QPrinter
    from PySide6.QtWidgets import QApplication

    from viewer.record.export_file import write_record_json
    from viewer.record.print_html import PrintedBy, page_header, record_html
    from viewer.sandbox.runner import Sandbox
    from viewer.ui.record_print import paint_record

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as home:
        os.environ["HOME"] = home  # the sandbox's working files and nothing of the developer's
        with Sandbox(seed=2026) as sandbox:
            record = fetch_record(sandbox, args.scenario)
        rows = sum(len(items) for items in record.sections.values())
        by = PrintedBy("Dr Alice MORGAN", "Clinical Practitioner Access Role", datetime.now(UTC))

        began = time.perf_counter()
        html = record_html(record)
        html_ms = (time.perf_counter() - began) * 1000

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        pdf = Path(home) / "record.pdf"
        printer.setOutputFileName(str(pdf))
        began = time.perf_counter()
        pages = paint_record(printer, page_header(record, by), html)
        paint_ms = (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        size = write_record_json(record, Path(home) / "record.json")
        export_ms = (time.perf_counter() - began) * 1000

        print(f"scenario {args.scenario}: {rows} lines in the record")
        print(f"  HTML rendering      {html_ms:9.0f} ms  ({len(html) / 1e6:.1f} MB of HTML)")
        print(f"  layout + paint PDF  {paint_ms:9.0f} ms  ({pages} pages, {pdf.stat().st_size / 1e6:.1f} MB)")
        print(f"  JSON export         {export_ms:9.0f} ms  ({size / 1e6:.1f} MB)")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
