"""One patient's tab: banner, per-source status strip, then the record's sections."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from viewer.domain.nhs_number import format_nhs_number
from viewer.domain.provenance import SourceKind
from viewer.record.combined import CombinedRecord
from viewer.record.status import SourceState
from viewer.ui.banner import PatientBanner
from viewer.ui.eliding_label import ElidingLabel
from viewer.ui.models import (
    AllergyTableModel,
    DocumentTableModel,
    DomainTableModel,
    EncounterTableModel,
    ImmunisationTableModel,
    MedicationTableModel,
    ObservationTableModel,
    ProblemTableModel,
    ReferralTableModel,
    source_text,
)
from viewer.ui.originals_dialog import OriginalsDialog
from viewer.ui.reconciliation_view import ReconciliationView
from viewer.ui.summary_view import SummaryView
from viewer.ui.trend_panel import results_with_trend

# Sizing reads every cell it measures, on the GUI thread: columns are measured on a sample of rows and
# row heights fitted only for short tables (longer ones get two-line rows; the full text is in the
# tooltip and in the originals dialog), so a 10,000-row section paints without a stall.
SAMPLE_ROWS = 25  # rows measured per column (0 would mean "visible area", all rows for a hidden tab)
FIT_ROWS_LIMIT = 30
MAX_COLUMN_WIDTH = 320

# (section of the combined record, tab title, model): Alt+1 is the Summary, these are Alt+2..9, the record
# warnings Alt+0
SECTION_TABS: tuple[tuple[str, str, type[DomainTableModel]], ...] = (
    ("allergies", "Allergies", AllergyTableModel),
    ("medications", "Medications", MedicationTableModel),
    ("problems", "Problems", ProblemTableModel),
    ("encounters", "Encounters", EncounterTableModel),
    ("observations", "Results", ObservationTableModel),
    ("immunisations", "Immunisations", ImmunisationTableModel),
    ("referrals", "Referrals", ReferralTableModel),
    ("documents", "Documents", DocumentTableModel),
)


def fit_view(view: QTableView) -> None:
    view.horizontalHeader().setResizeContentsPrecision(SAMPLE_ROWS)
    view.resizeColumnsToContents()
    for col in range(view.model().columnCount()):
        view.setColumnWidth(col, min(view.columnWidth(col), MAX_COLUMN_WIDTH))
    if view.model().rowCount() <= FIT_ROWS_LIMIT:
        view.resizeRowsToContents()
    else:
        view.verticalHeader().setDefaultSectionSize(2 * view.fontMetrics().lineSpacing() + 8)


def _table(model: DomainTableModel, name: str) -> QTableView:
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    view = QTableView(objectName=name.replace(" ", "") + "Table")
    view.setAccessibleName(name)
    view.horizontalHeader().setAccessibleName(f"{name} columns: click to sort")
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # keep the record's order until a header is clicked
    view.setAlternatingRowColors(True)
    view.setWordWrap(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def _label(item: object) -> str:
    for name in ("substance", "name", "condition", "test", "vaccine", "text"):
        value = getattr(item, name, None)
        if value is not None:
            return getattr(value, "label", str(value))
    return ""


class SourceStrip(QWidget):
    """`GP: loaded 10:42` | `Hospital: failed - reason` | `GP: showing copy from ...`: one label per
    source, coloured by state."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sourceStrip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 2, 12, 2)
        self.labels: dict[SourceKind, QLabel] = {}
        for source in (SourceKind.PDS, SourceKind.GP, SourceKind.HOSPITAL):
            # whole when there is room; on a narrow screen the end of a long reason gives way (the whole
            # text is in the tooltip and in Record warnings) rather than the window growing off screen
            label = ElidingLabel(f"{source.label}: waiting", objectName="sourceStatus",
                                 mode=Qt.TextElideMode.ElideRight)
            label.setAccessibleName(f"{source.label} status")
            self.labels[source] = label
            layout.addWidget(label)
        layout.addStretch(1)

    def set_record(self, record: CombinedRecord) -> None:
        for source, label in self.labels.items():
            status = record.statuses.get(source)
            if status is None:
                continue
            label.setText(status.text())
            # a copy kept on this PC gets its own colour: it must never be read as the live record
            label.setProperty("state", "copy" if status.shows_copy else status.state.value)
            label.style().unpolish(label)
            label.style().polish(label)


