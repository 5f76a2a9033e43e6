"""Lays the printable record (viewer.record.print_html) out on pages, with its header on every page.

QTextDocument.print() has no running header, and a sheet that drifts away from the first page must still
say whose record it is and that it may be out of date; so each page is painted here: the header lines as
plain text (never parsed as markup), the page's slice of the document, and "Page n of N".
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QTextDocument
from PySide6.QtPrintSupport import QPrinter

HEADER_POINTS = 9.0
BODY_POINTS = 10.0


class PrintFailed(Exception):
    """The printer (or PDF file) could not be written; `user_message` is for the status bar."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


def paint_record(printer: QPrinter, header: Sequence[str], html: str) -> int:
    """Print `html` with `header` at the top of every page; returns the number of pages."""
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintFailed("The printer could not be started: the record was not printed.")
    try:
        page = printer.pageRect(QPrinter.Unit.DevicePixel)
        width, height = page.width(), page.height()
        header_font = QFont(painter.font())
        header_font.setPointSizeF(HEADER_POINTS)
        line = QFontMetricsF(header_font, printer).lineSpacing()
        header_height = line * (len(header) + 0.8)
        footer_height = line * 1.5
        body_height = height - header_height - footer_height

        document = QTextDocument()
        document.documentLayout().setPaintDevice(printer)
        body_font = QFont(painter.font())
        body_font.setPointSizeF(BODY_POINTS)
        document.setDefaultFont(body_font)
        document.setHtml(html)
        document.setPageSize(QSizeF(width, body_height))
        pages = document.pageCount()

        for number in range(pages):
            if number and not printer.newPage():
                raise PrintFailed("The printer stopped part way: the record was not fully printed.")
            painter.setFont(header_font)
            for i, text in enumerate(header):
                bold = QFont(header_font)
                bold.setBold(i == 0)
                painter.setFont(bold)
                painter.drawText(QRectF(0, i * line, width, line),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            rule = header_height - line * 0.4
            painter.drawLine(0, round(rule), round(width), round(rule))
            painter.save()
            painter.translate(0, header_height - number * body_height)
            document.drawContents(painter, QRectF(0, number * body_height, width, body_height))
            painter.restore()
            painter.setFont(header_font)
            painter.drawText(QRectF(0, height - line, width, line),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"Page {number + 1} of {pages}")
    finally:
        painter.end()
    return pages


__all__ = ["PrintFailed", "paint_record"]
