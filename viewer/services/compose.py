"""Builds the Qt-free services from settings, once per run (the composition root's non-Qt half).

Kept apart from `viewer.app` so integration tests can wire the real services against the sandbox without
a window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
from viewer.store.record_cache import RecordCache
from viewer.store.recovery import open_or_recover
from viewer.store.session_journal import SessionJournal


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


def build_open_record(
    settings: Settings, http: httpx.AsyncClient, *, cache: RecordCache | None = None
) -> OpenRecord:
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
    return OpenRecord(sources, org_ods=settings.ods_code, org_name=settings.org_name, cache=cache)


@dataclass
class LocalStore:
    """What this run keeps on this PC, all on the one encrypted store: the audit (and its sender), the
    record cache and the session journal. Without a usable store the viewer still runs: the audit holds
    entries in memory, nothing is cached, and `problem` says why in words for the screen. `notice` says
    when an unreadable store was set aside and a new one started."""

    store: Store | None
    audit: Audit
    sender: AuditSender | None = None
    cache: RecordCache | None = None
    journal: SessionJournal | None = None
    problem: str | None = None
    notice: str | None = None

    def purge_expired(self, retention_hours: int) -> int:
        """The retention rule (start-up and hourly): records not opened for that long go."""
        if self.cache is None:
            return 0
        return self.cache.purge(older_than=timedelta(hours=retention_hours))

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def open_local_store(
    settings: Settings, http: httpx.AsyncClient, *, path: Path, token: Callable[[], str | None]
) -> LocalStore:
    """Open (or recover) the encrypted store at `path` and build what lives on it."""
    try:
        store, notice = open_or_recover(path)
    except StoreError as exc:
        log.error("The encrypted store could not be opened (%s)", type(exc).__name__)
        return LocalStore(None, Audit(None, org_ods=settings.ods_code), problem=exc.user_message)
    audit_log = AuditLog(store)
    sender = AuditSender(audit_log, http, settings.audit_url, token) if settings.audit_url else None
    audit = Audit(audit_log, org_ods=settings.ods_code, sender=sender)
    return LocalStore(store, audit, sender, RecordCache(store), SessionJournal(store), notice=notice)


def build_workspace(
    settings: Settings,
    http: httpx.AsyncClient,
    browser_for: Callable[[str | None], BrowserOpener],
    *,
    sandbox: bool = False,
    demo_users: list[tuple[str, str]] | None = None,
    demo_patients: list[tuple[str, str]] | None = None,
    audit: Audit | None = None,
    local: LocalStore | None = None,
) -> Workspace:
    """`local` is the encrypted store's services (audit, cache, journal); `audit` alone is for callers
    that keep no records (tests of the audit)."""
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
        open_record=build_open_record(settings, http, cache=local.cache if local is not None else None),
        org_ods=settings.ods_code,
        org_name=settings.org_name,
        relationship=build_relationship_check(settings, http),
        audit=local.audit if local is not None else audit,
        journal=local.journal if local is not None else None,
        patient_search=PdsClient(http, settings.pds_url, timeout=settings.pds_timeout_seconds),
        sandbox=sandbox,
        demo_users=demo_users,
        demo_patients=demo_patients,
    )
