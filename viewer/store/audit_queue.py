"""The durable queue of audit entries waiting for the trust's audit endpoint.

It lives in the store, beside the log, so an entry recorded while the network or the endpoint is down
survives a restart and is sent later; a row leaves the queue only when the endpoint has accepted it.
Entries go out in the order they were recorded: while the oldest waits for its retry, the ones after it
wait too. Only an entry the endpoint refused outright (a 4xx that no retry will change) is parked: it
stays queued and counted, retried rarely, and no longer holds up the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from viewer.store.audit_log import AuditEntry, entry_from_row
from viewer.store.database import Store

_SELECT_QUEUED = (
    "SELECT e.seq, e.at, e.action, e.outcome, e.user_id, e.role_id, e.org_ods, e.patient, e.detail, "
    "e.emergency_reason, e.prev_hash, e.hash, o.attempts, o.parked, o.next_attempt "
    "FROM audit_outbox o JOIN audit_entry e ON e.seq = o.seq ORDER BY o.seq"
)


@dataclass(frozen=True, slots=True)
class QueuedEntry:
    entry: AuditEntry
    attempts: int
    parked: bool


class AuditQueue:
    def __init__(self, store: Store):
        self._store = store

    def pending(self) -> int:
        """Entries not yet accepted by the endpoint, parked ones included."""
        with self._store.reading() as db:
            return int(db.execute("SELECT count(*) FROM audit_outbox").fetchone()[0])

    def parked(self) -> int:
        with self._store.reading() as db:
            return int(db.execute("SELECT count(*) FROM audit_outbox WHERE parked = 1").fetchone()[0])

    def due(self, now: float, limit: int = 50) -> list[QueuedEntry]:
        """Entries to send now, oldest first, stopping at the first unparked entry not yet due."""
        with self._store.reading() as db:
            rows = db.execute(_SELECT_QUEUED)
            chosen: list[QueuedEntry] = []
            for row in rows:
                attempts, parked, next_attempt = row[-3:]
                if next_attempt > now:
                    if parked:
                        continue
                    break
                chosen.append(QueuedEntry(entry_from_row(row[:-3]), int(attempts), bool(parked)))
                if len(chosen) >= limit:
                    break
        return chosen

    def next_due(self) -> float | None:
        """When the next entry may be tried (epoch seconds), or None with nothing queued."""
        with self._store.reading() as db:
            row = db.execute("SELECT min(next_attempt) FROM audit_outbox").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def enqueue(self, seq: int) -> None:
        """Queue an entry already in the log (the log queues new entries itself, atomically)."""
        with self._store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO audit_outbox (seq) VALUES (?)", (seq,))

    def mark_sent(self, seq: int) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM audit_outbox WHERE seq = ?", (seq,))

    def mark_failed(
        self, seq: int, *, retry_at: float, status: int | None = None, park: bool = False
    ) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE audit_outbox SET attempts = attempts + 1, next_attempt = ?, last_status = ?, "
                "parked = ? WHERE seq = ?",
                (retry_at, status, int(park), seq),
            )
