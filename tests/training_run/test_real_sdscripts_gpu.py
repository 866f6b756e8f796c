"""Opt-in: real sd-scripts on a real NVIDIA GPU, launched by the studio from the sd15-8gb preset.

Runs when the three paths of test_real_sdscripts.py exist AND nvidia-smi shows a GPU; skipped otherwise
(CI has no GPU). It keeps the preset's GPU settings (fp16 mixed precision, gradient checkpointing,
cached latents, SDPA, min-SNR, noise offset, cosine with warm-up, 512 px buckets) and shortens the run
to 3 epochs of 2 steps, with a sample image after each epoch.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from lora_studio.config.presets import load_preset
from lora_studio.config.training import TrainingConfig
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobStatus
from lora_studio.services import build_services
from lora_studio.services.models.safetensors_header import read_header
from lora_studio.services.system import detect_gpus, suggest_presets
from lora_studio.services.training import TrainingService
from tests.training_run.conftest import make_dataset

pytestmark = pytest.mark.sdscripts
ENV = ("LORA_STUDIO_SD_SCRIPTS", "LORA_STUDIO_TRAINER_PYTHON", "LORA_STUDIO_TEST_SD15")


def _paths() -> tuple[Path, Path, Path]:
    values = [os.environ.get(name) or "" for name in ENV]
    if not all(values) or not all(Path(value).exists() for value in values):
        pytest.skip("set " + ", ".join(ENV) + " to existing paths to run real sd-scripts")
    if not detect_gpus():
        pytest.skip("no NVIDIA GPU (nvidia-smi) on this machine")
    checkout, python, model = (Path(value) for value in values)
    return checkout, python, model


def gpu_config(model_dir: Path) -> TrainingConfig:
    data = load_preset("sd15-8gb").model_dump()
    data["model"].update(
        base=str(model_dir / "random_sd15.safetensors"), tokenizer_cache_dir=str(model_dir / "tokenizers")
    )
    # AdamW8bit needs bitsandbytes, which the GPU test machine's trainer environment may lack.
    data["optimizer"]["type"] = os.environ.get("LORA_STUDIO_TEST_OPTIMIZER", "AdamW")
    data["training"].update(max_train_epochs=3, max_data_loader_n_workers=0)
    data["saving"].update(save_every_n_epochs=1, keep_last_n_epochs=None)
    data["sampling"].update(
        prompts=[{"text": "ohwx, red background", "steps": 8, "seed": 1}], every_n_epochs=1
    )
    return TrainingConfig.model_validate(data)


def _studio(tmp_path: Path, checkout: Path, python: Path) -> TrainingService:
    settings = Settings(
        workspace=tmp_path / "workspace", sd_scripts=checkout, trainer_python=python, stop_grace_s=10.0
    ).ensure_workspace()
    colours = ["red", "green", "blue", "white"]
    make_dataset(
        settings.datasets_dir, "real", {"1_ohwx": [(512, 512, f"ohwx, {c} background") for c in colours]}
    )
    return TrainingService(settings, build_services(settings).jobs)


def gpu_memory_used_mib() -> int:
    done = subprocess.run(
        ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "--id=0"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return int(done.stdout.strip().splitlines()[0])


@pytest.mark.timeout(900)
def test_a_gpu_run_from_the_8gb_preset_makes_loras_and_samples(tmp_path: Path) -> None:
    checkout, python, model_dir = _paths()
    gpus = detect_gpus()
    assert gpus[0].name and gpus[0].memory_gb > 1
    assert "sd15-8gb" in suggest_presets(["sd15-8gb", "sdxl-24gb"], gpus)
    training = _studio(tmp_path, checkout, python)
    config = gpu_config(model_dir)

    report = training.doctor(config, "real", trigger="ohwx", gpu_available=True)
    assert report.ok, report.lines()
    launch = training.start(config, "real", trigger="ohwx", gpu_available=True)
    record = training.jobs.engine.wait(launch.job.id, timeout=840)

    log_tail = "\n".join(training.jobs.tail(launch.job.id, 60))
    print(log_tail)
    assert record.status is JobStatus.SUCCEEDED, f"{record.reason}\n{log_tail}"
    loras = {lora.label: lora for lora in training.loras(launch.job.id)}
    assert "final" in loras and len(loras) >= 3, list(loras)  # epochs 1 and 2, then the final file
    header = read_header(loras["final"].path)
    assert header.metadata["ss_mixed_precision"] == "fp16"
    assert header.metadata["ss_steps"] == "6"
    assert any(key.startswith("lora_te_") for key in header.tensors)
    progress = training.progress(launch.job.id)
    assert progress.step == 6 and progress.total == 6
    # tqdm prints at most every 0.1 s, and a GPU step can be quicker: some steps may have no loss line.
    steps = [point.step for point in training.loss(launch.job.id)]
    assert steps and steps == sorted(steps) and steps[-1] <= 6
    samples = training.sample_images(launch.job.id)
    assert samples and all(sample.path.stat().st_size > 0 for sample in samples)
    print(f"{len(samples)} sample image(s); loss at steps {steps}")
    log = "\n".join(training.jobs.tail(launch.job.id, 10_000))
    assert "accelerator device: cuda" in log


@pytest.mark.timeout(600)
def test_stop_mid_run_ends_the_job_and_gives_the_gpu_memory_back(tmp_path: Path) -> None:
    checkout, python, model_dir = _paths()
    training = _studio(tmp_path, checkout, python)
    data = gpu_config(model_dir).model_dump()
    data["training"].update(max_train_epochs=200)
    data["sampling"].update(prompts=[], every_n_epochs=None)
    config = TrainingConfig.model_validate(data)
    before = gpu_memory_used_mib()

    launch = training.start(config, "real", trigger="ohwx", gpu_available=True)
    deadline = time.monotonic() + 400
    while (training.progress(launch.job.id).step or 0) < 3:
        assert training.jobs.engine.get(launch.job.id).status.is_active, training.jobs.tail(launch.job.id, 40)
        assert time.monotonic() < deadline, "training never reached step 3"
        time.sleep(1)
    during = gpu_memory_used_mib()
    training.stop(launch.job.id)
    record = training.jobs.engine.wait(launch.job.id, timeout=120)

    assert record.status is JobStatus.STOPPED, record.reason
    deadline = time.monotonic() + 30
    while gpu_memory_used_mib() > before + 256 and time.monotonic() < deadline:
        time.sleep(1)
    after = gpu_memory_used_mib()
    print(f"GPU memory used: {before} MiB before, {during} MiB while training, {after} MiB after Stop")
    assert during > before + 1000 and after <= before + 256
