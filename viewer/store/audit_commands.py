"""`wardview audit verify` and `wardview audit show`: the log checked or listed from a terminal.

Read-only on purpose: a check must never create a store or a key, so a missing file or key is reported
(exit 2, "cannot check") rather than quietly replaced by an empty, intact-looking log.
Exit codes: 0 intact, 1 broken or damaged, 2 cannot check (no keyring, no key, no store).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from viewer.store.audit_log import AuditLog
from viewer.store.database import Store
from viewer.store.errors import KeyMissing, KeyringUnavailable, StoreError, StoreMissing, StoreUnreadable
from viewer.store.paths import default_store_path

INTACT, BROKEN, CANNOT_CHECK = 0, 1, 2


def _open(path: Path | None, err: TextIO) -> Store | int:
    target = path or default_store_path()
    try:
        return Store.open(target, create=False)
    except (KeyringUnavailable, KeyMissing) as exc:
        print(f"wardview: {exc.user_message}", file=err)
        return CANNOT_CHECK
    except StoreMissing:
        print(f"wardview: there is no Wardview store at {target}", file=err)
        return CANNOT_CHECK
    except StoreUnreadable as exc:
        print(f"wardview: audit log unreadable: {exc.user_message}", file=err)
        return BROKEN
    except StoreError as exc:
        print(f"wardview: {exc.user_message}", file=err)
        return CANNOT_CHECK


def run_verify(path: Path | None, *, out: TextIO, err: TextIO) -> int:
    opened = _open(path, err)
    if isinstance(opened, int):
        return opened
    with opened as store:
        report = AuditLog(store).verify()
    if report.intact:
        print(f"Audit log intact: {report.entries} entries, head {report.head_hash[:12]}", file=out)
        return INTACT
    print(
        f"Audit log BROKEN at entry {report.broken_seq}: {report.problem}. "
        f"{report.entries} entries before it are intact.",
        file=out,
    )
    return BROKEN


def run_show(path: Path | None, last: int, *, out: TextIO, err: TextIO) -> int:
    opened = _open(path, err)
    if isinstance(opened, int):
        return opened
    with opened as store:
        entries = AuditLog(store).last(last)
    for entry in entries:
        fields = [
            f"{entry.seq:>6}", entry.at, entry.action.value, entry.outcome.value,
            f"user={entry.user_id or '-'}", f"role={entry.role_id or '-'}", f"org={entry.org_ods or '-'}",
            f"patient={entry.patient or '-'}",
        ]
        if entry.emergency_reason:
            fields.append(f"emergency={entry.emergency_reason!r}")
        if entry.detail:
            fields.append(" ".join(f"{k}={v}" for k, v in entry.detail.items()))
        print("  ".join(fields), file=out)
    return INTACT
