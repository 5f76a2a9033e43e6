"""The durable send queue: oldest first, a failing entry holds back later ones, a parked one does not."""

from __future__ import annotations

from pathlib import Path

from tests.support.memory_keyring import MemoryKeyring
from viewer.store.audit_log import AuditAction, AuditLog
from viewer.store.audit_queue import AuditQueue
from viewer.store.database import Store


def _queued(store: Store, count: int) -> AuditQueue:
    audit = AuditLog(store)
    for i in range(count):
        audit.append(AuditAction.SEARCH, user_id=str(i), enqueue=True)
    return AuditQueue(store)


def test_due_entries_come_oldest_first(store: Store) -> None:
    queue = _queued(store, 3)
    assert [q.entry.seq for q in queue.due(now=0)] == [1, 2, 3]
    assert [q.entry.seq for q in queue.due(now=0, limit=2)] == [1, 2]
    assert queue.pending() == 3 and queue.next_due() == 0


def test_a_waiting_entry_holds_back_the_later_ones(store: Store) -> None:
    queue = _queued(store, 3)
    queue.mark_failed(1, retry_at=100.0, status=503)
    assert queue.due(now=50) == []
    due = queue.due(now=100)
    assert [q.entry.seq for q in due] == [1, 2, 3] and due[0].attempts == 1 and not due[0].parked
    assert queue.next_due() == 0


def test_a_parked_entry_stays_queued_but_lets_the_rest_go(store: Store) -> None:
    queue = _queued(store, 3)
    queue.mark_failed(2, retry_at=1000.0, status=400, park=True)
    assert [q.entry.seq for q in queue.due(now=10)] == [1, 3]
    assert queue.pending() == 3 and queue.parked() == 1
    assert [q.entry.seq for q in queue.due(now=1000)] == [1, 2, 3]


def test_sent_entries_leave_the_queue(store: Store) -> None:
    queue = _queued(store, 2)
    queue.mark_sent(1)
    assert [q.entry.seq for q in queue.due(now=0)] == [2]
    queue.mark_sent(2)
    assert queue.pending() == 0 and queue.next_due() is None
    assert AuditLog(store).count() == 2  # the log keeps everything


def test_enqueue_an_existing_entry_once(store: Store) -> None:
    AuditLog(store).append(AuditAction.LOCK)
    queue = AuditQueue(store)
    queue.enqueue(1)
    queue.enqueue(1)
    assert queue.pending() == 1


def test_the_queue_survives_a_restart(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    with Store.open(tmp_path / "q.db", backend=backend) as store:
        _queued(store, 2).mark_failed(1, retry_at=5.0, status=None)
    with Store.open(tmp_path / "q.db", backend=backend) as store:
        queue = AuditQueue(store)
        assert queue.pending() == 2
        assert [(q.entry.seq, q.attempts) for q in queue.due(now=5)] == [(1, 1), (2, 0)]
