"""The store key in a real Secret Service: gnome-keyring under its own D-Bus session, so the keyring
package's SecretService backend is exercised end to end without touching the developer's keyring."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("dbus-run-session", "gnome-keyring-daemon")

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import keyring
    from viewer.store.audit_log import AuditAction, AuditLog
    from viewer.store.database import Store
    from viewer.store.keys import SERVICE, key_entry, keyring_name, load_store_key

    path = Path(sys.argv[1])
    first = load_store_key("real-keyring")
    second = load_store_key("real-keyring")
    with Store.open(path, store_id="real-keyring") as store:
        AuditLog(store).append(AuditAction.SIGN_IN, user_id="555000000001")
    with Store.open(path, store_id="real-keyring", create=False) as store:
        report = AuditLog(store).verify()
    stored = keyring.get_password(SERVICE, key_entry("real-keyring"))
    print(json.dumps({
        "backend": keyring_name(),
        "same_key": first == second,
        "stored_is_key": stored == first.raw.hex(),
        "entries": report.entries,
        "intact": report.intact,
        "key_in_file": first.raw.hex().encode() in path.read_bytes(),
    }))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="the Secret Service is the Linux keyring")
def test_store_key_in_a_real_secret_service(tmp_path: Path) -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"a real Secret Service needs {' and '.join(missing)} (apt: gnome-keyring dbus-daemon)")
    pytest.importorskip("secretstorage", reason="keyring's SecretService backend needs secretstorage")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
        "PYTHONPATH": str(REPO),
    }
    (tmp_path / "run").mkdir(mode=0o700)
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT)
    command = (
        "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "
        f'"{sys.executable}" "{script}" "{tmp_path / "real.db"}"'
    )
    done = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", command],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "backend": "SecretService Keyring", "same_key": True, "stored_is_key": True, "entries": 1,
        "intact": True, "key_in_file": False,
    }
