"""`wardview doctor`: every check in one report, in the order IT reads them (settings, certificates,
endpoints and clock, keyring, store). Exit status 0 when nothing failed (warnings allowed), 1 otherwise."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from viewer.config import ConfigError, Settings
from viewer.doctor.endpoints import Clock, endpoint_checks, utc_now
from viewer.doctor.local_checks import client_certificate_check, keyring_check, store_check
from viewer.doctor.report import Check, Report, Status
from viewer.doctor.settings_checks import setting_rows, settings_checks, unreadable_settings_check

ORIGIN_SANDBOX = "sandbox"


def sandbox_origins(before: Settings, after: Settings, origins: dict[str, str]) -> dict[str, str]:
    """The values `Settings.for_sandbox` replaced come from the sandbox, not the layer they were read from."""
    return {
        f.name: ORIGIN_SANDBOX if getattr(before, f.name) != getattr(after, f.name) else origins[f.name]
        for f in dataclasses.fields(Settings)
    }


def run_doctor(
    settings: Settings | ConfigError,
    origins: dict[str, str] | None,
    *,
    store_path: Path,
    clock: Clock = utc_now,
) -> Report:
    """All checks; `settings` is the error instead when the configuration could not be read, and the
    checks that need no settings (keyring, store) still run."""
    checks: list[Check] = []
    rows = []
    if isinstance(settings, ConfigError):
        checks.append(unreadable_settings_check(settings))
    else:
        origins = origins or {}
        rows = setting_rows(settings, origins)
        checks += settings_checks(settings, origins)
        certificate = client_certificate_check(settings, clock())
        checks.append(certificate)
        checks += asyncio.run(endpoint_checks(
            settings, with_client_cert=certificate.status is not Status.FAIL, clock=clock
        ))
    checks += [keyring_check(), store_check(store_path)]
    return Report("doctor", checks, rows)
