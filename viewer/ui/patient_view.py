"""One patient's tab: banner, per-source status strip, then the record's sections."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
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
from viewer.ui.models import (
    AllergyTableModel,
    DomainTableModel,
    MedicationTableModel,
    ProblemTableModel,
    source_text,
)
from viewer.ui.originals_dialog import OriginalsDialog


def _table(model: DomainTableModel, name: str) -> QTableView:
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    view = QTableView(objectName=name.replace(" ", "") + "Table")
    view.setAccessibleName(name)
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
    """`GP: loaded 10:42` | `Hospital: failed - reason`: one label per source, coloured by state."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sourceStrip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 2, 12, 2)
        self.labels: dict[SourceKind, QLabel] = {}
        for source in (SourceKind.PDS, SourceKind.GP, SourceKind.HOSPITAL):
            label = QLabel(f"{source.label}: waiting", objectName="sourceStatus")
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
            label.setProperty("state", status.state.value)
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

        self.allergies = AllergyTableModel(parent=self)
        self.medications = MedicationTableModel(parent=self)
        self.problems = ProblemTableModel(parent=self)
        self.sections = QTabWidget(objectName="sections")
        self.sections.setAccessibleName("Record sections")
        self.allergy_view = _table(self.allergies, "Allergies")
        self.medication_view = _table(self.medications, "Medications")
        self.problem_view = _table(self.problems, "Problems")
        self.originals_dialog: OriginalsDialog | None = None
        for view in (self.allergy_view, self.medication_view, self.problem_view):
            # double-click or Enter: the entries of each record behind the line
            view.activated.connect(lambda index, v=view: self.show_originals(v, index.row()))
        self.warning_list = QListWidget(objectName="warningList")
        self.warning_list.setAccessibleName("Record warnings")
        self.warning_list.setWordWrap(True)
        self.sections.addTab(self.allergy_view, "&1 Allergies")
        self.sections.addTab(self.medication_view, "&2 Medications")
        self.sections.addTab(self.problem_view, "&3 Problems")
        self.sections.addTab(self.warning_list, "&4 Record warnings")
        layout.addWidget(self.sections, 1)
        self.record: CombinedRecord | None = None

    def show_originals(self, view: QTableView, row: int) -> OriginalsDialog | None:
        proxy = view.model()
        source_row = proxy.mapToSource(proxy.index(row, 0)).row()
        model = proxy.sourceModel()
        if not 0 <= source_row < model.rowCount():
            return None
        dialog = OriginalsDialog(model.item(source_row), type(model), self)
        self.originals_dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "originals_dialog", None))
        dialog.open()
        return dialog

    def set_record(self, record: CombinedRecord) -> None:
        self.record = record
        self.banner.set_record(record)
        self.strip.set_record(record)
        self.allergies.set_items(record.sections.get("allergies", ()))
        self.medications.set_items(record.sections.get("medications", ()))
        self.problems.set_items(record.sections.get("problems", ()))
        for view in (self.allergy_view, self.medication_view, self.problem_view):
            view.resizeColumnsToContents()
            for col in range(view.model().columnCount()):
                view.setColumnWidth(col, min(view.columnWidth(col), 320))
            view.resizeRowsToContents()
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
        failed = [s.text() for s in record.statuses.values()
                  if s.state in (SourceState.FAILED, SourceState.WITHHELD, SourceState.NOT_FOUND)]
        lines.extend(failed)
        self.warning_list.clear()
        self.warning_list.addItems(lines or ["No warnings for this record."])
        count = len(record.warnings) + len(unreadable) + len(failed) + len(conflicts)
        self.sections.setTabText(3, f"&4 Record warnings ({count})" if count else "&4 Record warnings")
        self.sections.tabBar().setTabTextColor(
            3, Qt.GlobalColor.darkRed if count else self.sections.tabBar().palette().windowText().color()
        )
