"""Test isolation: offscreen Qt, a throwaway home, an in-memory keyring, and one shared sandbox.

Set before anything imports Qt or keyring, so no test can touch the developer's real config, keyring
or cache, or need a display.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="wardview-test-home-"))
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["HOME"] = str(_HOME)
os.environ["USERPROFILE"] = str(_HOME)
for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"),
                 ("APPDATA", "appdata"), ("LOCALAPPDATA", "localappdata"), ("PROGRAMDATA", "programdata")):
    os.environ[var] = str(_HOME / sub)
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memory_keyring.MemoryKeyring"
os.environ.pop("SSLKEYLOGFILE", None)
# Hypothesis (tests/fuzz) keeps its files in the throwaway home, not in the working tree.
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(_HOME / "hypothesis")

import pytest  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference beside the repository; tests that need it skip with a reason when absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference material not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """One running sandbox for the whole session (servers on 127.0.0.1, per-run CA)."""
    from viewer.sandbox.runner import Sandbox

    box = Sandbox(seed=2026)
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(autouse=True)
def collector_left_running() -> Iterator[None]:
    """Every test leaves the garbage collector as it found it: the product pauses it around synchronous
    work only (viewer.record.collector), so one left off means a pause outlived its work."""
    was = gc.isenabled()
    yield
    assert gc.isenabled() == was, "the garbage collector was left paused (or turned on) by this test"
