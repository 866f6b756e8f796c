"""The decoding threads start early (before the onnxruntime session) and yield the CPU to a CPU model."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import psutil
import pytest
from PIL import Image

from lora_studio.config.tagging import TaggerDevice, TaggingOptions
from lora_studio.workers.wd14 import run
from lora_studio.workers.wd14.decode import THREAD_NAME, prepare_or_reason, start_pool
from lora_studio.workers.wd14.pipeline import OrderedDecoder, WorkItem, prefetch_window
from lora_studio.workers.wd14.run import EXIT_OK, run_tagging
from tests.tagging.conftest import DEFAULT_CAPTIONS, read_captions

CPU = TaggerDevice.CPU


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def _decoding_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)}


def _thread_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_pool_decodes_in_threads_of_this_process(tmp_path: Path) -> None:
    before = _children()
    pool = start_pool(2)
    assert pool is not None
    try:
        image = tmp_path / "red.png"
        Image.new("RGB", (40, 20), (255, 0, 0)).save(image)
        assert pool.submit(prepare_or_reason, image, 8, 8).result().shape == (8, 8, 3)
        assert pool.submit(threading.current_thread).result().name.startswith(THREAD_NAME)
        assert _children() == before  # no process to start, feed or pickle for
    finally:
        pool.shutdown(wait=True)
    assert start_pool(0) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_decoding_threads_drop_to_the_lowest_priority_only_when_asked(tmp_path: Path) -> None:
    image = tmp_path / "red.png"
    Image.new("RGB", (40, 20), (255, 0, 0)).save(image)
    mine = _thread_priority()
    for yield_cpu, expected in ((False, mine), (True, 19)):
        pool = start_pool(1)
        assert pool is not None
        try:
            assert pool.submit(prepare_or_reason, image, 8, 8, yield_cpu).result().shape == (8, 8, 3)
            assert pool.submit(_thread_priority).result() == expected  # the pool's one thread
        finally:
            pool.shutdown(wait=True)
    # the thread that runs the model keeps its priority, and so does the process
    assert _thread_priority() == mine and os.getpriority(os.PRIO_PROCESS, os.getpid()) == mine


def test_a_cpu_run_asks_its_decoders_to_yield_the_cpu(
    settings, make_dataset, tiny_model, monkeypatch
) -> None:
    asked: list[bool] = []

    class Spy(OrderedDecoder):
        def __iter__(self):  # type: ignore[no-untyped-def]
            asked.append(self.yield_cpu)
            return super().__iter__()

    monkeypatch.setattr(run, "OrderedDecoder", Spy)
    dataset = make_dataset()
    assert (
        run_tagging(
            dataset, settings.models_dir, TaggingOptions(model=str(tiny_model), workers=1, device=CPU)
        )
        == EXIT_OK
    )
    assert asked == [True]  # also where a GPU could run it
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS


def test_the_run_starts_the_decoders_before_it_loads_the_model(
    settings, make_dataset, tiny_model, monkeypatch
) -> None:
    seen: list[set[threading.Thread]] = []
    decoders: list[OrderedDecoder] = []
    real_open, real_start = run.open_session, run.start_decoding

    def start_decoding(*args, **kwargs):  # type: ignore[no-untyped-def]
        decoders.append(real_start(*args, **kwargs))
        return decoders[-1]

    def open_session(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(_decoding_threads())
        assert decoders[0].ahead > 0  # the first images are being decoded while the model loads
        return real_open(*args, **kwargs)

    monkeypatch.setattr(run, "start_decoding", start_decoding)
    monkeypatch.setattr(run, "open_session", open_session)
    dataset = make_dataset()
    before = _decoding_threads()
    options = TaggingOptions(model=str(tiny_model), workers=2)
    assert run_tagging(dataset, settings.models_dir, options) == EXIT_OK
    assert len(seen[0] - before) >= 1  # the first decoding thread(s) are at work as the model loads
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS
    assert not any(thread.is_alive() for thread in seen[0] - before)  # and they are gone again


def _images(folder: Path, count: int) -> list[WorkItem]:
    items = []
    for i in range(count):
        image = folder / f"{i}.png"
        Image.new("RGB", (40 + i, 40 + i), (10 * i, 0, 0)).save(image)
        items.append(WorkItem(image, image.with_suffix(".txt")))
    return items


def test_the_decoder_works_ahead_from_the_start_and_keeps_dataset_order(tmp_path: Path) -> None:
    items = _images(tmp_path, 6)
    (tmp_path / "bad.png").write_bytes(b"<html>not an image</html>")
    items.insert(3, WorkItem(tmp_path / "bad.png", tmp_path / "bad.txt"))
    pool = start_pool(2)
    try:
        decoder = OrderedDecoder(items, pool, 8, 8, window=4)
        assert decoder.ahead == 4  # submitted on construction, before anyone asks
        results = list(decoder)
    finally:
        assert pool is not None
        pool.shutdown(wait=True)
    assert [item for item, _ in results] == items
    assert isinstance(results[3][1], str) and "unreadable image" in results[3][1]
    colours = [int(r[4, 4, 0]) for _, r in results if not isinstance(r, str)]
    assert colours == [0, 10, 20, 30, 40, 50]


def test_a_model_of_another_size_has_its_images_prepared_again(tmp_path: Path) -> None:
    items = _images(tmp_path, 5)
    pool = start_pool(1)
    try:
        decoder = OrderedDecoder(items, pool, 448, 448, window=3)
        decoder.reshape(16, 12)
        decoder.widen(5)
        assert decoder.ahead == 5
        shapes = {r.shape for _, r in decoder if not isinstance(r, str)}
    finally:
        assert pool is not None
        pool.shutdown(wait=True)
    assert shapes == {(16, 12, 3)}


def test_the_decoder_runs_in_process_without_a_pool(tmp_path: Path) -> None:
    items = _images(tmp_path, 3)
    decoder = OrderedDecoder(items, None, 8, 8, window=4)
    assert decoder.ahead == 0
    assert [item for item, _ in decoder] == items


def test_the_prefetch_window_holds_a_bounded_amount_of_pixels() -> None:
    assert prefetch_window(448, 448, workers=2) == 111  # 64 MiB of 448 px RGB
    assert prefetch_window(448, 448, workers=64) == 256  # every worker kept busy
    assert prefetch_window(4096, 4096, workers=2, batch_size=1) == 8
    assert prefetch_window(448, 448, workers=2, batch_size=128) == 256  # two full batches


def test_the_decoder_keeps_its_window_full(tmp_path: Path) -> None:
    items = _images(tmp_path, 6)
    pool = start_pool(1)
    try:
        decoder = OrderedDecoder(items, pool, 8, 8, window=3)
        aheads = [decoder.ahead for _ in decoder]
    finally:
        assert pool is not None
        pool.shutdown(wait=True)
    assert aheads == [3, 3, 3, 2, 1, 0]
