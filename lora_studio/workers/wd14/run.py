"""The tagging run: plan, model, session, pipeline, captions, summary. ``main`` is the worker's entry."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

from tqdm import tqdm

from lora_studio.config.taggers import TaggerRegistry, load_taggers
from lora_studio.config.tagging import TaggingOptions, add_tagging_arguments, options_from_namespace
from lora_studio.core.errors import InvalidInput, LoraStudioError
from lora_studio.workers.wd14.caption_writer import CaptionWriter
from lora_studio.workers.wd14.captions import CaptionResult, UnreadableCaption, write_caption
from lora_studio.workers.wd14.decode import start_pool
from lora_studio.workers.wd14.labels import Labels, load_labels, select_tags
from lora_studio.workers.wd14.model_files import resolve_model
from lora_studio.workers.wd14.pipeline import (
    OrderedDecoder,
    Scored,
    WorkItem,
    prefetch_window,
    scored_batches,
)
from lora_studio.workers.wd14.plan import Plan, plan_run
from lora_studio.workers.wd14.session import (
    CUDA,
    DEFAULT_SIZE,
    TaggerSession,
    available_providers,
    open_session,
    requested_providers,
)
from lora_studio.workers.wd14.summary import RunStats, print_summary

EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_STOPPED = 0, 1, 2, 130
PROGRESS_DESC = "tagging"


def log(message: str) -> None:
    print(message, flush=True)


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def decoding_workers(options: TaggingOptions) -> int:
    """The number of decoding threads: as asked, else one per core. On a CPU-only machine the model
    already uses every core, but a cheap model still needs them all to be fed; the threads sleep
    when they are ahead, and there they run at the lowest priority, so a heavy model loses only the
    decoding work itself."""
    return default_workers() if options.workers is None else options.workers


def run_tagging(
    dataset_dir: Path, models_dir: Path, options: TaggingOptions, *, registry: TaggerRegistry | None = None
) -> int:
    """Tag every planned image of ``dataset_dir``; returns the exit code.

    Raises:
        LoraStudioError: the dataset, the model or its files cannot be used (nothing was written).
    """
    plan = plan_run(dataset_dir, options)
    log(f"dataset {dataset_dir}: {plan.total} images, {len(plan.items)} to tag, {len(plan.skipped)} skipped")
    if plan.total == 0:
        raise InvalidInput(f"No images found in {dataset_dir}.", hint="Add images to its concept folders.")
    stats = RunStats(total=plan.total)
    for image, reason in plan.skipped:
        stats.skip(_relative(image, dataset_dir), reason)
    if not plan.items:
        print_summary(stats, options.model, "none", log)
        return EXIT_OK
    files = resolve_model(options.model, models_dir, registry or load_taggers(), log)
    labels = load_labels(files.tags)
    # The decoding threads start on the first images while onnxruntime loads the model (which the run
    # pays anyway, mostly on one core), so the first images' decoding does not land in the tagging.
    pool = start_pool(decoding_workers(options))
    decoder = start_decoding(plan, options, pool)
    try:
        tagger = open_session(files.model, options.device, log)
        if tagger.n_outputs is not None and tagger.n_outputs != len(labels):
            raise InvalidInput(
                f"{files.tags.name} lists {len(labels)} tags but the model outputs {tagger.n_outputs}.",
                hint="Use the model.onnx and selected_tags.csv of the same repository.",
            )
        return _tag_and_report(plan, tagger, labels, options, stats, dataset_dir, decoder, files.name)
    finally:  # cancel_futures also drops the decoder's images not yet started
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def start_decoding(plan: Plan, options: TaggingOptions, pool: Executor | None) -> OrderedDecoder:
    """Set the decoding ``pool`` (from ``start_pool(decoding_workers(options))``) to the plan's first
    images at once, at the size every WD14 tagger takes (``tag_planned`` redoes them should the model
    want another), so they are decoded while the model loads."""
    workers = decoding_workers(options) if pool is not None else 0
    # Sure to run on the CPU: the decoders yield it from the start (on a GPU they are the bottleneck).
    on_cpu = CUDA not in requested_providers(options.device, available_providers())
    window = prefetch_window(DEFAULT_SIZE, DEFAULT_SIZE, workers)
    return OrderedDecoder(plan.items, pool, DEFAULT_SIZE, DEFAULT_SIZE, window, yield_cpu=on_cpu)


def _tag_and_report(
    plan: Plan,
    tagger: TaggerSession,
    labels: Labels,
    options: TaggingOptions,
    stats: RunStats,
    dataset_dir: Path,
    decoder: OrderedDecoder,
    model_name: str,
) -> int:
    try:
        tag_planned(plan, tagger, labels, options, stats, dataset_dir, decoder)
    except KeyboardInterrupt:
        log(f"stopped after {stats.tagged} images")
        print_summary(stats, model_name, tagger.provider, log)
        return EXIT_STOPPED
    print_summary(stats, model_name, tagger.provider, log)
    if stats.tagged == 0 and len(plan.items) > 0:
        log("ERROR: no image could be tagged; see the reasons above")
        return EXIT_FAILED
    return EXIT_OK


def tag_planned(
    plan: Plan,
    tagger: TaggerSession,
    labels: Labels,
    options: TaggingOptions,
    stats: RunStats,
    dataset_dir: Path,
    decoder: OrderedDecoder,
) -> None:
    """Run the pipeline over ``plan.items`` with an open session and the ``decoder`` from
    ``start_decoding`` (the caller shuts its pool down), updating ``stats`` and the progress bar."""
    batch_size = tagger.batch_size(options.batch_size, log)
    workers = decoding_workers(options) if decoder.pool is not None else 0
    log(f"input {tagger.width}x{tagger.height}, batch size {batch_size}, {workers} decoding worker(s)")
    bar = tqdm(
        total=plan.total, initial=len(plan.skipped), desc=PROGRESS_DESC, file=sys.stderr, mininterval=0.5
    )
    writer: CaptionWriter[list[tuple[WorkItem, Scored]]] = CaptionWriter(
        lambda batch: _write_batch(batch, labels, options, stats, dataset_dir)
    )
    try:
        decoder.yield_cpu = not tagger.on_cuda
        decoder.reshape(tagger.height, tagger.width)
        decoder.widen(prefetch_window(tagger.height, tagger.width, workers, batch_size))
        for batch in scored_batches(decoder, tagger, batch_size):
            writer.submit(batch)
            bar.update(len(batch))
            bar.set_postfix(tagged=stats.tagged, skipped=len(stats.skipped), refresh=False)
    finally:
        writer.close()  # every scored image's caption is on disk (and counted) before the summary
        bar.close()


def _write_batch(
    batch: list[tuple[WorkItem, Scored]],
    labels: Labels,
    options: TaggingOptions,
    stats: RunStats,
    dataset_dir: Path,
) -> None:
    """One scored batch → caption files and ``stats`` (runs on the caption writer's thread)."""
    for item, scored in batch:
        name = _relative(item.image, dataset_dir)
        if isinstance(scored, str):
            stats.skip(name, scored)
        else:
            _write_one(item.caption, select_tags(scored, labels, options), options, stats, name)


def _write_one(caption: Path, tags: list[str], options: TaggingOptions, stats: RunStats, name: str) -> None:
    try:
        result = write_caption(caption, tags, options)
    except (UnreadableCaption, OSError) as error:
        stats.skip(name, str(error))
        return
    if result is CaptionResult.MERGED:
        stats.merged += 1
    else:
        stats.written += 1
    stats.tag_counts.update(tags)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lora_studio.workers.wd14",
        description="Tag a dataset's images with a WD14 tagger; writes one caption file per image.",
    )
    parser.add_argument(
        "--dataset-dir", type=Path, required=True, help="dataset folder (with N_name folders)"
    )
    parser.add_argument("--models-dir", type=Path, required=True, help="workspace models folder")
    add_tagging_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        options = options_from_namespace(args)
        return run_tagging(args.dataset_dir, args.models_dir, options)
    except LoraStudioError as error:
        log(f"ERROR: {error}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        log("stopped")
        return EXIT_STOPPED
