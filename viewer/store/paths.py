"""Where the store lives: the platform's local (not roaming) data folder, because an encrypted cache
whose key is in this PC's keyring is useless on any other PC and must not follow a roaming profile."""

from __future__ import annotations

import os
import sys
from pathlib import Path

STORE_FILE = "wardview.db"
SANDBOX_STORE_FILE = "sandbox.db"


def data_dir() -> Path:
    """%LOCALAPPDATA%\\Wardview, ~/Library/Application Support/Wardview, or $XDG_DATA_HOME/wardview."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "Wardview"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Wardview"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wardview"


def default_store_path(file_name: str = STORE_FILE) -> Path:
    """The store file; `--sandbox` runs may pass another name so synthetic data never mixes with real."""
    return data_dir() / file_name


def store_path_for(*, sandbox: bool) -> Path:
    """The store a run uses: `--sandbox` runs keep synthetic data in their own file, never beside real
    records. `wardview cache ... --sandbox` asks here; the app's wiring should too, so the two cannot
    drift apart (it names the same files itself today)."""
    return default_store_path(SANDBOX_STORE_FILE if sandbox else STORE_FILE)
