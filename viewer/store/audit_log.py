"""The local audit log: append-only, hash-chained, so any edit or deletion is found by `verify()`.

Each entry's hash is SHA-256 over a canonical serialisation of the entry (orjson, sorted keys) that
includes the previous entry's hash, so changing, removing, reordering or inserting an entry breaks every
hash after it. The chain alone cannot show that its last entries were cut off, so a one-row head holds the
last seq and hash, written in the same transaction as each entry: deleting the tail no longer matches it.

What goes in is kept to identifiers and the action's own fields: `detail` accepts short scalar values under
plain keys, never free text; the emergency-access reason is the one free text, and it has its own column.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from viewer.domain.nhs_number import is_valid, normalise
from viewer.store.database import Connection, Store

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
MAX_DETAIL_TEXT = 120
MAX_DETAIL_ITEMS = 50
MAX_REASON_TEXT = 1000
_DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
# Whole statements, not assembled ones: nothing from outside ever reaches the SQL text.
_INSERT = (
    "INSERT INTO audit_entry (seq, at, action, outcome, user_id, role_id, org_ods, patient, detail, "
    "emergency_reason, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_ONE = (
    "SELECT seq, at, action, outcome, user_id, role_id, org_ods, patient, detail, emergency_reason, "
    "prev_hash, hash FROM audit_entry WHERE seq = ?"
)
_SELECT_LAST = (
    "SELECT seq, at, action, outcome, user_id, role_id, org_ods, patient, detail, emergency_reason, "
    "prev_hash, hash FROM audit_entry ORDER BY seq DESC LIMIT ?"
)
# A clinician's own opens, newest first, one row per patient: what the find bar offers as recent patients.
_SELECT_RECENT = (
    "SELECT patient, MAX(seq) AS newest FROM audit_entry WHERE user_id = ? AND outcome = 'success' "
    "AND action IN ('record-open', 'emergency-access') AND patient IS NOT NULL "
    "GROUP BY patient ORDER BY newest DESC LIMIT ?"
)
_SELECT_ALL = (
    "SELECT seq, at, action, outcome, user_id, role_id, org_ods, patient, detail, emergency_reason, "
    "prev_hash, hash FROM audit_entry ORDER BY seq"
)


class AuditAction(StrEnum):
    SIGN_IN = "sign-in"
    SIGN_IN_FAILED = "sign-in-failed"
    SIGN_OUT = "sign-out"
    LOCK = "lock"
    UNLOCK = "unlock"
    SEARCH = "search"
    RECORD_OPEN = "record-open"
    SECTION_VIEW = "section-view"
    PRINT = "print"
    EXPORT = "export"
    EMERGENCY_ACCESS = "emergency-access"
    ACCESS_REFUSED = "access-refused"


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    REFUSED = "refused"  # the viewer or a server said no (wrong role, no relationship, bad password)
    FAILED = "failed"  # the action could not be completed (a server or the network failed)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str  # ISO 8601 UTC with microseconds, exactly as hashed
    action: AuditAction
    outcome: AuditOutcome
    user_id: str | None
    role_id: str | None
    org_ods: str | None
    patient: str | None
    detail: Mapping[str, Any] = field(repr=False)
    emergency_reason: str | None = field(repr=False)
    prev_hash: str
    hash: str

    @property
    def at_datetime(self) -> datetime:
        return datetime.fromisoformat(self.at)

    def __repr__(self) -> str:  # no NHS number or reason text through a repr in a log
        return f"AuditEntry(seq={self.seq}, action={self.action.value!r}, outcome={self.outcome.value!r})"


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What `verify()` found: intact with `entries` and the head hash, or the first broken seq and why."""

    intact: bool
    entries: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None


