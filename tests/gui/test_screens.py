"""Every screen of sign-in, roles, lock, emergency access, search and print renders without a Qt warning
(any warning fails a test here), and is saved as a PNG to look at: to WARDVIEW_SHOTS_DIR when set (the
issue's closing note), else to the test's tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, print_to_pdf, sign_in
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
