"""Guards against Qt binding releases that mishandle references to None.

PySide6 6.12.0 decrements None's reference count in calls as ordinary as `setObjectName`; on Python 3.11
(where None is not immortal) the viewer then aborts with "deallocating None" after opening a few
patients. A ward PC must never crash like that, so the calls the UI relies on are checked here.
"""

from __future__ import annotations

import gc
import sys

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QTableView

ROUNDS = 300

CALLS = {
    "QLabel with keyword properties": lambda: QLabel("a", objectName="b", wordWrap=True),
    "QPushButton with keyword properties": lambda: QPushButton("a", enabled=False),
    "QTableView with objectName": lambda: QTableView(objectName="x"),
    "setObjectName": lambda: QLabel("a").setObjectName("b"),
}


def _none_refs_after(fn) -> int:
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(ROUNDS):
        fn()
    gc.collect()
    return sys.getrefcount(None) - before


@pytest.mark.parametrize("name", sorted(CALLS))
def test_widget_calls_keep_none_references_balanced(qapp, name):
    drift = _none_refs_after(CALLS[name])
    # Some drift from caches is normal; one lost or leaked reference per call is the defect.
    assert abs(drift) < ROUNDS // 2, f"{name}: None refcount drifted by {drift} over {ROUNDS} calls"


def test_property_and_item_data_reads_keep_none_references(qapp):
    label = QLabel()
    combo = QComboBox()
    combo.addItem("no data")
    for fn in (lambda: label.property("missing"), lambda: combo.itemData(0), combo.currentData):
        assert abs(_none_refs_after(fn)) < ROUNDS // 2
