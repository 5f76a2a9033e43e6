"""Which patients each clinician has open, kept as they open and close them, so that after a crash, a
kill or a power cut the next start can offer to reopen them (after sign-in, from the cache).

Rows are per clinician (`user_id` = the CIS2 user id): only the same clinician is ever offered their
patients. A clean end clears that clinician's rows; whatever is left at the next sign-in was left open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from viewer.store.database import Store
from viewer.store.row_values import nhs_key, stamp, utc_now


class SessionJournal:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now):
        self._store = store
        self._clock = clock

    def opened(self, user_id: str, nhs_number: str) -> None:
        """Opening a patient already open keeps their first place in the order."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO session_journal (user_id, nhs_number, opened_at) VALUES (?, ?, ?)",
                (_user(user_id), nhs_key(nhs_number), stamp(self._clock())),
            )

    def closed(self, user_id: str, nhs_number: str) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM session_journal WHERE user_id = ? AND nhs_number = ?",
                       (_user(user_id), nhs_key(nhs_number)))

    def ended_cleanly(self, user_id: str) -> None:
        """Sign-out or a normal quit: nothing of this clinician's is left to offer."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM session_journal WHERE user_id = ?", (_user(user_id),))

    def left_open(self, user_id: str) -> list[str]:
        """This clinician's patients still open when their last session stopped, in the order opened."""
        with self._store.reading() as db:
            rows = db.execute("SELECT nhs_number FROM session_journal WHERE user_id = ? ORDER BY seq",
                              (_user(user_id),)).fetchall()
        return [row[0] for row in rows]


def _user(user_id: str) -> str:
    if not user_id or not user_id.strip():
        raise ValueError("a session journal entry needs the clinician's user id")
    return user_id