class PatientView(QWidget):
    """Everything shown for one patient. `set_record` is called each time a source reports."""

    def __init__(self, nhs_number: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.nhs_number = nhs_number
        self.setObjectName("patientView")
        self.setAccessibleName(f"Record of patient {format_nhs_number(nhs_number)}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = PatientBanner()
        self.strip = SourceStrip()
        layout.addWidget(self.banner)
        layout.addWidget(self.strip)

        self.sections = QTabWidget(objectName="sections")
        self.sections.setAccessibleName("Record sections")
        self.models: dict[str, DomainTableModel] = {}
        # The tables (and the chart and reconciliation under two of them) are built when their tab is first
        # shown or asked for: building all nine took ~100 ms of the GUI thread at every open.
        self.views: dict[str, QTableView] = _BuiltOnDemand(self._build_page)
        self._pages: dict[str, QWidget] = {}
        self._reconciliation: ReconciliationView | None = None
        self._trend_panel: Any = None
        self.originals_dialog: OriginalsDialog | None = None
        self.summary = SummaryView()
        self.summary.line_activated.connect(self._show_summary_line)
        self.sections.addTab(self.summary, "&1 Summary")
        for number, (name, title, model_type) in enumerate(SECTION_TABS, start=2):
            self.models[name] = model_type(parent=self)
            page = QWidget(objectName=f"{name}Page")
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(0, 0, 0, 0)
            self._pages[name] = page
            self.sections.addTab(page, f"&{number} {title}")
        self.allergies, self.medications, self.problems = (
            self.models["allergies"], self.models["medications"], self.models["problems"])
        self.warning_list = QListWidget(objectName="warningList")
        self.warning_list.setAccessibleName("Record warnings")
        self.warning_list.setWordWrap(True)
        self._warnings_title = "&0 Record warnings"
        self.sections.addTab(self.warning_list, self._warnings_title)
        # sized when first shown after a change, so one update never measures eight tables
        self._unfitted: set[QTableView] = set()
        self.sections.currentChanged.connect(lambda _i: self._fit_current())
        layout.addWidget(self.sections, 1)
        self.record: CombinedRecord | None = None

    # ----- section pages, built on first use ----------------------------------------------------------
    def _build_page(self, name: str) -> QTableView:
        title = next(t for n, t, _ in SECTION_TABS if n == name)
        model = self.models[name]
        view = _table(model, title)
        # double-click or Enter: the entries of each record behind the line
        view.activated.connect(lambda index, v=view: self.show_originals(v, index.row()))
        content: QWidget = view
        if name == "observations":  # the trend chart of the selected result's test, under the table
            content, self._trend_panel = results_with_trend(view, model)
        elif name == "medications":  # where the GP and hospital lists differ, under the table
            content = self._with_reconciliation(view)
        self._pages[name].layout().addWidget(content)
        content.show()  # added to a page that may be on screen already: shown now, not at the next event
        self._unfitted.add(view)
        return view

    def _section_of_page(self, page: QWidget | None) -> str | None:
        return next((n for n, p in self._pages.items() if p is page), None)

    @property
    def allergy_view(self) -> QTableView:
        return self.views["allergies"]

    @property
    def medication_view(self) -> QTableView:
        return self.views["medications"]

    @property
    def problem_view(self) -> QTableView:
        return self.views["problems"]

    @property
    def reconciliation(self) -> ReconciliationView:
        _ = self.views["medications"]  # builds the page that holds it
        assert self._reconciliation is not None
        return self._reconciliation

    @property
    def trend_panel(self) -> Any:
        _ = self.views["observations"]  # builds the page that holds it
        return self._trend_panel

    def _with_reconciliation(self, table: QTableView) -> QSplitter:
        """The merged list on top, where the GP and hospital lists differ below it."""
        self._reconciliation = ReconciliationView()
        if self.record is not None:
            self._reconciliation.set_record(self.record)
        splitter = QSplitter(Qt.Orientation.Vertical, objectName="medicationsSplitter")
        splitter.addWidget(table)
        splitter.addWidget(self._reconciliation)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        return splitter

    def _fit_current(self) -> None:
        page = self.sections.currentWidget()
        name = self._section_of_page(page)
        if name is not None and name not in self.views:
            _ = self.views[name]  # first shown: build it
        view = next((v for v in self._unfitted if v is page or page.isAncestorOf(v)), None)
        if view is not None:
            self._unfitted.discard(view)
            fit_view(view)

    def _show_summary_line(self, section: str, merged: object) -> None:
        model_type = type(self.models[section])
        self._open_originals(OriginalsDialog(merged, model_type, self))  # type: ignore[arg-type]

    def show_originals(self, view: QTableView, row: int) -> OriginalsDialog | None:
        proxy = view.model()
        source_row = proxy.mapToSource(proxy.index(row, 0)).row()
        model = proxy.sourceModel()
        if not 0 <= source_row < model.rowCount():
            return None
        return self._open_originals(OriginalsDialog(model.item(source_row), type(model), self))

    def _open_originals(self, dialog: OriginalsDialog) -> OriginalsDialog:
        self.originals_dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "originals_dialog", None))
        dialog.open()
        return dialog

    def set_record(self, record: CombinedRecord) -> None:
        self.record = record
        self.banner.set_record(record)
        self.strip.set_record(record)
        self.summary.set_record(record)
        if self._reconciliation is not None:
            self._reconciliation.set_record(record)
        for name, model in self.models.items():
            model.set_items(record.sections.get(name, ()))
        self._unfitted = set(self.views.values())  # the pages built so far
        self._fit_current()
        self._set_warnings(record)

    def _set_warnings(self, record: CombinedRecord) -> None:
        lines = [f"{w.message} ({source_text(w.provenance)}{', ' + w.area if w.area else ''})"
                 for w in record.warnings]
        unreadable = record.unreadable
        if unreadable:
            lines.append(f"{len(unreadable)} items could not be displayed:")
            lines.extend(f"  {u.source} {u.resource_type} {u.resource_id or ''}: {u.reason}"
                         for u in unreadable)
        conflicts = [f"{_label(m.item)}: {c}"
                     for items in record.sections.values() for m in items for c in m.conflicts]
        lines.extend(conflicts)
        flags = [f"Alert ({f.provenance.source.label}): {f.text.label}"
                 for m in record.sections.get("flags", ()) for f in (m.item,) if f.status in (None, "active")]
        lines = flags + lines
        failed = [s.text() for s in record.statuses.values()
                  if s.state in (SourceState.FAILED, SourceState.WITHHELD, SourceState.NOT_FOUND)]
        lines.extend(failed)
        self.warning_list.clear()
        self.warning_list.addItems(lines or ["No warnings for this record."])
        count = len(record.warnings) + len(unreadable) + len(failed) + len(conflicts) + len(flags)
        index = self.sections.indexOf(self.warning_list)
        title = f"{self._warnings_title} ({count})" if count else self._warnings_title
        self.sections.setTabText(index, title)
        self.sections.tabBar().setTabTextColor(
            index, Qt.GlobalColor.darkRed if count else self.sections.tabBar().palette().windowText().color()
        )


class _BuiltOnDemand(dict):  # type: ignore[type-arg]
    """Section name -> its table, built by `build` the first time it is asked for."""

    def __init__(self, build: Any):
        super().__init__()
        self._build = build

    def __missing__(self, name: str) -> QTableView:
        view = self[name] = self._build(name)
        return view
