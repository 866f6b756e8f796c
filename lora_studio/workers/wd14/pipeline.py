"""Decode and preprocess in worker threads while the main thread runs the model on full batches.

Images are prepared ahead in a bounded window (so memory stays flat on big datasets), starting while
onnxruntime still loads the model, and come back in dataset order; the threads and what they run are
in ``decode.py``. A worker returns uint8 RGB (a quarter of the float32 size to hold ahead); the main
thread turns it into float32 BGR straight into the batch buffer. A bad image comes back as its reason
and is skipped; it never stops the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from lora_studio.workers.wd14.decode import Prepared, prepare_or_reason
from lora_studio.workers.wd14.preprocess import to_model_input
from lora_studio.workers.wd14.session import TaggerSession

Scored = npt.NDArray[np.float32] | str  # the image's scores, or why it was skipped


@dataclass(frozen=True)
class WorkItem:
    image: Path
    caption: Path


PREFETCH_BYTES = 64 * 1024 * 1024  # prepared images held ahead of the model at most (~110 at 448 px)


def prefetch_window(height: int, width: int, workers: int, batch_size: int = 1) -> int:
    """How many images to keep in flight: enough to fill two batches and keep every worker busy, and
    up to ``PREFETCH_BYTES`` of prepared pixels, so the decoders can work far ahead while the model
    loads (a core the load leaves idle) and later sleep instead of competing with a CPU model."""
    return max(2 * batch_size, 4 * workers, PREFETCH_BYTES // (height * width * 3))


class OrderedDecoder:
    """Prepares ``items`` in ``pool`` (or in the calling thread), at most ``window`` in flight,
    yielding them in input order. Decoding starts on construction, so it can run while onnxruntime
    loads the model, at the size the model is expected to take; ``reshape`` starts over if the model
    turns out otherwise.

    ``yield_cpu``: the pool's threads drop to the lowest priority (the model runs on the CPU).
    """

    def __init__(
        self,
        items: Sequence[WorkItem],
        pool: Executor | None,
        height: int,
        width: int,
        window: int,
        *,
        yield_cpu: bool = False,
    ) -> None:
        self.items, self.pool, self.window, self.yield_cpu = items, pool, window, yield_cpu
        self.height, self.width = height, width
        self._pending: deque[tuple[WorkItem, Future[Prepared]]] = deque()
        self._next = 0  # index of the next item to submit
        self._fill()

    def reshape(self, height: int, width: int) -> None:
        """Prepare at ``height`` x ``width`` from now on; images prepared at another size are redone."""
        if (height, width) != (self.height, self.width):
            self.cancel()
            self.height, self.width, self._next = height, width, 0
            self._fill()

    def widen(self, window: int) -> None:
        """Keep at least ``window`` images in flight (a batch size known only once the model is open)."""
        self.window = max(self.window, window)
        self._fill()

    @property
    def ready(self) -> int:
        """Images prepared and not yet taken."""
        return sum(future.done() for _, future in self._pending)

    @property
    def ahead(self) -> int:
        """Images handed to the pool and not yet taken."""
        return len(self._pending)

    def cancel(self) -> None:
        while self._pending:
            self._pending.popleft()[1].cancel()

    def _fill(self) -> None:
        if self.pool is None:
            return
        while len(self._pending) < self.window and self._next < len(self.items):
            item = self.items[self._next]
            args = (item.image, self.height, self.width, self.yield_cpu)
            self._pending.append((item, self.pool.submit(prepare_or_reason, *args)))
            self._next += 1

    def __iter__(self) -> Iterator[tuple[WorkItem, Prepared]]:
        try:
            if self.pool is None:
                for item in self.items:
                    yield item, prepare_or_reason(item.image, self.height, self.width)
                return
            while self._pending:
                item, future = self._pending.popleft()
                result = future.result()
                self._fill()
                yield item, result
        finally:
            self.cancel()


def scored_batches(
    prepared: Iterable[tuple[WorkItem, Prepared]], tagger: TaggerSession, batch_size: int
) -> Iterator[list[tuple[WorkItem, Scored]]]:
    """Group prepared images into full batches, run the model, yield each batch's results.

    Skipped images ride along with the next batch so results keep dataset order. The last batch is
    padded to full size for fixed-batch models and on CUDA (one shape: no re-tuning of kernels).
    """
    buffer = np.empty((batch_size, tagger.height, tagger.width, 3), dtype=np.float32)
    pad = tagger.fixed_batch is not None or tagger.on_cuda
    waiting: list[tuple[WorkItem, Prepared]] = []
    filled = 0
    for item, result in prepared:
        waiting.append((item, result))
        if not isinstance(result, str):
            to_model_input(result, buffer[filled])
            filled += 1
        if filled == batch_size:
            yield _score(waiting, tagger, buffer, filled, pad)
            waiting, filled = [], 0
    if waiting:
        yield _score(waiting, tagger, buffer, filled, pad)


def _score(
    waiting: list[tuple[WorkItem, Prepared]],
    tagger: TaggerSession,
    buffer: npt.NDArray[np.float32],
    filled: int,
    pad: bool,
) -> list[tuple[WorkItem, Scored]]:
    scores: npt.NDArray[np.float32] | None = None
    if filled:
        if pad and filled < len(buffer):
            buffer[filled:] = 255.0  # white images; their scores are dropped
        scores = tagger.run(buffer if pad else buffer[:filled])
    results: list[tuple[WorkItem, Scored]] = []
    row = 0
    for item, result in waiting:
        if isinstance(result, str):
            results.append((item, result))
        else:
            assert scores is not None
            results.append((item, scores[row]))
            row += 1
    return results
