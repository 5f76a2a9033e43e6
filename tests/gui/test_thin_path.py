"""The thin end-to-end path with pytest-qt: sign in against the sandbox IdP, open a patient by NHS number,
see the banner and the allergies and medicines of both sources, each with its source."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.support.sandbox_wiring import patient_number
from tests.support.window import loaded, sign_in


@pytest.fixture
def window(window_factory):
    return window_factory()


def test_sign_in_open_patient_and_see_both_sources(qtbot, window, sandbox, tmp_path):
    sign_in(qtbot, window)
    nhs = patient_number(sandbox, "same-medicine")
    qtbot.keyClicks(window.nhs_edit, nhs)
    assert window.open_button.isEnabled()
    qtbot.mouseClick(window.open_button, Qt.MouseButton.LeftButton)
    view = window.view_for(nhs)
    assert view is not None
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)

    banner = view.banner
    assert banner.name.text().startswith("NOWAK, ")
    assert banner.fields["NHS number"].text() == f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    assert banner.allergy.text() in {"Known allergies", "No known allergies", "Allergies not recorded"}
    assert "GP: loaded" in view.strip.labels[next(k for k in view.strip.labels if k.value == "gp")].text()

    meds = view.medications
    headers = [meds.headerData(c, Qt.Orientation.Horizontal) for c in range(meds.columnCount())]
    source_col = headers.index("Source")
    rows = [(meds.index(r, 0).data().lower(), meds.index(r, source_col).data())
            for r in range(meds.rowCount())]
    atorvastatin = [src for name, src in rows if "atorvastatin" in name]
    # one line for the medicine both records hold, naming both sources
    assert len(atorvastatin) == 1
    assert atorvastatin[0].startswith("GP - ") and " + Hospital - " in atorvastatin[0]
    assert any(src.startswith("GP - ") and "+" not in src for _, src in rows)
    assert any(src.startswith("Hospital - ") and "+" not in src for _, src in rows)

    shot = tmp_path / "thin_path.png"
    assert window.grab().save(str(shot))
    assert shot.stat().st_size > 10_000


def test_gp_only_allergy_in_allergy_table(qtbot, window, sandbox):
    sign_in(qtbot, window)
    nhs = patient_number(sandbox, "gp-only-allergy")
    view = window.open_patient(nhs)
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    model = view.allergies
    rows = [(model.index(r, 0).data(), model.index(r, 1).data()) for r in range(model.rowCount())]
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Source"
    assert any("buprofen" in name and src.startswith("GP") for name, src in rows), rows
    assert view.banner.allergy.text() == "Known allergies"


def test_dissent_shown_in_status_strip(qtbot, window, sandbox):
    sign_in(qtbot, window)
    view = window.open_patient(patient_number(sandbox, "gp-dissent"))
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    texts = [label.text() for label in view.strip.labels.values()]
    assert any("withheld at the patient's request" in t for t in texts)


def test_invalid_number_cannot_be_opened(qtbot, window):
    sign_in(qtbot, window)
    qtbot.keyClicks(window.nhs_edit, "9990000019")
    assert not window.open_button.isEnabled()
    window.open_from_entry()
    assert window.tabs.count() == 0


def test_two_role_clinician_works_in_the_role_chosen_at_sign_in(qtbot, window, sandbox):
    window.sign_in_as("nurse.adebayo")
    qtbot.waitUntil(lambda: window.session is not None, timeout=20000)
    user = next(u for u in sandbox.info["users"] if u["username"] == "nurse.adebayo")
    assert len(user["roles"]) == 2
    assert window.session.selected_role.person_roleid in {r["person_roleid"] for r in user["roles"]}
    assert window.session.selected_role.role_name in window.user_label.text()


def test_admin_without_clinical_role_is_refused(qtbot, window):
    window.sign_in_as("admin.price")
    qtbot.waitUntil(lambda: "role" in window.sign_in_page.message.text(), timeout=20000)
    assert window.session is None
    assert window.stack.currentIndex() == 0


def test_screenshot_for_readme(qtbot, window, sandbox):
    """Renders the README screenshot; only written when WARDVIEW_SCREENSHOT names a path."""
    import os

    target = os.environ.get("WARDVIEW_SCREENSHOT")
    sign_in(qtbot, window)
    view = window.open_patient(patient_number(sandbox, "gp-only-allergy"))
    qtbot.waitUntil(lambda: loaded(view), timeout=30000)
    view.banner.more.setChecked(True)
    qtbot.wait(200)
    image = window.grab()
    assert not image.isNull()
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        image.save(target)
