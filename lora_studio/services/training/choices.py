"""What the Training tab offers to pick: presets (those that fit the GPU first) and the model files a
family takes besides its base checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lora_studio.config.catalog import ModelKind
from lora_studio.config.presets import PresetInfo
from lora_studio.core.types import ModelFamily
from lora_studio.services.system import Gpu, suggest_presets

# The preset that runs anywhere: the default when no GPU is found.
CPU_PRESET = "sd15-cpu-smoke"
# model.<field> -> what kind of file it holds, for every family whose script takes that field
# (training_rules' model-file rules say the same; a test keeps the two in step).
MODEL_FIELDS: dict[ModelFamily, tuple[tuple[str, ModelKind], ...]] = {
    ModelFamily.SD15: (("vae", ModelKind.VAE),),
    ModelFamily.SDXL: (("vae", ModelKind.VAE),),
    ModelFamily.SD3: (("clip_l", ModelKind.CLIP_L), ("clip_g", ModelKind.CLIP_G), ("t5xxl", ModelKind.T5XXL)),
    ModelFamily.FLUX: (("clip_l", ModelKind.CLIP_L), ("t5xxl", ModelKind.T5XXL), ("ae", ModelKind.VAE)),
}
ALL_MODEL_FIELDS = ("vae", "clip_l", "clip_g", "t5xxl", "ae")


@dataclass(frozen=True)
class PresetChoice:
    label: str
    name: str
    suggested: bool


def preset_menu(presets: Sequence[PresetInfo], gpus: Sequence[Gpu]) -> list[PresetChoice]:
    """Every preset, those whose VRAM tier fits the smallest GPU first (the CPU preset first without one)."""
    by_name = {info.name: info for info in presets}
    if gpus:
        suggested = suggest_presets(list(by_name), tuple(gpus))
    else:
        suggested = [CPU_PRESET] if CPU_PRESET in by_name else []
    ordered = [*suggested, *(name for name in by_name if name not in suggested)]
    return [
        PresetChoice(
            f"{name}{' ★' if name in suggested else ''} · {by_name[name].description}",
            name,
            name in suggested,
        )
        for name in ordered
    ]


def model_fields(family: ModelFamily | str | None) -> tuple[tuple[str, ModelKind], ...]:
    """The extra model files (field, kind) that ``family`` takes; none for an unknown family."""
    try:
        return MODEL_FIELDS[ModelFamily(family)] if family else ()
    except ValueError:
        return ()
