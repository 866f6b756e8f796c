"""Out-of-memory advice: the memory savers of the next lower preset that a config does not use yet."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from lora_studio.config.training import TrainingConfig

_VRAM = re.compile(r"(\d+)\s*gb", re.IGNORECASE)
_GENERIC = (
    "Turn on memory.gradient_checkpointing and memory.cache_latents, set training.batch_size to 1, use "
    "bf16 (training.mixed_precision) and an 8-bit optimizer (AdamW8bit); for Flux/SD3 also fp8_base and "
    "blocks_to_swap. Or pick a preset made for less VRAM."
)


def _area(config: TrainingConfig) -> int:
    width, height = config.dataset.resolution
    return width * height


# (setting, its value in a preset, "the preset saves more memory than the config here")
_SAVERS: tuple[tuple[str, Callable[[TrainingConfig], object], Callable[[TrainingConfig, TrainingConfig], bool]], ...] = (
    ("memory.gradient_checkpointing", lambda p: p.memory.gradient_checkpointing,
     lambda p, c: p.memory.gradient_checkpointing and not c.memory.gradient_checkpointing),
    ("training.batch_size", lambda p: p.training.batch_size,
     lambda p, c: p.training.batch_size < c.training.batch_size),
    ("memory.cache_latents", lambda p: p.memory.cache_latents,
     lambda p, c: p.memory.cache_latents and not c.memory.cache_latents),
    ("memory.cache_text_encoder_outputs", lambda p: p.memory.cache_text_encoder_outputs,
     lambda p, c: p.memory.cache_text_encoder_outputs and not c.memory.cache_text_encoder_outputs),
    ("network.train_unet_only", lambda p: p.network.train_unet_only,
     lambda p, c: p.network.train_unet_only and not c.network.train_unet_only),
    ("memory.fp8_base", lambda p: p.memory.fp8_base, lambda p, c: p.memory.fp8_base and not c.memory.fp8_base),
    ("memory.blocks_to_swap", lambda p: p.memory.blocks_to_swap,
     lambda p, c: (p.memory.blocks_to_swap or 0) > (c.memory.blocks_to_swap or 0)),
    ("optimizer.type", lambda p: str(p.optimizer.type),
     lambda p, c: p.optimizer.type.needs_gpu and not c.optimizer.type.needs_gpu),
    ("training.mixed_precision", lambda p: p.training.mixed_precision,
     lambda p, c: c.training.mixed_precision == "no" and p.training.mixed_precision != "no"),
    ("dataset.resolution", lambda p: list(p.dataset.resolution), lambda p, c: _area(p) < _area(c)),
    ("network.dim", lambda p: p.network.dim, lambda p, c: p.network.dim < c.network.dim),
)  # fmt: skip


def _vram(name: str) -> int:
    match = _VRAM.search(name)
    return int(match.group(1)) if match else 0


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"'{value}'" if isinstance(value, str) else str(value)


def savers_from(preset: TrainingConfig, config: TrainingConfig) -> list[str]:
    """``setting = value`` for each memory saver the preset uses and the config does not."""
    return [f"{name} = {_show(value(preset))}" for name, value, saves in _SAVERS if saves(preset, config)]


def oom_fix(config: TrainingConfig | None, presets: Sequence[tuple[str, TrainingConfig]]) -> str:
    """Advice after a CUDA out-of-memory error, as concrete as the config allows.

    Goes down the config's family presets from the most VRAM to the least and suggests the savers of
    the first one that has savers the config lacks.
    """
    if config is None:
        return _GENERIC
    family = [(name, preset) for name, preset in presets if preset.family is config.family]
    for name, preset in sorted(family, key=lambda item: _vram(item[0]), reverse=True):
        changes = savers_from(preset, config)
        if changes:
            return f"Use the memory savers of the '{name}' preset: set " + ", ".join(changes) + "."
    return "This config already uses every saver of the smallest preset. " + _GENERIC
