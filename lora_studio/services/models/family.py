"""Tell what a safetensors file is from its tensor names and shapes, and read LoRA ``ss_*`` metadata.

Key names per format (checked against the files each family ships):
- SD1/2 checkpoint: ``model.diffusion_model.input_blocks.*`` + ``cond_stage_model.transformer.*`` (SD1,
  CLIP-L) or ``cond_stage_model.model.*`` (SD2, OpenCLIP-H).
- SDXL checkpoint: ``conditioner.embedders.*`` or ``model.diffusion_model.label_emb.*``.
- SD3 (MMDiT): ``joint_blocks.N.*`` (medium 24 blocks, large 38), optionally ``text_encoders.*`` inside.
- FLUX.1 (BFL layout): ``double_blocks.*`` + ``single_blocks.*``; [dev] has ``guidance_in.*``.
  Diffusers layout: ``single_transformer_blocks.*`` (+ ``time_text_embed.guidance_embedder.*`` for dev).
- VAE: ``encoder.conv_in.weight`` + ``decoder.conv_in.weight`` (latent channels = its shape[1]: 4 for
  SD1/SDXL, 16 for SD3/FLUX).
- Text encoders: CLIP ``*token_embedding.weight`` [49408, 768] = CLIP-L, [49408, 1280] = CLIP-G;
  T5 ``shared.weight`` / ``encoder.embed_tokens.weight`` [32128, 4096] = T5-XXL.
- kohya LoRA: ``lora_unet_*`` / ``lora_te*_*`` with ``.lora_down/.lora_up/.alpha``; family from
  ``ss_base_model_version`` or ``modelspec.architecture``, else from key prefixes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from lora_studio.config.catalog import ModelKind
from lora_studio.core.types import ModelFamily
from lora_studio.services.models.safetensors_header import SafetensorsHeader, TensorInfo

_STRIP_PREFIXES = ("model.diffusion_model.", "diffusion_model.", "first_stage_model.", "vae.", "transformer.")
_LORA_MARKERS = (".lora_down.", ".lora_up.", ".lora_A.", ".lora_B.", ".hada_w1_a", ".lokr_w1", ".oft_blocks")
_JOINT_BLOCK = re.compile(r"^joint_blocks\.(\d+)\.")


@dataclass(frozen=True)
class Detection:
    """What a file is: its kind, the family it belongs to (None: shared or unknown) and a variant."""

    kind: ModelKind
    family: ModelFamily | None = None
    variant: str | None = None
    details: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        parts = [self.kind.value]
        if self.family is not None:
            parts.append(self.family.value)
        if self.variant:
            parts.append(f"({self.variant})")
        return " ".join(parts)


@dataclass(frozen=True)
class LoraMetadata:
    """The kohya ``ss_*`` (and ``modelspec.*``) facts a person wants to see about a trained LoRA."""

    base_model: str | None = None
    base_model_version: str | None = None
    architecture: str | None = None
    network_module: str | None = None
    network_dim: int | None = None
    network_alpha: float | None = None
    steps: int | None = None
    epoch: int | None = None
    num_epochs: int | None = None
    learning_rate: str | None = None
    resolution: str | None = None
    output_name: str | None = None
    training_finished_at: str | None = None
    tag_frequency: dict[str, int] = field(default_factory=dict)

    def top_tags(self, count: int = 20) -> list[tuple[str, int]]:
        return Counter(self.tag_frequency).most_common(count)


def detect(header: SafetensorsHeader) -> Detection:
    """Classify a file from its header alone (no tensor data is needed)."""
    keys = header.tensors
    if any(marker in key for key in keys for marker in _LORA_MARKERS):
        family, variant = lora_family(header)
        return Detection(ModelKind.LORA, family, variant)
    stripped = _strip_prefixes(keys)
    for check in (_detect_dit, _detect_unet, _detect_vae, _detect_text_encoder):
        found = check(keys, stripped)
        if found is not None:
            return found
    return Detection(ModelKind.UNKNOWN)


def lora_family(header: SafetensorsHeader) -> tuple[ModelFamily | None, str | None]:
    """The base family of a LoRA: from its metadata when present, else from its key prefixes."""
    meta = header.metadata
    version = (meta.get("ss_base_model_version") or "").lower()
    arch = (meta.get("modelspec.architecture") or "").lower()
    for text in (version, arch):
        family = _family_from_text(text)
        if family is not None:
            return family, (version or arch or None)
    keys = header.tensors
    if _any_prefix(keys, ("lora_unet_double_blocks_", "lora_unet_single_blocks_", "lora_te3_")):
        return ModelFamily.FLUX, None
    if _any_prefix(keys, ("lora_unet_joint_blocks_",)):
        return ModelFamily.SD3, None
    if _any_prefix(keys, ("lora_te1_", "lora_te2_", "lora_unet_input_blocks_", "lora_unet_output_blocks_")):
        return ModelFamily.SDXL, None
    if _any_prefix(keys, ("lora_te_", "lora_unet_down_blocks_", "lora_unet_up_blocks_")):
        return ModelFamily.SD15, None
    return None, None


def read_lora_metadata(header: SafetensorsHeader) -> LoraMetadata:
    """The training facts sd-scripts writes into a LoRA's ``__metadata__`` (all values are strings)."""
    meta = header.metadata
    return LoraMetadata(
        base_model=meta.get("ss_sd_model_name"),
        base_model_version=meta.get("ss_base_model_version"),
        architecture=meta.get("modelspec.architecture"),
        network_module=meta.get("ss_network_module"),
        network_dim=_to_int(meta.get("ss_network_dim")),
        network_alpha=_to_float(meta.get("ss_network_alpha")),
        steps=_to_int(meta.get("ss_steps")),
        epoch=_to_int(meta.get("ss_epoch")),
        num_epochs=_to_int(meta.get("ss_num_epochs")),
        learning_rate=meta.get("ss_learning_rate"),
        resolution=meta.get("ss_resolution"),
        output_name=meta.get("ss_output_name"),
        training_finished_at=meta.get("ss_training_finished_at"),
        tag_frequency=_tag_frequency(meta.get("ss_tag_frequency")),
    )


