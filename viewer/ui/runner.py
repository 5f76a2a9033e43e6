"""Bridges asyncio work to the GUI thread: the UI never awaits or blocks.

Signals:
    finished(int, object): a submitted job's result, delivered on the GUI thread.
    failed(int, object): a submitted job's exception, delivered on the GUI thread.
    call(object): a callable to run on the GUI thread (progress callbacks from the worker loop).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class AsyncRunner(QObject):
    """Runs coroutines on one long-lived asyncio loop in a worker thread (one loop, so one httpx client)."""

    finished = Signal(int, object)
    failed = Signal(int, object)
    call = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="wardview-async", daemon=True)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[BaseException], None]]] = {}
        self.finished.connect(self._on_finished)
        self.failed.connect(self._on_failed)
        self.call.connect(self._on_call)
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
    ) -> int:
        """Schedule `coro` on the worker loop; the callbacks run later on the GUI thread."""
        job = next(self._ids)
        self._callbacks[job] = (on_result or (lambda _r: None), on_error or (lambda _e: None))
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        future.add_done_callback(lambda f, job=job: self._done(job, f))
        return job

    def run_blocking(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        """For start-up and shut-down only (creating or closing the shared client), never for user work."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def in_gui(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Wrap a callback so that calling it from the worker loop runs it on the GUI thread."""

        def relay(*args: Any) -> None:
            self.call.emit(lambda: fn(*args))

        return relay

    def _done(self, job: int, future: Future[Any]) -> None:
        exc = future.exception()
        if exc is not None:
            self.failed.emit(job, exc)
        else:
            self.finished.emit(job, future.result())

    @Slot(int, object)
    def _on_finished(self, job: int, result: Any) -> None:
        on_result, _ = self._callbacks.pop(job, (None, None))
        if on_result is not None:
            on_result(result)

    @Slot(int, object)
    def _on_failed(self, job: int, exc: BaseException) -> None:
        _, on_error = self._callbacks.pop(job, (None, None))
        if on_error is not None:
            on_error(exc)

    @Slot(object)
    def _on_call(self, fn: Callable[[], None]) -> None:
        fn()

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
