"""`wardview cache info` and `cache purge`, run in-process as an admin would, on a throwaway data folder
and an in-memory keyring."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.memory_keyring import MemoryKeyring
from viewer.cli import main
from viewer.config import ConfigPaths
from viewer.domain.patient import HumanName, Patient
from viewer.domain.provenance import Provenance, SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.store import paths
from viewer.store.database import Store
from viewer.store.keys import SERVICE, key_entry
from viewer.store.record_cache import RecordCache

OLD, RECENT = "9990000018", "9990000026"
NOW = datetime.now(UTC)


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """main() points root logging at this test's captured stderr; later tests must not log into it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def record(source: SourceKind, retrieved_at: datetime) -> SourceRecord:
    return SourceRecord(source, retrieved_at, None, org_name="Lime Tree Surgery")


def fill(path: Path, *, old_opened: datetime) -> None:
    """OLD last opened at `old_opened`, RECENT an hour ago (GP, hospital and demographics)."""
    with Store.open(path) as store:
        RecordCache(store, clock=lambda: old_opened).save_source(OLD, record(SourceKind.GP, old_opened))
        recent = RecordCache(store, clock=lambda: NOW - timedelta(hours=1))
        recent.save_source(RECENT, record(SourceKind.GP, NOW - timedelta(hours=2)))
        recent.save_source(RECENT, record(SourceKind.HOSPITAL, NOW - timedelta(hours=2)))
        recent.save_demographics(RECENT, Patient(RECENT, HumanName("X"), None, None, Provenance(
            SourceKind.PDS, "Patient", "p", NOW)), NOW - timedelta(hours=3))


def patients_in(path: Path) -> set[str]:
    with Store.open(path, create=False) as store, store.reading() as db:
        return {row[0] for row in db.execute("SELECT nhs_number FROM cached_patient")}


def test_info_json_names_the_store_and_keyring_entry_never_the_key(
    data_home: Path, fresh_keyring: MemoryKeyring, capsys
) -> None:
    path = paths.store_path_for(sandbox=False)
    fill(path, old_opened=NOW - timedelta(days=5))
    assert main(["cache", "info", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["path"] == str(path) and str(data_home) in data["path"]
    assert data["patients"] == 2 and data["source_records"] == 3 and data["demographics"] == 1
    assert datetime.fromisoformat(data["oldest_retrieval"]) == NOW - timedelta(days=5)
    assert data["size_bytes"] > 0
    assert data["keyring"]["service"] == SERVICE and data["keyring"]["entry"] == key_entry("wardview")
    assert "MemoryKeyring" in data["keyring"]["backend"]
    key_hex = fresh_keyring.get_password(SERVICE, key_entry("wardview"))
    assert key_hex is not None and key_hex not in out and key_hex.upper() not in out


def test_info_in_words(data_home: Path, fresh_keyring: MemoryKeyring, capsys) -> None:
    fill(paths.store_path_for(sandbox=False), old_opened=NOW)
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "Patients:        2" in out and "3 GP and hospital, 1 PDS demographics" in out
    assert "store-key:wardview" in out


def test_sandbox_uses_the_sandbox_runs_store(data_home: Path, fresh_keyring: MemoryKeyring, capsys) -> None:
    fill(paths.store_path_for(sandbox=True), old_opened=NOW)
    assert paths.store_path_for(sandbox=True).name == "sandbox.db"
    for argv in (["cache", "info", "--json", "--sandbox"], ["--sandbox", "cache", "info", "--json"]):
        assert main(argv) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["path"].endswith("sandbox.db") and data["keyring"]["entry"] == key_entry("sandbox")
    assert main(["cache", "info"]) == 1  # no real store was ever made
    assert "There is no Wardview store" in capsys.readouterr().err
    assert not paths.store_path_for(sandbox=False).exists()


def test_purge_removes_what_is_past_retention_and_says_how_many(
    data_home: Path, fresh_keyring: MemoryKeyring, capsys
) -> None:
    path = paths.store_path_for(sandbox=False)
    fill(path, old_opened=NOW - timedelta(hours=80))
    assert main(["cache", "purge"]) == 0
    assert "1 patient(s) not opened in the last 72 hours" in capsys.readouterr().out
    assert patients_in(path) == {RECENT}


def test_purge_follows_the_machine_retention_setting(data_home: Path, fresh_keyring: MemoryKeyring,
                                                     monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    path = paths.store_path_for(sandbox=False)
    fill(path, old_opened=NOW - timedelta(hours=30))
    machine, user = data_home / "machine.toml", data_home / "user.toml"
    monkeypatch.setattr(ConfigPaths, "default", classmethod(lambda cls: cls(None, machine, user)))
    user.write_text("cache_retention_hours = 1\n")  # machine-scoped: a user file cannot shorten it
    assert main(["cache", "purge"]) == 0
    assert patients_in(path) == {OLD, RECENT}
    machine.write_text("cache_retention_hours = 24\n")
    assert main(["cache", "purge"]) == 0
    assert "1 patient(s) not opened in the last 24 hours" in capsys.readouterr().out.splitlines()[-1]
    assert patients_in(path) == {RECENT}
    machine.write_text("cache_retention_hours = 0\n")
    assert main(["cache", "purge"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert patients_in(path) == {RECENT}
    machine.write_text("cache_retention_hours = 'soon'\n")
    assert main(["cache", "purge"]) == 2
    assert "cache_retention_hours" in capsys.readouterr().err


def test_purge_one_patient(data_home: Path, fresh_keyring: MemoryKeyring, capsys) -> None:
    path = paths.store_path_for(sandbox=False)
    fill(path, old_opened=NOW)
    assert main(["cache", "purge", "--patient", "999 000 0026"]) == 0
    assert "Removed that patient's cached records." in capsys.readouterr().out
    assert patients_in(path) == {OLD}
    assert main(["cache", "purge", "--patient", RECENT]) == 0
    assert "Nothing was cached" in capsys.readouterr().out


def test_bad_usage_is_2_and_opens_nothing(data_home: Path, fresh_keyring: MemoryKeyring, capsys) -> None:
    assert main(["cache", "purge", "--patient", "9990000019"]) == 2
    assert "not a valid NHS number" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["cache", "shrink"])
    assert exited.value.code == 2
    assert not paths.store_path_for(sandbox=False).exists()
    assert fresh_keyring._store == {}


def test_an_unusable_store_is_1_with_the_stores_own_sentence(
    data_home: Path, fresh_keyring: MemoryKeyring, capsys
) -> None:
    path = paths.store_path_for(sandbox=False)
    fill(path, old_opened=NOW)
    fresh_keyring._store.clear()  # the keyring was reset
    assert main(["cache", "info"]) == 1
    assert "key" in capsys.readouterr().err
    assert main(["cache", "purge"]) == 1
    assert fresh_keyring._store == {}  # no key was made for it
