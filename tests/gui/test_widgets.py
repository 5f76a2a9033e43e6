from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt

from viewer.domain import (
    Allergy,
    Concept,
    HumanName,
    Medication,
    PartialDate,
    Patient,
    Problem,
    Provenance,
    Reaction,
    SourceKind,
    SourceRecord,
)
from viewer.record.combined import combine
from viewer.record.status import SourceState, SourceStatus
from viewer.ui.banner import PatientBanner, born_text
from viewer.ui.models import AllergyTableModel, MedicationTableModel, ProblemTableModel
from viewer.ui.nhs_entry import NhsNumberEdit
from viewer.ui.patient_view import PatientView

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def prov(source=SourceKind.GP, rtype="AllergyIntolerance"):
    return Provenance(source, rtype, "id-1", NOW, "Y90001", "The Surgery")


SPECIAL = "Take with food & water <not> \"crushed\" 'ever' £5 \\ ok"


def sample_record(deceased=False):
    pds = Patient("9990000018", HumanName("Smith", ("Ann", "Marie"), ("Mrs",)), "female",
                  PartialDate.parse("1945-07-14"), prov(SourceKind.PDS, "Patient"),
                  deceased=deceased, deceased_date=PartialDate.parse("2026-01-05") if deceased else None,
                  address=("1 High Street", "Leeds"), postcode="LS1 1AA", gp_practice_ods="Y90001")
    allergies = (
        Allergy(Concept("Penicillin"), prov(), clinical_status="active", verification_status="confirmed",
                category=("medication",), reactions=(Reaction((Concept("Rash"),), "severe"),)),
        Allergy(Concept("Latex"), prov(), clinical_status="resolved", end_date=PartialDate.parse("2020"),
                end_reason="Outgrown"),
    )
    meds = (Medication(Concept("Amlodipine 5mg tablets"), prov(rtype="MedicationStatement"),
                       status="active", kind="repeat", dosage=SPECIAL),
            Medication(Concept("Amlodipine 5mg tablets"), prov(SourceKind.HOSPITAL, "MedicationRequest"),
                       status="active"))
    problems = (Problem(Concept("Hypertension"), prov(rtype="Condition"), clinical_status="active"),)
    gp = SourceRecord(SourceKind.GP, NOW, None, "Y90001", "The Surgery", allergies=allergies,
                      medications=meds[:1], problems=problems)
    hosp = SourceRecord(SourceKind.HOSPITAL, NOW, None, "RWV99", "Trust", medications=meds[1:])
    statuses = {k: SourceStatus(k, SourceState.LOADED, NOW) for k in SourceKind}
    return combine(pds, statuses, gp, hosp)


@pytest.mark.parametrize("model_cls", [AllergyTableModel, MedicationTableModel, ProblemTableModel])
def test_models_pass_qtmodeltester(qtmodeltester, model_cls):
    record = sample_record()
    section = {AllergyTableModel: "allergies", MedicationTableModel: "medications",
               ProblemTableModel: "problems"}[model_cls]
    items = record.sections[section]
    model = model_cls(items)
    qtmodeltester.check(model, force_py=True)
    model.set_items(())
    qtmodeltester.check(model, force_py=True)


def test_every_row_shows_source_and_retrieval_time():
    model = MedicationTableModel(sample_record().sections["medications"])
    headers = [model.headerData(c, Qt.Orientation.Horizontal)
               for c in range(model.columnCount())]
    src, when = headers.index("Source"), headers.index("Retrieved")
    rows = [(model.index(r, src).data(), model.index(r, when).data()) for r in range(model.rowCount())]
    # the same amlodipine from both sources is one line that names both
    assert rows == [("GP - Y90001 The Surgery + Hospital - Y90001 The Surgery", "10:42 23-Nov-2026")]


def test_free_text_shown_exactly_as_received():
    model = MedicationTableModel(sample_record().sections["medications"])
    texts = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert model.headerData(2, Qt.Orientation.Horizontal) == "Dosage"
    assert SPECIAL in texts


def test_banner_follows_cui(qtbot):
    banner = PatientBanner(today=date(2026, 11, 23))
    qtbot.addWidget(banner)
    banner.set_record(sample_record())
    assert banner.name.text() == "SMITH, Ann Marie (Mrs)"
    assert banner.fields["Born"].text() == "14-Jul-1945 (81y)"
    assert banner.fields["Gender"].text() == "Female"
    assert banner.fields["NHS number"].text() == "999 000 0018"
    assert banner.allergy.text() == "Known allergies"
    assert banner.property("deceased") is False


def test_banner_deceased(qtbot):
    banner = PatientBanner(today=date(2026, 11, 23))
    qtbot.addWidget(banner)
    banner.show()
    banner.set_record(sample_record(deceased=True))
    assert banner.property("deceased") is True
    assert banner.fields["Died"].isVisible()
    assert banner.fields["Died"].text() == "05-Jan-2026 (aged 80y)"


def test_banner_copy_nhs_number(qtbot):
    from PySide6.QtGui import QGuiApplication

    banner = PatientBanner()
    qtbot.addWidget(banner)
    banner.set_record(sample_record())
    banner.copy_button.click()
    assert QGuiApplication.clipboard().text() == "9990000018"


def test_born_text_unknown_and_partial():
    p = Patient("9990000018", HumanName(None), None, None, prov(SourceKind.PDS, "Patient"))
    assert born_text(p, date(2026, 1, 1)) == "Not Known"
    p2 = Patient("9990000018", HumanName(None), None, PartialDate.parse("1950"),
                 prov(SourceKind.PDS, "Patient"))
    assert born_text(p2, date(2026, 1, 1)) == "1950"


def test_nhs_entry_validates_and_formats(qtbot):
    edit = NhsNumberEdit()
    qtbot.addWidget(edit)
    with qtbot.wait_signal(edit.validity_changed) as blocker:
        qtbot.keyClicks(edit, "9990000018")
    assert blocker.args == [True]
    assert edit.text() == "999 000 0018"
    assert edit.nhs_number() == "9990000018"
    edit.clear()
    qtbot.keyClicks(edit, "9990000019")
    assert not edit.is_valid()
    assert edit.property("invalid") is True


def test_patient_view_renders(qtbot):
    view = PatientView("9990000018")
    qtbot.addWidget(view)
    view.set_record(sample_record())
    assert view.allergies.rowCount() == 2
    assert view.medications.rowCount() == 1  # one medicine, two sources
    assert view.medications.item(0).sources == (SourceKind.GP, SourceKind.HOSPITAL)
    assert "Record warnings" in view.sections.tabText(view.sections.count() - 1)


def test_no_known_allergy_row_reads_as_a_statement():
    from viewer.record.merge import MergedItem

    nka = Allergy(Concept("No known allergy"), prov(), clinical_status="active", no_known_allergies=True,
                  negation_scope="all")
    model = AllergyTableModel([MergedItem(nka, (nka,))])
    status_col = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index(
        "Status")
    assert model.index(0, status_col).data() == "Statement (no allergy)"
