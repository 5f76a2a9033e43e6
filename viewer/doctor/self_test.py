"""`wardview --self-test`: is this installation whole? Run on the frozen build before it is packaged and
by IT after an install; it needs no settings, no network and no display.

A frozen build fails in ways a source checkout never does: a module PyInstaller did not see (imported
lazily), a data file not collected, a keyring backend whose entry point metadata was dropped, an OpenSSL
without SQLCipher. So every product module is imported, the data files are read, and each native piece
is exercised. The Qt check (an offscreen window) is passed in: this package never imports PySide6.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import ssl
import sys
from collections.abc import Callable
from importlib import resources

import viewer
from viewer import __version__
from viewer.doctor.local_checks import keyring_check
from viewer.doctor.report import Check, Report, Status

# Imported lazily by the product, so a frozen build can miss them; the walk below imports them anyway, and
# this list makes sure a walk that finds too little (a frozen importer without listing) still fails.
ESSENTIAL_MODULES = (
    "viewer.app", "viewer.cli", "viewer.headless", "viewer.ui.main_window", "viewer.services.compose",
    "viewer.store.database", "viewer.sandbox.runner", "viewer.sandbox.idp", "viewer.sources.gpconnect",
    "sqlcipher3", "keyring", "truststore", "httpx", "authlib", "orjson", "flask", "trustme", "cryptography",
)
DATA_FILES = (("viewer.ui", "style.qss"), ("viewer.sandbox", "templates/sign_in.html"),
              ("viewer.sandbox", "templates/error.html"))
NATIVE_KEYRING = {"win32": "keyring.backends.Windows", "darwin": "keyring.backends.macOS"}


def build_check() -> Check:
    frozen = bool(getattr(sys, "frozen", False))
    kind = "frozen build" if frozen else "source install"
    return Check("build", Status.OK, f"wardview {__version__}, {kind}, Python {platform.python_version()} "
                 f"on {platform.system()} {platform.machine()}", {"version": __version__, "frozen": frozen})


def imports_check() -> Check:
    walked = pkgutil.walk_packages(viewer.__path__, "viewer.", onerror=lambda _name: None)
    names = {m.name for m in walked if not m.name.endswith(".__main__")}  # that one runs the command line
    names.update(ESSENTIAL_MODULES)
    names.add(NATIVE_KEYRING.get(sys.platform, "keyring.backends.SecretService"))
    failed = []
    for name in sorted(names):
        try:
            importlib.import_module(name)
        except Exception as exc:  # any failure to import is the finding
            failed.append(f"{name} ({type(exc).__name__})")
    if failed:
        return Check("imports", Status.FAIL, f"{len(failed)} of {len(names)} modules do not import: "
                     + ", ".join(failed[:8]), {"failed": failed})
    return Check("imports", Status.OK, f"{len(names)} modules import", {"modules": len(names)})


def data_files_check() -> Check:
    missing = []
    for package, name in DATA_FILES:
        try:
            if not resources.files(package).joinpath(name).read_bytes():
                missing.append(f"{package}/{name} (empty)")
        except (OSError, ModuleNotFoundError):
            missing.append(f"{package}/{name}")
    if missing:
        return Check("data files", Status.FAIL, "missing: " + ", ".join(missing))
    return Check("data files", Status.OK, f"{len(DATA_FILES)} present")


def sqlcipher_check() -> Check:
    import sqlcipher3

    connection = sqlcipher3.connect(":memory:")
    try:
        connection.execute("PRAGMA key = \"x'" + "00" * 32 + "'\"")
        row = connection.execute("PRAGMA cipher_version").fetchone()
        provider = connection.execute("PRAGMA cipher_provider").fetchone()
    finally:
        connection.close()
    if not row or not row[0]:
        return Check("sqlcipher", Status.FAIL, "the SQLite library has no SQLCipher: the store would not be "
                     "encrypted")
    detail = f"SQLCipher {row[0]}" + (f" ({provider[0]})" if provider and provider[0] else "")
    return Check("sqlcipher", Status.OK, detail, {"version": row[0]})


def trust_store_check() -> Check:
    """The OS trust store the viewer verifies servers with (truststore), so a trust's own CA deployed by
    group policy is honoured; on Linux that is OpenSSL's system CA file or directory."""
    import truststore

    try:
        truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except Exception as exc:
        return Check("tls trust store", Status.FAIL, f"cannot use the OS trust store ({type(exc).__name__})")
    if sys.platform in ("win32", "darwin"):
        return Check("tls trust store", Status.OK, f"OS certificate store ({platform.system()})")
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile if paths.cafile and os.path.isfile(paths.cafile) else None
    capath = paths.capath if paths.capath and os.path.isdir(paths.capath) and os.listdir(paths.capath) else ""
    if not (cafile or capath):
        return Check("tls trust store", Status.FAIL, "no system CA certificates at "
                     f"{paths.openssl_cafile} or {paths.openssl_capath} (install ca-certificates)")
    return Check("tls trust store", Status.OK, f"system CA certificates at {cafile or capath}",
                 {"cafile": cafile, "capath": capath})


def run_self_test(window_check: Callable[[], Check]) -> Report:
    checks: list[Check] = []
    for check in (build_check, imports_check, data_files_check, sqlcipher_check, keyring_check,
                  trust_store_check, window_check):
        try:
            checks.append(check())
        except Exception as exc:  # one broken piece must not hide the report on the others
            checks.append(Check(getattr(check, "__name__", "check"), Status.FAIL,
                                f"the check itself failed ({type(exc).__name__}: {exc})"))
    return Report("--self-test", checks)
