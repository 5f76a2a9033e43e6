"""The last record seen of each patient, per source, in the encrypted store: what paints a record at once
and what stays on screen when a source fails.

Each source record is one row holding the whole mapped `SourceRecord` as msgpack (msgspec, typed on the
way back in) compressed with zlib, written in one transaction: a crash leaves that record wholly old or
wholly new. A payload is read back only when both its format version and its shape (a hash of the domain
types' schema) match this build; any other payload, or one that does not decode, is "not cached" rather
than a guess at what an older build meant, since the sources are asked again on every open anyway.

PDS demographics are kept as their own source row (`pds`), never for a patient PDS marks restricted:
CLINICAL.md, never cache what PDS withheld.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from viewer.domain.patient import Patient
from viewer.domain.provenance import SourceKind
from viewer.domain.source_record import SourceRecord
from viewer.record.collector import collector_paused
from viewer.store.database import Store
from viewer.store.keys import SERVICE, key_entry
from viewer.store.row_values import from_stamp, nhs_key, stamp, utc_now

log = logging.getLogger(__name__)

# Bump when the meaning of a stored field changes without its type changing (the shape hash sees the rest),
# or the encoding does. Format 2: msgpack (msgspec) of the domain value, its Structs as arrays
# (viewer.domain.record_value), then zlib. Format 1 wrote them as maps.
PAYLOAD_FORMAT = 2
# The fastest zlib level: the large sandbox record's 5.5 MB of msgpack become 0.9 MB, so SQLCipher
# encrypts, authenticates and writes six times fewer pages; reading back, inflating (~10 ms) costs about
# what decrypting the extra pages would, and the file stays small (tests/bench/bench_store.py).
ZLIB_LEVEL = 1
RECORD_SOURCES = (SourceKind.GP, SourceKind.HOSPITAL)


@dataclass(frozen=True, slots=True)
class CachedSource:
    record: SourceRecord  # GP or HOSPITAL
    retrieved_at: datetime
    etag: str | None


@dataclass(frozen=True, slots=True)
class CachedRecord:
    nhs_number: str
    demographics: Patient | None  # the last PDS trace's patient (never a restricted one)
    demographics_at: datetime | None
    sources: Mapping[SourceKind, CachedSource]  # only the sources that were cached (and still read)
    last_opened: datetime


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What `wardview cache info` prints: where the store is and what it holds, never the key."""

    path: Path
    size_bytes: int  # the database file plus its write-ahead log
    patients: int
    source_records: int  # GP and hospital records
    demographics: int  # PDS traces
    oldest_retrieval: datetime | None
    keyring_service: str
    keyring_entry: str

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "patients": self.patients,
            "source_records": self.source_records,
            "demographics": self.demographics,
            "oldest_retrieval": self.oldest_retrieval.isoformat() if self.oldest_retrieval else None,
            "keyring": {"service": self.keyring_service, "entry": self.keyring_entry},
        }


def shape_of(kind: type) -> str:
    """A short hash of the JSON schema msgspec derives from a domain type: it changes with any field."""
    schema = msgspec.json.encode(msgspec.json.schema(kind), order="deterministic")
    return hashlib.sha256(schema).hexdigest()[:16]


