"""The CUDA path of the tagger, through the real worker subprocess.

onnxruntime-gpu lists CUDAExecutionProvider whether or not a GPU can run it, and falls back to the
CPU without an error: the worker must say which provider really runs. The GPU test runs wherever
onnxruntime-gpu and an NVIDIA GPU are both present; the fallback test wherever onnxruntime-gpu is.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import onnxruntime as ort
import pytest

from lora_studio.config.tagging import TaggingOptions
from lora_studio.core.settings import Settings
from lora_studio.services.system import detect_gpus
from lora_studio.services.tagging import tagger_command
from tests.tagging.conftest import DEFAULT_CAPTIONS, read_captions

ROOT = Path(__file__).resolve().parents[2]
CUDA = "CUDAExecutionProvider"
needs_ort_gpu = pytest.mark.skipif(
    CUDA not in ort.get_available_providers(), reason="onnxruntime-gpu is not installed"
)


def run_worker(
    settings: Settings, dataset: Path, env: dict[str, str], **options: object
) -> subprocess.CompletedProcess[str]:
    argv = tagger_command(settings, dataset, TaggingOptions.model_validate(options))
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env}
    return subprocess.run(argv, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300)


@needs_ort_gpu
def test_a_cuda_request_that_cannot_run_falls_back_to_the_cpu_and_says_so(settings, make_dataset, tiny_model):
    dataset = make_dataset()
    done = run_worker(settings, dataset, {"CUDA_VISIBLE_DEVICES": ""}, model=str(tiny_model), device="cuda")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "requested providers: CUDAExecutionProvider, CPUExecutionProvider" in done.stdout
    assert "onnxruntime provider actually running: CPUExecutionProvider" in done.stdout
    assert "WARNING: CUDA was requested but onnxruntime runs on CPU" in done.stdout
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS


@needs_ort_gpu
def test_auto_on_a_machine_without_a_usable_gpu_notes_the_cpu_without_a_warning(
    settings, make_dataset, tiny_model
):
    dataset = make_dataset()
    done = run_worker(settings, dataset, {"CUDA_VISIBLE_DEVICES": ""}, model=str(tiny_model), device="auto")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "onnxruntime provider actually running: CPUExecutionProvider" in done.stdout
    assert "tagging runs on the CPU" in done.stdout and "WARNING: CUDA" not in done.stdout


@needs_ort_gpu
@pytest.mark.skipif(not detect_gpus(), reason="no NVIDIA GPU (nvidia-smi) on this machine")
@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_tagging_runs_on_the_gpu_with_the_same_tags(settings, make_dataset, tiny_model, device):
    dataset = make_dataset()
    done = run_worker(settings, dataset, {}, model=str(tiny_model), device=device)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "onnxruntime provider actually running: CUDAExecutionProvider" in done.stdout, done.stdout
    assert "WARNING" not in done.stdout
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS
