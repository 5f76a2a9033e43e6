"""`wardview fetch`: the composition of a headless run (settings, sandbox when asked, one HTTP client,
the encrypted store, the services), kept apart from the GUI's composition root so it never loads Qt.

It prints the combined record in the `inspect` JSON schema (`--json`) or as text on stdout, and what it
did on stderr: sign-in, role, source statuses, the cache and the audit. Exit status: 0 when every
configured source answered and the record was kept in the encrypted cache, 1 when the record could not
be opened, a source failed or the record could not be kept, 2 for bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

from viewer.config import Settings
from viewer.domain.nhs_number import format_nhs_number

log = logging.getLogger(__name__)

SANDBOX_REASON = "Other (explain): end-to-end check with wardview fetch on synthetic patients"


@dataclass(frozen=True)
class FetchRequest:
    nhs_number: str
    as_json: bool = False
    sandbox: bool = False
    seed: int = 2026
    username: str | None = None  # sandbox: the demo clinician (default: the first)
    role_id: str | None = None
    emergency_reason: str | None = None


def run_fetch(settings: Settings, request: FetchRequest, *, out: TextIO, err: TextIO) -> int:
    from viewer.app import LaunchOptions, sandbox_browser, start_sandbox, system_browser

    sandbox = None
    browser_for: Any = system_browser
    username = request.username
    reason = request.emergency_reason
    try:
        if request.sandbox:
            sandbox, info = start_sandbox(LaunchOptions(sandbox=True, seed=request.seed))
            settings = settings.for_sandbox(info)
            browser_for = sandbox_browser(info["ca_cert"])
            username = username or info["users"][0]["username"]
            reason = reason or SANDBOX_REASON
        return asyncio.run(_fetch(settings, request, browser_for, username, reason, out, err))
    finally:
        if sandbox is not None:
            sandbox.stop()


async def _fetch(
    settings: Settings,
    request: FetchRequest,
    browser_for: Any,
    username: str | None,
    reason: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    from viewer.record.export import record_to_dict, record_to_text
    from viewer.services.compose import build_workspace, http_client_for, open_local_store
    from viewer.services.fetch import FetchRefused, all_sources_answered, fetch_record
    from viewer.services.open_record import CACHE_PROBLEM
    from viewer.store.paths import store_path_for

    def say(text: str) -> None:
        print(f"wardview fetch: {text}", file=err, flush=True)

    http = http_client_for(settings)
    holder: dict[str, Any] = {}

    def current_token() -> str | None:
        session = getattr(holder.get("workspace"), "current_session", None)
        return session.tokens.access_token if session is not None else None

    local = open_local_store(settings, http, path=store_path_for(sandbox=request.sandbox),
                             token=current_token)
    sender = local.sender
    problem = local.problem
    try:
        for message in (local.problem, local.notice):
            if message:
                say(message)
        workspace = build_workspace(settings, http, browser_for, sandbox=request.sandbox, local=local)
        holder["workspace"] = workspace
        say(f"opening the record of NHS number {format_nhs_number(request.nhs_number)}")
        try:
            record = await fetch_record(
                workspace, request.nhs_number, username=username, role_id=request.role_id,
                emergency_reason=reason, progress=say,
                before_sign_out=sender.flush if sender is not None else None,
            )
        except FetchRefused as exc:
            say(exc.user_message)
            return 1
        except Exception as exc:
            message = getattr(exc, "user_message", None) or (
                f"the record could not be opened ({type(exc).__name__})"
            )
            log.warning("wardview fetch failed (%s)", type(exc).__name__)
            say(message)
            return 1
        for status in record.statuses.values():
            say(status.text())
        for notice in record.notices:
            say(notice)
        if sender is not None:
            say(f"{sender.pending()} audit entries waiting for the audit server")
        if request.as_json:
            out.write(orjson.dumps(record_to_dict(record), option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            out.write(record_to_text(record))
        out.flush()
        # the end-to-end check includes keeping the record: a PC that cannot cache it is not ready
        kept = problem is None and not any(n.startswith(CACHE_PROBLEM) for n in record.notices)
        return 0 if all_sources_answered(record) and kept else 1
    finally:
        await http.aclose()
        local.close()
