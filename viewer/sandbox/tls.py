"""The sandbox's per-run certificate authority, server certificate and GP Connect client certificate.

Every run makes a fresh CA with `trustme` (the well-kept library made for exactly this), so nothing
the sandbox trusts outlives the run and no test ever relies on a certificate checked into git. The
PEM files land in the run's workdir because the consumer side is configured by path (the JSON line's
`ca_cert`, `client_cert`, `client_key`), exactly as it would be with the real Spine certificates.
Keys are written 0600: even throwaway keys should not be readable by other local users.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_IDENTITIES = ("127.0.0.1", "localhost", "::1")
WRONG_HOST = "elsewhere.wardview-sandbox.invalid"
CLIENT_COMMON_NAME = "wardview-consumer.sandbox"
ORGANISATION = "Wardview sandbox (synthetic)"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Paths of one run's PEM files, and the server contexts built from them."""

    workdir: Path
    ca_cert: Path
    server_cert: Path  # leaf then chain
    server_key: Path
    client_cert: Path
    client_key: Path
    untrusted_cert: Path  # for the loopback names, from a CA the consumer is never told about
    untrusted_key: Path
    wrong_host_cert: Path  # from the run's CA, for a host that is not this one
    wrong_host_key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server context for the plain-TLS servers (IdP, PDS, SDS, hospital, audit)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.server_cert, self.server_key)
        return ctx

    def bad_certificate_contexts(self) -> dict[str, ssl.SSLContext]:
        """Server contexts for the `tls` fault, by problem: what a server presents when its certificate
        was issued by the wrong CA, or for the wrong name (a consumer must refuse both)."""
        contexts = {}
        for problem, cert, key in (("untrusted", self.untrusted_cert, self.untrusted_key),
                                   ("wrong-host", self.wrong_host_cert, self.wrong_host_key)):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
            contexts[problem] = ctx
        return contexts

    def mutual_tls_server_context(self) -> ssl.SSLContext:
        """A server context that refuses any client without a certificate issued by the run's CA.

        GP Connect is reached over the HSCN with Spine-issued client certificates; the sandbox keeps
        that requirement so a consumer that forgets its certificate fails here, not in production.
        """
        ctx = self.server_context()
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(self.ca_cert))
        return ctx

    def client_context(self, *, with_client_cert: bool = False) -> ssl.SSLContext:
        """A client context trusting only the run's CA (for tests and the sign-in robot)."""
        ctx = ssl.create_default_context(cafile=str(self.ca_cert))
        if with_client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx


def _write_private(path: Path, data: bytes) -> None:
    """Create (or replace) a file readable only by its owner, without a window where it is wider."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply when the file already existed


def make_tls_files(workdir: Path | None = None) -> TlsFiles:
    """Issue a new CA, a loopback server certificate and a consumer client certificate into workdir.

    `workdir` defaults to a fresh private temporary directory (mkdtemp makes it 0700).
    """
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="wardview-sandbox-"))
    directory = Path(workdir)
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name=ORGANISATION)
    server = ca.issue_cert(*SERVER_IDENTITIES, organization_name=ORGANISATION)
    client = ca.issue_cert(
        CLIENT_COMMON_NAME, common_name=CLIENT_COMMON_NAME, organization_name=ORGANISATION
    )
    untrusted = trustme.CA(organization_name=ORGANISATION).issue_cert(*SERVER_IDENTITIES)
    wrong_host = ca.issue_cert(WRONG_HOST, organization_name=ORGANISATION)
    files = TlsFiles(
        workdir=directory,
        ca_cert=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        untrusted_cert=directory / "untrusted.pem",
        untrusted_key=directory / "untrusted.key",
        wrong_host_cert=directory / "wrong-host.pem",
        wrong_host_key=directory / "wrong-host.key",
    )
    _write_private(files.ca_cert, ca.cert_pem.bytes())
    _write_private(files.server_cert, b"".join(blob.bytes() for blob in server.cert_chain_pems))
    _write_private(files.server_key, server.private_key_pem.bytes())
    _write_private(files.client_cert, b"".join(blob.bytes() for blob in client.cert_chain_pems))
    _write_private(files.client_key, client.private_key_pem.bytes())
    for leaf, cert_path, key_path in ((untrusted, files.untrusted_cert, files.untrusted_key),
                                      (wrong_host, files.wrong_host_cert, files.wrong_host_key)):
        _write_private(cert_path, b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        _write_private(key_path, leaf.private_key_pem.bytes())
    return files
