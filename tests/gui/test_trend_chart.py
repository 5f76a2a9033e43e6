"""The trend chart and the Results tab's trend panel, on hand-made results (the sandbox test is
test_results_trend.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from viewer.domain import Coding, Concept, Observation, PartialDate, Provenance, SourceKind
from viewer.domain.coding import LOINC
from viewer.record.merge import MergedItem
from viewer.record.trends import build_test
from viewer.ui.models import ObservationTableModel
from viewer.ui.patient_view import _table
from viewer.ui.trend_chart import TrendChart
from viewer.ui.trend_panel import NO_NUMBERS, PROMPT, results_with_trend

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GLUCOSE = Coding(LOINC, "2345-7", "Glucose")


def line(when, number, *, source=SourceKind.HOSPITAL, unit="mmol/L", comparator=None, low=3.5, high=5.3,
         label="Serum potassium", codings=(), value=None):
    text = value if value is not None else None if number is None else f"{comparator or ''}{number:g}"
    o = Observation(Concept(label, codings), Provenance(source, "Observation", f"{label}{when}", NOW),
                    PartialDate.parse(when), text, number, unit, comparator, low, high)
    return MergedItem(o, (o,))


SHORT = [
    line("2026-01-03T09:00:00Z", 4.1, source=SourceKind.GP),
    line("2026-03", 5.9, source=SourceKind.GP),
    line("2026-05-10T08:00:00Z", 6.2),
    line("2026-06-01T08:00:00Z", 3.1),
    line("2026-09-01T08:00:00Z", 2.0, comparator="<", low=2.5, high=5.0),
    line("2026-11-20T08:00:00Z", 4.4, high=5.0),
]


@pytest.fixture
def chart(qtbot):
    widget = TrendChart()
    qtbot.addWidget(widget)
    widget.resize(1000, 320)
    widget.set_series(build_test(SHORT).series[0])
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_renders_every_kind_of_point_without_qt_warnings(chart):
    image = chart.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 2)
               for y in range(0, image.height(), 2)}
    assert {"#0072b2", "#d55e00"} <= colours  # GP and Hospital markers are both painted
    legend = [text for _kind, text in chart._legend()]
    assert legend == ["GP", "Hospital", "reference range", "above range", "below range", "less-than value",
                      "date known to the month or year only"]


def test_keyboard_moves_the_focused_point(chart, qtbot):
    chart.setFocus()
    assert chart.focused_index == 5  # the latest result first
    with qtbot.wait_signal(chart.focused_changed) as moved:
        qtbot.keyClick(chart, Qt.Key.Key_Left)
    assert moved.args == [4] and chart.focused_index == 4
    qtbot.keyClick(chart, Qt.Key.Key_Home)
    assert chart.focused_index == 0
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    assert chart.focused_index == 0  # stays on the first
    qtbot.keyClick(chart, Qt.Key.Key_Right)
    assert chart.focused_index == 1
    qtbot.keyClick(chart, Qt.Key.Key_End)
    assert chart.focused_index == 5
    QToolTip.hideText()


def test_tooltip_names_value_date_and_source(chart, qtbot):
    assert chart.point_text(1) == ("5.9 mmol/L - Mar-2026 (date known to the month only) - GP - "
                                   "range 3.5 - 5.3, above the reference range")
    assert chart.point_text(4).startswith("<2 mmol/L - 01-Sep-2026 09:00 - Hospital - range 2.5 - 5")
    chart.grab()  # paints, so the chart knows where each point is
    where = chart._to_screen(2)
    assert chart.point_at(where) == 2
    assert chart.point_at(where + QPointF(40, 40)) == -1
    event = QHelpEvent(QEvent.Type.ToolTip, where.toPoint(), chart.mapToGlobal(where.toPoint()))
    QApplication.sendEvent(chart, event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == chart.point_text(2)
    assert QToolTip.text().startswith("6.2 mmol/L - 10-May-2026 09:00 - Hospital")
    QToolTip.hideText()


def test_accessible_name_and_description_summarise_the_series(chart):
    assert chart.accessibleName() == "Trend chart of Serum potassium"
    description = chart.accessibleDescription()
    assert description.startswith("Serum potassium, mmol/L: 6 results from 03-Jan-2026 to 20-Nov-2026.")
    assert "Latest 4.4 mmol/L on 20-Nov-2026 08:00 (Hospital), within the reference range." in description
    assert "Reference range 3.5 - 5 (latest; the range changed over time)." in description
    chart.set_series(None)
    assert chart.accessibleDescription() == "No results to chart."


def test_a_long_series_draws_only_the_visible_window(qtbot):
    start = datetime(2000, 1, 1, 9, tzinfo=UTC)
    items = [line((start + timedelta(days=3 * n)).isoformat(), 4 + (n % 2) / 5) for n in range(3000)]
    widget = TrendChart()
    qtbot.addWidget(widget)
    widget.resize(1200, 360)
    widget.set_series(build_test(items).series[0])
    image = QImage(widget.size(), QImage.Format.Format_ARGB32_Premultiplied)
    widget.render(image)
    assert widget.visible_range() == (0, 3000)
    assert len(widget._screen) < 3000  # points on the same pixel are painted once
    widget.zoom(0.01)
    first, last = widget.visible_range()
    assert 0 < last - first < 100 and last == 3000  # around the focused (latest) point
    widget.render(image)
    assert {index for _x, _y, index in widget._screen} <= set(range(first, last))
    widget.reset_zoom()
    assert widget.visible_range() == (0, 3000)


def test_moving_the_focus_out_of_the_window_brings_it_into_view(qtbot):
    start = datetime(2020, 1, 1, 9, tzinfo=UTC)
    items = [line((start + timedelta(days=10 * n)).isoformat(), 4.0) for n in range(200)]
    widget = TrendChart()
    qtbot.addWidget(widget)
    widget.set_series(build_test(items).series[0])
    widget.zoom(0.05)
    widget.set_focused(0)
    first, last = widget.visible_range()
    assert first == 0 < last < 200


@pytest.fixture
def panel(qtbot):
    model = ObservationTableModel()
    table = _table(model, "Results")
    splitter, panel = results_with_trend(table, model)
    qtbot.addWidget(splitter)
    splitter.resize(1000, 700)
    splitter.show()
    yield panel  # the splitter stays referenced until the test ends


def rows(panel, items):
    panel.model.set_items(items)
    return {panel.model.item(r).item.provenance.resource_id: r for r in range(panel.model.rowCount())}


def test_selecting_a_row_charts_its_test_with_that_result_focused(panel, qtbot):
    ids = rows(panel, [*SHORT, line("2026-02-01", 140, label="Sodium", unit="mmol/L", low=133, high=146)])
    assert panel.heading.text() == PROMPT and not panel.chart.isVisible()
    panel.table.selectRow(ids["Serum potassium2026-05-10T08:00:00Z"])
    assert panel.heading.text() == "Serum potassium: 6 results"
    assert panel.chart.isVisible() and panel.chart.series.name == "Serum potassium"
    assert panel.chart.focused_index == 2
    assert panel.caption.text().startswith("6.2 mmol/L - 10-May-2026")
    panel.table.selectRow(ids["Serum potassium2026-11-20T08:00:00Z"])
    assert panel.chart.focused_index == 5
    qtbot.keyClick(panel.table, Qt.Key.Key_Down)  # keyboard: the next row, a sodium
    assert panel.heading.text() == "Sodium: 1 result"
    panel.model.set_items(panel.model._items[::-1])  # a record update keeps the test shown
    assert panel.heading.text() == "Sodium: 1 result" and panel.chart.series.name == "Sodium"


def test_every_widget_of_the_panel_has_an_accessible_name(panel):
    rows(panel, SHORT)
    panel.table.selectRow(0)
    widgets = [panel, *panel.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)]
    assert len(widgets) == 6
    assert [w.objectName() for w in widgets if not w.accessibleName()] == []


def test_one_point_without_a_range_and_flat_series_render(qtbot):
    widget = TrendChart()
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    for items in ([line("2026-01-01", 4.0, low=None, high=None)],
                  [line(f"2026-0{m}-01", 4.0, low=None, high=None) for m in range(1, 6)]):
        widget.set_series(build_test(items).series[0])
        assert not widget.grab().isNull()
        assert "No reference range given." in widget.accessibleDescription()


def test_mixed_units_show_two_series_and_say_so(panel):
    ids = rows(panel, [
        line("2026-01-01", 5.4, codings=(GLUCOSE,), label="Glucose", low=None, high=None),
        line("2026-02-01", 97, codings=(GLUCOSE,), label="Glucose", unit="mg/dL", low=None, high=None),
        line("2026-03-01", 6.1, codings=(GLUCOSE,), label="Glucose", low=None, high=None),
    ])
    panel.table.selectRow(ids["Glucose2026-02-01"])
    assert panel.units.isVisible()
    assert [panel.units.itemText(i) for i in range(panel.units.count())] == [
        "mmol/L (2 results)", "mg/dL (1 result)"]
    assert panel.units.currentIndex() == 1  # the selected result's unit
    assert panel.chart.series.name == "Glucose (mg/dL)"
    assert {p.unit for p in panel.chart.series.points} == {"mg/dL"}
    assert "Reported in 2 units (mmol/L, mg/dL)" in panel.notice.text()
    panel.units.setCurrentIndex(0)
    assert panel.chart.series.name == "Glucose (mmol/L)"
    assert [p.number for p in panel.chart.series.points] == [5.4, 6.1]


def test_text_results(panel):
    ids = rows(panel, [
        line("2026-01-01", None, label="Urine culture", value="No growth"),
        line("2026-02-01", None, label="Urine culture", value="Mixed growth"),
        line("2026-01-01", 4.0), line("2026-02-01", None, value="Haemolysed"),
    ])
    panel.table.selectRow(ids["Urine culture2026-01-01"])
    assert panel.heading.text() == f"Urine culture: 2 results - {NO_NUMBERS}"
    assert panel.chart.series is None
    image = panel.chart.grab().toImage()
    assert image.width() > 0  # the empty chart paints its message without warnings
    panel.table.selectRow(ids["Serum potassium2026-02-01"])
    assert panel.heading.text() == "Serum potassium: 2 results, 1 charted"
    assert "The selected result (Haemolysed mmol/L) is not a number" in panel.notice.text()
    assert "1 result with no numeric value not charted" in panel.notice.text()
