"""`wardview audit verify` and `audit show`: intact, broken, and no keyring, as a user would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlcipher3

from tests.support.memory_keyring import MemoryKeyring
from viewer.cli import main
from viewer.store.audit_log import AuditAction, AuditLog
from viewer.store.database import Store
from viewer.store.keys import load_store_key

REPO = Path(__file__).resolve().parents[2]
PATIENT = "9990000018"
PLAIN = (
    "The secure key store of this PC is not available, so Wardview cannot keep records or its "
    "audit log. Contact IT."
)


@pytest.fixture
def audited(tmp_path: Path, fresh_keyring: MemoryKeyring) -> Path:
    path = tmp_path / "wardview.db"
    with Store.open(path) as store:
        audit = AuditLog(store)
        audit.append(AuditAction.SIGN_IN, user_id="555000000001", role_id="555000000101")
        audit.append(AuditAction.RECORD_OPEN, user_id="555000000001", patient=PATIENT,
                     detail={"basis": "encounter"})
        audit.append(AuditAction.SIGN_OUT, user_id="555000000001")
        head = audit.head()[1]
    (tmp_path / "head").write_text(head)
    return path


def test_verify_reports_an_intact_log(audited: Path, capsys) -> None:
    assert main(["audit", "verify", "--store", str(audited)]) == 0
    head = (audited.parent / "head").read_text()
    assert capsys.readouterr().out.strip() == f"Audit log intact: 3 entries, head {head[:12]}"


def test_verify_names_the_first_broken_entry(audited: Path, fresh_keyring: MemoryKeyring, capsys) -> None:
    key = load_store_key("wardview", create=False, backend=fresh_keyring)
    db = sqlcipher3.connect(str(audited), isolation_level=None)
    db.execute(f"PRAGMA key = {key.sqlcipher_pragma_value()}")
    db.execute("DROP TRIGGER audit_entry_no_delete")
    db.execute("DELETE FROM audit_entry WHERE seq = 3")
    db.close()
    assert main(["audit", "verify", "--store", str(audited)]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at entry 3" in out and "2 entries before it are intact" in out


def test_show_lists_the_newest_entries(audited: Path, capsys) -> None:
    assert main(["audit", "show", "--last", "2", "--store", str(audited)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert "record-open" in lines[0] and PATIENT in lines[0] and "basis=encounter" in lines[0]
    assert "sign-out" in lines[1]


def test_verify_without_a_store_or_key_cannot_check(tmp_path: Path, audited: Path, fresh_keyring,
                                                    capsys) -> None:
    assert main(["audit", "verify", "--store", str(tmp_path / "none.db")]) == 2
    assert "no Wardview store" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    fresh_keyring._store.clear()
    assert main(["audit", "verify", "--store", str(audited)]) == 2
    assert "not in this PC's key store" in capsys.readouterr().err
    assert fresh_keyring._store == {}  # verify never makes a key


def test_verify_with_a_wrong_key_reports_unreadable(audited: Path, fresh_keyring, capsys) -> None:
    fresh_keyring._store.clear()
    load_store_key("wardview", backend=fresh_keyring)  # a new key, as after a keyring reset
    assert main(["audit", "verify", "--store", str(audited)]) == 1
    assert "unreadable" in capsys.readouterr().err


def test_verify_without_a_keyring_says_so_plainly(audited: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    done = subprocess.run(
        [sys.executable, "-m", "viewer", "audit", "verify", "--store", str(audited)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"wardview: {PLAIN}"
    assert done.stdout == ""
