"""``python -m lora_studio train start|doctor`` as real subprocesses, against the stand-in trainer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lora_studio.core.settings import Settings
from lora_studio.core.types import JobStatus
from lora_studio.services import build_services
from tests.training_run.conftest import make_dataset
from tests.training_run.fake_checkout import ROOT, FakeTrainer


def cli(settings: Settings, fake: FakeTrainer, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "LORA_STUDIO_SD_SCRIPTS": str(fake.checkout),
        "LORA_STUDIO_TRAINER_PYTHON": str(fake.python),
        "LORA_STUDIO_STOP_GRACE": "3",
        **env,
    }
    argv = [sys.executable, "-m", "lora_studio", "--workspace", str(settings.workspace), "train", *args]
    return subprocess.run(argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


def start_args(model: Path, *extra: str) -> list[str]:
    return [
        "start",
        "--preset",
        "sd15-cpu-smoke",
        "--dataset",
        "demo",
        "--model",
        str(model),
        "--cpu",
        *extra,
    ]


def test_start_wait_follows_the_log_and_exits_with_the_outcome(
    run_settings: Settings, fake_trainer: FakeTrainer, sd15_model: Path, good_dataset: Path
) -> None:
    done = cli(run_settings, fake_trainer, *start_args(sd15_model, "--trigger", "ohwx", "--wait"))
    assert done.returncode == 0, done.stderr
    job_id = done.stdout.splitlines()[0]
    assert "steps: 100%" in done.stdout and "saving checkpoint:" in done.stdout
    assert f"{job_id}: succeeded" in done.stderr and "LoRA (final):" in done.stderr
    assert build_services(run_settings).jobs.get(job_id).status is JobStatus.SUCCEEDED

    failed = cli(run_settings, fake_trainer, *start_args(sd15_model, "--wait"), FAKE_TRAINER_FAIL="oom")
    assert failed.returncode == 1
    assert "What went wrong: The GPU ran out of memory" in failed.stderr and "sd15-8gb" in failed.stderr


def test_start_without_wait_returns_the_job_id(
    run_settings: Settings, fake_trainer: FakeTrainer, sd15_model: Path, good_dataset: Path
) -> None:
    done = cli(run_settings, fake_trainer, *start_args(sd15_model))
    assert done.returncode == 0, done.stderr
    (job_id,) = done.stdout.split()
    record = build_services(run_settings).jobs.engine.wait(job_id, timeout=60)
    assert record.status is JobStatus.SUCCEEDED and "run folder:" in done.stderr


def test_doctor_and_refused_starts(
    run_settings: Settings, fake_trainer: FakeTrainer, sd15_model: Path, good_dataset: Path
) -> None:
    doctor = ["doctor", "--preset", "sd15-cpu-smoke", "--dataset", "demo", "--model", str(sd15_model)]
    done = cli(run_settings, fake_trainer, *doctor, "--trigger", "ohwx")
    assert done.returncode == 0 and "✅ steps:" in done.stdout, done.stdout + done.stderr
    make_dataset(run_settings.datasets_dir, "empty", {})
    done = cli(run_settings, fake_trainer, *doctor[:3], "--dataset", "empty", "--model", str(sd15_model))
    assert done.returncode == 1 and "❌ layout: No concept folder" in done.stdout
    refused = cli(
        run_settings, fake_trainer, *start_args(sd15_model, "--set", "training.mixed_precision='fp16'")
    )
    assert refused.returncode == 2 and "fp16 needs a GPU" in refused.stderr
