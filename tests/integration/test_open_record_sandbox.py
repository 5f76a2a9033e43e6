"""The real services, end to end against the sandbox: sign in, trace, GP Connect and hospital in parallel."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest

from tests.support.sandbox_wiring import make_workspace, patient_number
from viewer.domain.provenance import SourceKind
from viewer.logs import configure_logging
from viewer.record.combined import AllergyState
from viewer.record.status import SourceState

NOISY = ("httpx", "httpcore", "werkzeug")


def open_record(sandbox, scenario, username="dr.morgan"):
    async def go():
        workspace, http = make_workspace(sandbox)
        try:
            session = await workspace.sign_in(username)
            choices = workspace.role_choices(session)
            if session.selected_role is None:
                workspace.select_role(session, choices[0][0])
            updates = []
            record = await workspace.open_record(patient_number(sandbox, scenario), session, updates.append)
            return record, updates
        finally:
            await http.aclose()

    return asyncio.run(go())


def states(record):
    return {k: v.state for k, v in record.statuses.items()}


def test_same_medicine_from_both_sources(sandbox):
    record, updates = open_record(sandbox, "same-medicine")
    assert states(record) == {SourceKind.PDS: SourceState.LOADED, SourceKind.GP: SourceState.LOADED,
                              SourceKind.HOSPITAL: SourceState.LOADED}
    atorvastatin = [m for m in record.medications if "atorvastatin" in m.name.label.lower()]
    assert {m.provenance.source for m in atorvastatin} == {SourceKind.GP, SourceKind.HOSPITAL}
    assert all(m.provenance.resource_id for m in record.medications)  # STR05: logical ids kept
    merged = [m for m in record.sections["medications"] if "atorvastatin" in m.item.name.label.lower()
              and m.item.is_current]
    assert len(merged) == 1 and set(merged[0].sources) == {SourceKind.GP, SourceKind.HOSPITAL}
    assert len(updates) >= 3  # banner first, then each source as it lands


def test_gp_only_allergy_is_shown_with_its_source(sandbox):
    record, _ = open_record(sandbox, "gp-only-allergy")
    by_source = {(a.substance.label.lower(), a.provenance.source) for a in record.allergies}
    assert any("ibuprofen" in label and src is SourceKind.GP for label, src in by_source)
    assert any("latex" in label and src is SourceKind.HOSPITAL for label, src in by_source)
    assert record.allergy_state is AllergyState.KNOWN
    ibuprofen = next(m for m in record.sections["allergies"] if "ibuprofen" in m.item.substance.label.lower())
    assert ibuprofen.conflicts == ("Allergy recorded in the GP record only, not in the Hospital record",)


def test_dissent_is_said_and_hospital_still_shown(sandbox):
    record, _ = open_record(sandbox, "gp-dissent")
    assert record.statuses[SourceKind.GP].state is SourceState.WITHHELD
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
    assert record.allergy_state is AllergyState.UNAVAILABLE  # we cannot see the GP's allergies


def test_not_registered_patient(sandbox):
    record, _ = open_record(sandbox, "not-registered")
    assert record.statuses[SourceKind.GP].state is SourceState.NOT_FOUND


def test_restricted_patient_hides_contact_details(sandbox):
    record, _ = open_record(sandbox, "restricted")
    assert record.patient.restricted
    assert record.patient.address == () and record.patient.phone is None
    assert record.statuses[SourceKind.GP].state is not SourceState.LOADED


def test_superseded_number_is_followed(sandbox):
    record, _ = open_record(sandbox, "superseded-old")
    assert record.patient.nhs_number == patient_number(sandbox, "superseded-new")
    assert any("replaced" in n for n in record.notices)


def test_allergy_states(sandbox):
    assert open_record(sandbox, "no-known-allergies")[0].allergy_state is AllergyState.NO_KNOWN
    assert open_record(sandbox, "allergies-not-recorded")[0].allergy_state is AllergyState.NOT_RECORDED


def test_demographic_mismatch_alerts(sandbox):
    record, _ = open_record(sandbox, "demographic-mismatch")
    fields = {m.field for m in record.mismatches}
    assert {"Family name", "Date of birth"} <= fields


def test_warnings_carried_into_the_record(sandbox):
    transit, _ = open_record(sandbox, "data-in-transit")
    assert any(w.code == "data-in-transit" for w in transit.warnings)
    confidential, _ = open_record(sandbox, "confidential-items")
    assert any("confidentiality" in w.message for w in confidential.warnings)


def test_large_record_nothing_lost(sandbox):
    record, _ = open_record(sandbox, "large-record")
    assert record.statuses[SourceKind.GP].state is SourceState.LOADED
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
    assert record.unreadable == ()
    world = sandbox.world.patient(patient_number(sandbox, "large-record"))
    gp_meds = [m for m in record.medications if m.provenance.source is SourceKind.GP]
    assert len(gp_meds) == len(world.gp.medications)


def test_gp_connect_outage_keeps_hospital(sandbox):
    from viewer.sandbox.faults import Fault

    sandbox.faults.set("gpconnect", Fault(kind="status", status=503))
    try:
        record, _ = open_record(sandbox, "ordinary-adult")
    finally:
        sandbox.faults.clear("gpconnect")
    assert record.statuses[SourceKind.GP].state is SourceState.FAILED
    assert record.statuses[SourceKind.HOSPITAL].state is SourceState.LOADED
    assert record.allergy_state is not AllergyState.NO_KNOWN


def test_admin_role_cannot_open_records(sandbox):
    async def go():
        workspace, http = make_workspace(sandbox)
        try:
            session = await workspace.sign_in("admin.price")
            return workspace.blocked_reason(session)
        finally:
            await http.aclose()

    reason = asyncio.run(go())
    assert reason and "role" in reason


def test_no_patient_data_in_logs(sandbox, caplog):
    """Our own code logs no patient data even at DEBUG, and the app's log output (its real logging set-up,
    redaction filter included) carries none either."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in NOISY})
    handlers = configure_logging(logging.INFO, stream=stream)
    root.addHandler(caplog.handler)  # configure_logging replaced the root handlers, caplog's included
    caplog.set_level(logging.DEBUG, logger="viewer")
    try:
        nhs = patient_number(sandbox, "free-text")
        record, _ = open_record(sandbox, "free-text")
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(saved[0])
        for handler in saved[1]:
            if handler not in root.handlers:
                root.addHandler(handler)
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("viewer"))
    assert ours  # the code under test did log something
    secrets = [nhs, record.patient.name.family, *(m.name.label for m in record.medications),
               *(a.substance.label for a in record.allergies)]
    for text in (ours, stream.getvalue()):
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize("scenario", ["ordinary-adult", "child", "deceased", "warfarin-inpatient",
                                      "area-not-implemented", "several-practices", "polypharmacy-elderly"])
def test_every_kind_of_patient_opens_without_unreadable_items(sandbox, scenario):
    record, _ = open_record(sandbox, scenario)
    assert record.patient is not None
    assert record.unreadable == ()
