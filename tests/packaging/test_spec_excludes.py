"""The frozen build excludes the Qt modules the viewer does not use: never one it does (the frozen
self-test found QtNetwork and QtPrintSupport missing once the viewer had started using them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "packaging" / "wardview.spec"
QT_IMPORT = re.compile(r"^\s*(?:from|import)\s+PySide6\.(Qt\w+)", re.MULTILINE)


def excluded_qt() -> set[str]:
    for node in ast.walk(ast.parse(SPEC.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "UNUSED_QT" for t in node.targets):
            names = [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)
                     and isinstance(c.value, str) and c.value.startswith("Qt")]
            return set(names)
    raise AssertionError("packaging/wardview.spec has no UNUSED_QT list")


def used_qt() -> set[str]:
    used: set[str] = set()
    for path in (REPO / "viewer").rglob("*.py"):
        used |= set(QT_IMPORT.findall(path.read_text(encoding="utf-8")))
    return used


def test_no_module_the_viewer_imports_is_excluded() -> None:
    used = used_qt()
    assert {"QtCore", "QtGui", "QtWidgets", "QtNetwork", "QtPrintSupport"} <= used
    assert not used & excluded_qt(), f"excluded yet used: {sorted(used & excluded_qt())}"


def test_the_exclusions_still_cover_the_heavy_modules() -> None:
    assert {"QtQml", "QtQuick", "QtWebEngineCore", "QtMultimedia", "Qt3DCore"} <= excluded_qt()
