"""Pausing the cyclic garbage collector around work that makes many objects and no cycles.

Reading a kept record and merging a large one make ~100,000 frozen dataclasses that never refer back to
each other; the collector's passes over them cost more than the work itself. Shared by the record cache
(decoding) and OpenRecord (painting the kept copy, each merge).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Decoding a large record makes ~100,000 objects, and the cyclic collector's passes over them cost
    twice the decode itself (43 ms against 130 ms for the large sandbox record). None of them form
    cycles, so the collector waits for the decode; its previous state is restored either way."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
