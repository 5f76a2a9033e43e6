"""Every interactive widget can be named by a screen reader, and the window works at 1024x768 with a
larger system font: walked over the real window with a patient open, every section shown."""

from __future__ import annotations

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QTabBar,
    QWidget,
)

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in

INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QAbstractSpinBox, QTabBar)


def spoken_name(widget: QWidget) -> str:
    """What assistive technology reads: the accessible name, else what Qt derives (a button's text)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    name = interface.text(QAccessible.Text.Name) if interface is not None else ""
    return (widget.accessibleName() or name or "").strip()


def unnamed(root: QWidget) -> list[str]:
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or not widget.isVisibleTo(root):
            continue
        if type(widget).__name__ in ("QScrollBar",) or widget.objectName().startswith("qt_"):
            continue  # Qt's own parts (scroll bars, header corner buttons) are named by Qt
        if not spoken_name(widget):
            parent = widget.parentWidget()
            missing.append(f"{type(widget).__name__} {widget.objectName() or '(no object name)'} in "
                           f"{type(parent).__name__} {parent.objectName() if parent else ''}")
    return missing


def test_every_interactive_widget_has_an_accessible_name(qtbot, window_factory, sandbox) -> None:
    window = window_factory(emergency_reason=None)
    assert unnamed(window) == [], "sign-in page"
    sign_in(qtbot, window)
    view = window.open_patient(patient_number(sandbox, "warfarin-inpatient"))
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    problems = []
    for index in range(view.sections.count()):
        view.sections.setCurrentIndex(index)
        problems += [f"{view.sections.tabText(index)}: {w}" for w in unnamed(window)]
    assert problems == [], "\n".join(problems)


def test_works_at_1024x768_with_a_larger_font(qtbot, window_factory, sandbox, tmp_path) -> None:
    app = QApplication.instance()
    font = app.font()
    bigger = type(font)(font)
    bigger.setPointSizeF(font.pointSizeF() * 1.25)
    app.setFont(bigger)
    try:
        window = window_factory(emergency_reason=None)
        window.resize(1024, 768)
        sign_in(qtbot, window)
        view = window.open_patient(patient_number(sandbox, "warfarin-inpatient"))
        qtbot.waitUntil(lambda: loaded(view), timeout=30000)
        banner = view.banner
        too_wide = {w.objectName(): w.minimumSizeHint().width() for w in window.findChildren(QWidget)
                    if w.objectName() and w.isVisible() and w.minimumSizeHint().width() > 1024}
        assert window.width() <= 1024 and window.height() <= 768, too_wide
        assert banner.two_rows  # the identity fields moved under the name rather than off the screen
        # the identity zone stays whole: name, NHS number and the allergy state are not cut off
        for label in (banner.name, banner.fields["NHS number"], banner.allergy):
            assert label.isVisible()
            assert label.width() >= label.fontMetrics().horizontalAdvance(label.text()), label.text()
        assert window.grab().save(str(tmp_path / "1024x768-large-font.png"))
    finally:
        app.setFont(font)
