"""Captions service speed on 20,000 real caption files.

    .venv/bin/python benchmarks/captions_speed.py [--captions 20000] [--dir /some/disk]

Targets (issue 5): tag frequencies <= 1 s, a bulk add/remove/replace <= 2 s including the undo
record, filter by tag <= 300 ms. Prints each figure with its target and ratio (figure / target;
<= 1.0 meets it), plus the bare cost of replacing the same number of files by a fresh temp file +
rename on this disk (what bulk writes did before they swapped one spare file per folder: see
lora_studio/services/captions/writer.py). "cpu" is this
process's CPU time (user + system): on a busy shared machine wall time exceeds it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lora_studio.core.settings import Settings
from lora_studio.services.captions import (
    AddTags,
    CaptionFilter,
    CaptionService,
    RemoveTags,
    ReplaceTag,
)

CONCEPTS = 4
TAGS_PER_CAPTION = 25


def build_dataset(root: Path, captions: int) -> None:
    rng = random.Random(5)
    vocabulary = [f"tag_{i}" for i in range(2000)] + ["long_hair", "long hair", "smile", "1girl"]
    per_concept = captions // CONCEPTS
    for concept in range(CONCEPTS):
        folder = root / f"{concept + 1}_concept{concept}"
        folder.mkdir(parents=True)
        for index in range(per_concept):
            stem = folder / f"{index:06d}"
            stem.with_suffix(".png").write_bytes(b"png")
            tags = ["1girl", *rng.sample(vocabulary, TAGS_PER_CAPTION - 1)]
            stem.with_suffix(".txt").write_text(", ".join(tags), encoding="utf-8")
    os.sync()  # start from a quiet disk, not from 20,000 files still being written back


def timed(label: str, target: float | None, action: Callable[[], object]) -> float:
    start, cpu_start = time.perf_counter(), time.process_time()
    action()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    verdict = f"target {target:.2f} s, ratio {seconds / target:.2f}" if target else "(for reference)"
    print(f"{label:<48} {seconds:7.3f} s (cpu {cpu:6.3f} s)   {verdict}", flush=True)
    return seconds


def bare_rename_baseline(root: Path) -> None:
    for path in root.rglob("*.txt"):
        tmp = path.with_name(f".{path.name}.bench.tmp")
        tmp.write_bytes(path.read_bytes())
        os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--captions", type=int, default=20_000)
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to build the dataset (default: a temp dir)"
    )
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="captions-bench-", dir=args.dir))
    try:
        settings = Settings(workspace=workspace).ensure_workspace()
        build_dataset(settings.datasets_dir / "bench", args.captions)
        service = CaptionService(settings)
        print(
            f"{args.captions} captions x {TAGS_PER_CAPTION} tags in {workspace}; load {os.getloadavg()[0]:.1f}"
        )
        timed("tag frequencies, cold (reads every file)", 1.0, lambda: service.frequencies("bench"))
        timed("tag frequencies, warm (cache)", 1.0, lambda: service.frequencies("bench"))
        by_tag = CaptionFilter(has_tags=("smile",))
        timed("filter by tag (page 1 + total)", 0.3, lambda: service.page("bench", selection=by_tag))
        timed("suggestions", None, lambda: service.suggestions("bench"))
        timed("preview add tag (no write)", None, lambda: service.preview("bench", AddTags(tags="ohwx")))
        timed("bulk add tag to all + undo record", 2.0, lambda: service.apply("bench", AddTags(tags="ohwx")))
        timed(
            "bulk replace tag in all + undo record",
            2.0,
            lambda: service.apply("bench", ReplaceTag(old="ohwx", new="zz")),
        )
        timed(
            "bulk remove tag from all + undo record",
            2.0,
            lambda: service.apply("bench", RemoveTags(tags="zz")),
        )
        timed("tag frequencies after bulk (cache kept)", 1.0, lambda: service.frequencies("bench"))
        timed("undo last (restore all)", None, lambda: service.undo_last("bench"))
        timed(
            "baseline: bare temp+rename of every caption",
            None,
            lambda: bare_rename_baseline(settings.datasets_dir),
        )
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
