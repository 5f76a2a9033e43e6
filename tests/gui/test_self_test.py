"""`wardview --self-test` in the development install: every check passes, the output is what a script
reads, and a missing piece fails the run with its name."""

from __future__ import annotations

import json

from viewer import cli
from viewer.doctor import self_test


def test_self_test_passes_in_the_dev_install(qapp, capsys) -> None:
    assert cli.main(["--self-test", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert list(checks) == ["build", "imports", "data files", "sqlcipher", "keyring", "tls trust store",
                            "offscreen window"]
    assert all(c["status"] == "ok" for c in checks.values()), checks
    assert checks["imports"]["data"]["modules"] > 100
    assert checks["sqlcipher"]["data"]["version"].startswith("4.")
    assert checks["build"]["data"]["frozen"] is False


def test_a_missing_data_file_fails_the_self_test(qapp, capsys, monkeypatch) -> None:
    monkeypatch.setattr(self_test, "DATA_FILES", (*self_test.DATA_FILES, ("viewer.ui", "gone.qss")))
    assert cli.main(["--self-test"]) == 1
    out = capsys.readouterr().out
    assert "FAIL    data files" in out and "viewer.ui/gone.qss" in out
    assert out.rstrip().endswith("wardview --self-test: 1 check(s) FAILED")


def test_a_check_that_crashes_is_a_failure_not_a_crash(qapp, monkeypatch) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(self_test, "sqlcipher_check", broken)
    report = self_test.run_self_test(lambda: self_test.build_check())
    failed = [c for c in report.checks if c.status == "fail"]
    assert [c.detail for c in failed] == ["the check itself failed (RuntimeError: boom)"]
