"""`wardview doctor` against the session's sandbox: a healthy setup passes, and each fault a trust's IT
meets (clock out, untrusted CA, no client certificate, damaged store, unreadable settings) fails with a
sentence that names it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from viewer import cli
from viewer.config import ConfigError, ConfigPaths, Settings
from viewer.doctor.report import Status
from viewer.doctor.run import run_doctor
from viewer.store.database import Store


@pytest.fixture
def sandbox_settings(sandbox) -> Settings:
    return Settings().for_sandbox(sandbox.info)


def by_name(report):
    return {c.name: c for c in report.checks}


def test_a_healthy_sandbox_setup_passes(sandbox_settings: Settings, tmp_path: Path) -> None:
    report = run_doctor(sandbox_settings, {}, store_path=tmp_path / "wardview.db")
    checks = by_name(report)
    assert report.exit_code() == 0, report.to_table()
    for setting in ("issuer", "pds_url", "sds_url", "ssp_url", "hospital_fhir_url", "audit_url"):
        check = checks[f"endpoint {setting}"]
        assert check.status is Status.OK, check
        assert check.data["certificate_days_left"] > 30
        assert "TLS verified" in check.detail
    assert checks["client certificate"].status is Status.OK
    assert checks["clock"].status is Status.OK and abs(checks["clock"].data["worst_skew_seconds"]) < 5
    assert checks["keyring"].status is Status.OK
    assert checks["store"].status is Status.WARN and "no store yet" in checks["store"].detail
    assert not (tmp_path / "wardview.db").exists()  # a check never makes a store


def test_a_clock_minutes_out_fails(sandbox_settings: Settings, tmp_path: Path) -> None:
    def slow_clock() -> datetime:
        return datetime.now(UTC) - timedelta(minutes=10)

    report = run_doctor(sandbox_settings, {}, store_path=tmp_path / "w.db", clock=slow_clock)
    clock = by_name(report)["clock"]
    assert clock.status is Status.FAIL
    assert 590 < clock.data["worst_skew_seconds"] < 610 and "behind the servers" in clock.detail
    assert report.exit_code() == 1


def test_an_untrusted_server_certificate_fails(sandbox_settings: Settings, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    settings = dataclasses.replace(sandbox_settings, extra_ca=str(other_ca))
    report = run_doctor(settings, {}, store_path=tmp_path / "w.db")
    issuer = by_name(report)["endpoint issuer"]
    assert issuer.status is Status.FAIL
    assert "refused the secure connection" in issuer.detail
    assert by_name(report)["clock"].status is Status.WARN  # nothing answered to compare with
    assert report.exit_code() == 1


def test_the_spine_without_a_client_certificate_fails(sandbox_settings: Settings, tmp_path: Path) -> None:
    settings = dataclasses.replace(sandbox_settings, client_cert="", client_key="")
    checks = by_name(run_doctor(settings, {}, store_path=tmp_path / "w.db"))
    assert checks["client certificate"].status is Status.FAIL
    assert "Spine Secure Proxy refuses" in checks["client certificate"].detail
    assert checks["endpoint ssp_url"].status is Status.FAIL  # the sandbox's SSP demands one, as Spine does
    assert checks["endpoint pds_url"].status is Status.OK


def test_a_missing_client_certificate_file_is_named(sandbox_settings: Settings, tmp_path: Path) -> None:
    settings = dataclasses.replace(sandbox_settings, client_cert=str(tmp_path / "gone.pem"))
    check = by_name(run_doctor(settings, {}, store_path=tmp_path / "w.db"))["client certificate"]
    assert check.status is Status.FAIL and "gone.pem is missing" in check.detail


def test_an_existing_store_opens_and_a_damaged_one_fails(sandbox_settings: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    Store.open(good).close()
    check = by_name(run_doctor(sandbox_settings, {}, store_path=good))["store"]
    assert check.status is Status.OK and check.data["schema_version"] >= 1
    bad = tmp_path / "bad.db"
    Store.open(bad).close()  # its key is in the keyring; then the file is damaged
    bad.write_bytes(b"not a store" * 1000)
    check = by_name(run_doctor(sandbox_settings, {}, store_path=bad))["store"]
    assert check.status is Status.FAIL and "cannot be read with this PC's key" in check.detail
    assert bad.read_bytes() == b"not a store" * 1000  # reported, never touched
    check = by_name(run_doctor(sandbox_settings, {}, store_path=tmp_path / "nokey.db"))["store"]
    assert check.status is Status.WARN  # no file: nothing to open yet


def test_unreadable_settings_still_check_keyring_and_store(tmp_path: Path) -> None:
    report = run_doctor(ConfigError("Cannot read settings file /etc/wardview/wardview.toml"), None,
                        store_path=tmp_path / "w.db")
    assert [c.name for c in report.checks] == ["settings", "keyring", "store"]
    assert report.checks[0].status is Status.FAIL and "wardview.toml" in report.checks[0].detail
    assert report.exit_code() == 1


def test_cli_doctor_sandbox_json(tmp_path: Path, monkeypatch, capsys) -> None:
    machine = tmp_path / "machine.toml"
    machine.write_text('idle_lock_minutes = 5\nsds_api_key = "do-not-print"\n')
    user = tmp_path / "user.toml"
    user.write_text("font_scale = 1.25\n")
    monkeypatch.setattr(ConfigPaths, "default", classmethod(lambda cls: ConfigPaths(None, machine, user)))
    code = cli.main(["doctor", "--sandbox", "--json"])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert code == 0 and report["ok"] is True, out
    settings = {s["name"]: s for s in report["settings"]}
    assert settings["idle_lock_minutes"] == {"name": "idle_lock_minutes", "value": "5", "origin": "machine",
                                             "scope": "machine"}
    assert settings["font_scale"]["origin"] == "user"
    assert settings["pds_url"]["origin"] == "sandbox"
    assert settings["sds_api_key"]["value"] == "(set)"
    assert "do-not-print" not in out
    assert {c["name"] for c in report["checks"]} >= {"endpoint issuer", "clock", "keyring", "store"}


def test_cli_doctor_table_fails_without_endpoints(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(ConfigPaths, "default", classmethod(lambda cls: ConfigPaths(None, None, None)))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert any(line.split() == ["FAIL", "setting", "issuer", "not", "set:", "nobody", "can", "sign", "in"]
               for line in out.splitlines()), out
    assert out.rstrip().endswith("check(s) FAILED")
