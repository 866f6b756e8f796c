"""`train render` and `train presets` through the area's own argparse registration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import toml
from PIL import Image

from lora_studio.cli import training
from lora_studio.core.errors import ConfigInvalid, DatasetNotFound, InvalidName
from lora_studio.core.settings import Settings


def run_cli(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    training.register(parser.add_subparsers())
    args = parser.parse_args(["train", *argv])
    return args.func(args, settings)


@pytest.fixture
def dataset(settings: Settings) -> Path:
    folder = settings.datasets_dir / "demo"
    for name in ("10_ohwx", "3_style", "notes"):
        (folder / name).mkdir(parents=True)
    for concept in ("10_ohwx", "3_style"):
        Image.new("RGB", (96, 96), "red").save(folder / concept / "a.png")
        (folder / concept / "a.txt").write_text("ohwx, red", encoding="utf-8")
    return folder


def test_presets_lists_every_preset(settings: Settings, capsys) -> None:
    assert run_cli(settings, "presets") == 0
    out = capsys.readouterr().out
    assert "sdxl-12gb" in out and "flux-24gb" in out and "sd3" in out


def test_render_writes_tomls_and_command(settings: Settings, dataset: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "render"
    model = tmp_path / "m.safetensors"
    status = run_cli(settings, "render", "--preset", "sd15-8gb", "--dataset", "demo", "--model", str(model),
                     "--set", "network.dim=32", "--set", "optimizer.learning_rate=2e-4", "--out", str(out))  # fmt: skip
    assert status == 0
    train = toml.loads((out / "config.toml").read_text(encoding="utf-8"))
    flat = {k: v for section in train.values() for k, v in section.items()}
    assert flat["pretrained_model_name_or_path"] == str(model.absolute())
    assert flat["network_dim"] == 32 and flat["learning_rate"] == 2e-4
    assert flat["output_dir"] == str((settings.outputs_dir / "sd15_lora").absolute())
    subsets = toml.loads((out / "dataset.toml").read_text(encoding="utf-8"))["datasets"][0]["subsets"]
    assert [(Path(s["image_dir"]).name, s["num_repeats"]) for s in subsets] == [
        ("10_ohwx", 10),
        ("3_style", 3),
    ]
    argv = json.loads((out / "command.json").read_text(encoding="utf-8"))
    assert argv[-4:] == [
        "--config_file",
        str(out / "config.toml"),
        "--dataset_config",
        str(out / "dataset.toml"),
    ]
    assert "train_network.py" in argv[-5]
    printed = capsys.readouterr().out
    assert "accelerate.commands.launch" in printed and "note: model.base: no file" in printed
    assert (out / "training_config.toml").is_file() and (out / "command.txt").is_file()


def test_render_refuses_what_cannot_train(settings: Settings, dataset: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "o")
    with pytest.raises(ConfigInvalid, match="Flux needs its three encoder files"):
        run_cli(
            settings,
            "render",
            "--preset",
            "flux-12gb",
            "--dataset",
            "demo",
            "--model",
            "/m.sft",
            "--out",
            out,
        )
    with pytest.raises(ConfigInvalid, match="fp16 needs a GPU"):
        run_cli(
            settings,
            "render",
            "--preset",
            "sd15-8gb",
            "--dataset",
            "demo",
            "--model",
            "/m",
            "--out",
            out,
            "--cpu",
        )
    with pytest.raises(ConfigInvalid, match="no such setting"):
        run_cli(
            settings,
            "render",
            "--preset",
            "sd15-8gb",
            "--dataset",
            "demo",
            "--set",
            "network.dimm=3",
            "--out",
            out,
        )
    with pytest.raises(DatasetNotFound):
        run_cli(
            settings, "render", "--preset", "sd15-8gb", "--dataset", "nope", "--model", "/m", "--out", out
        )
    with pytest.raises(InvalidName):
        run_cli(
            settings, "render", "--preset", "sd15-8gb", "--dataset", "../x", "--model", "/m", "--out", out
        )
    assert not Path(out).exists()  # nothing half-written


def test_render_from_an_exported_config(settings: Settings, dataset: Path, tmp_path: Path) -> None:
    from lora_studio.config.presets import config_to_toml, load_preset, load_user_config, save_user_config

    config = load_preset("sd15-cpu-smoke")
    saved = save_user_config(config, folder=tmp_path / "configs", name="mine")
    assert load_user_config(folder=tmp_path / "configs", name="mine") == config
    assert saved.read_text(encoding="utf-8") == config_to_toml(config)
    status = run_cli(settings, "render", "--config", str(saved), "--dataset", "demo", "--model", "/m.safetensors",
                     "--out", str(tmp_path / "o"), "--cpu")  # fmt: skip
    assert status == 0
