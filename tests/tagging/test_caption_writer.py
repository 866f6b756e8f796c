"""The caption writer thread: batches handled in order, off the main thread, errors surface, close waits."""

from __future__ import annotations

import threading
import time

import pytest

from lora_studio.workers.wd14.caption_writer import CaptionWriter


def test_batches_are_handled_in_order_on_another_thread_and_close_waits_for_them() -> None:
    seen: list[int] = []
    threads: set[str] = set()

    def handle(batch: int) -> None:
        time.sleep(0.002 if batch % 3 else 0.01)
        threads.add(threading.current_thread().name)
        seen.append(batch)

    writer = CaptionWriter(handle, max_pending=2)
    for batch in range(20):
        writer.submit(batch)
    writer.close()
    assert seen == list(range(20))
    assert threading.current_thread().name not in threads


def test_an_error_in_a_batch_surfaces_in_the_main_thread() -> None:
    def handle(batch: int) -> None:
        if batch == 1:
            raise RuntimeError("disk on fire")

    writer = CaptionWriter(handle, max_pending=1)
    with pytest.raises(RuntimeError, match="disk on fire"):
        for batch in range(5):
            writer.submit(batch)
        writer.close()
    writer.close()  # closing again after the error is harmless
