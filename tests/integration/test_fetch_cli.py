"""`wardview fetch`: the headless end-to-end check trust IT run on a PC, against its own sandbox.

Nothing is bypassed: sign-in, the role, the care relationship (emergency access with a reason where
there is none), the audit; the tokens are revoked at the end. The store lives in a throwaway data folder
with the in-memory keyring, never the developer's.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import jsonschema
import pytest

from tests.support.sandbox_wiring import make_workspace, patient_number
from viewer.cli import main
from viewer.config import Settings
from viewer.headless import SANDBOX_REASON, FetchRequest, run_fetch
from viewer.services.fetch import FetchRefused, fetch_record
from viewer.store.audit_log import AuditLog
from viewer.store.database import Store
from viewer.store.paths import default_store_path

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "inspect-schema.json"


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def fetch(nhs: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_fetch(Settings(), FetchRequest(nhs, as_json=True, sandbox=True), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def audit_actions() -> list[tuple[str, str, str | None]]:
    with Store.open(default_store_path("sandbox.db"), create=False) as store:
        log = AuditLog(store)
        assert log.verify().intact
        return [(e.action.value, e.outcome.value, e.emergency_reason) for e in log.last(50)]


def test_fetch_prints_the_record_in_the_inspect_schema_and_audits_the_access(sandbox, data_home) -> None:
    nhs = patient_number(sandbox, "warfarin-inpatient")
    code, out, err = fetch(nhs)
    assert code == 0, err
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    assert document["patient"]["nhs_number"] == nhs
    assert {s["state"] for s in document["sources"].values()} == {"loaded"}
    assert document["sections"]["medications"], "the inpatient is on warfarin"
    assert "Signed in as" in err and "GP: loaded" in err and "Hospital: loaded" in err
    actions = audit_actions()
    assert [a[0] for a in actions][-3:] == ["sign-in", "record-open", "sign-out"]
    assert actions[-2][2] is None  # a care relationship: no emergency access


def test_without_a_care_relationship_the_sandbox_run_is_flagged_emergency_access(sandbox, data_home) -> None:
    nhs = patient_number(sandbox, "large-record")
    code, _out, err = fetch(nhs)
    assert code == 0, err
    assert "emergency access" in err
    emergency = [a for a in audit_actions() if a[0] == "emergency-access"]
    assert emergency and emergency[-1][2] == SANDBOX_REASON


def test_without_a_reason_no_relationship_means_no_record(sandbox) -> None:
    nhs = patient_number(sandbox, "large-record")

    async def attempt() -> None:
        workspace, http = make_workspace(sandbox, emergency_reason=None)
        try:
            await fetch_record(workspace, nhs, username=sandbox.info["users"][0]["username"])
        finally:
            await http.aclose()

    with pytest.raises(FetchRefused, match="--reason"):
        asyncio.run(attempt())


def test_the_command_line_as_trust_it_types_it(sandbox, data_home, capsys) -> None:
    nhs = patient_number(sandbox, "warfarin-inpatient")
    assert main(["fetch", nhs, "--sandbox", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["patient"]["nhs_number"] == nhs
    assert default_store_path("sandbox.db").exists() and not default_store_path().exists()


def test_an_unknown_option_is_refused_not_ignored(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["fetch", "9990000018", "--sandbx"])
    assert stopped.value.code == 2 and "--sandbx" in capsys.readouterr().err


def test_an_invalid_number_is_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "9990000019", "--sandbox"]) == 2
    assert "not a valid NHS number" in capsys.readouterr().err
