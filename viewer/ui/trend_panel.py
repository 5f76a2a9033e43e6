"""The Results tab's trend: the chart of the selected result's test, under the results table.

It follows the table's current row (keyboard or mouse). The record's results are grouped by test only when
a row is first selected after a record update (`ResultTrends`: ~3 ms for the large record's 11,806
results), and a test's points only when that test is shown, so a record update costs the GUI thread
nothing here. The selected result is the chart's focused point; a test reported in two units offers one
chart per unit, never one axis.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QTableView, QVBoxLayout, QWidget

from viewer.record.merge import MergedItem
from viewer.record.trends import ResultTrends, TestTrend, value_text
from viewer.ui.models import DomainTableModel
from viewer.ui.trend_chart import TrendChart

PROMPT = "Select a result to see its trend."
NO_NUMBERS = "No numeric values to chart"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class TrendPanel(QWidget):
    """Heading (test and count), notices, a unit chooser when the test has several units, the chart, and
    the focused point's details as text (what the tooltip says, readable without a pointer)."""

    def __init__(self, table: QTableView, model: DomainTableModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trendPanel")
        self.setAccessibleName("Result trend")
        self.table, self.model = table, model
        self._trends: ResultTrends | None = None
        self._item: MergedItem | None = None
        self.test: TestTrend | None = None
        self._notices: list[str] = []  # the test's; the shown series adds its own

        self.heading = QLabel(PROMPT, objectName="trendHeading")
        self.heading.setAccessibleName("Charted test")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.units = QComboBox(objectName="trendUnits")
        self.units.setAccessibleName("Unit of the charted series")
        self.units.setVisible(False)
        self.units.currentIndexChanged.connect(self._show_series)
        self.notice = QLabel(objectName="trendNotice")
        self.notice.setAccessibleName("Chart notices")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.chart = TrendChart()
        self.caption = QLabel(objectName="trendPoint")
        self.caption.setAccessibleName("Focused result")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart.focused_changed.connect(lambda i: self.caption.setText(self.chart.point_text(i)))

        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.units)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.caption)
        self.chart.setVisible(False)

        table.selectionModel().currentRowChanged.connect(lambda current, _old: self._row_changed(current))
        model.modelReset.connect(self._record_changed)

    @property
    def trends(self) -> ResultTrends:
        if self._trends is None:
            self._trends = ResultTrends(self.model.item(r) for r in range(self.model.rowCount()))
        return self._trends

    def _row_changed(self, current: QModelIndex | QPersistentModelIndex) -> None:
        if not current.isValid():
            return
        proxy = self.table.model()
        row = proxy.mapToSource(proxy.index(current.row(), 0)).row()  # type: ignore[attr-defined]
        if 0 <= row < self.model.rowCount():
            self.show_item(self.model.item(row))

    def _record_changed(self) -> None:
        """A new copy of the record: regroup lazily; keep showing the same test if the record still has it."""
        self._trends = None
        if self._item is not None:
            self.show_item(self._item)

    def show_item(self, item: MergedItem) -> None:
        """Chart the test of a result line, with that result focused when it is a point."""
        self._item = item
        test = self.trends.test_of(item)
        self.test = test
        if test is None:
            self._clear(PROMPT)
            return
        charted = sum(len(s.points) for s in test.series)
        count = _plural(test.count, "result")
        self.heading.setText(f"{test.name}: {count}, {charted} charted" if charted != test.count
                             else f"{test.name}: {count}")
        notices = list(test.notices())
        if item.item.number is None and test.series:
            notices.insert(0, f"The selected result ({value_text(item.item) or 'no value'}) is not a number: "
                              "it is not on the chart.")
        self._notices = notices
        self._set_notices(notices)
        if not test.series:
            self._clear(f"{test.name}: {count} - {NO_NUMBERS}", empty_chart=True)
            return
        chosen = next((i for i, s in enumerate(test.series) if any(p.item is item for p in s.points)), 0)
        self.units.blockSignals(True)
        self.units.clear()
        self.units.addItems([f"{s.unit_label} ({_plural(len(s.points), 'result')})" for s in test.series])
        self.units.setCurrentIndex(chosen)
        self.units.blockSignals(False)
        self.units.setVisible(test.split_by_unit)
        self.chart.setVisible(True)
        self._show_series(chosen)

    def _show_series(self, index: int) -> None:
        if self.test is None or not 0 <= index < len(self.test.series):
            return
        series = self.test.series[index]
        self._set_notices([*self._notices, *series.notices()])
        self.chart.set_series(series)
        focused = next((i for i, p in enumerate(series.points) if p.item is self._item), None)
        if focused is not None:
            self.chart.set_focused(focused)

    def _set_notices(self, lines: list[str]) -> None:
        self.notice.setText("\n".join(lines))
        self.notice.setVisible(bool(lines))

    def _clear(self, heading: str, *, empty_chart: bool = False) -> None:
        """No chart: nothing selected, or (`empty_chart`) a test without one number, said on the chart."""
        self.heading.setText(heading)
        self.chart.set_series(None)
        self.chart.setVisible(empty_chart)
        self.units.setVisible(False)
        self.caption.clear()
        if not empty_chart:
            self.notice.setVisible(False)


class ResultsSplitter(QSplitter):
    """Table above, trend below; the first time it is shown the chart gets three fifths of the height
    (sizes set before the splitter has a size are not kept)."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Vertical, objectName="resultsSplitter")
        self.setAccessibleName("Results and trend")
        self.setChildrenCollapsible(False)
        self._sized = False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized and self.height() > 0:
            self._sized = True
            self.setSizes([self.height() * 2 // 5, self.height() * 3 // 5])


def results_with_trend(table: QTableView, model: DomainTableModel) -> tuple[QSplitter, TrendPanel]:
    """The Results tab's page: the table above, the trend of the selected row's test below."""
    splitter = ResultsSplitter()
    panel = TrendPanel(table, model)
    splitter.addWidget(table)
    splitter.addWidget(panel)
    splitter.setStretchFactor(0, 2)
    splitter.setStretchFactor(1, 3)
    return splitter, panel
