"""Datasets speed: a 20,000-image dataset and a 500-image upload. Prints timings; asserts nothing.

    .venv/bin/python benchmarks/datasets_speed.py [--images 20000] [--upload 500] [--photos]

Targets (issue 3): listing <= 200 ms; gallery first page <= 1 s cold and <= 200 ms warm;
statistics <= 3 s; upload wall time <= 1.5x a plain copy of the same files.

The upload's baseline is ``shutil.copyfile`` of the same files to the same file system (what
``cp`` does); a second baseline reads each file into memory and writes it out, as the import
must (it hashes and checks the bytes). The uploaded files are small flat JPEGs by default;
``--photos`` uploads noisy 1024x768 JPEGs (~0.3 MB, closer to real training images).
The app starts its image-checking processes when a page loads (``prepare_imports``); so does the benchmark,
before timing, and it also times a first import in a fresh service whose processes are still
starting. ``--upload-only`` skips the 20,000-image dataset; ``--where DIR`` puts the files there
(e.g. /dev/shm, to take the disk out of both sides).
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lora_studio.core.settings import Settings
from lora_studio.services.datasets import BucketSettings, DatasetService, check_pool
from lora_studio.services.datasets.scan import RACY_WINDOW_NS

T = TypeVar("T")
ROUNDS = 7
SIZES = [(512, 512), (640, 480), (480, 640), (768, 432), (600, 600), (320, 480)]


def jpeg(size: tuple[int, int], seed: int, *, noisy: bool = False) -> bytes:
    image = Image.new("RGB", size, (seed % 256, (seed * 7) % 256, (seed * 13) % 256))
    if noisy:
        bands = [Image.effect_noise(size, 40 + (seed + band) % 20) for band in range(3)]
        image = Image.blend(image, Image.merge("RGB", bands), 0.5)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def timed(label: str, call: Callable[[], T], target_ms: float | None = None) -> tuple[T, float]:
    start = time.perf_counter()
    result = call()
    elapsed = (time.perf_counter() - start) * 1000
    verdict = "" if target_ms is None else ("  ok" if elapsed <= target_ms else f"  OVER {target_ms:.0f} ms")
    print(f"{label:<48} {elapsed:9.1f} ms{verdict}")
    return result, elapsed


def build_dataset(settings: Settings, count: int) -> None:
    bases = [jpeg(size, index) for index, size in enumerate(SIZES)]
    root = settings.datasets_dir / "big"
    concepts = [root / "10_main", root / "3_extra"]
    for folder in concepts:
        folder.mkdir(parents=True)
    for index in range(count):
        folder = concepts[0] if index % 4 else concepts[1]
        (folder / f"img_{index:06d}.jpg").write_bytes(bases[index % len(bases)])
        if index % 2:
            (folder / f"img_{index:06d}.txt").write_text(f"tag{index % 50}, tag{index % 7}")


def bench_dataset(workspace: Path, count: int) -> None:
    settings = Settings(workspace=workspace).ensure_workspace()
    timed(f"build {count} synthetic JPEGs (setup)", lambda: build_dataset(settings, count))
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.2)  # let the folders leave the racy window so listings cache
    service = DatasetService(settings)
    timed("list datasets (cold: first scan)", service.list_datasets)
    timed("list datasets (warm)", service.list_datasets, 200)
    timed("gallery page 1 (cold: header reads + 48 thumbnails)", lambda: service.gallery_page("big"), 1000)
    timed("gallery page 1 (warm)", lambda: service.gallery_page("big"), 200)
    timed("gallery page 200 (thumbnails cold)", lambda: service.gallery_page("big", page=200), 1000)
    buckets = BucketSettings(resolution=(512, 512))
    timed("statistics (cold: 20k header reads)", lambda: service.stats("big", buckets=buckets), 3000)
    timed("statistics (warm, same process)", lambda: service.stats("big", buckets=buckets), 3000)
    fresh = DatasetService(settings)
    timed("list datasets (new service: memory caches empty)", fresh.list_datasets, 200)
    timed("statistics (new service: header cache on disk)", lambda: fresh.stats("big", buckets=buckets), 3000)


def bench_upload(workspace: Path, count: int, *, photos: bool) -> None:
    source = workspace / "upload-src"
    source.mkdir(parents=True)
    for index in range(count):
        size = (1024, 768) if photos else SIZES[index % len(SIZES)]
        (source / f"up_{index:04d}.jpg").write_bytes(jpeg(size, 1000 + index, noisy=photos))
    files = sorted(source.iterdir())
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    print(f"upload: {count} JPEGs, {megabytes:.1f} MB")

    def plain_copy(target: Path) -> None:
        for path in files:
            shutil.copyfile(path, target / path.name)

    def read_write(target: Path) -> None:
        for path in files:
            (target / path.name).write_bytes(path.read_bytes())

    os.sync()
    first = Settings(workspace=workspace / "ws-upload-first").ensure_workspace()
    cold = DatasetService(first)
    cold.create_dataset("up", concept="c")
    cold.prepare_imports()  # as on page load, but timed right away: the processes are still starting
    timed(
        f"import {count} files as the processes start (first page load)",
        functools.partial(cold.import_files, "up", files),
    )
    ratios, read_write_ratios = [], []
    for attempt in range(ROUNDS):  # alternate them: on a shared machine one run is noise
        # Each leg writes into a new empty folder, as the import does, and starts with nothing left
        # to write back, so none pays for another's dirty pages.
        copy_ms = timed_into(
            workspace / f"copy-{attempt}", f"plain copy of {count} files (baseline)", plain_copy
        )
        rw_ms = timed_into(
            workspace / f"rw-{attempt}", "read + write the same files (2nd baseline)", read_write
        )
        settings = Settings(workspace=workspace / f"ws-upload-{attempt}").ensure_workspace()
        service = DatasetService(settings)
        service.create_dataset("up", concept="c")
        service.prepare_imports()
        check_pool.submit([]).result()  # the app's processes have long started by a person's upload
        os.sync()
        report, import_ms = timed(
            f"import {count} files (verify + hash + stage + move)",
            functools.partial(service.import_files, "up", files),
        )
        assert report.accepted == count, report.rows[:3]
        ratios.append(import_ms / copy_ms)
        read_write_ratios.append(import_ms / rw_ms)
    ratio = statistics.median(ratios)
    shown = ", ".join(f"{value:.2f}" for value in ratios)
    print(
        f"{'upload / copy ratio (median of ' + str(ROUNDS) + ')':<48} {ratio:9.2f} x  [{shown}]"
        f"{'  ok' if ratio <= 1.5 else '  OVER 1.5x'}"
    )
    print(f"{'upload / read+write ratio (median)':<48} {statistics.median(read_write_ratios):9.2f} x")


def timed_into(folder: Path, label: str, fill: Callable[[Path], None]) -> float:
    folder.mkdir()
    os.sync()
    return timed(label, lambda: fill(folder))[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--upload", type=int, default=500)
    parser.add_argument("--photos", action="store_true", help="upload noisy 1024x768 JPEGs")
    parser.add_argument("--upload-only", action="store_true", help="skip the 20,000-image dataset")
    parser.add_argument("--where", default=None, help="folder for the temporary files (default: TMPDIR)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lora-studio-bench-", dir=args.where) as temp:
        if not args.upload_only:
            bench_dataset(Path(temp) / "ws", args.images)
        bench_upload(Path(temp), args.upload, photos=args.photos)


if __name__ == "__main__":
    main()
