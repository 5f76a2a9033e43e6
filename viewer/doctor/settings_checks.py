"""The configuration as the doctor shows it: every setting, its value and the layer it came from, and
whether the values make a viewer that can work (required endpoints set, combinations the services accept).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from viewer.config import ORIGIN_DEFAULT, ORIGIN_MACHINE, ORIGIN_POLICY, ORIGIN_USER, ConfigError, Settings
from viewer.doctor.report import Check, SettingRow, Status

SECRET_SETTINGS = frozenset({"sds_api_key"})  # shown as set / not set, never printed
REQUIRED = {
    "issuer": "nobody can sign in",
    "pds_url": "no patient can be found",
}
OPTIONAL = {
    "sds_url": "the GP record is not fetched",
    "hospital_fhir_url": "the hospital record is not fetched",
    "audit_url": "the audit stays on this PC",
}


def _shown(name: str, value: Any) -> str:
    if name in SECRET_SETTINGS:
        return "(set)" if value else "(not set)"
    if value == "":
        return "(not set)"
    return str(value)


def setting_rows(settings: Settings, origins: dict[str, str]) -> list[SettingRow]:
    return [
        SettingRow(name, _shown(name, getattr(settings, name)), origins.get(name, ORIGIN_DEFAULT), scope)
        for name, scope, _doc, _default in Settings.describe()
    ]


def settings_checks(settings: Settings, origins: dict[str, str]) -> list[Check]:
    from viewer.services.compose import check_settings

    counts = Counter(origins.values())
    read = [f"{counts[o]} from {o}" for o in (ORIGIN_POLICY, ORIGIN_MACHINE, ORIGIN_USER) if counts[o]]
    layers = ", ".join(read) or "defaults only"
    checks = [Check("settings", Status.OK, f"read: {layers}", {"from": dict(counts)})]
    try:
        check_settings(settings)
    except ConfigError as exc:
        checks.append(Check("settings combined", Status.FAIL, str(exc)))
    for name, consequence in REQUIRED.items():
        if not getattr(settings, name):
            checks.append(Check(f"setting {name}", Status.FAIL, f"not set: {consequence}"))
    for name, consequence in OPTIONAL.items():
        if not getattr(settings, name):
            checks.append(Check(f"setting {name}", Status.WARN, f"not set: {consequence}"))
    return checks


def unreadable_settings_check(error: ConfigError) -> Check:
    return Check("settings", Status.FAIL, str(error))
