"""The Qt-free core must stay Qt-free: importing it loads no PySide6 module (checked in a fresh process)."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_packages_load_no_pyside6():
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import viewer
        loaded = []
        for pkg in ("viewer.domain", "viewer.sources", "viewer.record", "viewer.store", "viewer.auth",
                    "viewer.services", "viewer.config", "viewer.logs", "viewer.cli", "viewer.doctor"):
            module = importlib.import_module(pkg)
            loaded.append(pkg)
            for info in pkgutil.walk_packages(getattr(module, "__path__", []), pkg + "."):
                importlib.import_module(info.name)
                loaded.append(info.name)
        qt = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6")))
        print(len(loaded), qt)
        sys.exit(1 if qt else 0)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    count = int(result.stdout.split()[0])
    assert count >= 10  # the walk really imported the modules
