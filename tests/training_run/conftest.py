"""Fixtures for the training-run tests: a workspace wired to the stand-in trainer, datasets, models."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from lora_studio.config.presets import apply_overrides, load_preset
from lora_studio.config.training import TrainingConfig
from lora_studio.core.settings import Settings
from lora_studio.services import build_services
from lora_studio.services.models.safetensors_header import write_safetensors
from lora_studio.services.training import TrainingService
from tests.training_run.fake_checkout import FakeTrainer, build_fake_trainer

SD15_KEYS = {
    "model.diffusion_model.input_blocks.0.0.weight": ("F16", (320, 4, 3, 3)),
    "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight": ("F16", (49408, 768)),
    "first_stage_model.decoder.conv_in.weight": ("F16", (512, 4, 3, 3)),
}
SDXL_KEYS = {
    "model.diffusion_model.input_blocks.0.0.weight": ("F16", (320, 4, 3, 3)),
    "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight": ("F16", (49408, 768)),
}
LORA_KEYS = {
    "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": ("F32", (4, 8)),
    "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": ("F32", (8, 4)),
}


def make_model(folder: Path, name: str, keys: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    write_safetensors(path, keys)
    return path


def make_dataset(root: Path, name: str, concepts: dict[str, list[tuple[int, int, str | None]]]) -> Path:
    """``concepts``: folder name -> images as (width, height, caption or None); captions are .txt files."""
    dataset = root / name
    for folder, images in concepts.items():
        (dataset / folder).mkdir(parents=True, exist_ok=True)
        for index, (width, height, caption) in enumerate(images):
            image = dataset / folder / f"img_{index}.png"
            Image.new("RGB", (width, height), (index * 40 % 255, 90, 160)).save(image)
            if caption is not None:
                image.with_suffix(".txt").write_text(caption, encoding="utf-8")
    dataset.mkdir(parents=True, exist_ok=True)
    return dataset


def smoke_config(model: Path, *changes: str) -> TrainingConfig:
    """The CPU smoke preset with a model file and any ``key=value`` changes."""
    return apply_overrides(load_preset("sd15-cpu-smoke"), [f'model.base="{model}"', *changes])


@pytest.fixture
def fake_trainer(tmp_path: Path) -> FakeTrainer:
    return build_fake_trainer(tmp_path / "trainer")


@pytest.fixture
def run_settings(tmp_path: Path, fake_trainer: FakeTrainer) -> Settings:
    return Settings(
        workspace=tmp_path / "workspace",
        stop_grace_s=3.0,
        sd_scripts=fake_trainer.checkout,
        trainer_python=fake_trainer.python,
    ).ensure_workspace()


@pytest.fixture
def training(run_settings: Settings) -> TrainingService:
    return TrainingService(run_settings, build_services(run_settings).jobs)


@pytest.fixture
def sd15_model(run_settings: Settings) -> Path:
    return make_model(run_settings.models_dir, "sd15.safetensors", SD15_KEYS)


@pytest.fixture
def good_dataset(run_settings: Settings) -> Path:
    images = [(96, 96, "ohwx, red"), (128, 96, "ohwx, green"), (96, 128, "ohwx, blue")]
    return make_dataset(run_settings.datasets_dir, "demo", {"2_ohwx": images})
