"""The real main window over the real services and the session's sandbox, torn down after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from tests.support.sandbox_wiring import RECORD_CONTENT_REASON, make_workspace
from viewer.config import Settings
from viewer.ui.main_window import MainWindow
from viewer.ui.runner import AsyncRunner
from viewer.ui.theme import apply_theme


@pytest.fixture
def window_factory(qtbot, sandbox) -> Iterator[Callable[..., MainWindow]]:
    """`window_factory(emergency_reason=..., audit_store=..., **MainWindow keyword arguments)` -> a shown,
    themed window.

    By default every open carries a declared reason (tests about what a record shows); pass
    `emergency_reason=None` for the bare workspace with the care-relationship check in force,
    `audit_store="name.db"` for the real audit, cache and journal in an encrypted store (set XDG_DATA_HOME
    first), `settings` to replace the sandbox's own (short timeouts for fault tests)."""
    built: list[tuple[MainWindow, AsyncRunner, Any]] = []

    def build(*, emergency_reason: str | None = RECORD_CONTENT_REASON, audit_store: str | None = None,
              settings: Settings | None = None,
              **kwargs: Any) -> MainWindow:
        runner = AsyncRunner()

        async def wire() -> Any:
            return make_workspace(sandbox, emergency_reason=emergency_reason, audit_store=audit_store,
                                  settings=settings)

        workspace, http = runner.run_blocking(wire())
        apply_theme(QApplication.instance(), Settings())
        win = MainWindow(workspace, runner, **kwargs)
        if audit_store is not None:  # lock and unlock reach the audit as `wardview` wires them (viewer.app)
            win.on_session_event = lambda event: (
                workspace.record_event(event, win.session) if event in ("lock", "unlock") else None)
        qtbot.addWidget(win)
        win.resize(1366, 768)
        win.show()
        built.append((win, runner, http))
        return win

    yield build
    for win, runner, http in built:
        win.idle.stop()
        win.refresh_timer.stop()
        runner.stop(http.aclose)
