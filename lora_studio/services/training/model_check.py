"""Pre-flight check of a config's model files: they exist and are what the family needs.

Only the safetensors header is read (never the weights), through the models area's reader.
"""

from __future__ import annotations

from pathlib import Path

from lora_studio.config.catalog import ModelKind
from lora_studio.config.training import TrainingConfig
from lora_studio.config.training_rules import FAMILY_TITLE
from lora_studio.core.errors import InvalidModelFile
from lora_studio.core.types import ModelFamily
from lora_studio.services.models.family import Detection, detect
from lora_studio.services.models.safetensors_header import SAFETENSORS_EXTENSIONS, read_header
from lora_studio.services.training.findings import Finding, Severity, finding

CHECK = "model"
# What each model field must hold; the base must also be of the config's family.
_EXPECTED_KIND = {
    "base": ModelKind.CHECKPOINT,
    "vae": ModelKind.VAE,
    "clip_l": ModelKind.CLIP_L,
    "clip_g": ModelKind.CLIP_G,
    "t5xxl": ModelKind.T5XXL,
    "ae": ModelKind.VAE,
}


def check_model_files(config: TrainingConfig) -> list[Finding]:
    """One finding per model file set in ``config`` (an error when the base is missing)."""
    if config.model.base is None:
        return [finding(CHECK, Severity.ERROR, "No base model is set: pick a model file (model.base).")]
    findings = []
    for field in _EXPECTED_KIND:
        value = getattr(config.model, field)
        if value is not None:
            findings.append(_check_file(config, field, Path(value)))
    return findings


def _check_file(config: TrainingConfig, field: str, path: Path) -> Finding:
    if not path.is_file():
        return finding(
            CHECK,
            Severity.ERROR,
            f"model.{field}: no file at {path}. Download it or fix the path.",
            [str(path)],
        )
    if path.suffix.lower() not in SAFETENSORS_EXTENSIONS:
        return finding(
            CHECK,
            Severity.WARNING,
            f"model.{field}: {path.name} is not a .safetensors file, so its family cannot be checked "
            "without loading it (and .ckpt files can run code). Prefer a .safetensors file.",
            [str(path)],
        )
    try:
        detection = detect(read_header(path))
    except InvalidModelFile as error:
        return finding(CHECK, Severity.ERROR, f"model.{field}: {error}", [str(path)])
    return _judge(config, field, path, detection)


def _judge(config: TrainingConfig, field: str, path: Path, detection: Detection) -> Finding:
    expected, title = _EXPECTED_KIND[field], FAMILY_TITLE[config.family]
    if detection.kind is ModelKind.LORA:
        return finding(
            CHECK,
            Severity.ERROR,
            f"model.{field}: {path.name} is a LoRA, not a {expected.value}. Pick the base model it was "
            "trained on instead.",
            [str(path)],
        )
    if detection.kind is ModelKind.UNKNOWN:
        return finding(
            CHECK,
            Severity.WARNING,
            f"model.{field}: cannot tell what {path.name} is from its tensor names; "
            f"make sure it is a {title} {expected.value}.",
            [str(path)],
        )
    if detection.kind is not expected:
        return finding(
            CHECK,
            Severity.ERROR,
            f"model.{field}: {path.name} is a {detection.label}, not a {expected.value}.",
            [str(path)],
        )
    if field == "base" and detection.family is not config.family:
        found = FAMILY_TITLE[detection.family] if detection.family else "unknown-family"
        return finding(
            CHECK,
            Severity.ERROR,
            f"model.base: {path.name} is a {found} checkpoint but this config trains {title}. "
            f"Pick a {title} model, or switch to a {found} preset.",
            [str(path)],
        )
    return _variant_note(config, field, path, detection)


def _variant_note(config: TrainingConfig, field: str, path: Path, detection: Detection) -> Finding:
    if field == "base" and detection.variant == "sd2" and not config.model.v2:
        return finding(
            CHECK,
            Severity.WARNING,
            f"model.base: {path.name} is an SD 2.x checkpoint: set model.v2 = true "
            "(and model.v_parameterization for 768-v models).",
            [str(path)],
        )
    if field == "ae" and config.family is ModelFamily.FLUX and "16-channel" not in (detection.variant or ""):
        return finding(
            CHECK,
            Severity.ERROR,
            f"model.ae: {path.name} is not the 16-channel Flux autoencoder.",
            [str(path)],
        )
    return finding(CHECK, Severity.OK, f"model.{field}: {path.name} is a {detection.label}.")
