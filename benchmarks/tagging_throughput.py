"""Throughput of the WD14 tagging pipeline (lora_studio.workers.wd14) against plain baselines.

1. Decode-bound: a cheap model with the real I/O (tests/tagging/tiny_tagger.py) over 256 photo-like
   images of 1024 px and more (JPEG and PNG). Pipeline images/s vs a plain sequential implementation
   of the reference approach (open, Space preprocessing, run batch 1, threshold, write). Target >= 2.0x
   on a 2-core machine; the pipeline is also run with fewer decoding workers (``--workers``) to show
   how it scales with cores.
2. Model-bound: a random-weight ONNX twin of wd-vit-tagger-v3 (timm ViT-B/16 @ 448, real I/O), made
   here when torch==2.13.0 and timm import; pipeline images/s vs pure inference on tensors pre-made
   from the same images, in pairs that alternate which runs first; the ratio is the median of the
   pairs' ratios. Target >= 0.97x. Skipped (with the reason) otherwise. Pure inference runs on a
   bare session with onnxruntime's defaults, the pipeline on the session the worker makes. Two kinds
   of pairs:
   - whole runs, as a user meets them: from no session and no decoding threads to the last caption
     (the pipeline's threads ended), session creation included in both. The pipeline starts its
     decoding threads on the first images before it loads the model, as the worker does;
   - on one warm session and one pool of threads: each pipeline run is timed from setting the threads
     to its first image to its last caption, so it pays for decoding every image.

Decode-bound runs are timed whole as well.
Usage: python benchmarks/tagging_throughput.py [--images 256] [--repeats 2] [--workers 1,2,4]
       [--model-images 12] [--model-repeats 8]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

if TYPE_CHECKING:
    from lora_studio.workers.wd14.session import TaggerSession

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# onnxruntime, onnx, torch and lora_studio are imported inside the functions that use them: the
# model-bound part is optional (torch), and `--help` answers at once.

OUT = ROOT / "benchmarks" / "out" / "tagging"
SIZES = [(1024, 1024), (1280, 1024), (1024, 1536), (1536, 1536)]


def make_images(folder: Path, count: int) -> list[Path]:
    """Photo-like pictures (smooth colour fields, shapes, grain), half JPEG q90, half PNG; cached."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"img_{i:04d}.{'jpg' if i % 2 == 0 else 'png'}"
        paths.append(path)
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        size = SIZES[i % len(SIZES)]
        base = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
        draw = ImageDraw.Draw(base)
        for _ in range(25):
            x, y, r = (int(v) for v in rng.integers(0, min(size), 3))
            draw.ellipse((x, y, x + r // 3, y + r // 4), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        grain = rng.normal(0, 6, (size[1], size[0], 3))
        pixels = np.clip(np.asarray(base, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels)
        image.save(path, quality=90) if path.suffix == ".jpg" else image.save(path)
    return paths


def sequential_reference(model: Path, images: list[Path]) -> float:
    """Plain loop of the reference approach; images/s, session creation included."""
    import onnxruntime as ort

    from lora_studio.workers.wd14.labels import load_labels
    from lora_studio.workers.wd14.preprocess import space_reference_input

    labels = load_labels(model.parent / "selected_tags.csv")
    start = time.perf_counter()
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    input_name, size = session.get_inputs()[0].name, int(session.get_inputs()[0].shape[1])
    for path in images:
        with Image.open(path) as image:
            batch = space_reference_input(image, size)[None]
        scores = session.run(None, {input_name: batch})[0][0]
        tags = [labels.names[i] for i in labels.general if scores[i] > 0.35]
        tags += [labels.names[i] for i in labels.character if scores[i] > 0.85]
        path.with_suffix(".txt").write_text(", ".join(tags) + "\n", encoding="utf-8")
    return len(images) / (time.perf_counter() - start)


def pipeline(model_dir: Path, dataset: Path, workers: int, batch_size: int | None = None) -> float:
    """The worker's pipeline as ``run_tagging`` runs it: the decoding threads start on the first
    images before the session loads; images/s, timed from there until the threads have ended."""
    from lora_studio.config.tagging import ExistingCaption, TaggingOptions
    from lora_studio.workers.wd14.decode import start_pool
    from lora_studio.workers.wd14.labels import load_labels
    from lora_studio.workers.wd14.plan import plan_run
    from lora_studio.workers.wd14.run import start_decoding, tag_planned
    from lora_studio.workers.wd14.session import open_session
    from lora_studio.workers.wd14.summary import RunStats

    options = TaggingOptions(
        model=str(model_dir),
        existing=ExistingCaption.OVERWRITE,
        workers=workers,
        batch_size=batch_size,
    )
    plan = plan_run(dataset, options)
    labels = load_labels(model_dir / "selected_tags.csv")
    stats = RunStats(total=plan.total)
    start = time.perf_counter()
    pool = start_pool(workers)
    decoder = start_decoding(plan, options, pool)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            tagger = open_session(model_dir / "model.onnx", options.device, print)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            tag_planned(plan, tagger, labels, options, stats, dataset, decoder)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    elapsed = time.perf_counter() - start
    assert stats.tagged == len(plan.items), stats.skipped[:3]
    return stats.tagged / elapsed


def best(runs: int, measure: Callable[[], float]) -> float:
    return max(measure() for _ in range(runs))


def decode_bound(count: int, repeats: int, worker_counts: list[int]) -> None:
    from lora_studio.workers.wd14.run import default_workers
    from tests.tagging.tiny_tagger import build_tiny_tagger

    dataset = OUT / "decode_bound"
    images = make_images(dataset / "1_bench", count)
    model_dir = build_tiny_tagger(OUT / "tiny_model")
    cores = default_workers()
    counts = sorted(set(worker_counts or [1]) | {cores})
    print(f"decode-bound: {count} images (JPEG+PNG, 1024-1536 px), cheap model, {cores} cores")
    reference = best(repeats, lambda: sequential_reference(model_dir / "model.onnx", images))
    print(f"  sequential reference      {reference:7.2f} images/s")
    rates = {}
    for workers in counts:
        rates[workers] = best(repeats, lambda n=workers: pipeline(model_dir, dataset, workers=n))
        label = f"pipeline, {workers} worker{'s' if workers > 1 else ''}"
        print(f"  {label:<25} {rates[workers]:7.2f} images/s  ({rates[workers] / reference:.2f}x)")
    print(f"DECODE-BOUND RATIO pipeline/sequential = {rates[cores] / reference:.2f} (target >= 2.0)")
    for workers in counts[1:]:
        print(f"  scaling {workers} workers vs {counts[0]} = {rates[workers] / rates[counts[0]]:.2f}x")


def _torch_ready() -> str | None:
    """None when torch==2.13.0 and timm import, else why the model-bound part is skipped."""
    try:
        import torch
    except ImportError:
        return "torch is not installed (install torch==2.13.0 and timm to run this part)"
    if not torch.__version__.startswith("2.13.0"):
        return f"torch {torch.__version__} is installed; this benchmark is pinned to torch==2.13.0"
    if "torchvision" not in sys.modules:
        # A CUDA torchvision beside a CPU torch breaks `import timm` (operator torchvision::nms); timm
        # needs nothing from it here.
        import types

        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("_meta_registrations"))
    try:
        import timm  # noqa: F401
    except ImportError as error:
        return f"timm cannot be imported ({error})"
    return None


def export_vit_twin(folder: Path, n_tags: int = 10861) -> Path:
    """Random-weight wd-vit-tagger-v3 twin: NHWC BGR 0..255 → x/127.5-1 → ViT-B/16@448 → sigmoid."""
    import timm
    import torch

    model_path = folder / "model.onnx"
    if model_path.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    backbone = timm.create_model(
        "vit_base_patch16_224",
        pretrained=False,
        img_size=448,
        class_token=False,
        global_pool="avg",
        fc_norm=False,
        act_layer="gelu_tanh",
        num_classes=n_tags,
    )

    class Twin(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.backbone(x.permute(0, 3, 1, 2) / 127.5 - 1.0))

    example = torch.zeros(1, 448, 448, 3)
    with torch.no_grad():
        torch.onnx.export(
            Twin().eval(),
            (example,),
            str(model_path),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch_size"}, "output": {0: "batch_size"}},
            opset_version=17,
            dynamo=False,
        )
    rows = ["tag_id,name,category,count"] + [
        f"9999999,{r},9,0" for r in ("general", "sensitive", "questionable", "explicit")
    ]
    rows += [f"{i},tag_{i},{0 if i < 8106 else 4},0" for i in range(n_tags - 4)]
    (folder / "selected_tags.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def model_bound(count: int, repeats: int) -> None:
    import onnxruntime as ort

    from lora_studio.config.tagging import ExistingCaption, TaggingOptions
    from lora_studio.workers.wd14.decode import start_pool
    from lora_studio.workers.wd14.labels import load_labels
    from lora_studio.workers.wd14.plan import plan_run
    from lora_studio.workers.wd14.preprocess import prepare_file, to_model_input
    from lora_studio.workers.wd14.run import decoding_workers, start_decoding, tag_planned
    from lora_studio.workers.wd14.session import open_session
    from lora_studio.workers.wd14.summary import RunStats

    reason = _torch_ready()
    if reason:
        print(f"model-bound: skipped: {reason}")
        return
    model_dir = export_vit_twin(OUT / "vit_v3_twin")
    model = model_dir / "model.onnx"
    dataset = OUT / f"model_bound_{count}"
    make_images(dataset / "1_bench", count)
    options = TaggingOptions(model=str(model_dir), existing=ExistingCaption.OVERWRITE)
    workers = decoding_workers(options)
    plan = plan_run(dataset, options)
    labels = load_labels(model_dir / "selected_tags.csv")
    # The same images, prepared beforehand exactly as the pipeline prepares them: the model's speed
    # depends on its input (random noise ran ~3.5 % faster than these photos here).
    tensors = np.empty((count, 1, 448, 448, 3), dtype=np.float32)
    for tensor, item in zip(tensors, plan.items, strict=True):
        to_model_input(prepare_file(item.image, 448, 448), tensor[0])
    quiet = io.StringIO()

    def load() -> TaggerSession:
        """The session the worker makes."""
        with contextlib.redirect_stdout(quiet):
            return open_session(model, options.device, print)

    def load_plain() -> Callable[[np.ndarray], object]:
        """A bare session with onnxruntime's defaults, as pure inference would make it."""
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda tensor: session.run(None, {name: tensor})

    def pure_whole() -> float:
        start = time.perf_counter()
        run = load_plain()
        for tensor in tensors:
            run(tensor)
        return count / (time.perf_counter() - start)

    def pipeline_whole() -> float:
        return pipeline(model_dir, dataset, workers)

    print(f"model-bound: {count} images, random-weight ViT-B/16@448 twin, batch 1 on CPU, {workers} cores")
    pure_whole()  # not counted: reads the model file into the page cache (a cold read took 7 s here)
    load_start = time.perf_counter()
    pool = start_pool(workers)
    try:
        decoder = start_decoding(plan, options, pool)
        tagger = load()
        print(
            f"  a run as the worker makes it: model loaded in {time.perf_counter() - load_start:.2f} s; "
            f"by then {decoder.ready} of {count} images decoded by threads started just before"
        )
        decoder.cancel()
        plain = load_plain()

        def pure_warm() -> float:
            start = time.perf_counter()
            for tensor in tensors:
                plain(tensor)
            return count / (time.perf_counter() - start)

        def pipeline_warm() -> float:
            stats = RunStats(total=plan.total)
            start = time.perf_counter()
            decoder = start_decoding(plan, options, pool)
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                tag_planned(plan, tagger, labels, options, stats, dataset, decoder)
            elapsed = time.perf_counter() - start
            assert stats.tagged == count, stats.skipped[:3]
            return count / elapsed

        pure_warm(), pipeline_warm()  # not counted: the session's first run, the threads' first images
        whole = _pairs("whole runs (session load included)", pure_whole, pipeline_whole, repeats)
        warm = _pairs("one warm session (pipeline decodes all its images)", pure_warm, pipeline_warm, repeats)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    print(
        f"MODEL-BOUND RATIO pipeline/inference = {whole:.3f} whole runs, {warm:.3f} on a warm session "
        f"(medians of {repeats} pairs; target >= 0.97)"
    )


def _pairs(label: str, pure: Callable[[], float], piped: Callable[[], float], repeats: int) -> float:
    """Runs ``repeats`` pairs, alternating which one runs first (this machine's speed drifts by
    several per cent a minute); prints them and returns the median of the pairs' ratios."""
    inference, pipelined = [], []
    for pair in range(repeats):
        if pair % 2 == 0:
            inference.append(pure())
            pipelined.append(piped())
        else:
            pipelined.append(piped())
            inference.append(pure())
    ratios = [p / i for p, i in zip(pipelined, inference, strict=True)]
    print(f"  {label}:")
    print(f"    pure inference   {statistics.median(inference):.3f} images/s  {_runs(inference)}")
    print(f"    pipeline         {statistics.median(pipelined):.3f} images/s  {_runs(pipelined)}")
    print(f"    ratio, per pair  {statistics.median(ratios):.3f}  {_runs(ratios)}")
    return statistics.median(ratios)


def _runs(values: list[float], unit: str = "") -> str:
    return "[" + ", ".join(f"{value:.3f}{unit}" for value in values) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--model-images", type=int, default=12)
    parser.add_argument("--model-repeats", type=int, default=8)
    parser.add_argument("--skip-model-bound", action="store_true")
    parser.add_argument(
        "--workers",
        default="1",
        help="comma-separated decoding-worker counts to show the decode-bound scaling with "
        "(the machine's core count is always added), e.g. 1,2,4,8,16",
    )
    args = parser.parse_args()
    import onnxruntime as ort

    print(f"onnxruntime {ort.__version__}, {os.cpu_count()} CPUs")
    decode_bound(args.images, args.repeats, [int(n) for n in args.workers.split(",") if n])
    if not args.skip_model_bound:
        model_bound(args.model_images, args.model_repeats)


if __name__ == "__main__":
    main()
