"""`wardview cache info` and `wardview cache purge`: the record cache seen and trimmed from a terminal.

Neither ever creates a store or a key: a tool that reports on the cache must not quietly start an empty
one. Exit codes: 0 done, 1 the store cannot be used (the store error's own sentence is printed), 2 bad
usage (argparse and the caller check arguments before anything is opened).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from viewer.domain.dates import format_date, format_time
from viewer.store.database import Store
from viewer.store.errors import StoreError, StoreMissing
from viewer.store.keys import keyring_name
from viewer.store.record_cache import CacheInfo, RecordCache

OK, UNUSABLE, BAD_USAGE = 0, 1, 2


def _open(path: Path, err: TextIO) -> Store | None:
    try:
        return Store.open(path, create=False)
    except StoreMissing as exc:
        print(f"wardview: {exc.user_message} ({path})", file=err)
    except StoreError as exc:
        print(f"wardview: {exc.user_message}", file=err)
    return None


def run_info(path: Path, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    store = _open(path, err)
    if store is None:
        return UNUSABLE
    with store:
        info = RecordCache(store).info()
    backend = keyring_name()
    if as_json:
        data = info.as_json()
        data["keyring"]["backend"] = backend
        print(json.dumps(data, indent=2), file=out)
    else:
        print(describe(info, backend), file=out)
    return OK


def describe(info: CacheInfo, backend: str) -> str:
    oldest = (f"{format_date(info.oldest_retrieval)} {format_time(info.oldest_retrieval)}"
              if info.oldest_retrieval else "none")
    return "\n".join((
        f"Store:           {info.path}",
        f"Size:            {info.size_bytes / 1e6:.1f} MB ({info.size_bytes} bytes, database and log)",
        f"Patients:        {info.patients}",
        f"Source records:  {info.source_records} GP and hospital, {info.demographics} PDS demographics",
        f"Oldest record:   {oldest}",
        f"Keyring entry:   service '{info.keyring_service}', entry '{info.keyring_entry}' ({backend})",
    ))


def run_purge(path: Path, *, retention_hours: int, nhs_number: str | None, out: TextIO, err: TextIO) -> int:
    """Without a patient: everything not opened within the retention time; with one: that patient."""
    if nhs_number is None and retention_hours < 1:
        print(f"wardview: setting 'cache_retention_hours' is {retention_hours}; it must be at least 1",
              file=err)
        return BAD_USAGE
    store = _open(path, err)
    if store is None:
        return UNUSABLE
    try:
        with store:
            cache = RecordCache(store)
            if nhs_number is not None:
                purged = cache.purge(nhs_number=nhs_number)
            else:
                purged = cache.purge(older_than=timedelta(hours=retention_hours))
    except StoreError as exc:
        print(f"wardview: {exc.user_message}", file=err)
        return UNUSABLE
    if nhs_number is not None:
        print("Removed that patient's cached records." if purged else "Nothing was cached for that patient.",
              file=out)
    else:
        print(f"Removed the cached records of {purged} patient(s) not opened in the last {retention_hours} "
              "hours.", file=out)
    return OK
