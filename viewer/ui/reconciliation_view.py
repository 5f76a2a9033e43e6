"""Under the Medications table: where the GP's and the hospital's current lists differ, grouped, with
the dose each record gives, so a reconciliation on admission starts from the differences."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from viewer.record.combined import CombinedRecord
from viewer.record.reconcile import ORDER, Difference, reconcile
from viewer.ui.models import sources_text


class ReconciliationView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("reconciliationView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.heading = QLabel("Reconciliation: waiting for both records", objectName="reconciliationHeading")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.tree = QTreeWidget(objectName="reconciliationTree")
        self.tree.setAccessibleName("Medicines reconciliation: differences between the GP and hospital lists")
        self.tree.setHeaderLabels(["Medicine", "Dose", "Source", "What differs"])
        self.tree.header().setAccessibleName("Reconciliation columns")
        self.tree.setWordWrap(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        layout.addWidget(self.tree, 1)

    def set_record(self, record: CombinedRecord) -> None:
        result = reconcile(record)
        self.tree.clear()
        if not result.possible:
            self.heading.setText(f"Reconciliation: {result.reason}")
            return
        count = result.differences
        text = (f"Reconciliation: {count} difference{'s' if count != 1 else ''} between the GP and hospital "
                "lists of current medicines" if count else
                "Reconciliation: the GP and hospital lists of current medicines agree")
        if result.caveats:
            text += " (compared with " + "; ".join(result.caveats) + ")"
        self.heading.setText(text)
        for difference in ORDER:
            lines = result.of(difference)
            if not lines:
                continue
            group = QTreeWidgetItem(self.tree, [f"{difference.value} ({len(lines)})"])
            group.setFirstColumnSpanned(True)
            for line in lines:
                doses = " / ".join(dict.fromkeys(o.dosage for o in line.merged.originals if o.dosage))
                item = QTreeWidgetItem(group, [line.merged.item.name.label, doses,
                                               sources_text(line.merged), line.detail])
                for column in range(4):  # long doses and details are cut on screen, whole in the tooltip
                    item.setToolTip(column, item.text(column))
            group.setExpanded(difference is not Difference.SAME)
        # the medicine's name is never cut (a horizontal scroll bar rather than "Contour TS testing..."); the
        # dose and source give way on a narrow screen, whole in their tooltips
        self.tree.resizeColumnToContents(0)
        for column in (1, 2):
            self.tree.resizeColumnToContents(column)
            self.tree.setColumnWidth(column, min(self.tree.columnWidth(column), 360))

    def groups(self) -> dict[str, list[str]]:
        """Group title -> medicine names, for tests and the accessible summary."""
        out = {}
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            out[group.text(0)] = [group.child(j).text(0) for j in range(group.childCount())]
        return out
