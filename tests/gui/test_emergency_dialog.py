"""The emergency-access dialog on its own: valid only with a reason, Other needs words, Escape cancels."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from viewer.config import Settings
from viewer.ui.emergency_dialog import EmergencyAccessDialog
from viewer.ui.theme import apply_theme

NO_RELATIONSHIP = "no active encounter or episode of care at RWV99"
SHOTS = Path("/tmp/wardview-shots")


def choose(qtbot, dialog, choice):
    """Click on the radio button's indicator, where a user clicks (its centre may lie past the text)."""
    button = dialog.buttons_by_choice[choice]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(6, button.height() // 2))
    assert button.isChecked()


@pytest.fixture
def dialog(qtbot):
    apply_theme(QApplication.instance(), Settings())
    dlg = EmergencyAccessDialog(NO_RELATIONSHIP, org_name="Wardview Sandbox Hospital NHS Trust")
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def test_explains_plainly(dialog):
    text = dialog.explanation.text()
    assert text.startswith(
        "There is no record of a current episode of care for this patient at "
        "Wardview Sandbox Hospital NHS Trust."
    )
    assert "this access will be flagged and reviewed" in text
    assert NO_RELATIONSHIP in dialog.detail.text()


def test_failed_check_is_told_as_such(qtbot):
    dlg = EmergencyAccessDialog("the check could not be made: not answering", org_name="RWV99",
                                check_failed=True)
    qtbot.addWidget(dlg)
    assert "could not be made" in dlg.explanation.text()
    assert "There is no record" not in dlg.explanation.text()


def test_ok_disabled_until_a_reason_is_chosen(qtbot, dialog):
    assert not dialog.ok_button.isEnabled()
    assert dialog.hint.text() == "Choose a reason."
    choose(qtbot, dialog, "Emergency care")
    assert dialog.ok_button.isEnabled()
    assert dialog.reason() == "Emergency care"
    qtbot.keyClicks(dialog.free_text, "Found collapsed on the ward")
    assert dialog.reason() == "Emergency care: Found collapsed on the ward"


def test_other_needs_free_text(qtbot, dialog):
    choose(qtbot, dialog, "Other (explain)")
    assert not dialog.ok_button.isEnabled()
    assert "Explain" in dialog.hint.text()
    qtbot.keyClicks(dialog.free_text, "   ")
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.free_text, "Asked by the coroner's officer")
    assert dialog.ok_button.isEnabled()
    assert dialog.reason() == "Other (explain): Asked by the coroner's officer"
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_accept_is_refused_while_invalid(qtbot, dialog):
    with qtbot.assertNotEmitted(dialog.accepted):
        dialog.accept()
    assert dialog.isVisible()
    with pytest.raises(ValueError):
        dialog.reason()


def test_escape_cancels(qtbot, dialog):
    choose(qtbot, dialog, "Emergency care")
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not dialog.isVisible()


def test_every_widget_has_an_accessible_name(dialog):
    interactive = [dialog.free_text, dialog.ok_button, dialog.cancel_button,
                   *dialog.buttons_by_choice.values()]
    for widget in interactive:
        assert widget.accessibleName(), widget
    labels = [w for w in dialog.findChildren(QWidget) if w.objectName().startswith("emergency")]
    assert labels and all(w.accessibleName() for w in labels)


def test_screenshot(qtbot, dialog):
    choose(qtbot, dialog, "Patient transferred in, not yet admitted")
    qtbot.keyClicks(dialog.free_text, "Transfer from the regional trauma centre this morning")
    dialog.adjustSize()
    image = dialog.grab()
    assert not image.isNull()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert image.save(str(SHOTS / "emergency_dialog.png"))
