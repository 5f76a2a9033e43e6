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
from viewer.ui.safe_browser import SafeTextBrowser


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
        self._originals = merged.originals
        self.model = model_type([MergedItem(o, (o,)) for o in merged.originals], parent=self)
        self.table = QTableView(objectName="originalsTable")
        self.table.setAccessibleName("Original entries")
        self.table.setModel(self.model)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setAccessibleName("Columns of the original entries")
        layout.addWidget(self.table, 2)
        # What the source system wrote itself (its narrative), for the entry chosen above: sanitised and
        # shown in a browser that loads nothing
        self.narrative_title = QLabel("As written by the source system", objectName="narrativeTitle")
        layout.addWidget(self.narrative_title)
        self.narrative = SafeTextBrowser(objectName="originalNarrative")
        self.narrative.setAccessibleName("The chosen entry as written by the source system")
        layout.addWidget(self.narrative, 1)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _old: self.show_narrative(
            current.row()))
        has_narrative = any(o.provenance.narrative for o in merged.originals)
        self.narrative_title.setVisible(has_narrative)
        self.narrative.setVisible(has_narrative)
        self.show_narrative(next((i for i, o in enumerate(merged.originals) if o.provenance.narrative), 0))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(1000, 420 if has_narrative else 320)

    def show_narrative(self, row: int) -> None:
        if not 0 <= row < len(self._originals):
            return
        original = self._originals[row]
        source = original.provenance.source.label
        self.narrative_title.setText(f"As written by the source system ({source}, "
                                     f"{original.provenance.resource_type})")
        self.narrative.show_narrative(original.provenance.narrative,
                                      empty="This entry came without a narrative of its own.")
