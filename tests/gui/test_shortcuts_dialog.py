"""F1 lists the window's shortcuts from its actions: the list is what the keys do, never a copy."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from viewer.ui.shortcuts_dialog import ShortcutsDialog


def test_f1_lists_every_shortcut_of_the_window(qtbot, window_factory, tmp_path: Path) -> None:
    window = window_factory()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.sign_in_page.users, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: bool(window.findChildren(ShortcutsDialog)), timeout=5000)
    dialog = window.findChildren(ShortcutsDialog)[0]
    rows = dict(dialog.rows())
    assert rows["Ctrl+F"] == "Find patient…"
    assert rows["Ctrl+P"] == "Print record…" and rows["Ctrl+Shift+E"] == "Export record…"
    assert rows["Ctrl+W"] == "Close patient"
    assert rows["Ctrl+L"] == "Lock now"
    assert rows["F1"] == "Keyboard shortcuts"
    assert rows["Ctrl+PgDown"] == "Next patient" and rows["Ctrl+PgUp"] == "Previous patient"
    assert "Alt+1 … Alt+9, Alt+0" in rows
    shortcut_actions = [a for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(rows) == len(shortcut_actions) + 2
    assert dialog.grab().save(str(tmp_path / "shortcuts.png"))
    dialog.close()


def test_ctrl_page_down_and_up_step_through_the_open_patients(qtbot, window_factory) -> None:
    from PySide6.QtWidgets import QWidget

    window = window_factory()
    for name in ("one", "two", "three"):
        window.tabs.addTab(QWidget(), name)
    window.tabs.setCurrentIndex(0)
    actions = {a.text(): a for a in window.actions()}
    actions["Next patient"].trigger()
    assert window.tabs.currentIndex() == 1
    actions["Previous patient"].trigger()
    actions["Previous patient"].trigger()
    assert window.tabs.currentIndex() == 2  # wraps round
