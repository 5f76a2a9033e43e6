"""Builds the Qt-free services from settings, once per run (the composition root's non-Qt half).

Kept apart from `viewer.app` so integration tests can wire the real services against the sandbox without
a window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx

from viewer.auth.oidc import OidcClient
from viewer.config import ConfigError, Settings
from viewer.services.audit import Audit
from viewer.services.audit_sender import AuditSender
from viewer.services.open_record import OpenRecord, RecordSources
from viewer.services.relationship import build_relationship_check
from viewer.services.workspace import BrowserOpener, Workspace
from viewer.sources.gpconnect import DateRangeError, GpConnectAreas, GpConnectClient
from viewer.sources.hospital import HospitalClient
from viewer.sources.http import make_http_client
from viewer.sources.pds import PdsClient, is_fresh
from viewer.sources.r4_mapping import map_hospital_record
from viewer.sources.sds import SdsClient
from viewer.sources.stu3_mapping import map_structured_record
from viewer.store.audit_log import AuditLog
from viewer.store.database import Store
from viewer.store.errors import StoreError
from viewer.store.paths import default_store_path


def http_client_for(settings: Settings) -> httpx.AsyncClient:
    """The one shared client: OS trust store plus the configured CA, the Spine client certificate."""
    cert = (settings.client_cert, settings.client_key) if settings.client_cert else None
    return make_http_client(
        extra_ca=settings.extra_ca or None, client_cert=cert, timeout=settings.timeout_seconds
    )


log = logging.getLogger(__name__)

GP_AREA_NAMES = {
    "allergies": "allergies", "medication": "medication", "consultations": "consultations",
    "problems": "problems", "immunisations": "immunisations", "uncategorised": "uncategorised",
    "investigations": "investigations", "referrals": "referrals", "diary": "diary_entries",
}


def gpconnect_areas_from(settings: Settings, today: date) -> GpConnectAreas:
    """The GP Connect request the trust configured. Unknown area names or combinations the specification
    forbids are configuration errors, named, rather than a request every provider would refuse."""
    wanted = {a.strip().lower() for a in settings.gpconnect_areas.split(",") if a.strip()}
    unknown = sorted(wanted - GP_AREA_NAMES.keys())
    if unknown:
        raise ConfigError(f"Setting 'gpconnect_areas' names unknown areas: {', '.join(unknown)}")
    flags = {field: name in wanted for name, field in GP_AREA_NAMES.items()}
    months = settings.gpconnect_investigation_months
    try:
        return GpConnectAreas(
            **flags,
            resolved_allergies=flags["allergies"],
            prescription_issues=flags["medication"],
            most_recent_consultations=settings.gpconnect_recent_consultations or None,
            investigation_period=(today - timedelta(days=round(months * 30.44)), None) if months else None,
        )
    except DateRangeError as exc:
        raise ConfigError(f"GP Connect settings cannot be combined: {exc}") from exc


def check_settings(settings: Settings) -> None:
    """Refuse, before anything starts, settings the services would refuse later (raises ConfigError)."""
    gpconnect_areas_from(settings, datetime.now(UTC).date())


def build_open_record(settings: Settings, http: httpx.AsyncClient) -> OpenRecord:
    gp_configured = bool(settings.sds_url)
    sources = RecordSources(
        pds=PdsClient(http, settings.pds_url, timeout=settings.pds_timeout_seconds),
        sds=SdsClient(http, settings.sds_url, settings.sds_api_key, timeout=settings.sds_timeout_seconds)
        if gp_configured
        else None,
        gpconnect=GpConnectClient(
            http,
            consumer_asid=settings.asid,
            ssp_url=settings.ssp_url or None,
            organization_name=settings.org_name or None,
            timeout=settings.gpconnect_timeout_seconds,
            areas=gpconnect_areas_from(settings, datetime.now(UTC).date()),
        )
        if gp_configured
        else None,
        hospital=HospitalClient(http, settings.hospital_fhir_url, timeout=settings.hospital_timeout_seconds)
        if settings.hospital_fhir_url
        else None,
        map_gp=map_structured_record,
        map_hospital=map_hospital_record,
        pds_is_fresh=is_fresh,
    )
    return OpenRecord(sources, org_ods=settings.ods_code, org_name=settings.org_name)


def open_audit(
    settings: Settings, http: httpx.AsyncClient, *, store_file: str, token: Callable[[], str | None]
) -> tuple[Audit, AuditSender | None, str | None]:
    """The audit facade on the encrypted store, and its sender when an audit endpoint is configured.
    When the store cannot be opened (no keyring, wrong key, corrupt file) the viewer still runs, holding
    entries in memory, and the third value says why in words for the screen."""
    try:
        store = Store.open(default_store_path(store_file))
    except StoreError as exc:
        log.error("The encrypted store could not be opened (%s)", type(exc).__name__)
        return Audit(None, org_ods=settings.ods_code), None, exc.user_message
    audit_log = AuditLog(store)
    sender = AuditSender(audit_log, http, settings.audit_url, token) if settings.audit_url else None
    return Audit(audit_log, org_ods=settings.ods_code, sender=sender), sender, None


def build_workspace(
    settings: Settings,
    http: httpx.AsyncClient,
    browser_for: Callable[[str | None], BrowserOpener],
    *,
    sandbox: bool = False,
    demo_users: list[tuple[str, str]] | None = None,
    demo_patients: list[tuple[str, str]] | None = None,
    audit: Audit | None = None,
) -> Workspace:
    oidc = OidcClient(
        http,
        issuer=settings.issuer,
        client_id=settings.client_id,
        scopes=settings.scopes,
        min_acr=settings.min_acr or None,
    )
    return Workspace(
        oidc=oidc,
        browser_for=browser_for,
        open_record=build_open_record(settings, http),
        org_ods=settings.ods_code,
        org_name=settings.org_name,
        relationship=build_relationship_check(settings, http),
        audit=audit,
        patient_search=PdsClient(http, settings.pds_url, timeout=settings.pds_timeout_seconds),
        sandbox=sandbox,
        demo_users=demo_users,
        demo_patients=demo_patients,
    )
