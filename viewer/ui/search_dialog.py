"""Find a patient by demographics (PDS search) when the NHS number is not to hand.

The dialog only collects the criteria and shows what comes back: the window runs the search off the GUI
thread and opens a chosen patient through the same path as a typed NHS number (relationship check,
emergency access, audit), so this dialog can never open a record by a way of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from viewer.services.search import GENDERS, InvalidCriteria, MatchRow, SearchCriteria, parse_birth_date

Index = QModelIndex | QPersistentModelIndex
_EMPTY = QModelIndex()  # the default parent, as in viewer.ui.models
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Name", "name"), ("Born", "born"), ("Gender", "gender"), ("NHS number", "nhs_display"),
    ("Postcode", "postcode"), ("GP practice", "gp_practice"),
)
NONE_FOUND = "No patient matches these details. Check the spelling and the date of birth."


class SearchResultsModel(QAbstractTableModel):
    """The matches, best first, one row each; read-only."""

    NhsNumberRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._rows: list[MatchRow] = []

    def set_rows(self, rows: Sequence[MatchRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> MatchRow:
        return self._rows[row]

    def rowCount(self, parent: Index = _EMPTY) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _EMPTY) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        match = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return getattr(match, COLUMNS[index.column()][1])
        if role == self.NhsNumberRole:
            return match.nhs_number
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
                   ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0] if 0 <= section < len(COLUMNS) else None
        return None


class PatientSearchDialog(QDialog):
    """Signals:
    search_requested(object): a SearchCriteria that passed the checks PDS would make.
    open_requested(str): the NHS number (digits) of the chosen match.
    """

    search_requested = Signal(object)
    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Find patient")
        self.setObjectName("patientSearchDialog")
        self.setAccessibleName("Find patient by details")
        layout = QVBoxLayout(self)
        intro = QLabel("Search the Spine (PDS). Family name and date of birth are needed; add more to narrow "
                       "the search. A * after two letters matches the rest (Smi*).")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        self.family = self._field("searchFamily", "Family name", "e.g. Okafor")
        self.given = self._field("searchGiven", "Given name", "optional")
        self.birth_date = self._field("searchBirthDate", "Date of birth", "DD-MM-YYYY")
        self.gender = QComboBox(objectName="searchGender")
        self.gender.setAccessibleName("Gender")
        self.gender.addItem("Any", "")
        for gender in GENDERS:
            self.gender.addItem(gender.capitalize(), gender)
        self.postcode = self._field("searchPostcode", "Postcode", "optional, e.g. LS1 4AB or LS*")
        self.fuzzy = QCheckBox("Include similar-sounding names (use only if an exact search finds nobody)",
                               objectName="searchFuzzy")
        for label, widget in (("&Family name", self.family), ("&Given name", self.given),
                              ("Date of &birth", self.birth_date), ("G&ender", self.gender),
                              ("&Postcode", self.postcode)):
            form.addRow(label, widget)
        form.addRow("", self.fuzzy)
        layout.addLayout(form)

        self.search_button = QPushButton("&Search", objectName="searchButton")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.request_search)
        layout.addWidget(self.search_button, 0, Qt.AlignmentFlag.AlignRight)

        self.message = QLabel("", objectName="searchMessage")
        self.message.setAccessibleName("Search message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        self.model = SearchResultsModel(self)
        self.table = QTableView(objectName="searchResults")
        self.table.setAccessibleName("Matching patients")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        layout.addWidget(self.table, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = buttons.addButton("&Open record", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setObjectName("searchOpenButton")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(lambda: self.open_row(self.table.currentIndex().row()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.open_button.setEnabled(self.table.selectionModel().hasSelection()))
        self.setMinimumSize(self.fontMetrics().horizontalAdvance("M") * 72,
                            self.fontMetrics().lineSpacing() * 30)

    def _field(self, name: str, accessible: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(objectName=name)
        edit.setAccessibleName(accessible)
        edit.setPlaceholderText(placeholder)
        edit.setMaxLength(40)
        edit.returnPressed.connect(self.request_search)
        return edit

    def criteria(self) -> SearchCriteria:
        """What is entered; InvalidCriteria when a date cannot be read."""
        return SearchCriteria(
            family=self.family.text(), given=self.given.text(),
            birth_date=parse_birth_date(self.birth_date.text()),
            gender=self.gender.currentData() or "", postcode=self.postcode.text(),
            fuzzy=self.fuzzy.isChecked(),
        )

    def request_search(self) -> None:
        """Check what PDS would refuse, here, with the fields kept as typed; then ask the window."""
        try:
            criteria = self.criteria()
        except InvalidCriteria as exc:
            self.show_message(exc.user_message, problem=True)
            self.birth_date.setFocus()
            return
        problem = criteria.problem()
        if problem is not None:
            self.show_message(problem, problem=True)
            return
        self.model.set_rows([])
        self.open_button.setEnabled(False)
        self.set_busy(True)
        self.search_requested.emit(criteria)

    def set_busy(self, busy: bool) -> None:
        self.search_button.setEnabled(not busy)
        if busy:
            self.show_message("Searching…")

    def show_results(self, rows: Sequence[MatchRow]) -> None:
        self.set_busy(False)
        self.model.set_rows(rows)
        if not rows:
            self.show_message(NONE_FOUND, problem=True)
            return
        restricted = sum(r.restricted for r in rows)
        found = f"{len(rows)} patient{'s' if len(rows) != 1 else ''} found. Choose one and open the record."
        note = " Restricted records show no address or practice." if restricted else ""
        self.show_message(found + note)
        self.table.selectRow(0)
        self.table.setFocus()

    def show_failure(self, message: str) -> None:
        """Too many matches, PDS down, no suitable role...: said in the dialog, the fields kept."""
        self.set_busy(False)
        self.show_message(message, problem=True)

    def show_message(self, text: str, *, problem: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("problem", problem)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def open_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.open_requested.emit(self.model.row_at(row).nhs_number)
