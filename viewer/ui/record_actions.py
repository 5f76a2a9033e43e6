"""The window's patient menu: find a patient by details (Ctrl+F), print (Ctrl+P) and export (Ctrl+Shift+E)
the open record, each audited.

Kept out of main_window.py so the window stays about sessions and tabs. The actions are the window's
own (added to it), so the lock disables them with every other action; print and export are enabled only
while the current tab holds a record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog

from viewer.record.export import SCHEMA_VERSION
from viewer.record.export_file import EXPORT_FORMAT, write_record_json
from viewer.record.print_html import PrintedBy, page_header, record_html
from viewer.ui.lock_screen import spoken_name
from viewer.ui.patient_view import PatientView
from viewer.ui.record_print import paint_record
from viewer.ui.search_dialog import PatientSearchDialog

if TYPE_CHECKING:
    from viewer.ui.main_window import MainWindow

log = logging.getLogger(__name__)

SEARCH_FAILED = "The search could not be made. Try again, or use the NHS number."
PRINT_FAILED = "The record could not be printed."


class RecordActions(QObject):
    """Owns the Find / Print / Export actions and the search dialog of one window.

    Signals:
        printed(int): a print finished; the pages printed, 0 when it failed.
        exported(object): an export finished; the file written, None when it failed.
    """

    printed = Signal(int)
    exported = Signal(object)

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.search_dialog: PatientSearchDialog | None = None
        self._printing = False
        self.find_action = self._action("&Find patient…", "Ctrl+F", self.find_patient, enabled=True)
        self.print_action = self._action("&Print record…", "Ctrl+P", self.print_record)
        self.export_action = self._action("&Export record…", "Ctrl+Shift+E", self.export_record)
        menu = window.menuBar().addMenu("&Patient")
        for action in (self.find_action, self.print_action, self.export_action):
            menu.addAction(action)
        window.find_button.clicked.connect(self.find_patient)
        window.tabs.currentChanged.connect(lambda _i: self.update())

    def _action(self, text: str, keys: str, slot: Any, *, enabled: bool = False) -> QAction:
        action = QAction(text, self.window, shortcut=QKeySequence(keys), enabled=enabled)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        return action

    def current_view(self) -> PatientView | None:
        """The current tab's view when it holds a record and the window may show it."""
        win = self.window
        view = win.tabs.currentWidget()
        if win.session is None or win.locked or not isinstance(view, PatientView) or view.record is None:
            return None
        return view

    def update(self) -> None:
        """Enable print and export for a record on screen; the lock keeps its own account while locked."""
        if self.window.locked:
            return
        has_record = self.current_view() is not None
        self.print_action.setEnabled(has_record and not self._printing)
        self.export_action.setEnabled(has_record)

    # ----- find a patient by details ---------------------------------------------------------------
    def find_patient(self) -> PatientSearchDialog | None:
        win = self.window
        if win.session is None or win.locked:
            return None
        if self.search_dialog is not None:
            self.search_dialog.raise_()
            self.search_dialog.activateWindow()
            return self.search_dialog
        dialog = PatientSearchDialog(win)
        self.search_dialog = dialog
        dialog.search_requested.connect(self._search)
        dialog.open_requested.connect(self._open_from_search)

        def closed(_result: int) -> None:
            if self.search_dialog is dialog:
                self.search_dialog = None
            dialog.deleteLater()

        dialog.finished.connect(closed)
        dialog.open()
        dialog.family.setFocus()
        return dialog

    def _search(self, criteria: Any) -> None:
        win, dialog = self.window, self.search_dialog
        if dialog is None or win.session is None or win.locked:
            return

        def still_showing() -> bool:  # closed, locked or signed out meanwhile: the answer is not shown
            return self.search_dialog is dialog and not win.locked and win.session is not None

        def done(rows: list[Any]) -> None:
            if still_showing():
                dialog.show_results(rows)

        def failed(exc: BaseException) -> None:
            log.warning("Patient search failed (%s)", type(exc).__name__)
            if still_showing():
                dialog.show_failure(getattr(exc, "user_message", None) or SEARCH_FAILED)

        win.runner.submit(win.workspace.search_patients(criteria, win.session), done, failed)

    def _open_from_search(self, nhs_number: str) -> None:
        """The same path as a typed number: relationship check, emergency access, audit."""
        if self.search_dialog is not None:
            self.search_dialog.accept()
        self.window.open_patient(nhs_number)

    # ----- print and export: laid out and written on a worker thread, so a long record never freezes
    # the window; audited when done, as the clinician who asked (even if they have signed out since) ------
    def _printed_by(self) -> PrintedBy:
        session = self.window.session
        role = getattr(session, "selected_role", None)
        return PrintedBy(clinician=spoken_name(session) or "Not Known",
                         role=getattr(role, "role_name", "no role"), at=datetime.now(UTC))

    def _audit(self, session: Any, action: str, **details: Any) -> None:
        record = getattr(self.window.workspace, "record_event", None)
        if record is not None:
            record(action, session, **details)

    def _in_background(self, job: Callable[[], Any], done: Callable[[Any], None],
                       failed: Callable[[BaseException], None]) -> None:
        """Run `job` on Qt's thread pool (a QThread: QTextDocument's layout wants one, which the asyncio
        worker's threads are not); `done` or `failed` then runs on the GUI thread."""
        runner = self.window.runner
        done_here, failed_here = runner.in_gui(done), runner.in_gui(failed)

        def work() -> None:
            try:
                result = job()
            except Exception as exc:
                failed_here(exc)
                return
            done_here(result)

        QThreadPool.globalInstance().start(work)

    def print_record(self, printer: QPrinter | None = None) -> bool:
        """Print the current record (QPrintDialog unless a printer is given); False when nothing was
        started. `printed` tells the pages printed (0 if it failed)."""
        view = self.current_view()
        if view is None or self._printing:
            return False
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            chooser = QPrintDialog(printer, self.window)
            if chooser.exec() != QDialog.DialogCode.Accepted or self.current_view() is not view:
                return False  # cancelled, or locked or closed while the dialog was open
        record, session, nhs = view.record, self.window.session, view.nhs_number
        by = self._printed_by()
        kind = "pdf" if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat else "printer"
        self._printing = True
        self.print_action.setEnabled(False)
        self.window.statusBar().showMessage("Printing…")

        def job() -> int:
            return paint_record(printer, page_header(record, by), record_html(record))

        def done(pages: int) -> None:
            self._finished_printing()
            self._audit(session, "print", patient=nhs, detail={"format": kind, "pages": pages})
            self.window.statusBar().showMessage(f"Record printed ({pages} page{'s' if pages != 1 else ''})")
            self.printed.emit(pages)

        def failed(exc: BaseException) -> None:
            self._finished_printing()
            log.warning("Printing failed (%s)", type(exc).__name__)
            self._audit(session, "print", patient=nhs, outcome="failed",
                        detail={"format": kind, "error": type(exc).__name__})
            self.window.statusBar().showMessage(getattr(exc, "user_message", None) or PRINT_FAILED)
            self.printed.emit(0)

        self._in_background(job, done, failed)
        return True

    def _finished_printing(self) -> None:
        self._printing = False
        self.update()

    def export_record(self, path: Path | None = None) -> bool:
        """Save the current record as JSON (a file dialog unless `path` is given); False when nothing was
        started. `exported` tells the file written (None if it failed)."""
        view = self.current_view()
        if view is None:
            return False
        if path is None:
            suggested = Path.home() / f"wardview-record-{datetime.now(UTC):%Y%m%d-%H%M}.json"
            chosen, _filter = QFileDialog.getSaveFileName(self.window, "Export record", str(suggested),
                                                          "JSON files (*.json)")
            if not chosen or self.current_view() is not view:
                return False
            path = Path(chosen)
        record, session, nhs, target = view.record, self.window.session, view.nhs_number, path
        detail: dict[str, Any] = {"format": EXPORT_FORMAT, "schema_version": SCHEMA_VERSION}
        self.window.statusBar().showMessage("Exporting…")

        def done(_size: int) -> None:
            self._audit(session, "export", patient=nhs, detail=detail)
            self.window.statusBar().showMessage("Record exported")
            self.exported.emit(target)

        def failed(exc: BaseException) -> None:
            log.warning("Export failed (%s)", type(exc).__name__)
            self._audit(session, "export", patient=nhs, outcome="failed",
                        detail={**detail, "error": type(exc).__name__})
            reason = getattr(exc, "strerror", None) or "the file could not be written"
            self.window.statusBar().showMessage(f"The record was not exported: {reason}.")
            self.exported.emit(None)

        self._in_background(lambda: write_record_json(record, target), done, failed)
        return True


__all__ = ["RecordActions"]
