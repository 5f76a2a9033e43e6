"""Every screen of sign-in, roles, lock, emergency access, search and print renders without a Qt warning
(any warning fails a test here), and is saved as a PNG to look at: to WARDVIEW_SHOTS_DIR when set (the
issue's closing note), else to the test's tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, open_and_wait, print_to_pdf, sign_in
from viewer.domain.provenance import SourceKind
from viewer.record.status import SourceState
from viewer.sandbox.faults import Fault
from viewer.ui.role_picker import RolePickerDialog


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("WARDVIEW_SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def window(window_factory):
    return window_factory(emergency_reason=None)


def save(widget, path: Path) -> None:
    image = widget.grab()
    assert not image.isNull() and image.save(str(path))


def open_inpatient(qtbot, window, sandbox):
    view = window.open_patient(patient_number(sandbox, "warfarin-inpatient"))
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    return view


def test_sign_in_page(window, shots):
    assert window.stack.currentWidget() is window.sign_in_page
    save(window, shots / "sign_in.png")


def test_role_picker(qtbot, window, shots):
    session = window.runner.run_blocking(window.workspace.sign_in("nurse.adebayo"), timeout=20)
    choices = window.workspace.role_choices(session)
    assert len(choices) == 2
    dialog = RolePickerDialog(choices, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.adjustSize()
    save(dialog, shots / "role_picker.png")


def test_workspace_with_find_and_patient_menu(qtbot, window, sandbox, shots):
    sign_in(qtbot, window)
    open_inpatient(qtbot, window, sandbox)
    assert window.find_button.isVisible() and window.record_actions.print_action.isEnabled()
    save(window, shots / "workspace.png")


def test_lock_screen_with_a_patient_behind_it(qtbot, window, sandbox, shots):
    sign_in(qtbot, window)
    view = open_inpatient(qtbot, window, sandbox)
    family = view.record.patient.name.family
    window.lock_now()
    assert family.upper() not in window.windowTitle().upper()
    save(window, shots / "lock_screen.png")


def test_emergency_access_dialog(qtbot, window, sandbox, shots):
    sign_in(qtbot, window)
    window.open_patient(patient_number(sandbox, "ordinary-adult"))
    qtbot.waitUntil(lambda: window.emergency_dialog is not None, timeout=20000)
    dialog = window.emergency_dialog
    dialog.buttons_by_choice["Emergency care"].setChecked(True)
    qtbot.keyClicks(dialog.free_text, "Called to the ward by the nurse in charge")
    dialog.adjustSize()
    save(dialog, shots / "emergency_access.png")
    dialog.reject()


def test_search_dialog_with_results(qtbot, window, shots):
    sign_in(qtbot, window)
    dialog = window.record_actions.find_patient()
    dialog.family.setText("Smith")
    dialog.birth_date.setText("17-05-1968")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=20000)
    dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSize()))
    save(dialog, shots / "search_results.png")


def test_first_printed_page(qtbot, window, sandbox, shots, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    sign_in(qtbot, window)
    open_inpatient(qtbot, window, sandbox)
    assert print_to_pdf(qtbot, window, tmp_path / "printed.pdf") >= 1
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "80", "-png", "-singlefile",
                    str(tmp_path / "printed.pdf"), str(shots / "printed_page_1")], check=True)
    assert (shots / "printed_page_1.png").stat().st_size > 0


# ----- issue 6: the workspace with the large patient and the tricky ones, at 1366x768 -------------------
SECTION_KEYS = {"summary": Qt.Key.Key_1, "medications": Qt.Key.Key_3, "results": Qt.Key.Key_6,
                "warnings": Qt.Key.Key_0}


def open_scenario(qtbot, window, sandbox, scenario, *, timeout=30000):
    return open_and_wait(qtbot, window, patient_number(sandbox, scenario), timeout=timeout)


def show_section(qtbot, view, section):
    qtbot.keyClick(view.sections, SECTION_KEYS[section], Qt.KeyboardModifier.AltModifier)


def test_large_patient_sections(qtbot, window_factory, sandbox, shots):
    window = window_factory()
    sign_in(qtbot, window)
    view = open_scenario(qtbot, window, sandbox, "large-record", timeout=120000)
    assert window.size().width() == 1366 and window.size().height() == 768
    save(window, shots / "large_summary.png")
    show_section(qtbot, view, "medications")
    assert view.sections.currentWidget().isAncestorOf(view.reconciliation)
    tree = view.reconciliation.tree
    assert tree.columnWidth(0) >= max(tree.fontMetrics().horizontalAdvance(n) for g in view.reconciliation
                                      .groups().values() for n in g)  # no medicine name cut short
    save(window, shots / "large_medications_reconciliation.png")
    show_section(qtbot, view, "results")
    table, panel = view.views["observations"], view.trend_panel
    proxy = table.model()
    rows = next(r for r in range(min(proxy.rowCount(), 200)) if _charts_many(table, panel, r))
    assert panel.chart.isVisible() and len(panel.chart.series.points) >= 10, rows
    save(window, shots / "large_results_chart.png")
    show_section(qtbot, view, "warnings")
    assert view.sections.currentWidget() is view.warning_list
    save(window, shots / "large_record_warnings.png")


def _charts_many(table, panel, row: int) -> bool:
    """Select `row`; True when its test has a chart of ten or more points (a trend worth showing)."""
    table.selectRow(row)
    series = panel.chart.series
    return series is not None and len(series.points) >= 10


@pytest.mark.parametrize("scenario", ["deceased", "restricted", "gp-dissent", "demographic-mismatch"])
def test_tricky_patients(qtbot, window_factory, sandbox, shots, scenario):
    window = window_factory()
    sign_in(qtbot, window)
    view = open_scenario(qtbot, window, sandbox, scenario)
    view.banner.more.setChecked(True)  # the second zone: what PDS withheld must read Not Known, not blank
    save(window, shots / f"tricky_{scenario.replace('-', '_')}.png")


def test_partial_failure_gp_down(qtbot, window_factory, sandbox, shots):
    sandbox.faults.set("gpconnect", Fault("status", status=503))
    try:
        window = window_factory()
        sign_in(qtbot, window)
        view = open_scenario(qtbot, window, sandbox, "ordinary-adult")
        assert view.record.statuses[SourceKind.GP].state is SourceState.FAILED
        # an empty list says the GP record is missing, never a bare "none"
        assert view.summary.medications.lines() == ["No current medicines - the GP record is not available"]
        save(window, shots / "partial_failure_gp_503.png")
    finally:
        sandbox.faults.clear("gpconnect")


def test_copy_from_cache_when_the_gp_fails(qtbot, window_factory, sandbox, shots, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    window = window_factory(audit_store="shots-cache.db")
    sign_in(qtbot, window)
    open_scenario(qtbot, window, sandbox, "polypharmacy-elderly")
    window.close_tab(0)
    sandbox.faults.set("gpconnect", Fault("status", status=503))
    try:
        view = open_scenario(qtbot, window, sandbox, "polypharmacy-elderly")
        assert view.record.statuses[SourceKind.GP].shows_copy
        save(window, shots / "copy_from_cache_gp_down.png")
    finally:
        sandbox.faults.clear("gpconnect")
    qtbot.waitUntil(lambda: len(window.recent.numbers()) == 1, timeout=10000)
    menu = window.recent.menu()  # rendered, not popped up: the offscreen platform cannot grab a popup
    menu.ensurePolished()
    menu.resize(menu.sizeHint())
    save(menu, shots / "recent_patients_menu.png")


def test_shortcuts_dialog(qtbot, window_factory, sandbox, shots):
    window = window_factory()
    sign_in(qtbot, window)
    open_scenario(qtbot, window, sandbox, "warfarin-inpatient")
    dialog = window.show_shortcuts()
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    table = dialog.table
    last = table.rowViewportPosition(table.rowCount() - 1) + table.rowHeight(table.rowCount() - 1)
    assert last <= table.viewport().height()  # every shortcut in view, nothing to scroll for
    save(dialog, shots / "shortcuts_f1.png")
    dialog.reject()


def test_reopen_offer_after_a_crash(qtbot, window_factory, sandbox, shots, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    crashed = window_factory(audit_store="shots-reopen.db")
    sign_in(qtbot, crashed)
    for scenario in ("warfarin-inpatient", "child"):
        open_scenario(qtbot, crashed, sandbox, scenario)
    restarted = window_factory(audit_store="shots-reopen.db")
    sign_in(qtbot, restarted)
    qtbot.waitUntil(lambda: restarted.reopen_dialog is not None, timeout=10000)
    dialog = restarted.reopen_dialog
    assert dialog.list.width() >= dialog.list.sizeHintForColumn(0)  # each line whole, number and all
    save(dialog, shots / "reopen_offer.png")
    save(restarted, shots / "reopen_offer_window.png")
    dialog.reject()
