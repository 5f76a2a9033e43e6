"""What the doctor checks on the PC itself: the keyring that holds the store key, the encrypted store,
and the client certificate files the Spine connection presents.

The store is opened read-only in spirit (`create=False`): a check must never make a store or a key, or
a PC whose keyring was reset would look healthy while its old store stays unreadable.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from viewer.config import Settings
from viewer.doctor.report import Check, Status
from viewer.store.errors import KeyringUnavailable, StoreError, StoreMissing
from viewer.store.keys import keyring_name, usable_backend

CERT_WARN_DAYS = 30  # server and client certificates alike: time to renew before the ward notices


def keyring_check() -> Check:
    name = keyring_name()
    try:
        usable_backend(None)
    except KeyringUnavailable as exc:
        return Check("keyring", Status.FAIL, f"{name}: {exc.user_message}", {"backend": name})
    return Check("keyring", Status.OK, f"{name} is available for the store key", {"backend": name})


def store_check(path: Path) -> Check:
    from viewer.store.database import Store

    data = {"path": str(path)}
    try:
        with Store.open(path, create=False) as store, store.reading() as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
    except StoreMissing:
        return Check("store", Status.WARN, f"no store yet at {path}: the viewer makes it at the first "
                     "sign-in", data)
    except StoreError as exc:
        return Check("store", Status.FAIL, f"{path}: {exc.user_message}", data)
    size = path.stat().st_size
    data |= {"schema_version": version, "bytes": size}
    return Check("store", Status.OK, f"{path} opens with this PC's key (schema {version}, "
                 f"{size / 1024:.0f} KiB)", data)


def client_certificate_check(settings: Settings, now: datetime | None = None) -> Check:
    """Present, readable, matching its key, in date. Needed only when the Spine (SSP) is configured."""
    if not settings.client_cert:
        if settings.ssp_url:
            return Check("client certificate", Status.FAIL, "not set: the Spine Secure Proxy refuses "
                         "connections without one (set client_cert and client_key)")
        return Check("client certificate", Status.OK, "not set (only the Spine needs one)")
    cert_path, key_path = Path(settings.client_cert), Path(settings.client_key or settings.client_cert)
    for label, path in (("certificate", cert_path), ("key", key_path)):
        if not path.is_file():
            return Check("client certificate", Status.FAIL, f"the client {label} file {path} is missing")
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        ssl.create_default_context().load_cert_chain(cert_path, key_path)
    except (OSError, ValueError, ssl.SSLError) as exc:
        return Check("client certificate", Status.FAIL, f"{cert_path} with {key_path} cannot be used "
                     f"({type(exc).__name__}): not a PEM certificate, or the key does not match")
    now = now or datetime.now(UTC)
    days = (cert.not_valid_after_utc - now).days
    data = {"path": str(cert_path), "expires": cert.not_valid_after_utc.isoformat(), "days_left": days}
    if days < 0 or cert.not_valid_before_utc > now:
        return Check("client certificate", Status.FAIL, f"{cert_path} is not valid now", data)
    status = Status.WARN if days < CERT_WARN_DAYS else Status.OK
    return Check("client certificate", status, f"{cert_path} present, matches its key, valid until "
                 f"{cert.not_valid_after_utc:%d-%b-%Y} ({days} days)", data)
