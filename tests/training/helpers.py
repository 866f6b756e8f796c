"""Shared builders for the training tests: fixed model paths and concepts, so renders are stable."""

from __future__ import annotations

from typing import Any

from lora_studio.config.concepts import Concept
from lora_studio.config.presets import apply_overrides, load_preset
from lora_studio.config.render import RenderPaths
from lora_studio.config.training import TrainingConfig, validate_training_config

MODEL_FILES = {
    "sd15": {"base": "/models/sd15.safetensors"},
    "sdxl": {"base": "/models/sdxl.safetensors"},
    "sd3": {"base": "/models/sd3.5_medium.safetensors"},
    "flux": {
        "base": "/models/flux1-dev.safetensors",
        "clip_l": "/models/clip_l.safetensors",
        "t5xxl": "/models/t5xxl_fp16.safetensors",
        "ae": "/models/ae.safetensors",
    },
}
CONCEPTS = [
    Concept(image_dir="/data/datasets/demo/10_ohwx person", repeats=10, class_tokens="ohwx person"),
    Concept(image_dir="/data/datasets/demo/2_style", repeats=2, class_tokens="style"),
]
PATHS = RenderPaths(
    output_dir="/data/outputs/demo",
    logging_dir="/data/runs/demo/logs",
    sample_prompts="/data/runs/demo/prompts.txt",
)


def preset_with_models(name: str) -> TrainingConfig:
    config = load_preset(name)
    files = MODEL_FILES[str(config.family)]
    return apply_overrides(config, [f'model.{key}="{value}"' for key, value in files.items()])


def make_config(family: str = "sd15", **sections: dict[str, Any]) -> TrainingConfig:
    """A valid config of ``family`` with its model files, updated section by section."""
    data: dict[str, Any] = {"family": family, "model": dict(MODEL_FILES[family])}
    data.setdefault("training", {"max_train_epochs": 4})
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values}
    return validate_training_config(data)
