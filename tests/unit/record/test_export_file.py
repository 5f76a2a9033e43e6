"""The exported file: the inspect schema, written whole or not at all."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.sample_record import NHS, SCRIPT_DRUG, hostile_record
from viewer.record.export import SCHEMA_ID
from viewer.record.export_file import write_record_json

WHEN = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_writes_the_inspect_schema(tmp_path: Path):
    path = tmp_path / "record.json"
    size = write_record_json(hostile_record(), path, generated_at=WHEN)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert size == path.stat().st_size
    assert data["schema"] == SCHEMA_ID and data["generated_at"] == "2026-11-23T11:00:00Z"
    assert data["patient"]["nhs_number"] == NHS
    assert data["sections"]["medications"][0]["label"] == SCRIPT_DRUG
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_part(tmp_path: Path, monkeypatch):
    path = tmp_path / "record.json"
    path.write_text("previous export", encoding="utf-8")

    def full_disk(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        write_record_json(hostile_record(), path)
    assert path.read_text(encoding="utf-8") == "previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_a_missing_folder_is_an_oserror(tmp_path: Path):
    with pytest.raises(OSError):
        write_record_json(hostile_record(), tmp_path / "gone" / "record.json")
