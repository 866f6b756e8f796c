"""Decode and preprocess in worker processes while the main thread runs the model on full batches.

Images are prepared ahead in a bounded window (so memory stays flat on big datasets) and come back
in dataset order; the processes and what they run are in ``decode.py``. A worker returns uint8 RGB (a
quarter of the float32 size to pickle); the main thread turns it into float32 BGR straight into the
batch buffer. A bad image comes back as its
reason and is skipped; it never stops the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
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


def prepared_in_order(
    items: Iterable[WorkItem],
    height: int,
    width: int,
    pool: ProcessPoolExecutor | None,
    window: int,
    *,
    yield_cpu: bool = False,
) -> Iterator[tuple[WorkItem, Prepared]]:
    """Prepare images in ``pool`` (or in-process) keeping at most ``window`` in flight, in input order.

    ``yield_cpu``: the pool's processes drop to the lowest priority (the model runs on the CPU).
    """
    if pool is None:
        for item in items:
            yield item, prepare_or_reason(item.image, height, width)
        return
    pending: deque[tuple[WorkItem, Future[Prepared]]] = deque()
    source = iter(items)
    try:
        for item in source:
            pending.append((item, pool.submit(prepare_or_reason, item.image, height, width, yield_cpu)))
            if len(pending) >= window:
                done_item, future = pending.popleft()
                yield done_item, future.result()
        while pending:
            done_item, future = pending.popleft()
            yield done_item, future.result()
    finally:
        for _, future in pending:
            future.cancel()


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
