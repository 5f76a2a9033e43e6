"""A source's own narrative, shown with the entry behind a line: sanitised, and in a browser that loads
nothing even when handed markup that asks it to (the second fence)."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QTextEdit

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in
from viewer.ui.safe_browser import SafeTextBrowser


class CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        CountingHandler.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


def test_the_browser_loads_nothing_from_the_network_or_the_disk(qtbot, tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    picture = tmp_path / "local.png"
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(0xFF0000)
    assert image.save(str(picture))
    remote = f"http://127.0.0.1:{server.server_address[1]}/track.png"
    local = QUrl.fromLocalFile(str(picture)).toString()
    try:
        browser = SafeTextBrowser()
        qtbot.addWidget(browser)
        browser.show()
        markup = (f'<p>x</p><img src="{remote}"><img src="{local}">'
                  f'<link rel="stylesheet" href="{remote}"><a href="{remote}">link</a>')
        browser.setHtml(markup)  # whoever calls it, the markup is sanitised first
        qtbot.wait(100)
        assert browser.toPlainText() == "x\nlink" and browser.resource_requests == []
        # the second fence: markup that skipped the sanitiser still loads nothing, local or remote
        QTextEdit.setHtml(browser, markup)
        browser.viewport().repaint()
        qtbot.wait(200)
        browser.setSource(QUrl(remote))  # navigation is refused too
        qtbot.wait(200)
        assert CountingHandler.hits == []
        assert browser.document().resource(QTextDocument.ResourceType.ImageResource, QUrl(local)) is None
    finally:
        server.shutdown()


def test_an_encounters_narrative_is_shown_with_the_entry_behind_it(qtbot, window_factory, sandbox) -> None:
    window = window_factory(emergency_reason=None)
    sign_in(qtbot, window)
    view = window.open_patient(patient_number(sandbox, "warfarin-inpatient"))
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    panel = view.summary.encounters.list
    admission = next(i for i in range(panel.count()) if "Inpatient" in panel.item(i).text())
    panel.setFocus()
    panel.setCurrentRow(admission)
    qtbot.keyClick(panel, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.originals_dialog is not None, timeout=5000)
    dialog = view.originals_dialog
    assert dialog.narrative.isVisible()
    assert "Hospital, Encounter" in dialog.narrative_title.text()
    shown = dialog.narrative.toPlainText()
    assert shown and shown != "This entry came without a narrative of its own."
    assert dialog.narrative.resource_requests == []
    dialog.close()
