"""Saving the open record as a JSON file in the `inspect` schema (docs/INSPECT.md).

Written to a temporary file beside the target and renamed over it, so a full disk or a crash leaves
either the old file or the whole new one, never half a record that reads as complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

import orjson

from viewer.record.combined import CombinedRecord
from viewer.record.export import record_to_dict

EXPORT_FORMAT = "json"  # what the audit records of an export: the file's type, never its contents


def write_record_json(record: CombinedRecord, path: Path, *, generated_at: datetime | None = None) -> int:
    """Write the record to `path` atomically; returns the bytes written. OSError when it cannot be."""
    data = orjson.dumps(record_to_dict(record, generated_at=generated_at),
                        option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return len(data)


__all__ = ["EXPORT_FORMAT", "write_record_json"]