class RecordCache:
    """Cached records per patient and source on the open store. All methods are thread-safe (the store's
    lock); encoding and decoding run outside it."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now):
        self._store = store
        self._clock = clock
        self._encoder = msgspec.msgpack.Encoder()
        self._decoders: dict[SourceKind, msgspec.msgpack.Decoder[Any]] = {
            SourceKind.GP: msgspec.msgpack.Decoder(SourceRecord),
            SourceKind.HOSPITAL: msgspec.msgpack.Decoder(SourceRecord),
            SourceKind.PDS: msgspec.msgpack.Decoder(Patient),
        }
        record_shape = shape_of(SourceRecord)
        self._shapes = {SourceKind.GP: record_shape, SourceKind.HOSPITAL: record_shape,
                        SourceKind.PDS: shape_of(Patient)}

    @property
    def store(self) -> Store:
        return self._store

    def load(self, nhs_number: str) -> CachedRecord | None:
        """Everything readable cached for the patient; None when nothing is (or nothing still reads)."""
        key = nhs_key(nhs_number)
        with self._store.reading() as db:
            patient_row = db.execute(
                "SELECT last_opened FROM cached_patient WHERE nhs_number = ?", (key,)
            ).fetchone()
            if patient_row is None:
                return None
            rows = db.execute(
                "SELECT source, retrieved_at, etag, format, shape, payload FROM cached_source "
                "WHERE nhs_number = ?", (key,)
            ).fetchall()
        demographics: Patient | None = None
        demographics_at: datetime | None = None
        sources: dict[SourceKind, CachedSource] = {}
        for source_text, retrieved_text, etag, payload_format, shape, payload in rows:
            source = SourceKind(source_text)
            value = self._decode(source, payload_format, shape, payload)
            if value is None:
                continue
            if source is SourceKind.PDS:
                demographics, demographics_at = value, from_stamp(retrieved_text)
            else:
                sources[source] = CachedSource(value, from_stamp(retrieved_text), etag)
        if demographics is None and not sources:
            return None
        return CachedRecord(key, demographics, demographics_at, sources, from_stamp(patient_row[0]))

    def kept_patient(self, nhs_number: str) -> Patient | None:
        """The cached PDS demographics alone (a name for a list of patients): decoding the whole record
        of a large patient to read its name would hold the GIL for ~100 ms, a visible stall of the GUI."""
        with self._store.reading() as db:
            row = db.execute(
                "SELECT format, shape, payload FROM cached_source WHERE nhs_number = ? AND source = ?",
                (nhs_key(nhs_number), SourceKind.PDS.value),
            ).fetchone()
        return self._decode(SourceKind.PDS, *row) if row is not None else None

    def _decode(self, source: SourceKind, payload_format: int, shape: str, payload: bytes) -> Any:
        """The stored value, or None (logged by source and reason only) when this build cannot read it."""
        if payload_format != PAYLOAD_FORMAT or shape != self._shapes[source]:
            log.info("A cached %s record was written by another version of Wardview: not used", source.label)
            return None
        try:
            with collector_paused():
                value = self._decoders[source].decode(zlib.decompress(payload))
        except (msgspec.MsgspecError, zlib.error) as exc:
            log.warning("A cached %s record could not be read (%s): not used", source.label,
                        type(exc).__name__)
            return None
        if source is not SourceKind.PDS and value.source is not source:
            log.warning("A cached %s record holds another source's record: not used", source.label)
            return None
        return value

    def save_source(self, nhs_number: str, record: SourceRecord, *, etag: str | None = None) -> None:
        """Replace the patient's cached record of `record.source` (one transaction). Saving counts as
        opening: `last_opened` becomes now, so a record just fetched is never the next one purged.

        Raises StoreFull when the disk is full (nothing was changed).
        """
        if record.source not in RECORD_SOURCES:
            raise ValueError("only GP and hospital records are cached as source records")
        self._write(nhs_key(nhs_number), record.source, record.retrieved_at, etag, record)

    def save_demographics(self, nhs_number: str, patient: Patient, retrieved_at: datetime, *,
                          etag: str | None = None) -> None:
        """Keep the PDS trace's patient, with PDS's version of the record (its ETag) when given. A patient
        PDS marks restricted is never stored, and whatever was cached for them before is dropped: the
        restriction is news the cache must act on."""
        key = nhs_key(nhs_number)
        if patient.restricted:
            log.info("PDS marks this patient restricted: nothing of theirs is cached")
            self.forget(key)
            return
        self._write(key, SourceKind.PDS, retrieved_at, etag, patient)

    def _write(self, key: str, source: SourceKind, retrieved_at: datetime, etag: str | None,
               value: SourceRecord | Patient) -> None:
        payload = zlib.compress(self._encoder.encode(value), ZLIB_LEVEL)
        retrieved = stamp(retrieved_at)
        now = stamp(self._clock())
        with self._store.transaction() as db:
            # An upsert, not INSERT OR REPLACE: a replace deletes the patient row and cascades to the
            # other sources' rows.
            db.execute(
                "INSERT INTO cached_patient (nhs_number, last_opened) VALUES (?, ?) "
                "ON CONFLICT (nhs_number) DO UPDATE SET last_opened = excluded.last_opened",
                (key, now),
            )
            db.execute(
                "INSERT OR REPLACE INTO cached_source "
                "(nhs_number, source, retrieved_at, etag, format, shape, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, source.value, retrieved, etag, PAYLOAD_FORMAT, self._shapes[source], payload),
            )

    def forget(self, nhs_number: str) -> bool:
        """Drop everything cached for the patient (e.g. PDS now says restricted). The session journal
        keeps its row: the patient may still be open on screen. True when something was dropped."""
        key = nhs_key(nhs_number)
        with self._store.transaction() as db:
            dropped = db.execute("DELETE FROM cached_patient WHERE nhs_number = ?", (key,)).rowcount > 0
        if dropped:
            self._checkpoint()
        return dropped

    def forget_source(self, nhs_number: str, source: SourceKind) -> bool:
        """Drop one source's cached record (the patient now dissents, or the source has no record of
        them): a copy must never show what the source no longer shares. True when something was dropped."""
        key = nhs_key(nhs_number)
        with self._store.transaction() as db:
            dropped = db.execute("DELETE FROM cached_source WHERE nhs_number = ? AND source = ?",
                                 (key, source.value)).rowcount > 0
        if dropped:
            self._checkpoint()
        return dropped

    def touch(self, nhs_number: str) -> None:
        """The record was opened now (it restarts the retention clock); nothing happens if none is cached."""
        key = nhs_key(nhs_number)
        with self._store.transaction() as db:
            db.execute("UPDATE cached_patient SET last_opened = ? WHERE nhs_number = ?",
                       (stamp(self._clock()), key))

    def purge(self, *, older_than: timedelta | None = None, nhs_number: str | None = None) -> int:
        """Remove patients not opened for `older_than`, or the one patient `nhs_number` (both: that
        patient only if not opened for that long), with their session journal rows. Journal rows older
        than `older_than` go too, cached or not. Returns how many patients' records were removed."""
        if older_than is None and nhs_number is None:
            raise ValueError("purge needs older_than, nhs_number or both")
        if older_than is not None and older_than <= timedelta(0):
            raise ValueError("a retention time must be positive (zero would purge every record at once)")
        conditions, values = [], []
        if older_than is not None:
            conditions.append("last_opened < ?")
            values.append(stamp(self._clock() - older_than))
        if nhs_number is not None:
            conditions.append("nhs_number = ?")
            values.append(nhs_key(nhs_number))
        where = " AND ".join(conditions)
        with self._store.transaction() as db:
            purged = [row[0] for row in db.execute(
                f"DELETE FROM cached_patient WHERE {where} RETURNING nhs_number", values  # noqa: S608
            ).fetchall()]
            if older_than is None:  # by patient alone: their journal row too, cached or not
                purged_or_named = {*purged, values[-1]}
            else:
                purged_or_named = set(purged)
                db.execute("DELETE FROM session_journal WHERE opened_at < ?", (values[0],))
            db.executemany("DELETE FROM session_journal WHERE nhs_number = ?",
                           [(n,) for n in sorted(purged_or_named)])
        if purged:
            self._checkpoint()
            log.info("Purged the cached records of %d patient(s)", len(purged))
        return len(purged)

    def _checkpoint(self) -> None:
        """Copy the write-ahead log into the database and empty it, so removed records do not linger in
        old log frames until some later checkpoint."""
        with self._store.reading() as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def info(self) -> CacheInfo:
        with self._store.reading() as db:
            patients = db.execute("SELECT count(*) FROM cached_patient").fetchone()[0]
            records, demographics, oldest = db.execute(
                "SELECT count(*) FILTER (WHERE source != 'pds'), count(*) FILTER (WHERE source = 'pds'), "
                "min(retrieved_at) FROM cached_source"
            ).fetchone()
        return CacheInfo(
            path=self._store.path,
            size_bytes=store_size(self._store.path),
            patients=patients,
            source_records=records,
            demographics=demographics,
            oldest_retrieval=from_stamp(oldest) if oldest else None,
            keyring_service=SERVICE,
            keyring_entry=key_entry(self._store.store_id),
        )


def store_size(path: Path) -> int:
    """Bytes on disk of the database and its write-ahead log (the -shm index is a cache of the log)."""
    total = 0
    for part in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(FileNotFoundError):
            total += part.stat().st_size
    return total