def _detect_dit(keys: dict[str, TensorInfo], stripped: set[str]) -> Detection | None:
    if any(key.startswith("joint_blocks.") for key in stripped):
        blocks = {int(m.group(1)) for key in stripped if (m := _JOINT_BLOCK.match(key))}
        variant = "sd3-large" if len(blocks) > 24 else "sd3-medium"
        inside = sorted({key.split(".")[1] for key in keys if key.startswith("text_encoders.")})
        details = (f"includes text encoders: {', '.join(inside)}",) if inside else ()
        return Detection(ModelKind.CHECKPOINT, ModelFamily.SD3, variant, details)
    if any(key.startswith("double_blocks.") for key in stripped) and any(
        key.startswith("single_blocks.") for key in stripped
    ):
        dev = any(key.startswith("guidance_in.") for key in stripped)
        return Detection(ModelKind.CHECKPOINT, ModelFamily.FLUX, "flux-dev" if dev else "flux-schnell")
    if any(key.startswith("single_transformer_blocks.") for key in stripped):
        dev = any(key.startswith("time_text_embed.guidance_embedder.") for key in stripped)
        variant = "flux-dev, diffusers layout" if dev else "flux-schnell, diffusers layout"
        return Detection(ModelKind.CHECKPOINT, ModelFamily.FLUX, variant)
    return None


def _detect_unet(keys: dict[str, TensorInfo], stripped: set[str]) -> Detection | None:
    if _any_prefix(keys, ("conditioner.embedders.", "model.diffusion_model.label_emb.")):
        return Detection(ModelKind.CHECKPOINT, ModelFamily.SDXL, "sdxl")
    if not _any_prefix(keys, ("model.diffusion_model.input_blocks.",)):
        return None
    if _any_prefix(keys, ("cond_stage_model.model.",)):
        return Detection(
            ModelKind.CHECKPOINT,
            ModelFamily.SD15,
            "sd2",
            ("train with v2 (and v_parameterization for 768-v)",),
        )
    return Detection(ModelKind.CHECKPOINT, ModelFamily.SD15, "sd1")


