"""PySide6's lazily made classes, made over several event-loop turns before a patient tab needs them."""

from __future__ import annotations

import time
from types import ModuleType

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.support.window import sign_in
from viewer.ui.lazy_classes import LazyClassWarmup, lazy_class_names, pyside_modules


class LazyModule(ModuleType):
    """Lists its classes as PySide6 does and makes one on first access (each taking `cost_s`)."""

    def __init__(self, names: list[str], cost_s: float = 0.0, *, unmakeable: tuple[str, ...] = ()):
        super().__init__("fake_lazy")
        self._names = names
        self._cost_s = cost_s
        self._unmakeable = unmakeable
        self.made: list[str] = []

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._names, *self._unmakeable, "Outer.Inner"]

    def __getattr__(self, name: str) -> type:
        if name not in self._names:
            raise AttributeError(name)
        time.sleep(self._cost_s)
        made = type(name, (), {})
        setattr(self, name, made)
        self.made.append(name)
        return made


def test_lazy_class_names_are_the_top_level_classes_not_made_yet():
    module = LazyModule(["QB", "QA"])
    assert lazy_class_names(module) == ["QA", "QB"]
    _ = module.QA
    assert lazy_class_names(module) == ["QB"]


def test_the_classes_are_made_in_slices_one_per_event_loop_turn(qtbot):
    module = LazyModule([f"Q{i:02d}" for i in range(12)], cost_s=0.002)
    warmup = LazyClassWarmup([module], slice_ms=3)
    turns = []
    warmup._timer.timeout.connect(lambda: turns.append(len(module.made)))
    with qtbot.waitSignal(warmup.finished, timeout=10000):
        warmup.start()
        assert module.made == []  # nothing in the call itself: the first slice is the next turn's
    assert module.made == [f"Q{i:02d}" for i in range(12)]
    assert len(turns) > 2
    assert warmup.done and warmup.pending == 0
    assert lazy_class_names(module) == []


def test_a_name_the_module_lists_but_cannot_make_is_passed_over(qtbot):
    module = LazyModule(["QA", "QC"], unmakeable=("QB",))
    warmup = LazyClassWarmup([module])
    with qtbot.waitSignal(warmup.finished, timeout=5000):
        warmup.start()
    assert module.made == ["QA", "QC"]


def test_started_once_only(qtbot):
    module = LazyModule(["QA"])
    warmup = LazyClassWarmup([module])
    with qtbot.waitSignal(warmup.finished, timeout=5000):
        warmup.start()
    with qtbot.assertNotEmitted(warmup.finished, wait=50):
        warmup.start()


@pytest.fixture
def window(window_factory):
    return window_factory()


def test_the_window_makes_every_class_while_the_sign_in_page_waits(qtbot, window):
    qtbot.waitUntil(lambda: window.lazy_classes.done, timeout=20000)
    assert all(lazy_class_names(module) == [] for module in pyside_modules())
    # what used to make ~180 classes in one go: a Qt object of a class PySide does not wrap reaching Python
    label = QLabel("selectable")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    made_before = {module.__name__: len(vars(module)) for module in pyside_modules()}
    control = label.children()[0]
    assert control.metaObject().className() == "QWidgetTextControl"
    assert {module.__name__: len(vars(module)) for module in pyside_modules()} == made_before
    sign_in(qtbot, window)  # the window works as before
