"""Print (to a PDF file, never a real printer) and export of the open record through the real window:
the header on every page, markup printed as text, the actions' enabled state, and the audit entries."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter

from tests.support.sample_record import IMG_ALLERGY, SCRIPT_DRUG, hostile_record
from tests.support.sandbox_wiring import patient_number
from tests.support.window import export_to, loaded, print_to_pdf, sign_in
from viewer.record.export import SCHEMA_ID
from viewer.ui.patient_view import PatientView

OUT_OF_DATE = "may be out of date; check the live record"


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def pdf_pages(path: Path) -> list[str]:
    """The text of each page in drawing order, so each table cell's text stays together (poppler's
    pdftotext -raw); skips when poppler-utils is not installed."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


@pytest.fixture
def audited(window_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "data"))
    return window_factory(audit_store="print-export.db")


def show_record(window, record) -> PatientView:
    """A tab holding `record` as if it had been opened (the print path reads only what is on screen)."""
    view = PatientView(record.patient.nhs_number)
    window.tabs.addTab(view, "record")
    window.tabs.setCurrentWidget(view)
    view.set_record(record)
    window.record_actions.update()
    return view


def test_every_page_carries_patient_printer_and_warning(qtbot, audited, sandbox, tmp_path):
    window = audited
    sign_in(qtbot, window)
    actions = window.record_actions
    assert not actions.print_action.isEnabled() and not actions.export_action.isEnabled()
    nhs = patient_number(sandbox, "polypharmacy-elderly")
    view = window.open_patient(nhs)
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    assert actions.print_action.isEnabled() and actions.export_action.isEnabled()
    assert actions.print_action.shortcut().toString() == "Ctrl+P"
    assert actions.export_action.shortcut().toString() == "Ctrl+Shift+E"

    pdf = tmp_path / "record.pdf"
    pages = print_to_pdf(qtbot, window, pdf)
    assert pages >= 2
    texts = pdf_pages(pdf)
    assert len(texts) == pages
    name = view.record.patient.name.banner()
    born = view.record.patient.birth_date.display()
    for number, text in enumerate(texts, start=1):
        flat = " ".join(text.split())
        assert f"{name} NHS {nhs[:3]} {nhs[3:6]} {nhs[6:]} Born {born}" in flat, number
        assert "by Dr Alice MORGAN (Clinical Practitioner Access Role)" in flat, number
        assert OUT_OF_DATE in flat, number
        assert f"Page {number} of {pages}" in flat
    everything = " ".join(" ".join(texts).split())
    assert "GP - " in everything and "Hospital - " in everything
    entry = window.workspace.audit._log.last(1)[0]
    assert (entry.action.value, entry.outcome.value, entry.patient) == ("print", "success", nhs)
    assert entry.detail == {"format": "pdf", "pages": pages}


def test_markup_in_a_drug_name_prints_as_text(qtbot, audited, tmp_path):
    window = audited
    sign_in(qtbot, window)
    show_record(window, hostile_record())
    pdf = tmp_path / "hostile.pdf"
    assert print_to_pdf(qtbot, window, pdf) == 1
    text = "".join("".join(pdf_pages(pdf)).split())  # cells wrap: compare without white space
    for value in (SCRIPT_DRUG, IMG_ALLERGY, "O'BRIEN <B>, Siân (Ms)", "1 <tablet> three times a day"):
        assert "".join(value.split()) in text


def test_export_writes_the_inspect_json_and_audits_its_type(qtbot, audited, tmp_path):
    window = audited
    sign_in(qtbot, window)
    record = hostile_record()
    show_record(window, record)
    path = export_to(qtbot, window, tmp_path / "out.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == SCHEMA_ID and data["sections"]["medications"][0]["label"] == SCRIPT_DRUG
    entry = window.workspace.audit._log.last(1)[0]
    assert (entry.action.value, entry.outcome.value) == ("export", "success")
    assert entry.patient == record.patient.nhs_number
    assert entry.detail == {"format": "json", "schema_version": 1}
    assert window.statusBar().currentMessage() == "Record exported"


def test_an_export_that_cannot_be_written_is_said_and_audited_as_failed(qtbot, audited, tmp_path):
    window = audited
    sign_in(qtbot, window)
    show_record(window, hostile_record())
    assert export_to(qtbot, window, tmp_path / "missing-folder" / "out.json") is None
    assert window.statusBar().currentMessage().startswith("The record was not exported: ")
    entry = window.workspace.audit._log.last(1)[0]
    assert (entry.action.value, entry.outcome.value) == ("export", "failed")
    assert entry.detail["error"] == "FileNotFoundError"


def test_print_and_export_are_disabled_while_locked_and_without_a_record(qtbot, audited, tmp_path):
    window = audited
    sign_in(qtbot, window)
    actions = window.record_actions
    show_record(window, hostile_record())
    assert actions.print_action.isEnabled()
    window.lock_now()
    assert not actions.print_action.isEnabled() and not actions.export_action.isEnabled()
    assert not actions.print_record(pdf_printer(tmp_path / "locked.pdf"))
    assert not actions.export_record(tmp_path / "locked.json")
    assert not (tmp_path / "locked.pdf").exists() and not (tmp_path / "locked.json").exists()
    window.unlock_as("dr.morgan")
    qtbot.waitUntil(lambda: not window.locked, timeout=20000)
    assert actions.print_action.isEnabled() and actions.export_action.isEnabled()
    window.close_tab(0)
    assert not actions.print_action.isEnabled() and not actions.export_action.isEnabled()