def _detect_vae(keys: dict[str, TensorInfo], stripped: set[str]) -> Detection | None:
    conv = _find(keys, "decoder.conv_in.weight")
    if conv is None or _find(keys, "encoder.conv_in.weight") is None or len(conv.shape) != 4:
        return None
    channels = conv.shape[1]
    if channels == 16:
        return Detection(ModelKind.VAE, None, "16-channel: FLUX ae or SD3")
    if channels == 4:
        return Detection(ModelKind.VAE, None, "4-channel: SD1.5 or SDXL")
    return Detection(ModelKind.VAE, None, f"{channels}-channel")


def _detect_text_encoder(keys: dict[str, TensorInfo], stripped: set[str]) -> Detection | None:
    embedding = _find(keys, "token_embedding.weight")
    if embedding is not None and len(embedding.shape) == 2:
        width = embedding.shape[1]
        if width == 768:
            return Detection(ModelKind.CLIP_L, None, "CLIP ViT-L/14 text encoder")
        if width == 1280:
            return Detection(ModelKind.CLIP_G, None, "OpenCLIP ViT-bigG/14 text encoder")
        return Detection(ModelKind.UNKNOWN, None, f"CLIP text encoder, width {width}")
    t5 = _find(keys, "shared.weight") or _find(keys, "encoder.embed_tokens.weight")
    if t5 is not None and any("SelfAttention" in key for key in keys):
        if len(t5.shape) == 2 and t5.shape[1] == 4096:
            return Detection(ModelKind.T5XXL, None, f"T5-XXL encoder, {_main_dtype(keys)}")
        return Detection(ModelKind.UNKNOWN, None, "T5 encoder (not XXL)")
    return None


def _strip_prefixes(keys: dict[str, TensorInfo]) -> set[str]:
    stripped = set()
    for key in keys:
        for prefix in _STRIP_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix) :]
                break
        stripped.add(key)
    return stripped


def _find(keys: dict[str, TensorInfo], suffix: str) -> TensorInfo | None:
    """The tensor whose name is ``suffix`` or ends with ``.suffix`` (any prefix); shortest name wins."""
    matches = sorted((key for key in keys if key == suffix or key.endswith("." + suffix)), key=len)
    return keys[matches[0]] if matches else None


def _any_prefix(keys: dict[str, TensorInfo], prefixes: tuple[str, ...]) -> bool:
    return any(key.startswith(prefixes) for key in keys)


def _main_dtype(keys: dict[str, TensorInfo]) -> str:
    totals = Counter[str]()
    for info in keys.values():
        totals[info.dtype] += info.numel
    return totals.most_common(1)[0][0] if totals else "?"


def _family_from_text(text: str) -> ModelFamily | None:
    if not text:
        return None
    if text.startswith(("sdxl", "stable-diffusion-xl")):
        return ModelFamily.SDXL
    if text.startswith(("sd3", "stable-diffusion-3")):
        return ModelFamily.SD3
    if text.startswith("flux"):
        return ModelFamily.FLUX
    if text.startswith(("sd_v1", "sd_v2", "stable-diffusion-v1", "stable-diffusion-v2")):
        return ModelFamily.SD15
    return None


def _to_int(value: str | None) -> int | None:
    number = _to_float(value)
    return int(number) if number is not None else None


def _to_float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:  # "None", "Dynamic", ...: not a number, so no value to show
        return None


def _tag_frequency(raw: str | None) -> dict[str, int]:
    """``ss_tag_frequency`` is ``{"<subset folder>": {"tag": count}}``; sum the counts over subsets."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    totals: Counter[str] = Counter()
    if isinstance(data, dict):
        for subset in data.values():
            if isinstance(subset, dict):
                for tag, count in subset.items():
                    if isinstance(count, int):
                        totals[str(tag).strip()] += count
    return dict(totals)
