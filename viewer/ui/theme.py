"""Styling that follows the system font size, with an optional high-contrast palette."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from viewer.config import Settings


def apply_theme(app: QApplication, settings: Settings) -> None:
    """Scale the system font (never replace it) and load the style sheet unless high contrast is asked."""
    font = QFont(app.font())
    if settings.font_scale != 1.0 and font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * settings.font_scale)
        app.setFont(font)
    if not settings.high_contrast:
        app.setStyleSheet(resources.files("viewer.ui").joinpath("style.qss").read_text(encoding="utf-8"))
