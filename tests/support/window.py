"""What the window tests share: a fake clock, signing in through the sandbox, waiting for a record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from viewer.record.status import SourceState

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TERMINAL = {SourceState.LOADED, SourceState.FAILED, SourceState.WITHHELD, SourceState.NOT_FOUND,
            SourceState.NOT_CONFIGURED}


class FakeClock:
    """Time the tests move by hand, so nothing waits and nothing passes or fails on timing."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def loaded(view: Any) -> bool:
    """Every source of the view's record has finished (loaded, failed, withheld...)."""
    record = view.record
    return record is not None and all(s.state in TERMINAL for s in record.statuses.values())


def sign_in(qtbot: Any, win: Any, username: str = "dr.morgan") -> None:
    """Sign in through the sandbox IdP and check the window shows the workspace and the role."""
    win.sign_in_as(username)
    qtbot.waitUntil(lambda: win.session is not None, timeout=20000)
    assert win.stack.currentIndex() == 1
    assert "Clinical Practitioner" in win.user_label.text()


def open_and_wait(qtbot: Any, win: Any, nhs_number: str, *, timeout: int = 30000) -> Any:
    """Open a patient and wait until every source has finished and the window has said so."""
    view = win.open_patient(nhs_number)
    qtbot.waitUntil(lambda: view.record is not None and loaded(view)
                    and win.statusBar().currentMessage() == "Record loaded", timeout=timeout)
    return view


def print_to_pdf(qtbot: Any, win: Any, path: Any) -> int:
    """Print the record on screen to a PDF file (never a real printer); the pages printed, 0 on failure."""
    from PySide6.QtPrintSupport import QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    with qtbot.waitSignal(win.record_actions.printed, timeout=60000) as blocker:
        assert win.record_actions.print_record(printer), "nothing to print"
    return blocker.args[0]


def export_to(qtbot: Any, win: Any, path: Any) -> Any:
    """Export the record on screen to `path`, bypassing the file dialog; the file, or None on failure."""
    with qtbot.waitSignal(win.record_actions.exported, timeout=60000) as blocker:
        assert win.record_actions.export_record(path), "nothing to export"
    return blocker.args[0]


def signed_in_window(workspace: Any, runner: Any, *, username: str = "dr.morgan",
                     timeout_s: float = 60) -> Any:
    """The real MainWindow started as viewer.app starts it (theme, 1366x768, the start-up objects frozen
    out of the collector once its Qt classes are made), shown and signed in through the sandbox, for code
    outside pytest-qt (the benchmarks): the event loop is turned by hand until the session exists."""
    import time

    from PySide6.QtWidgets import QApplication

    from viewer.config import Settings
    from viewer.record.collector import keep_start_up_objects_out_of_collections
    from viewer.ui.main_window import MainWindow
    from viewer.ui.theme import apply_theme

    app = QApplication.instance()
    apply_theme(app, Settings())
    window = MainWindow(workspace, runner)
    window.resize(1366, 768)
    window.lazy_classes.finished.connect(keep_start_up_objects_out_of_collections)
    window.show()
    window.sign_in_as(username)
    deadline = time.monotonic() + timeout_s
    while window.session is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    return window
