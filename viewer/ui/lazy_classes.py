"""PySide6's Python classes, made a few at a time while the window waits, instead of all at once later.

PySide6 makes the Python class of a Qt class (with its enums) on first use (shiboken's lazy loading,
PYSIDE-2404). The first time a Qt object of a class that PySide does not wrap reaches Python - the
QWidgetTextControl behind a selectable QLabel passing through the idle watcher's event filter, a window's
QWidgetWindow, `children()` - shiboken looks for its nearest wrapped base class by making every QObject class
not made yet: ~180 Python enums, 50-65 ms in one go on the GUI thread. That was the longest stall of a
process's first patient tab (the banner's selectable labels).

`LazyClassWarmup` makes the classes of the PySide6 modules already imported in slices of ~4 ms, one slice
per event-loop turn, from the main window's first show, while the sign-in page waits for the clinician:
~60-90 ms in ~15 turns, the longest ~9 ms (QCommonStyle alone takes ~5 ms). It makes every class, not only
the QObject ones shiboken would have made, which costs ~6 MB more, but it never holds the GUI thread long.

Signals:
    finished(): every class of the modules is made; the timer has stopped.
"""

from __future__ import annotations

import sys
import time
from types import ModuleType

from PySide6.QtCore import QObject, QTimer, Signal

SLICE_MS = 4.0


def pyside_modules() -> list[ModuleType]:
    """The PySide6 Qt modules imported so far (a module imported later brings few QObject classes)."""
    return [module for name, module in sorted(sys.modules.items())
            if name.startswith("PySide6.Qt") and isinstance(module, ModuleType)]


def lazy_class_names(module: ModuleType) -> list[str]:
    """Classes the module lists but has not made yet. A nested class (`QEvent.Type`-like dotted names)
    is made with its outer class, so only top-level names are given."""
    made = vars(module)
    return sorted(name for name in dir(module) if "." not in name and name not in made)


class LazyClassWarmup(QObject):
    finished = Signal()

    def __init__(self, modules: list[ModuleType] | None = None, *, slice_ms: float = SLICE_MS,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._modules = modules
        self._slice_s = slice_ms / 1000
        self._pending: list[tuple[ModuleType, str]] = []
        self._started = False
        self._timer = QTimer(self, interval=0)
        self._timer.timeout.connect(self._make_slice)

    @property
    def done(self) -> bool:
        return self._started and not self._timer.isActive()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        """Once: list what is left to make and make it over the next event-loop turns."""
        if self._started:
            return
        self._started = True
        modules = self._modules if self._modules is not None else pyside_modules()
        self._pending = [(module, name) for module in modules for name in lazy_class_names(module)]
        self._pending.reverse()  # popped from the end: made in alphabetical order, module by module
        self._timer.start()

    def _make_slice(self) -> None:
        deadline = time.perf_counter() + self._slice_s
        while self._pending and time.perf_counter() < deadline:
            module, name = self._pending.pop()
            getattr(module, name, None)  # made now; a name a build leaves out is simply not there
        if not self._pending:
            self._timer.stop()
            self.finished.emit()