def canonical_bytes(
    *,
    seq: int,
    at: str,
    action: str,
    outcome: str,
    user_id: str | None,
    role_id: str | None,
    org_ods: str | None,
    patient: str | None,
    detail: Mapping[str, Any],
    emergency_reason: str | None,
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash is taken over: every field but the hash itself, keys sorted."""
    return orjson.dumps(
        {
            "seq": seq, "at": at, "action": action, "outcome": outcome, "user_id": user_id,
            "role_id": role_id, "org_ods": org_ods, "patient": patient, "detail": dict(detail),
            "emergency_reason": emergency_reason, "prev_hash": prev_hash,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def entry_hash(**fields: Any) -> str:
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()


def clean_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """The detail as stored, or ValueError (naming no value) when it holds more than short scalars."""
    if detail is None:
        return {}
    if not isinstance(detail, Mapping):
        raise ValueError("audit detail must be a mapping")
    cleaned: dict[str, Any] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or not _DETAIL_KEY.match(key):
            raise ValueError("audit detail keys must be short lower-case names")
        if isinstance(value, list | tuple):
            if len(value) > MAX_DETAIL_ITEMS:
                raise ValueError(f"audit detail {key!r} has too many items")
            cleaned[key] = [_scalar(key, item) for item in value]
        else:
            cleaned[key] = _scalar(key, value)
    return cleaned


def _scalar(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str) and len(value) <= MAX_DETAIL_TEXT and "\n" not in value:
        return value
    raise ValueError(f"audit detail {key!r} must be a number, a flag or a short code")


def _clean_patient(patient: str | None) -> str | None:
    if patient is None:
        return None
    number = normalise(patient)
    if not is_valid(number):
        raise ValueError("the audited patient is not a valid NHS number")
    return number


def _clean_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = " ".join(reason.split())
    if not text:
        return None
    return text[:MAX_REASON_TEXT]


def entry_from_row(row: tuple[Any, ...]) -> AuditEntry:
    seq, at, action, outcome, user_id, role_id, org_ods, patient, detail, reason, prev_hash, hash_ = row
    return AuditEntry(
        seq=seq, at=at, action=AuditAction(action), outcome=AuditOutcome(outcome), user_id=user_id,
        role_id=role_id, org_ods=org_ods, patient=patient, detail=orjson.loads(detail),
        emergency_reason=reason, prev_hash=prev_hash, hash=hash_,
    )


class AuditLog:
    """The chain in the store. Appends are atomic with their head update and, when asked, their queueing
    for the trust's audit endpoint, so an entry is never recorded without being queued or vice versa."""

    def __init__(self, store: Store):
        self._store = store

    @property
    def store(self) -> Store:
        return self._store

    def append(
        self,
        action: AuditAction,
        *,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        user_id: str | None = None,
        role_id: str | None = None,
        org_ods: str | None = None,
        patient: str | None = None,
        detail: Mapping[str, Any] | None = None,
        emergency_reason: str | None = None,
        at: datetime | None = None,
        enqueue: bool = False,
    ) -> AuditEntry:
        """Add one entry at the end of the chain; ValueError for a bad patient number or detail."""
        action = AuditAction(action)
        outcome = AuditOutcome(outcome)
        when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
        fields: dict[str, Any] = {
            "at": when, "action": action.value, "outcome": outcome.value, "user_id": user_id,
            "role_id": role_id, "org_ods": org_ods, "patient": _clean_patient(patient),
            "detail": clean_detail(detail), "emergency_reason": _clean_reason(emergency_reason),
        }
        with self._store.transaction() as db:
            head_seq, head_hash = _head(db)
            fields["seq"] = head_seq + 1
            fields["prev_hash"] = head_hash
            digest = entry_hash(**fields)
            db.execute(
                _INSERT,
                (
                    fields["seq"], when, action.value, outcome.value, user_id, role_id, org_ods,
                    fields["patient"], orjson.dumps(fields["detail"], option=orjson.OPT_SORT_KEYS).decode(),
                    fields["emergency_reason"], head_hash, digest,
                ),
            )
            db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (fields["seq"], digest))
            if enqueue:
                db.execute("INSERT INTO audit_outbox (seq) VALUES (?)", (fields["seq"],))
        return AuditEntry(
            seq=fields["seq"], at=when, action=action, outcome=outcome, user_id=user_id, role_id=role_id,
            org_ods=org_ods, patient=fields["patient"], detail=fields["detail"],
            emergency_reason=fields["emergency_reason"], prev_hash=head_hash, hash=digest,
        )

    def entry(self, seq: int) -> AuditEntry | None:
        with self._store.reading() as db:
            row = db.execute(_SELECT_ONE, (seq,)).fetchone()
        return entry_from_row(row) if row is not None else None

    def last(self, count: int) -> list[AuditEntry]:
        """The newest `count` entries, oldest first."""
        with self._store.reading() as db:
            rows = db.execute(
                _SELECT_LAST, (max(0, count),)
            ).fetchall()
        return [entry_from_row(row) for row in reversed(rows)]

    def recent_patients(self, user_id: str, limit: int) -> list[str]:
        """The NHS numbers this user opened (on a care relationship or as an emergency), newest first,
        each once. Only the log says who opened what here: the cache keeps records, not who looked."""
        if limit <= 0 or not user_id:
            return []
        with self._store.reading() as db:
            rows = db.execute(_SELECT_RECENT, (user_id, limit)).fetchall()
        return [str(row[0]) for row in rows]

    def count(self) -> int:
        with self._store.reading() as db:
            return int(db.execute("SELECT count(*) FROM audit_entry").fetchone()[0])

    def head(self) -> tuple[int, str]:
        """(last seq, its hash); (0, GENESIS_HASH) for an empty log."""
        with self._store.reading() as db:
            return _head(db)

    def verify(self) -> ChainReport:
        """Walk the chain from the first entry and report the first one that is not as it was written."""
        with self._store.reading() as db:
            head = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            return _verify_rows(_rows(db), head)


