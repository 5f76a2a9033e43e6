"""Bridges asyncio work to the GUI thread: the UI never awaits or blocks.

Results cross threads through a thread-safe queue; the only thing that crosses in a Qt signal is an
argument-less wake-up. Passing Python objects through `Signal(object)` between threads has crashed the
binding (a refcount fault on `None`), and a viewer on a ward must not crash.

Signals:
    ready(): queued callbacks are waiting to run on the GUI thread (internal wake-up).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


class AsyncRunner(QObject):
    """Runs coroutines on one long-lived asyncio loop in a worker thread (one loop, so one httpx client)."""

    ready = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="wardview-async", daemon=True)
        self._pending: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.ready.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def submit(
        self,
        coro: Coroutine[Any, Any, Any],
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Future[Any]:
        """Schedule `coro` on the worker loop; the callbacks run later on the GUI thread."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)

        def done(f: Future[Any]) -> None:
            if f.cancelled():
                return
            exc = f.exception()
            if exc is not None:
                if on_error is not None:
                    self._post(lambda: on_error(exc))
                else:
                    log.warning("Background job failed (%s)", type(exc).__name__)
            elif on_result is not None:
                result = f.result()
                self._post(lambda: on_result(result))

        future.add_done_callback(done)
        return future

    def run_blocking(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        """For start-up and shut-down only (creating or closing the shared client), never for user work."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def in_gui(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Wrap a callback so that calling it from the worker loop runs it on the GUI thread."""

        def relay(*args: Any) -> None:
            self._post(lambda: fn(*args))

        return relay

    def _post(self, callback: Callable[[], None]) -> None:
        self._pending.put(callback)
        self.ready.emit()

    @Slot()
    def _drain(self) -> None:
        while True:
            try:
                callback = self._pending.get_nowait()
            except queue.Empty:
                return
            callback()

    def stop(self, cleanup: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run an optional async clean-up (closing the client), then stop the loop and join the thread."""
        if not self._thread.is_alive():
            return
        if cleanup is not None:
            try:
                self.run_blocking(cleanup(), timeout=5)
            except Exception as exc:  # shutting down: log and carry on
                log.warning("Clean-up at shut-down failed (%s)", type(exc).__name__)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
