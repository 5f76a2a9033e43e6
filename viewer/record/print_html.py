"""The combined record as printable HTML, and the lines every printed page carries at its top.

A printed record outlives the screen it came from: each page says whose record it is, who printed it and
when, and that it may be out of date; each item says which record (GP or hospital, and which organisation)
it came from. Sources that failed or withheld their part are said before the sections, so a page without
GP medicines never reads as "no medicines". Every value from FHIR is HTML-escaped: a drug name holding
markup prints as the characters received, never as markup.

Qt-free, so the text is unit-tested; viewer.ui.record_print only lays it out on pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from viewer.domain.dates import format_date, format_time
from viewer.domain.nhs_number import format_nhs_number
from viewer.domain.patient import Patient
from viewer.domain.provenance import Provenance
from viewer.record.combined import CombinedRecord
from viewer.record.export import item_details, item_label
from viewer.record.merge import SECTIONS, MergedItem
from viewer.record.status import SourceState

SECTION_TITLES = {
    "allergies": "Allergies and adverse reactions", "medications": "Medications", "problems": "Problems",
    "encounters": "Encounters", "observations": "Results", "reports": "Reports",
    "immunisations": "Immunisations", "referrals": "Referrals", "documents": "Documents",
    "flags": "Alerts",
}
_INCOMPLETE = (SourceState.FAILED, SourceState.WITHHELD, SourceState.NOT_FOUND, SourceState.LOADING)
OUT_OF_DATE = "may be out of date; check the live record"


@dataclass(frozen=True, slots=True)
class PrintedBy:
    """Who printed, in which role, and when (UTC; shown in Europe/London)."""

    clinician: str
    role: str
    at: datetime


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def patient_line(patient: Patient | None) -> str:
    """`OKAFOR, Grace (Mrs)   NHS 999 000 0018   Born 04-Mar-1950`: unknown parts read `Not Known`."""
    if patient is None:
        return "Patient Not Known"
    born = patient.birth_date.display() if patient.birth_date is not None else "Not Known"
    return f"{patient.name.banner()}   NHS {format_nhs_number(patient.nhs_number)}   Born {born}"


def printed_line(by: PrintedBy) -> str:
    return f"Printed {format_date(by.at)} {format_time(by.at)} by {by.clinician} ({by.role}) - {OUT_OF_DATE}"


def page_header(record: CombinedRecord, by: PrintedBy) -> tuple[str, str]:
    """The two plain-text lines at the top of every page (painted as text, never parsed as markup)."""
    return patient_line(record.patient), printed_line(by)


def source_of(provenance: Provenance) -> str:
    """`GP - Example Surgery (Y12345)`, `Hospital - RWV99`: the record an item came from."""
    org = provenance.org_name or provenance.org_ods
    if provenance.org_name and provenance.org_ods:
        org = f"{provenance.org_name} ({provenance.org_ods})"
    return f"{provenance.source.label} - {org}" if org else provenance.source.label


def _sources(merged: MergedItem) -> str:
    return "; ".join(dict.fromkeys(source_of(p) for p in merged.provenances))


def _item_row(section: str, merged: MergedItem) -> str:
    details = "; ".join(item_details(section, merged.item))
    conflicts = "".join(f"<br><b>Differs between records:</b> {_e(c)}" for c in merged.conflicts)
    return (f"<tr><td>{_e(item_label(merged.item))}</td><td>{_e(details)}{conflicts}</td>"
            f"<td>{_e(_sources(merged))}</td></tr>")


def _section(name: str, items: tuple[MergedItem, ...]) -> str:
    title = f"<h2>{_e(SECTION_TITLES.get(name, name.capitalize()))} ({len(items)})</h2>"
    if not items:
        return f"{title}<p>None recorded in the records that answered.</p>"
    rows = "".join(_item_row(name, m) for m in items)
    return (f"{title}<table width='100%' border='1' cellspacing='0' cellpadding='3'>"
            f"<tr><th align='left'>Item</th><th align='left'>Details</th><th align='left'>Source</th></tr>"
            f"{rows}</table>")


def _gaps(record: CombinedRecord) -> list[str]:
    """What the printout does not hold, said first: missing sources, mismatches, unreadable items."""
    lines = [s.text() for s in record.statuses.values() if s.state in _INCOMPLETE]
    lines += [f"Identity mismatch: {m.text()}" for m in record.mismatches]
    lines += [w.message for w in record.warnings]
    if record.unreadable:
        lines.append(f"{len(record.unreadable)} items could not be displayed.")
    return lines


def record_html(record: CombinedRecord) -> str:
    """The body of the printout; the page header (who printed it, and when) is painted on every page."""
    patient = record.patient
    parts = [f"<h1>{_e(patient.name.banner() if patient is not None else 'Patient Not Known')}</h1>"]
    if patient is not None:
        born = patient.birth_date.display() if patient.birth_date is not None else "Not Known"
        gender = (patient.gender or "Not Known").capitalize()
        parts.append(f"<p>Born <b>{_e(born)}</b> &nbsp; Gender <b>{_e(gender)}</b> &nbsp; "
                     f"NHS number <b>{_e(format_nhs_number(patient.nhs_number))}</b></p>")
        if patient.deceased:
            died = patient.deceased_date.display() if patient.deceased_date is not None else "date not known"
            parts.append(f"<p><b>Died {_e(died)}</b></p>")
    parts.append("<p>" + " | ".join(_e(s.text()) for s in record.statuses.values()) + "</p>")
    parts.append(f"<p><b>{_e(record.allergy_state.value)}</b></p>")
    gaps = _gaps(record)
    if gaps:
        parts.append("<h2>Not complete</h2><ul>" + "".join(f"<li>{_e(g)}</li>" for g in gaps) + "</ul>")
    for name in SECTIONS:
        parts.append(_section(name, record.sections.get(name, ())))
    return "<html><body>" + "".join(parts) + "</body></html>"


__all__ = ["PrintedBy", "page_header", "patient_line", "printed_line", "record_html", "source_of"]
