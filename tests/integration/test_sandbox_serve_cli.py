"""`serve()` (behind `wardview sandbox serve`) in a real subprocess: JSON line first, SIGINT ends it."""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
_MISSING = [
    name
    for name in ("population", "pds_server", "sds_server", "gpconnect_server", "hospital_server")
    if importlib.util.find_spec(f"viewer.sandbox.{name}") is None
]
pytestmark = [
    pytest.mark.skipif(bool(_MISSING), reason=f"sandbox modules not written yet: {_MISSING}"),
    pytest.mark.skipif(os.name == "nt", reason="SIGINT delivery to a child differs on Windows"),
]

SCRIPT = (
    "import sys; from viewer.sandbox.runner import serve; "
    "sys.exit(serve(2026, sys.argv[1:], sys.stdout))"
)


def _first_line(stream, timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


def _start(*faults: str, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *faults],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_serve_prints_json_line_serves_and_exits_cleanly_on_sigint(tmp_path: Path) -> None:
    proc = _start("pds=status:503:retry-after=1", home=tmp_path)
    try:
        line = _first_line(proc.stdout, timeout=60)
        info = json.loads(line)
        assert info["wardview_sandbox"] == 1
        for key in ("issuer", "client_id", "pds", "sds", "sds_api_key", "gpconnect", "ssp", "hospital",
                    "audit", "ca_cert", "client_cert", "client_key", "consumer_asid", "consumer_ods",
                    "hospital_ods", "users", "patients"):
            assert key in info
        ctx = ssl.create_default_context(cafile=info["ca_cert"])
        with httpx.Client(verify=ctx, trust_env=False, timeout=20) as http:
            discovery = http.get(f"{info['issuer']}/.well-known/openid-configuration").json()
            assert "S256" in discovery["code_challenge_methods_supported"]
            nhs = info["patients"][0]["nhs_number"] if info["patients"] else "9990000018"
            faulted = http.get(f"{info['pds']}/Patient/{nhs}")
            assert faulted.status_code == 503  # the CLI fault spec reached the PDS server
            assert faulted.headers["retry-after"] == "1"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out == ""  # nothing but the JSON line on stdout
    assert nhs not in err  # request URLs are not logged
    assert not Path(info["ca_cert"]).exists()  # its temporary workdir went with it


def test_serve_sigterm_also_exits_cleanly(tmp_path: Path) -> None:
    proc = _start(home=tmp_path)
    try:
        json.loads(_first_line(proc.stdout, timeout=60))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err


def test_serve_refuses_a_bad_fault_spec(tmp_path: Path) -> None:
    proc = _start("pds=explode", home=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == ""
    assert "explode" in err
