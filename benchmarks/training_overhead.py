"""Overhead of launching training through LoRA Studio versus the bare sd-scripts command.

    LORA_STUDIO_SD_SCRIPTS=... LORA_STUDIO_TRAINER_PYTHON=... LORA_STUDIO_TEST_SD15=... \\
        .venv/bin/python benchmarks/training_overhead.py [--steps 8] [--rounds 1]

Trains the ``sd15-cpu-smoke`` preset (64 px, random-weight SD1.5 from shared/tools/make_random_sd15.py)
for ``--steps`` steps twice per round: once started by ``TrainingService.start`` (job engine,
supervisor, log file) and once as the bare command (the same argv.json, TOMLs and cwd, output to a
file); after round 1 the order alternates. Prints the steps/s that sd-scripts' own tqdm bar reports for each, and the ratio
studio / bare (target >= 0.98), plus start-to-end wall times. Skips when sd-scripts is absent.
One real run at a time: peak RAM is about 7 GB. On a busy shared machine repeat with --rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from lora_studio.config.launch import TRAIN_ENV
from lora_studio.config.presets import apply_overrides, load_preset
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobStatus
from lora_studio.jobs.follow import LogFollower
from lora_studio.services import build_services
from lora_studio.services.training import TrainingService
from lora_studio.services.training.bundle import ARGV_JSON

ENV = ("LORA_STUDIO_SD_SCRIPTS", "LORA_STUDIO_TRAINER_PYTHON", "LORA_STUDIO_TEST_SD15")


def make_dataset(datasets: Path) -> None:
    folder = datasets / "bench" / "1_ohwx"
    folder.mkdir(parents=True)
    for index, colour in enumerate(["red", "green", "blue", "white"]):
        Image.new("RGB", (256, 256), (index * 60, 120, 200)).save(folder / f"img_{index}.png")
        (folder / f"img_{index}.txt").write_text(f"ohwx, {colour} background", encoding="utf-8")


def steps_per_second(log: Path) -> float:
    follower = LogFollower(log, progress_desc="steps")
    follower.poll()
    if not follower.progress.rate:
        raise SystemExit(f"no training progress in {log}")
    return follower.progress.rate


def studio_run(training: TrainingService, model_dir: Path, steps: int) -> tuple[float, float, Path, str]:
    config = apply_overrides(
        load_preset("sd15-cpu-smoke"),
        [
            f'model.base="{model_dir / "random_sd15.safetensors"}"',
            f'model.tokenizer_cache_dir="{model_dir / "tokenizers"}"',
            f"training.max_train_steps={steps}",
        ],
    )
    started = time.monotonic()
    launch = training.start(config, "bench", gpu_available=False)
    record = training.jobs.engine.wait(launch.job.id, poll_s=0.2)
    wall = time.monotonic() - started
    if record.status is not JobStatus.SUCCEEDED:
        raise SystemExit(f"studio run {record.id} {record.status.value}: {record.reason}")
    return steps_per_second(training.jobs.log_path(record.id)), wall, launch.run_dir, record.id


def bare_run(run_dir: Path, out: Path) -> tuple[float, float]:
    argv = json.loads((run_dir / ARGV_JSON).read_text())
    log = out / f"bare-{time.time():.0f}.log"
    started = time.monotonic()
    with log.open("wb") as handle:
        code = subprocess.call(
            argv,
            cwd=run_dir,
            env={**os.environ, **TRAIN_ENV},
            stdout=handle,
            stderr=handle,
            start_new_session=True,
        )
    wall = time.monotonic() - started
    if code != 0:
        raise SystemExit(f"bare run failed with exit status {code}; see {log}")
    return steps_per_second(log), wall


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    values = [os.environ.get(name) for name in ENV]
    if not all(values) or not all(Path(value).exists() for value in values if value):
        print("skipped: set " + ", ".join(ENV) + " (see shared/tools/README.md)")
        return 0
    checkout, python, model_dir = (Path(value or "") for value in values)
    with tempfile.TemporaryDirectory(prefix="lora-bench-") as temp:
        root = Path(temp)
        settings = Settings(
            workspace=root / "ws", sd_scripts=checkout, trainer_python=python
        ).ensure_workspace()
        make_dataset(settings.datasets_dir)
        training = TrainingService(settings, build_services(settings).jobs)
        ratios, run_dir = [], None
        for round_no in range(1, args.rounds + 1):
            # Alternate which goes first (after round 1), so a warm cache or a load spike favours neither.
            bare_first = run_dir is not None and round_no % 2 == 0
            if bare_first and run_dir is not None:
                bare_rate, bare_wall = bare_run(run_dir, root)
            studio_rate, studio_wall, run_dir, job_id = studio_run(training, model_dir, args.steps)
            if not bare_first:
                bare_rate, bare_wall = bare_run(run_dir, root)
            ratios.append(studio_rate / bare_rate)
            print(
                f"round {round_no} ({'bare' if bare_first else 'studio'} first): {args.steps} steps at 64 px | "
                f"studio {studio_rate:.3f} steps/s (wall {studio_wall:.1f} s, job {job_id}) | "
                f"bare {bare_rate:.3f} steps/s (wall {bare_wall:.1f} s) | "
                f"ratio studio/bare {ratios[-1]:.3f} (target >= 0.98) | load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        ratios.sort()
        print(f"median ratio studio/bare steps/s: {ratios[len(ratios) // 2]:.3f} over {len(ratios)} round(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
