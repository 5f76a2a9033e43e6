"""The fault-injection matrix (issue 8, point 2): every source times every fault, against a private sandbox.

Each cell breaks one sandbox server, runs the real service that uses it (OpenRecord for PDS, SDS, GP Connect
and the hospital; sign-in for the IdP; the audit sender for the audit sink) and checks four things: the
clinician is told which source failed and why, in words; everything else is still shown; the faulted
server saw retries only where repeating is safe (GETs; a POST only for 503 with Retry-After); and nothing
but the documented typed error came out of the service. An audit entry is never lost: it stays queued
through the fault and is sent once the fault is mended.

`EXPECTED` is the specification, and docs/FAULTS.md is rendered from it:
`python -m tests.integration.test_fault_matrix > docs/FAULTS.md` (a test below keeps the two equal).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.memory_keyring import MemoryKeyring
from tests.support.sandbox_wiring import make_workspace, patient_number, sandbox_settings
from viewer.auth.oidc import AuthError
from viewer.config import Settings
from viewer.domain.provenance import SourceKind
from viewer.record.status import SourceState
from viewer.sandbox.faults import HANDSHAKE, Fault, FaultPlan
from viewer.services.audit_sender import WARDVIEW_ENTRY, AuditSender
from viewer.services.compose import build_open_record, http_client_for
from viewer.sources.context import RequestContext
from viewer.store.audit_log import AuditAction, AuditLog
from viewer.store.database import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "FAULTS.md"
SCENARIO = "same-medicine"  # in both the GP and the hospital record, so "everything else" is visible
TIMEOUT = 1.0  # the faulted source's timeout; every other source keeps the default
LATENCY = TIMEOUT + 2.0
USER = "dr.morgan"
EVERY_SOURCE = (SourceKind.PDS, SourceKind.GP, SourceKind.HOSPITAL)
# Which parts of the record a broken server takes down (GP needs a PDS trace); the rest must still show.
FAILS: dict[str, tuple[SourceKind, ...]] = {
    "pds": (SourceKind.PDS, SourceKind.GP), "sds": (SourceKind.GP,), "gpconnect": (SourceKind.GP,),
    "hospital": (SourceKind.HOSPITAL,), "idp": (), "audit": (),
}

FAULTS: dict[str, tuple[str, Fault]] = {  # id -> (what the table calls it, the fault)
    "latency": (f"latency past the timeout ({TIMEOUT:g} s)", Fault("latency", seconds=LATENCY)),
    "500": ("HTTP 500", Fault("status", status=500)),
    "503-retry-after": ("HTTP 503, Retry-After: 1", Fault("status", status=503, retry_after=1)),
    "429": ("HTTP 429 (no Retry-After)", Fault("status", status=429)),
    "malformed": ("malformed JSON", Fault("malformed")),
    "truncated": ("truncated body", Fault("truncated")),
    "content-type": ("wrong content type (HTML page, 200)", Fault("content_type")),
    "reset": ("connection reset (TCP RST)", Fault("reset")),
    "tls": ("TLS failure (untrusted certificate)", Fault("tls")),
    "huge": ("100 MB body", Fault("huge")),
}
SOURCES: dict[str, str] = {  # sandbox server -> what the table calls it
    "pds": "PDS",
    "sds": "SDS",
    "gpconnect": "GP Connect",
    "hospital": "Hospital FHIR",
    "idp": "IdP (sign-in)",
    "audit": "Audit sink",
}
TIMEOUT_SETTING = {
    "pds": "pds_timeout_seconds", "sds": "sds_timeout_seconds", "gpconnect": "gpconnect_timeout_seconds",
    "hospital": "hospital_timeout_seconds", "idp": "timeout_seconds",
}


@dataclass(frozen=True)
class Cell:
    """What one cell must show. `shows` is the exact text the clinician reads: the status strip line of
    the failed source (plus GP's, for PDS), the sign-in message, or for the audit sink what happens to the
    entry. `attempts` is how many requests (or refused TLS handshakes) the faulted server saw."""

    shows: str
    attempts: int

    @property
    def retried(self) -> bool:
        return self.attempts > 1


def _transport(service: str, cap_mb: int) -> dict[str, str]:
    """The HTTP layer's words for the faults every source meets the same way."""
    within = "t" + service[1:] if service.startswith("The ") else service
    return {
        "latency": f"{service} did not answer in time",
        "truncated": f"{service} closed the connection without a complete answer",
        "content-type": f"{service} sent a web page or other non-data reply instead of the data asked for "
                        "(wrong content type)",
        "reset": f"The connection to {within} was broken off before it answered",
        "tls": f"The secure connection (TLS) to {within} was refused: "
               "its certificate is not trusted on this PC",
        "huge": f"{service} sent a reply that was too large (over {cap_mb} MB); it was not loaded",
    }


def _expected() -> dict[tuple[str, str], Cell]:
    get_attempts = {"latency": 1, "500": 1, "503-retry-after": 3, "429": 3, "malformed": 1, "truncated": 3,
                    "content-type": 1, "reset": 3, "tls": 1, "huge": 1}  # GETs repeat, not after a timeout
    post_attempts = dict.fromkeys(get_attempts, 1) | {"503-retry-after": 3}  # only with Retry-After
    once = dict.fromkeys(get_attempts, 1)
    words: dict[str, dict[str, str]] = {
        "pds": _transport("PDS", 5) | {
            **dict.fromkeys(("500", "503-retry-after", "429"),
                            "The Spine (PDS) is not answering at the moment; try again shortly"),
            "malformed": "The Spine (PDS) sent a reply that could not be read",
        },
        "sds": _transport("The Spine Directory Service", 2) | {
            **dict.fromkeys(("500", "503-retry-after", "429"),
                            "The Spine Directory Service is not available at the moment"),
            "malformed": "The Spine Directory Service sent an answer that could not be read",
        },
        "gpconnect": _transport("GP Connect", 50) | {
            **dict.fromkeys(("500", "503-retry-after"),
                            "The GP practice's system is not available at the moment"),
            "429": "The GP practice's system is busy; please try again shortly",
            "malformed": "The GP practice's system sent a record that could not be read",
        },
        "hospital": _transport("The hospital record server", 20) | {
            **dict.fromkeys(("500", "503-retry-after", "429"),
                            "The hospital record server is not answering at the moment"),
            "malformed": "The hospital record server sent a reply that could not be read",
        },
    }
    strip = {"pds": "PDS", "sds": "GP", "gpconnect": "GP", "hospital": "Hospital"}
    cells: dict[tuple[str, str], Cell] = {}
    for server, by_fault in words.items():
        attempts = post_attempts if server == "gpconnect" else get_attempts
        for fault, text in by_fault.items():
            shows = f"{strip[server]}: failed - {text}"
            if server == "pds":
                shows += " / GP: failed - needs a PDS trace, which failed"
            cells[(server, fault)] = Cell(shows, attempts[fault])
    unavailable = "The NHS sign-in service could not be reached. Check the network connection and try again."
    unreadable = "The NHS sign-in service sent an answer Wardview could not read. Please try again."
    ask_it = ". Ask IT to check the sign-in settings."
    idp = _transport("The NHS sign-in service", 1)
    idp_words = {
        "latency": unavailable, "500": unavailable, "503-retry-after": unavailable, "429": unavailable,
        "malformed": unreadable, "truncated": unavailable, "reset": unavailable,
        **{fault: idp[fault] + ask_it for fault in ("content-type", "tls", "huge")},
    }
    for fault, text in idp_words.items():
        cells[("idp", fault)] = Cell(f"Sign-in fails: {text}", once[fault])
    for fault in get_attempts:
        cells[("audit", fault)] = Cell("Nothing on screen: the entry stays queued and is sent, once, "
                                       "when the audit service recovers", once[fault])
    return cells


EXPECTED = _expected()
CELLS = [pytest.param(server, fault, id=f"{server}-{fault}") for server in SOURCES for fault in FAULTS]


# --- the private sandbox and one signed-in clinician for the whole matrix --------------------------


@dataclass
class Matrix:
    box: Any
    ctx: RequestContext
    token: str
    number: str
    store: Store  # one audit store for every audit cell: opening an encrypted store is slow

    def settings(self, server: str) -> Settings:
        settings = sandbox_settings(self.box)
        field = TIMEOUT_SETTING.get(server)
        return dataclasses.replace(settings, **{field: TIMEOUT}) if field else settings


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    from viewer.sandbox.runner import Sandbox

    with Sandbox(seed=2026, faults=FaultPlan()) as box:
        async def sign_in() -> Any:
            workspace, http = make_workspace(box)
            try:
                session = await workspace.sign_in(USER)
                if session.selected_role is None:
                    workspace.select_role(session, workspace.role_choices(session)[0][0])
                return session
            finally:
                await http.aclose()

        session = asyncio.run(sign_in())
        settings = sandbox_settings(box)
        path = tmp_path_factory.mktemp("fault-matrix") / "audit.db"
        with Store.open(path, backend=MemoryKeyring()) as store:
            yield Matrix(box, session.request_context(settings.ods_code), session.tokens.access_token,
                         patient_number(box, SCENARIO), store)


@pytest.fixture
def faulted(matrix: Matrix) -> Iterator[Matrix]:
    matrix.box.faults.clear()
    matrix.box.requests.clear()
    yield matrix
    matrix.box.faults.clear()


async def open_record(m: Matrix, settings: Settings) -> Any:
    """The real OpenRecord on a fresh client; anything it raises fails the cell."""
    http = http_client_for(settings)
    try:
        return await build_open_record(settings, http)(m.number, m.ctx, lambda record: None)
    finally:
        await http.aclose()


def strip_text(record: Any, *sources: SourceKind) -> str:
    return " / ".join(record.statuses[s].text() for s in sources)


def assert_shown(record: Any, *sources: SourceKind) -> None:
    """These sources loaded and their items are on screen."""
    for source in sources:
        assert record.statuses[source].state is SourceState.LOADED, strip_text(record, source)
        if source is not SourceKind.PDS:
            assert any(m.provenance.source is source for m in record.medications)
    if SourceKind.PDS in sources:
        assert record.patient is not None and record.patient.nhs_number


def still_shown(server: str) -> tuple[SourceKind, ...]:
    return tuple(s for s in EVERY_SOURCE if s not in FAILS[server])


def attempts(m: Matrix, server: str) -> int:
    return m.box.requests.count(server)


# --- the cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("server", "fault"), CELLS)
def test_fault_cell(faulted: Matrix, server: str, fault: str) -> None:
    m, cell = faulted, EXPECTED[(server, fault)]
    m.box.faults.set(server, FAULTS[fault][1])
    if server == "idp":
        _idp_cell(m, cell)
    elif server == "audit":
        _audit_cell(m, cell)
    else:
        _record_cell(m, server, cell)
    if fault == "tls":
        assert m.box.requests.count(server, HANDSHAKE) == cell.attempts  # refused before any request


def _record_cell(m: Matrix, server: str, cell: Cell) -> None:
    record = asyncio.run(open_record(m, m.settings(server)))
    seen = attempts(m, server)
    assert strip_text(record, *FAILS[server]) == cell.shows
    assert all(record.statuses[s].state is SourceState.FAILED for s in FAILS[server])
    assert_shown(record, *still_shown(server))
    assert m.number not in cell.shows
    assert seen == cell.attempts, f"{server} saw {seen} requests"
    if server == "gpconnect":
        assert m.box.requests.count("gpconnect", "GET") == 0


def _idp_cell(m: Matrix, cell: Cell) -> None:
    """Sign-in fails with words; meanwhile a signed-in clinician's record opens in full (the sources
    check tokens without asking the IdP)."""
    async def sign_in() -> BaseException | None:
        workspace, http = make_workspace(m.box, settings=m.settings("idp"))
        try:
            await workspace.sign_in(USER)
        except Exception as exc:
            return exc
        finally:
            await http.aclose()
        return None

    async def both() -> tuple[BaseException | None, Any]:
        return await asyncio.gather(sign_in(), open_record(m, sandbox_settings(m.box)))

    failure, record = asyncio.run(both())
    assert isinstance(failure, AuthError), repr(failure)
    assert f"Sign-in fails: {failure.user_message}" == cell.shows
    assert attempts(m, "idp") == cell.attempts
    assert_shown(record, *still_shown("idp"))


def _audit_cell(m: Matrix, cell: Cell) -> None:
    """The entry stays queued through the fault (a record opens in full meanwhile), then is sent once."""
    clock = [time.time()]
    log = AuditLog(m.store)
    entry = log.append(AuditAction.RECORD_OPEN, user_id=m.ctx.user_id, patient=m.number, enqueue=True)
    identifier = f"{m.store.store_id}:{entry.seq}:{entry.hash}"

    async def flush(timeout: float | None) -> Any:
        http = http_client_for(sandbox_settings(m.box))
        try:
            sender = AuditSender(log, http, m.box.info["audit"], lambda: m.token, clock=lambda: clock[0],
                                 timeout=timeout)
            return await sender.flush()
        finally:
            await http.aclose()

    async def both() -> tuple[Any, Any]:
        return await asyncio.gather(flush(TIMEOUT), open_record(m, sandbox_settings(m.box)))

    during, record = asyncio.run(both())
    assert (during.sent, during.pending) == (0, 1)  # not lost, not counted as sent
    assert attempts(m, "audit") == cell.attempts
    assert_shown(record, *still_shown("audit"))
    m.box.faults.clear("audit")
    clock[0] += 3600  # past the sender's backoff
    after = asyncio.run(flush(None))
    assert (after.sent, after.pending) == (1, 0)
    arrived = [event for event in m.box.audit.events() for entity in event.get("entity", [])
               if entity.get("what", {}).get("identifier") == {"system": WARDVIEW_ENTRY, "value": identifier}]
    assert arrived  # a fault after the sink stored it (truncated, latency) may deliver it twice: id dedups


# --- the table in docs/FAULTS.md ----------------------------------------------------------------------


def render_table() -> str:
    lines = [
        "# Fault matrix: what the clinician sees",
        "",
        "Generated from the expectations of `tests/integration/test_fault_matrix.py` (one test per",
        "cell; regenerate with `python -m tests.integration.test_fault_matrix > docs/FAULTS.md`).",
        "Each cell breaks one sandbox server and runs the real service. In every cell the other sources",
        "still load and are shown, nothing but the documented message escapes the service, and no audit",
        "entry is lost. *Attempts* is how many requests (or refused TLS handshakes) the broken server",
        "saw: more than one only where repeating is safe (GETs; the GP Connect POST only when told",
        f"Retry-After). The faulted source's timeout is {TIMEOUT:g} s in the test; the latency fault",
        f"answers after {LATENCY:g} s.",
        "",
    ]
    for server, source_name in SOURCES.items():
        shown = ", ".join(source.label for source in still_shown(server))
        if server == "idp":
            shown += " (the record of a clinician already signed in)"
        lines += [f"## {source_name}", "", f"Still loaded and shown in every row: {shown}.", "",
                  "| Fault | What the clinician sees | Attempts |", "|---|---|---|"]
        for fault, (fault_name, _) in FAULTS.items():
            cell = EXPECTED[(server, fault)]
            lines.append(f"| {fault_name} | {cell.shows.replace('|', '/')} | {cell.attempts} |")
        lines.append("")
    return "\n".join(lines)


def test_every_cell_has_an_expectation() -> None:
    assert set(EXPECTED) == {(server, fault) for server in SOURCES for fault in FAULTS}


def test_docs_table_is_generated_from_these_expectations() -> None:
    assert DOC.read_text(encoding="utf-8") == render_table(), (
        "docs/FAULTS.md is stale: python -m tests.integration.test_fault_matrix > docs/FAULTS.md"
    )


if __name__ == "__main__":
    sys.stdout.write(render_table())
