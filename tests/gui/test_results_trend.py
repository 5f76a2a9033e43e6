"""The Results tab through the real window against the sandbox: selecting a result charts its test."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in
from viewer.domain import SourceKind
from viewer.record.trends import RangeStatus


def open_results(qtbot, win, sandbox, scenario):
    sign_in(qtbot, win)
    view = win.open_patient(patient_number(sandbox, scenario))
    qtbot.waitUntil(lambda: loaded(view), timeout=60000)
    qtbot.keyClick(view.sections, Qt.Key.Key_6, Qt.KeyboardModifier.AltModifier)  # 1 is the Summary
    assert view.sections.currentWidget().isAncestorOf(view.views["observations"])
    return view


def test_selecting_a_result_charts_that_test(qtbot, window_factory, sandbox, tmp_path):
    win = window_factory()
    view = open_results(qtbot, win, sandbox, "warfarin-inpatient")
    table, model, panel = view.views["observations"], view.models["observations"], view.trend_panel
    proxy = table.model()
    gp_inr = [r for r in range(proxy.rowCount())
              if proxy.index(r, 0).data().startswith("INR") and proxy.index(r, 1).data().startswith("GP")]
    assert len(gp_inr) == 16

    table.setFocus()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualRect(proxy.index(gp_inr[3], 0)).center())
    chart = panel.chart
    assert chart.isVisible()
    assert chart.series.name == proxy.index(gp_inr[3], 0).data()
    assert panel.heading.text() == f"{chart.series.name}: 16 results"
    assert len(chart.series.points) == 16
    assert {p.sources for p in chart.series.points} == {(SourceKind.GP,)}
    focused = chart.series.points[chart.focused_index]
    assert focused.item is model.item(proxy.mapToSource(proxy.index(gp_inr[3], 0)).row())
    assert panel.caption.text() == focused.describe()
    assert "range 2 - 3" in panel.caption.text()
    assert chart.accessibleDescription().startswith(f"{chart.series.name}, {{INR}}: 16 results from ")

    # keyboard: the chart follows the current row to the next test
    other = next(r for r in range(1, proxy.rowCount()) if not proxy.index(r, 0).data().startswith("INR"))
    table.selectRow(other - 1)
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == other
    assert chart.series.name == proxy.index(other, 0).data()
    assert panel.heading.text().startswith(proxy.index(other, 0).data())

    # the hospital's INR is coded in LOINC, the GP's in SNOMED CT: its own chart, 3.8 and 3.3 above 2 - 3
    hospital_inr = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data().startswith("INR")
                        and proxy.index(r, 1).data().startswith("Hospital"))
    table.selectRow(hospital_inr)
    assert len(chart.series.points) == 3
    assert [p.status for p in chart.series.points] == [RangeStatus.ABOVE, RangeStatus.ABOVE,
                                                       RangeStatus.WITHIN]
    shot = tmp_path / "results_trend.png"
    assert view.grab().save(str(shot))
    assert shot.stat().st_size > 10_000
