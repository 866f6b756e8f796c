"""Model download against the fake Hub (tests/fakes/hub_server.py) through HF_ENDPOINT."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lora_studio.config.tagging import TaggingOptions
from lora_studio.services.tagging import tagger_command
from tests.fakes.hub_server import HubServer
from tests.tagging.conftest import DEFAULT_CAPTIONS, read_captions

ROOT = Path(__file__).resolve().parents[2]
REPO = "SmilingWolf/wd-vit-tagger-v3"


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    from tests.tagging.tiny_tagger import build_tiny_tagger

    folder = build_tiny_tagger(tmp_path_factory.mktemp("hub") / "tiny")
    return {name: (folder / name).read_bytes() for name in ("model.onnx", "selected_tags.csv")}


def run_against(hub, settings, dataset, token=None, **options):
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_XET": "1"}
    env.pop("HF_TOKEN", None)
    if token:
        env["HF_TOKEN"] = token
    env["HF_HOME"] = str(settings.workspace / ".hf")  # no stored token from this machine
    argv = tagger_command(settings, dataset, TaggingOptions(workers=0, **options))
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_registry_id_downloads_then_runs_from_the_models_folder(settings, make_dataset, tiny_files):
    dataset = make_dataset()
    with HubServer(files={REPO: tiny_files}) as hub:
        done = run_against(hub, settings, dataset)
        assert done.returncode == 0, done.stdout + done.stderr
        assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS
        target = settings.models_dir / "taggers" / "wd-vit-tagger-v3"
        assert (target / "model.onnx").read_bytes() == tiny_files["model.onnx"]
        seen = len(hub.requests)
        again = run_against(hub, settings, dataset, existing="overwrite")
        assert again.returncode == 0 and len(hub.requests) == seen  # cached: the Hub is not asked again


def test_repo_id_downloads_into_its_own_folder(settings, make_dataset, tiny_files):
    dataset = make_dataset()
    with HubServer(files={"someone/my-tagger": tiny_files}) as hub:
        done = run_against(hub, settings, dataset, model="someone/my-tagger")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (settings.models_dir / "taggers" / "someone--my-tagger" / "selected_tags.csv").is_file()


@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "is gated"), ("wrong", "is gated")],
)
def test_gated_repo(settings, make_dataset, tiny_files, token, message):
    dataset = make_dataset()
    with HubServer(files={REPO: tiny_files}, gated={REPO}, tokens={"good"}) as hub:
        done = run_against(hub, settings, dataset, token=token)
    assert done.returncode == 2 and message in done.stdout and "HF_TOKEN" in done.stdout


def test_gated_repo_with_a_good_token(settings, make_dataset, tiny_files):
    dataset = make_dataset()
    with HubServer(files={REPO: tiny_files}, gated={REPO}, tokens={"good"}) as hub:
        done = run_against(hub, settings, dataset, token="good")
    assert done.returncode == 0, done.stdout + done.stderr


def test_missing_repo_and_missing_file(settings, make_dataset, tiny_files):
    dataset = make_dataset()
    with HubServer(files={"someone/half": {"selected_tags.csv": tiny_files["selected_tags.csv"]}}) as hub:
        missing = run_against(hub, settings, dataset, model="someone/nothing")
        half = run_against(hub, settings, dataset, model="someone/half")
    assert missing.returncode == 2 and "does not exist or is private" in missing.stdout
    assert half.returncode == 2 and "no such file" in half.stdout
