"""Typed settings, layered the way trust IT expects: group policy > machine file > user file > defaults.

Endpoints and security settings are `machine` settings: a user file can never change them, so a clinician
cannot point the viewer at another server or weaken the lock. Windows reads policy and machine settings
from the registry (HKLM\\Software\\Policies\\Wardview, HKLM\\Software\\Wardview); every platform also reads
TOML files, whose locations tests replace so they never touch a developer's real configuration.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MACHINE = "machine"  # only policy or the machine file may set it
USER = "user"  # the user file may set it too


def _m(default: Any, scope: str = MACHINE, doc: str = "") -> Any:
    return field(default=default, metadata={"scope": scope, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Every setting has a scope; `describe()` lists them for the README and the ADMX templates."""

    issuer: str = _m("", doc="OpenID Connect issuer (NHS CIS2 or the trust's IdP)")
    client_id: str = _m("wardview-desktop", doc="OIDC client id registered for the viewer")
    scopes: str = _m("openid profile nationalrbacaccess associatedorgs selectedrole", doc="OIDC scopes")
    min_acr: str = _m("", doc="Minimum authentication assurance (e.g. AAL3_ANY for a smartcard)")
    pds_url: str = _m("", doc="PDS FHIR R4 base URL")
    sds_url: str = _m("", doc="Spine Directory Service FHIR base URL")
    sds_api_key: str = _m("", doc="SDS API key")
    ssp_url: str = _m("", doc="Spine Secure Proxy URL (empty: call the provider directly)")
    hospital_fhir_url: str = _m("", doc="The trust's FHIR R4 server base URL")
    audit_url: str = _m("", doc="FHIR AuditEvent endpoint (empty: local audit only)")
    ods_code: str = _m("", doc="The trust's ODS code (requesting organisation)")
    org_name: str = _m("", doc="The trust's name, shown as the hospital source")
    asid: str = _m("", doc="The viewer's Spine ASID at this trust")
    client_cert: str = _m("", doc="PEM client certificate presented to the Spine")
    client_key: str = _m("", doc="PEM key of the client certificate")
    extra_ca: str = _m("", doc="Extra CA bundle trusted besides the OS store")
    idle_lock_minutes: int = _m(15, doc="Lock after this many minutes without input")
    session_max_hours: int = _m(12, doc="End a session after this many hours")
    cache_retention_hours: int = _m(72, doc="Purge cached records not opened for this long")
    timeout_seconds: float = _m(10.0, doc="Network timeout per request")
    pds_timeout_seconds: float = _m(10.0, doc="PDS timeout per request")
    sds_timeout_seconds: float = _m(10.0, doc="SDS timeout per request")
    gpconnect_timeout_seconds: float = _m(10.0, doc="GP Connect timeout (providers SHALL answer in 3 s)")
    hospital_timeout_seconds: float = _m(15.0, doc="Hospital FHIR server timeout per request")
    gpconnect_areas: str = _m(
        "allergies,medication,consultations,problems,immunisations,uncategorised,investigations,referrals,"
        "diary",
        doc="GP Connect clinical areas to request (comma-separated); allergies always count as unavailable "
        "when not requested",
    )
    gpconnect_recent_consultations: int = _m(0, doc="Ask for only the N most recent consultations (0: all)")
    gpconnect_investigation_months: int = _m(0, doc="Ask for investigations of the last N months (0: all)")
    allow_sandbox: bool = _m(True, doc="Allow `--sandbox` (synthetic data) on this machine")
    font_scale: float = _m(1.0, USER, "Text size multiplier on top of the system font")
    high_contrast: bool = _m(False, USER, "Use the high-contrast palette")
    recent_patients: int = _m(10, USER, "How many recent patients to list")

    @staticmethod
    def describe() -> list[tuple[str, str, str, Any]]:
        """(name, scope, doc, default) for every setting."""
        return [(f.name, f.metadata["scope"], f.metadata["doc"], f.default) for f in fields(Settings)]

    def for_sandbox(self, info: Mapping[str, Any]) -> Settings:
        """Point every endpoint at a running sandbox (its JSON line). Refused when policy forbids it."""
        if not self.allow_sandbox:
            raise PermissionError("The sandbox is disabled on this machine by policy.")
        return dataclasses.replace(
            self,
            issuer=info["issuer"],
            client_id=info["client_id"],
            pds_url=info["pds"],
            sds_url=info["sds"],
            sds_api_key=info["sds_api_key"],
            ssp_url=info["ssp"],
            hospital_fhir_url=info["hospital"],
            audit_url=info["audit"],
            ods_code=info["consumer_ods"],
            org_name=info.get("hospital_name", "Sandbox hospital"),
            asid=info["consumer_asid"],
            client_cert=info["client_cert"],
            client_key=info["client_key"],
            extra_ca=info["ca_cert"],
        )


