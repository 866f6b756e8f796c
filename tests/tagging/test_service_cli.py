"""The job spec the Tagging tab submits, and ``python -m lora_studio tag`` in the foreground."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from lora_studio.cli import tagging as cli_tagging
from lora_studio.config.tagging import TaggingOptions, parse_tagger_args
from lora_studio.core.errors import ConceptNotFound, DatasetNotFound, InvalidInput, InvalidName, ModelNotFound
from lora_studio.core.types import JobKind
from lora_studio.services.tagging import check_tagging, tag_job_spec
from tests.tagging.conftest import DEFAULT_CAPTIONS, read_captions

ROOT = Path(__file__).resolve().parents[2]


def test_job_spec(settings, make_dataset, tiny_model):
    dataset = make_dataset()
    options = TaggingOptions(model=str(tiny_model), rating=True, device="cpu")
    spec = tag_job_spec(settings, "ds", options)
    assert spec.kind is JobKind.TAG and spec.progress_desc == "tagging"
    assert spec.argv[:3] == (sys.executable, "-m", "lora_studio.workers.wd14")
    assert spec.argv[3:5] == (f"--dataset-dir={dataset}", f"--models-dir={settings.models_dir}")
    assert parse_tagger_args(spec.argv[5:]) == options
    assert spec.uses_gpu is False and spec.meta == {"dataset": "ds", "model": str(tiny_model)}
    assert tag_job_spec(settings, "ds", TaggingOptions()).uses_gpu is True


@pytest.mark.parametrize(
    ("name", "concepts", "error"),
    [
        ("missing", {}, DatasetNotFound),
        ("../escape", {}, InvalidName),
        ("empty", {}, InvalidInput),
        ("noimages", {"1_a": {}}, InvalidInput),
        ("ds", None, ConceptNotFound),
    ],
)
def test_checks_before_starting(settings, make_dataset, name, concepts, error):
    if name in ("empty", "noimages", "ds"):
        make_dataset(name, concepts)
        if name == "empty":
            (settings.datasets_dir / name).mkdir(exist_ok=True)
    with pytest.raises(error):
        check_tagging(settings, name, TaggingOptions(concepts=("nope",) if name == "ds" else ()))


def test_local_model_folder_must_hold_both_files(settings, make_dataset, tmp_path):
    make_dataset()
    with pytest.raises(ModelNotFound):
        check_tagging(settings, "ds", TaggingOptions(model=str(tmp_path)))


def _cli(argv, settings):
    parser = argparse.ArgumentParser()
    cli_tagging.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args, settings)


def test_cli_tags_in_the_foreground(settings, make_dataset, tiny_model, monkeypatch, capfd):
    dataset = make_dataset()
    monkeypatch.chdir(ROOT)
    code = _cli(
        ["tag", "ds", "--model", str(tiny_model), "--workers", "0", "--existing", "overwrite"], settings
    )
    assert code == 0
    assert read_captions(dataset / "10_a") == DEFAULT_CAPTIONS
    assert "LORA_STUDIO_SUMMARY" in capfd.readouterr().out


def test_cli_returns_the_worker_failure(settings, make_dataset, tiny_model, monkeypatch):
    make_dataset(concepts={"1_x": {"a.png": b"junk"}})
    monkeypatch.chdir(ROOT)
    assert _cli(["tag", "ds", "--model", str(tiny_model), "--workers", "0"], settings) == 1


def test_cli_lists_models_and_needs_a_dataset(settings, capsys):
    assert _cli(["tag", "--list-models"], settings) == 0
    assert "SmilingWolf/wd-eva02-large-tagger-v3" in capsys.readouterr().out
    with pytest.raises(InvalidInput):
        _cli(["tag"], settings)


def test_cli_through_the_real_entry_point(settings, make_dataset, tiny_model):
    make_dataset()
    tag_args = ["tag", "ds", "--model", str(tiny_model), "--workers", "0"]
    done = subprocess.run(
        [sys.executable, "-m", "lora_studio", "--workspace", str(settings.workspace), *tag_args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tagged" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "lora_studio", "--workspace", str(settings.workspace), "tag", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "No dataset named 'nope'" in bad.stderr
