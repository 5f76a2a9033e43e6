"""Each configured endpoint reached the way the viewer reaches it (the same TLS context: OS trust store,
the extra CA, the client certificate), its server certificate read, and the clock compared with the
servers' `Date` headers.

Why the clock: the GP Connect JWT is valid for 5 minutes from `iat`; a PC whose clock is minutes out has
every GP record request refused, which looks to a clinician like a broken GP system.
Any HTTP answer counts as reachable (a 401 or 404 from a base URL is normal); only a 5xx is a warning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from cryptography import x509
from cryptography.x509.oid import NameOID

from viewer.config import Settings
from viewer.doctor.local_checks import CERT_WARN_DAYS
from viewer.doctor.report import Check, Status
from viewer.sources.http import is_tls_failure, make_http_client

SKEW_WARN_SECONDS = 30.0
SKEW_FAIL_SECONDS = 120.0
PROBE_TIMEOUT = 10.0

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Endpoint:
    setting: str
    label: str
    path: str = ""  # appended to the base URL: a resource that answers without sign-in where one exists


ENDPOINTS = (
    Endpoint("issuer", "identity provider", "/.well-known/openid-configuration"),
    Endpoint("pds_url", "PDS"),
    Endpoint("sds_url", "SDS"),
    Endpoint("ssp_url", "Spine Secure Proxy"),
    Endpoint("hospital_fhir_url", "hospital FHIR", "/metadata"),
    Endpoint("audit_url", "audit endpoint"),
)


@dataclass(frozen=True)
class Probe:
    check: Check
    skew_seconds: float | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


async def probe_endpoint(client: httpx.AsyncClient, endpoint: Endpoint, base: str, clock: Clock) -> Probe:
    name = f"endpoint {endpoint.setting}"
    url = httpx.URL(base.rstrip("/") + endpoint.path)
    if url.scheme != "https":
        return Probe(Check(name, Status.FAIL, f"{endpoint.label} at {base} is not over TLS (https)"))
    started = clock()
    try:
        async with client.stream("GET", url, timeout=PROBE_TIMEOUT) as response:
            finished = clock()
            stream = response.extensions.get("network_stream")
            ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            status, date = response.status_code, response.headers.get("Date")
    except httpx.HTTPError as exc:
        if isinstance(exc, httpx.TimeoutException):
            why = "did not answer in time"
        elif is_tls_failure(exc):
            why = ("refused the secure connection (untrusted or expired certificate, or a client "
                   "certificate it does not accept)")
        else:
            why = f"could not be reached ({type(exc).__name__})"
        return Probe(Check(name, Status.FAIL, f"{endpoint.label} at {base} {why}"))
    except Exception as exc:  # a malformed URL or certificate: this endpoint fails, the report goes on
        return Probe(Check(name, Status.FAIL, f"{endpoint.label} at {base} could not be checked "
                           f"({type(exc).__name__})"))
    data: dict[str, object] = {"url": base, "http_status": status}
    problems: list[str] = []
    verdict = Status.WARN if status >= 500 else Status.OK
    if status >= 500:
        problems.append(f"answered HTTP {status}")
    if der:
        cert = x509.load_der_x509_certificate(der)
        days = (cert.not_valid_after_utc - finished).days
        data |= {"certificate_subject": _common_name(cert.subject), "certificate_issuer":
                 _common_name(cert.issuer), "certificate_expires": cert.not_valid_after_utc.isoformat(),
                 "certificate_days_left": days}
        if days < CERT_WARN_DAYS:
            verdict = Status.WARN if verdict is Status.OK else verdict
            problems.append(f"its certificate expires in {days} days")
    skew = None
    if date:
        try:
            server_time = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            server_time = None
        if server_time is not None:
            skew = (server_time - (started + (finished - started) / 2)).total_seconds()
            data["clock_skew_seconds"] = round(skew, 1)
    summary = f"{endpoint.label}: TLS verified, HTTP {status}"
    if der:
        summary += f", certificate valid until {cert.not_valid_after_utc:%d-%b-%Y}"
    if problems:
        summary += "; " + "; ".join(problems)
    return Probe(Check(name, verdict, summary, data), skew)


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def clock_check(probes: list[Probe]) -> Check:
    skews = [p.skew_seconds for p in probes if p.skew_seconds is not None]
    if not skews:
        return Check("clock", Status.WARN, "could not be compared: no server answered with a Date header")
    worst = max(skews, key=abs)
    data = {"worst_skew_seconds": round(worst, 1), "servers": len(skews)}
    direction = "behind" if worst > 0 else "ahead of"
    text = f"this PC is {abs(worst):.0f} s {direction} the servers"
    if abs(worst) >= SKEW_FAIL_SECONDS:
        return Check("clock", Status.FAIL, f"{text}: GP Connect will refuse its requests; fix the time "
                     "service (w32time / NTP)", data)
    if abs(worst) >= SKEW_WARN_SECONDS:
        return Check("clock", Status.WARN, f"{text}: check the time service (w32time / NTP)", data)
    return Check("clock", Status.OK, f"within {SKEW_WARN_SECONDS:.0f} s of {len(skews)} server(s) "
                 f"({worst:+.0f} s)", data)


async def endpoint_checks(
    settings: Settings, *, with_client_cert: bool, clock: Clock = utc_now
) -> list[Check]:
    """One check per configured endpoint, then the clock check; unset endpoints are the settings' concern."""
    cert = (settings.client_cert, settings.client_key) if with_client_cert and settings.client_cert else None
    client = make_http_client(extra_ca=settings.extra_ca or None, client_cert=cert, timeout=PROBE_TIMEOUT)
    configured = [(e, getattr(settings, e.setting)) for e in ENDPOINTS if getattr(settings, e.setting)]
    async with client:
        probes = await asyncio.gather(*(probe_endpoint(client, e, url, clock) for e, url in configured))
    return [*(p.check for p in probes), clock_check(list(probes))]
