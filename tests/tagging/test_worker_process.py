"""The worker as a real subprocess (``python -m lora_studio.workers.wd14``), with decoding threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)

from lora_studio.config.tagging import TaggingOptions
from lora_studio.core.errors import DownloadFailed, GatedModel, ModelNotFound
from lora_studio.services.tagging import tagger_command
from lora_studio.workers.wd14.model_files import hub_error
from lora_studio.workers.wd14.summary import SUMMARY_PREFIX
from tests.tagging.conftest import DEFAULT_CAPTIONS, read_captions

ROOT = Path(__file__).resolve().parents[2]


def run_worker(settings, dataset, **options):
    argv = tagger_command(settings, dataset, TaggingOptions(**options))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_worker_tags_a_dataset_with_two_decoding_threads(settings, make_dataset, tiny_model):
    dataset = make_dataset()
    done = run_worker(settings, dataset, model=str(tiny_model), workers=2, batch_size=2, device="cpu")
    assert done.returncode == 0, done.stdout + done.stderr
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS
    assert "onnxruntime provider actually running: CPUExecutionProvider" in done.stdout
    assert "2 decoding worker(s)" in done.stdout
    assert "tagging: 100%" in done.stderr and "5/5" in done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith(SUMMARY_PREFIX))
    summary = json.loads(line[len(SUMMARY_PREFIX) :])
    assert summary["tagged"] == 5 and summary["skipped_count"] == 0


def test_worker_fails_when_every_image_is_bad(settings, make_dataset, fixed_model):
    dataset = make_dataset(concepts={"1_x": {"a.png": b"junk"}})
    done = run_worker(settings, dataset, model=str(fixed_model), workers=1)
    assert done.returncode == 1
    assert "no image could be tagged" in done.stdout


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("/no/such/folder", "That folder does not exist"),
        ("not a model id!", "Use one of wd-vit-tagger-v3"),
        ("wd-vit-tagger-v3", "the Hugging Face Hub is not reachable"),
    ],
)
def test_worker_explains_a_missing_model(settings, make_dataset, model, message):
    dataset = make_dataset()
    done = run_worker(settings, dataset, model=model, workers=0)
    assert done.returncode == 2
    assert message in done.stdout
    assert not list((dataset / "10_a").glob("*.txt"))


def test_downloaded_model_folder_is_used_without_the_hub(settings, make_dataset, tiny_model):
    target = settings.models_dir / "taggers" / "wd-vit-tagger-v3"
    target.mkdir(parents=True)
    for name in ("model.onnx", "selected_tags.csv"):
        (target / name).write_bytes((tiny_model / name).read_bytes())
    dataset = make_dataset()
    done = run_worker(settings, dataset, workers=0)  # default model id, HF_HUB_OFFLINE=1
    assert done.returncode == 0, done.stdout
    assert "using the downloaded tagger SmilingWolf/wd-vit-tagger-v3" in done.stdout


def _http_error(cls, status, **kw):
    request = httpx.Request("GET", "https://huggingface.co/x/y/resolve/main/model.onnx")
    return cls("boom", response=httpx.Response(status, request=request), **kw)


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (lambda: _http_error(GatedRepoError, 401), GatedModel, "is gated"),
        (lambda: _http_error(RepositoryNotFoundError, 404), ModelNotFound, "does not exist or is private"),
        (lambda: _http_error(RemoteEntryNotFoundError, 404), ModelNotFound, "no such file"),
        (lambda: _http_error(HfHubHTTPError, 403), GatedModel, "HTTP 403"),
        (lambda: _http_error(HfHubHTTPError, 500), DownloadFailed, "failed"),
        (lambda: LocalEntryNotFoundError("offline"), DownloadFailed, "not reachable"),
    ],
)
def test_hub_errors_become_clear_messages(tmp_path, error, expected, text):
    mapped = hub_error("x/y", "model.onnx", tmp_path, error())
    assert type(mapped) is expected and text in str(mapped)


def test_worker_help_runs():
    done = subprocess.run(
        [sys.executable, "-m", "lora_studio.workers.wd14", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0 and "--general-threshold" in done.stdout
