"""The printable record: markup in FHIR values prints as text, every item names its source, the page
header names the patient and the printer, and what is missing is said before the sections."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

from msgspec.structs import replace as replace_value

from tests.support.sample_record import IMG_ALLERGY, SCRIPT_DRUG, hostile_record
from viewer.domain.provenance import SourceKind
from viewer.record.print_html import PrintedBy, page_header, record_html, source_of
from viewer.record.status import SourceState, SourceStatus

BY = PrintedBy("Dr Asha Morgan", "Clinical Practitioner", datetime(2026, 7, 1, 13, 5, tzinfo=UTC))


class Elements(HTMLParser):
    """The element names and the text of an HTML document, as a browser-like parser reads them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_markup_in_fhir_values_is_printed_as_text():
    parsed = Elements(record_html(hostile_record()))
    assert "script" not in parsed.tags and "img" not in parsed.tags and "onerror" not in parsed.attrs
    text = "".join(parsed.text)
    assert SCRIPT_DRUG in text and IMG_ALLERGY in text
    assert "1 <tablet> three times a day" in text
    assert "O'BRIEN <B>, Siân (Ms)" in text and "NHS number 999 000 0018" in text


def test_each_item_names_its_record_and_organisation():
    text = "".join(Elements(record_html(hostile_record())).text)
    assert f"{SCRIPT_DRUG}1 <tablet> three times a dayGP - Test Surgery (Y90001)" in text
    assert "Paracetamol 500mg tablets1g QDSHospital - Wardview Sandbox Hospital (RWV99)" in text


def test_page_header_names_patient_printer_and_warns_it_may_be_out_of_date():
    patient, printed = page_header(hostile_record(), BY)
    assert patient == "O'BRIEN <B>, Siân (Ms)   NHS 999 000 0018   Born 04-Mar-1950"
    # 13:05 UTC in July is 14:05 in London
    assert printed == ("Printed 01-Jul-2026 14:05 by Dr Asha Morgan (Clinical Practitioner) - "
                       "may be out of date; check the live record")


def test_a_missing_source_is_said_before_the_sections():
    record = hostile_record()
    failed = SourceStatus(SourceKind.GP, SourceState.FAILED, reason="did not answer in time")
    record = replace(record, statuses={**record.statuses, SourceKind.GP: failed})
    html = record_html(record)
    assert html.index("Not complete") < html.index("GP: failed - did not answer in time", html.index("<ul>"))
    assert html.index("<ul>") < html.index("Allergies and adverse reactions")


def test_empty_sections_say_so_rather_than_vanish():
    text = "".join(Elements(record_html(hostile_record())).text)
    assert "Immunisations (0)None recorded in the records that answered." in text


def test_source_without_organisation():
    prov = hostile_record().sections["medications"][0].provenances[0]
    assert source_of(replace_value(prov, org_name=None)) == "GP - Y90001"
    assert source_of(replace_value(prov, org_name=None, org_ods=None)) == "GP"
