"""The decoding processes start light and early: before the onnxruntime session, without onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
from PIL import Image

from lora_studio.config.tagging import TaggingOptions
from lora_studio.workers.wd14 import run
from lora_studio.workers.wd14.decode import prepare_or_reason, start_pool
from lora_studio.workers.wd14.run import EXIT_OK, run_tagging
from tests.tagging.conftest import DEFAULT_CAPTIONS, read_captions
from tests.tagging.decode_probe import imported_modules


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


def test_start_pool_spawns_every_process_at_once_and_they_never_import_onnxruntime(tmp_path: Path) -> None:
    before = _children()
    pool = start_pool(2)
    assert pool is not None
    try:
        assert len(_children() - before) >= 2  # spawned now, not at the first image
        image = tmp_path / "red.png"
        Image.new("RGB", (40, 20), (255, 0, 0)).save(image)
        assert pool.submit(prepare_or_reason, image, 8, 8).result().shape == (8, 8, 3)
        modules = pool.submit(imported_modules).result()
        assert "lora_studio.workers.wd14.decode" in modules
        assert "onnxruntime" not in modules  # its import would only slow each process's start-up
    finally:
        pool.shutdown(wait=True)
    assert start_pool(0) is None


def test_decoders_drop_to_the_lowest_priority_only_when_asked(tmp_path: Path) -> None:
    image = tmp_path / "red.png"
    Image.new("RGB", (40, 20), (255, 0, 0)).save(image)
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    for yield_cpu, expected in ((False, mine), (True, 19)):
        pool = start_pool(1)
        assert pool is not None
        try:
            assert pool.submit(prepare_or_reason, image, 8, 8, yield_cpu).result().shape == (8, 8, 3)
            pid = pool.submit(os.getpid).result()
            assert os.getpriority(os.PRIO_PROCESS, pid) == expected
        finally:
            pool.shutdown(wait=True)
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # the tagging process itself keeps its priority


def test_a_cpu_run_asks_its_decoders_to_yield_the_cpu(
    settings, make_dataset, tiny_model, monkeypatch
) -> None:
    asked: list[bool] = []
    real = run.prepared_in_order

    def prepared_in_order(*args, yield_cpu: bool = False):  # type: ignore[no-untyped-def]
        asked.append(yield_cpu)
        return real(*args, yield_cpu=yield_cpu)

    monkeypatch.setattr(run, "prepared_in_order", prepared_in_order)
    dataset = make_dataset()
    assert (
        run_tagging(dataset, settings.models_dir, TaggingOptions(model=str(tiny_model), workers=1)) == EXIT_OK
    )
    assert asked == [True]  # onnxruntime runs on the CPU here
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS


def test_the_run_starts_the_decoders_before_it_loads_the_model(
    settings, make_dataset, tiny_model, monkeypatch
) -> None:
    seen: list[set[int]] = []
    real_open = run.open_session

    def open_session(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(_children())
        return real_open(*args, **kwargs)

    monkeypatch.setattr(run, "open_session", open_session)
    dataset = make_dataset()
    before = _children()
    options = TaggingOptions(model=str(tiny_model), workers=2)
    assert run_tagging(dataset, settings.models_dir, options) == EXIT_OK
    assert len(seen[0] - before) >= 2
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS
    assert not (seen[0] - before) & _children()  # and they are gone again
