"""A text browser for markup that came from outside (a resource's narrative): it loads nothing.

The narrative is sanitised before it gets here (viewer.record.narrative.safe_html); this is the second
fence. Qt's text browser would otherwise fetch `<img>` sources and style sheets it is pointed at, from
files or, through its resource loader, from anywhere: here every resource request gets nothing, links do
not open, and the document never gets a base URL to resolve against.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSizeF, QUrl
from PySide6.QtGui import QPainter, QPyTextObject, QTextDocument, QTextFormat
from PySide6.QtWidgets import QTextBrowser, QWidget

from viewer.record.narrative import safe_html


class _NoImages(QPyTextObject):
    """Qt's own image handler reads an image's file straight from the disk when no resource is given; this
    one, registered in its place, draws nothing and reads nothing."""

    def intrinsicSize(self, doc: Any, pos: int, fmt: Any) -> QSizeF:
        return QSizeF(0, 0)

    def drawObject(self, painter: QPainter, rect: Any, doc: Any, pos: int, fmt: Any) -> None:
        return None


class _NothingLoadingDocument(QTextDocument):
    """The document itself loads local files when its view returns nothing: it must refuse too."""

    def __init__(self, requests: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self._requests = requests
        self._no_images = _NoImages(self)
        self.documentLayout().registerHandler(QTextFormat.ObjectTypes.ImageObject, self._no_images)

    def loadResource(self, kind: int, url: QUrl | str) -> Any:
        self._requests.append(url.toString() if isinstance(url, QUrl) else str(url))
        return None


class SafeTextBrowser(QTextBrowser):
    def __init__(self, parent: QWidget | None = None, **kwargs: Any):
        super().__init__(parent, **kwargs)
        self.resource_requests: list[str] = []  # every URL the document asked for (none is ever loaded)
        self.setDocument(_NothingLoadingDocument(self.resource_requests, self))
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)

    def loadResource(self, kind: int, url: QUrl | str) -> Any:
        self.resource_requests.append(url.toString() if isinstance(url, QUrl) else str(url))
        return None

    def setSource(self, *_args: Any, **_kwargs: Any) -> None:
        """Never navigates: a narrative is shown, not followed."""

    def setHtml(self, html: str) -> None:
        """Whatever markup reaches this browser is sanitised first, whoever calls it."""
        super().setHtml(safe_html(html))

    def show_narrative(self, xhtml: str | None, *, empty: str) -> None:
        if xhtml:
            self.setHtml(xhtml)
        else:
            self.setPlainText(empty)
