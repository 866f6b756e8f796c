"""Opt-in: the studio launches real sd-scripts from the sd15-cpu-smoke preset and gets a LoRA.

Runs when LORA_STUDIO_SD_SCRIPTS (checkout), LORA_STUDIO_TRAINER_PYTHON (its venv's python) and
LORA_STUDIO_TEST_SD15 (a folder from shared/tools/make_random_sd15.py) exist; skipped otherwise.
2 steps at 64 px on a CPU: about 30-60 s and 7 GB of RAM.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lora_studio.core.settings import Settings
from lora_studio.core.types import JobStatus
from lora_studio.services import build_services
from lora_studio.services.models.safetensors_header import read_header
from lora_studio.services.training import TrainingService
from lora_studio.services.training.bundle import VERSIONS_JSON
from tests.training_run.conftest import make_dataset, smoke_config

pytestmark = pytest.mark.sdscripts
ENV = ("LORA_STUDIO_SD_SCRIPTS", "LORA_STUDIO_TRAINER_PYTHON", "LORA_STUDIO_TEST_SD15")


def _paths() -> tuple[Path, Path, Path]:
    values = [os.environ.get(name) for name in ENV]
    if not all(values) or not all(Path(value).exists() for value in values if value):
        pytest.skip("set " + ", ".join(ENV) + " to existing paths to run real sd-scripts")
    checkout, python, model = (Path(value or "") for value in values)
    return checkout, python, model


@pytest.mark.timeout(900)
def test_two_real_steps_make_a_lora(tmp_path: Path) -> None:
    checkout, python, model_dir = _paths()
    settings = Settings(
        workspace=tmp_path / "workspace", sd_scripts=checkout, trainer_python=python
    ).ensure_workspace()
    training = TrainingService(settings, build_services(settings).jobs)
    colours = ["red", "green", "blue", "white"]
    make_dataset(
        settings.datasets_dir, "real", {"1_ohwx": [(256, 256, f"ohwx, {c} background") for c in colours]}
    )
    config = smoke_config(
        model_dir / "random_sd15.safetensors", f'model.tokenizer_cache_dir="{model_dir / "tokenizers"}"'
    )

    report = training.doctor(config, "real", trigger="ohwx", gpu_available=False)
    assert report.ok, report.lines()
    launch = training.start(config, "real", trigger="ohwx", gpu_available=False)
    record = training.jobs.engine.wait(launch.job.id, timeout=840)

    log_tail = "\n".join(training.jobs.tail(launch.job.id, 40))
    assert record.status is JobStatus.SUCCEEDED, f"{record.reason}\n{log_tail}"
    loras = training.loras(launch.job.id)
    assert [lora.label for lora in loras] == ["final"]
    header = read_header(loras[0].path)
    assert sum(key.startswith("lora_unet_") for key in header.tensors) > 0
    assert header.metadata["ss_steps"] == "2"
    progress = training.progress(launch.job.id)
    assert progress.step == 2 and progress.total == 2
    assert [point.step for point in training.loss(launch.job.id)] == [1, 2]
    versions = (launch.run_dir / VERSIONS_JSON).read_text()
    assert "48d368fa557731ad0488c07304dfeba8c07910eb" in versions and '"torch"' in versions
    assert training.jobs.log_path(launch.job.id).parent == launch.run_dir
