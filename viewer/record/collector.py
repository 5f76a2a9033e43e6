"""Pausing the cyclic garbage collector around work that makes many objects and no cycles.

Parsing a source's response, mapping it, reading a kept record and merging a large one make hundreds of
thousands of short-lived or acyclic objects (orjson's dicts and lists; the domain values themselves are
not tracked at all, see viewer.domain.record_value). Left running, the collector starts full passes in the
middle of that work, and a full pass holds the GIL for 40-70 ms: the ward UI freezes for that long even
though the work runs on a worker thread. Nothing of this work forms cycles (reference counting frees it),
so the collector waits until it is done. A pause never spans an `await`: the work between two is
synchronous, so no pause can outlive its work (an abandoned open cannot leave the collector off).

The collector is one per process and the work runs on several threads at once (the GP and the hospital
record are mapped concurrently), so pauses are counted: the collector is enabled again only when the last
pause ends, and only if it was enabled when the first began. That count is the one piece of module state
here, and it mirrors state that is process-wide by nature.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class _Pauses:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def begin(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def end(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()


_PAUSES = _Pauses()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection until the block ends (and every other pause with it); the collector's
    previous state is restored either way."""
    _PAUSES.begin()
    try:
        yield
    finally:
        _PAUSES.end()


def without_collector(work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`work(*args, **kwargs)` inside `collector_paused()`, for `asyncio.to_thread`: the mapping of a
    source's answer runs on a worker thread."""
    with collector_paused():
        return work(*args, **kwargs)


def keep_start_up_objects_out_of_collections() -> None:
    """Called once the window is up and has made its Qt classes: every object alive then (modules,
    classes, Qt's Python wrappers, the settings; ~94,000 tracked) lives as long as the process, yet each
    full pass of the collector walked all of them again (~20-50 ms a pass). Freezing them (gc.freeze)
    takes them out of later passes, so a pass costs what the newer objects cost. No collection first:
    measured at that moment it finds ~100 unreachable objects and holds the GUI thread ~50 ms; keeping
    those few for the life of the process is the cheaper side."""
    gc.freeze()
