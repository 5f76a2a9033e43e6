"""Builds the Qt-free services from settings, once per run (the composition root's non-Qt half).

Kept apart from `viewer.app` so integration tests can wire the real services against the sandbox without
a window.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from viewer.auth.oidc import OidcClient
from viewer.config import Settings
from viewer.services.open_record import OpenRecord, RecordSources
from viewer.services.workspace import BrowserOpener, Workspace
from viewer.sources.gpconnect import GpConnectClient
from viewer.sources.hospital import HospitalClient
from viewer.sources.http import make_http_client
from viewer.sources.pds import PdsClient, is_fresh
from viewer.sources.r4_mapping import map_hospital_record
from viewer.sources.sds import SdsClient
from viewer.sources.stu3_mapping import map_structured_record


def http_client_for(settings: Settings) -> httpx.AsyncClient:
    """The one shared client: OS trust store plus the configured CA, the Spine client certificate."""
    cert = (settings.client_cert, settings.client_key) if settings.client_cert else None
    return make_http_client(
        extra_ca=settings.extra_ca or None, client_cert=cert, timeout=settings.timeout_seconds
    )


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


def build_workspace(
    settings: Settings,
    http: httpx.AsyncClient,
    browser_for: Callable[[str | None], BrowserOpener],
    *,
    sandbox: bool = False,
    demo_users: list[tuple[str, str]] | None = None,
    demo_patients: list[tuple[str, str]] | None = None,
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
        sandbox=sandbox,
        demo_users=demo_users,
        demo_patients=demo_patients,
    )