_FIELDS = {f.name: f for f in fields(Settings)}


class ConfigError(ValueError):
    """A settings source held a value of the wrong type; the message names the setting and the source."""


def _coerce(name: str, value: Any, origin: str) -> Any:
    target = type(_FIELDS[name].default)
    try:
        if target is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        return target(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Setting '{name}' in {origin} is not a valid {target.__name__}") from exc


def merge_layers(
    *,
    policy: Mapping[str, Any] | None = None,
    machine: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
) -> Settings:
    """Apply defaults < user < machine < policy, ignoring user values for machine-scoped settings."""
    return merge_layers_with_origins(policy=policy, machine=machine, user=user)[0]


# Where a value came from, as `wardview doctor` names it.
ORIGIN_DEFAULT, ORIGIN_USER, ORIGIN_MACHINE, ORIGIN_POLICY = "default", "user", "machine", "policy"


def merge_layers_with_origins(
    *,
    policy: Mapping[str, Any] | None = None,
    machine: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
) -> tuple[Settings, dict[str, str]]:
    """`merge_layers`, plus the layer each value came from, so IT can see why a PC has a value."""
    values: dict[str, Any] = {}
    origins = dict.fromkeys(_FIELDS, ORIGIN_DEFAULT)
    for origin, label, layer, allowed in (
        ("the user settings", ORIGIN_USER, user or {}, {USER}),
        ("the machine settings", ORIGIN_MACHINE, machine or {}, {USER, MACHINE}),
        ("group policy", ORIGIN_POLICY, policy or {}, {USER, MACHINE}),
    ):
        for name, value in layer.items():
            spec = _FIELDS.get(name)
            if spec is None:
                log.warning("Ignoring unknown setting %r in %s", name, origin)
                continue
            if spec.metadata["scope"] not in allowed:
                log.warning("Ignoring %r in %s: only policy or the machine may set it", name, origin)
                continue
            values[name] = _coerce(name, value, origin)
            origins[name] = label
    return Settings(**values), origins


@dataclass(frozen=True)
class ConfigPaths:
    """Where each layer lives. Tests build their own; `default()` gives the platform's real places."""

    policy_file: Path | None
    machine_file: Path | None
    user_file: Path | None
    use_registry: bool = False

    @classmethod
    def default(cls) -> ConfigPaths:
        if sys.platform == "win32":
            program_data = Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData"))
            app_data = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
            return cls(
                policy_file=None,
                machine_file=program_data / "Wardview" / "wardview.toml",
                user_file=app_data / "Wardview" / "settings.toml",
                use_registry=True,
            )
        config_home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
        return cls(
            policy_file=Path("/etc/wardview/policy.toml"),
            machine_file=Path("/etc/wardview/wardview.toml"),
            user_file=config_home / "wardview" / "settings.toml",
        )


def read_toml(path: Path | None) -> dict[str, Any]:
    """A missing file is an empty layer; an unreadable one is an error that names the file."""
    if path is None or not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read settings file {path}: {exc}") from exc
    return dict(data.get("wardview", data))


def read_registry(key: str) -> dict[str, Any]:  # pragma: no cover - Windows only
    """Values under HKLM\\<key>; empty where the key or winreg is absent."""
    try:
        import winreg
    except ImportError:
        return {}
    values: list[tuple[str, Any]] = []
    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
            index = 0
            while True:
                try:
                    name, value, _kind = winreg.EnumValue(handle, index)
                except OSError:
                    break
                values.append((name, value))
                index += 1
    except OSError:
        return {}
    return registry_layer(values)


def registry_layer(values: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Registry values as a layer. An empty string is not set: the MSI writes every deployment property,
    given or not (wixl has no component conditions), and an empty value must not hide the default."""
    return {name: value for name, value in values if value != ""}


def read_layers(paths: ConfigPaths) -> dict[str, dict[str, Any]]:
    """Every layer of this machine, unmerged: {"policy": ..., "machine": ..., "user": ...}."""
    policy = read_toml(paths.policy_file)
    machine = read_toml(paths.machine_file)
    if paths.use_registry:
        machine = {**machine, **read_registry(r"Software\Wardview")}
        policy = {**policy, **read_registry(r"Software\Policies\Wardview")}
    return {"policy": policy, "machine": machine, "user": read_toml(paths.user_file)}


def load_settings(paths: ConfigPaths) -> Settings:
    """Read every layer for this machine and merge them."""
    return merge_layers(**read_layers(paths))


def load_settings_with_origins(paths: ConfigPaths) -> tuple[Settings, dict[str, str]]:
    """`load_settings` and the layer each value came from (`wardview doctor`)."""
    return merge_layers_with_origins(**read_layers(paths))
