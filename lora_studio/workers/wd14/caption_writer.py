"""Scores → caption files on one background thread, so the model never waits for the disk.

Each caption is written atomically, which ends in an fsync: milliseconds, and far more on a busy disk;
picking the tags out of ~10,000 scores costs main-thread time too. One thread does both, batch after
batch in dataset order, while the main thread runs the model on the next batch (onnxruntime releases
the GIL). At most ``max_pending`` batches wait, so a slow disk holds the model back instead of filling
memory; ``close`` waits for the last ones, so a stopped run's summary counts every caption on disk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

Batch = TypeVar("Batch")


class CaptionWriter(Generic[Batch]):
    """Runs ``handle(batch)`` for each submitted batch, in order, on one thread."""

    def __init__(self, handle: Callable[[Batch], None], *, max_pending: int = 4) -> None:
        self._handle = handle
        self._max_pending = max_pending
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="captions")
        self._pending: deque[Future[None]] = deque()

    def submit(self, batch: Batch) -> None:
        """Queue ``batch``; re-raises here an error of an earlier batch's ``handle``."""
        self._pending.append(self._thread.submit(self._handle, batch))
        while self._pending and (self._pending[0].done() or len(self._pending) > self._max_pending):
            self._pending.popleft().result()

    def close(self) -> None:
        """Wait until every queued batch is handled (re-raising the first error), then stop the thread."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown(wait=True)
