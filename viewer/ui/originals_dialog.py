"""The originals behind one merged line: each source's own entry, in the same columns, with the alerts.

A merged line shows one value per field; when the GP and the hospital disagree (a dose, a severity) the
clinician must be able to see both as recorded, one keystroke away.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from viewer.record.merge import MergedItem
from viewer.ui.models import DomainTableModel


class OriginalsDialog(QDialog):
    def __init__(self, merged: MergedItem, model_type: type[DomainTableModel], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("originalsDialog")
        self.setWindowTitle("Sources behind this line")
        layout = QVBoxLayout(self)
        count = len(merged.originals)
        heading = QLabel(
            f"This line combines {count} entries from the records below." if count > 1
            else "This line comes from one entry, shown below as recorded.",
            objectName="originalsHeading",
        )
        layout.addWidget(heading)
        self.alerts = QLabel("\n".join(f"⚠ {c}" for c in merged.conflicts), objectName="originalsAlerts")
        self.alerts.setWordWrap(True)
        self.alerts.setAccessibleName("Alerts")
        self.alerts.setVisible(bool(merged.conflicts))
        layout.addWidget(self.alerts)
        self.model = model_type([MergedItem(o, (o,)) for o in merged.originals], parent=self)
        self.table = QTableView(objectName="originalsTable")
        self.table.setAccessibleName("Original entries")
        self.table.setModel(self.model)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setAccessibleName("Columns of the original entries")
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1000, 320)
