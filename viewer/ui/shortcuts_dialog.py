"""F1: every keyboard shortcut of the window, read from its actions so the list can never drift from
what the keys actually do."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# Mnemonics of the section tabs (`&1 Allergies`): Qt gives them no QAction to read.
SECTION_KEYS = ("Alt+1 … Alt+9, Alt+0",
                "Go to a section of the open record: 1 Summary, 2 Allergies … 9 Documents, 0 Record warnings")
OTHER_KEYS = (("Enter / double-click", "Show the entries of each record behind the selected line"),)


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut, in the order the window added them."""
    rows = []
    for action in actions:
        keys = action.shortcut()
        if keys.isEmpty():
            continue
        rows.append((keys.toString(QKeySequence.SequenceFormat.NativeText), action.text().replace("&", "")))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        rows = [*shortcut_rows(actions), SECTION_KEYS, *OTHER_KEYS]
        layout = QVBoxLayout(self)
        self.table = QTableWidget(len(rows), 2, objectName="shortcutsTable")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, (keys, text) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setAccessibleName("Shortcut columns")
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._fit_rows()

    def _fit_rows(self) -> None:
        """Tall enough for every row and wide enough for the longest line: a help list that must be
        scrolled hides the shortcut the clinician was looking for."""
        table = self.table
        table.resizeColumnToContents(1)
        width = min(720, table.columnWidth(1)) + table.horizontalHeader().sectionSize(0)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setWordWrap(True)
        table.resizeRowsToContents()
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        frame = 2 * table.frameWidth()
        table.setMinimumSize(width + frame + 4, rows + table.horizontalHeader().height() + frame + 2)
        self.adjustSize()

    def rows(self) -> list[tuple[str, str]]:
        table = self.table
        return [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]