def _head(db: Connection) -> tuple[int, str]:
    row = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    if row is None:  # the head was deleted: refuse to start a new chain that would hide it
        raise RuntimeError("the audit log's head record is missing")
    return int(row[0]), str(row[1])


def _rows(db: Connection) -> Iterator[tuple[Any, ...]]:
    cursor = db.execute(_SELECT_ALL)
    while batch := cursor.fetchmany(500):
        yield from batch


def _verify_rows(rows: Iterator[tuple[Any, ...]], head: tuple[Any, ...] | None) -> ChainReport:
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for row in rows:
        seq, at, action, outcome, user_id, role_id, org_ods, patient, detail, reason, row_prev, row_hash = row
        if seq != expected_seq:
            problem = "missing" if seq > expected_seq else "out of order"
            return _broken(count, prev_hash, expected_seq, problem)
        if row_prev != prev_hash:
            return _broken(count, prev_hash, seq, "does not follow the entry before it")
        try:
            parsed = orjson.loads(detail)
            if not isinstance(parsed, dict):
                raise ValueError("detail is not an object")
            digest = entry_hash(
                seq=seq, at=at, action=action, outcome=outcome, user_id=user_id, role_id=role_id,
                org_ods=org_ods, patient=patient, detail=parsed, emergency_reason=reason,
                prev_hash=row_prev,
            )
        except (ValueError, TypeError):
            return _broken(count, prev_hash, seq, "is unreadable")
        if digest != row_hash:
            return _broken(count, prev_hash, seq, "was changed")
        count += 1
        expected_seq, prev_hash = seq + 1, row_hash
    if head is None:
        return _broken(count, prev_hash, expected_seq, "head record is missing")
    head_seq, head_hash = int(head[0]), str(head[1])
    if head_seq > count:
        return _broken(count, prev_hash, count + 1, "missing (the log was cut short)")
    if head_seq < count:
        return _broken(count, prev_hash, head_seq + 1, "was added outside the log")
    if head_hash != prev_hash:
        return _broken(count, prev_hash, head_seq, "does not match the head record")
    return ChainReport(intact=True, entries=count, head_hash=prev_hash)


def _broken(count: int, prev_hash: str, seq: int, problem: str) -> ChainReport:
    log.warning("Audit log chain broken at entry %d", seq)
    return ChainReport(
        intact=False, entries=count, head_hash=prev_hash, broken_seq=seq, problem=f"entry {seq} {problem}"
    )
