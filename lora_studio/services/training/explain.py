"""The failure explainer (pure): log lines + exit code -> a plain message with the fix.

Each known failure of sd-scripts has a signature (a regular expression over the log) and a fix that
names the setting to change. Signatures were taken from real failing runs
(shared/reference/sd-scripts-log/) and from sd-scripts' source at the pinned commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lora_studio.config.training import TrainingConfig
from lora_studio.jobs.outcome import last_error_line
from lora_studio.services.training.savers import oom_fix


@dataclass(frozen=True)
class FailureExplanation:
    """What went wrong (``title``), what to do (``fix``) and the log line that shows it (``evidence``)."""

    title: str
    fix: str
    evidence: str | None = None


@dataclass(frozen=True)
class _Context:
    config: TrainingConfig | None
    presets: Sequence[tuple[str, TrainingConfig]]


Fix = str | Callable[[re.Match[str], _Context], str]


@dataclass(frozen=True)
class _Signature:
    pattern: re.Pattern[str]
    title: str
    fix: Fix


def _sig(pattern: str, title: str, fix: Fix, flags: int = 0) -> _Signature:
    return _Signature(re.compile(pattern, flags), title, fix)


def _oom(_match: re.Match[str], context: _Context) -> str:
    return oom_fix(context.config, context.presets)


def _missing_model(match: re.Match[str], _context: _Context) -> str:
    return (
        f"sd-scripts found no file at {match.group(1)} and then took the path for a Hugging Face repo id. "
        "Download the model (Models tab) or fix model.base, then start again."
    )


def _unknown_optimizer(match: re.Match[str], _context: _Context) -> str:
    return (
        f"'{match.group(1)}' is not an optimizer sd-scripts knows. Pick one from the list (AdamW, AdamW8bit, "
        "Lion, Prodigy, Adafactor, ...) or give a full dotted class path such as 'pytorch_optimizer.CAME'."
    )


# Most specific first: the first signature found anywhere in the log wins.
SIGNATURES: tuple[_Signature, ...] = (
    _sig(r"OutOfMemoryError|CUDA out of memory|CUDA error: out of memory", "The GPU ran out of memory", _oom),
    _sig(
        r"No data found\. Please verify arguments",
        "sd-scripts found no training images (wrong folder layout)",
        "It exits 0 without training when no folder holds images. Put the images (with their captions) in "
        "sub-folders of the dataset named <repeats>_<concept>, e.g. 10_mychar, and check the pre-flight panel.",
    ),
    _sig(
        r'pretrained_model_name_or_path "(.+?)" is neither a valid local path',
        "The base model file does not exist",
        _missing_model,
    ),
    _sig(
        r"Error\(s\) in loading state_dict|size mismatch for |Missing key\(s\) in state_dict"
        r"|KeyError: '(?:model\.diffusion_model|conditioner|double_blocks|joint_blocks|first_stage_model)",
        "The model file does not fit this model family",
        "The checkpoint's layers do not match what this family's script expects (for example an SDXL "
        "model in an SD 1.5 run). Pick a model of the config's family, or switch to a preset of the "
        "model's family; the pre-flight panel reads each file's header to tell.",
    ),
    _sig(
        r"SafetensorError|Error while deserializing header|HeaderTooLarge|invalid load key",
        "A model file is damaged or not a safetensors file",
        "It is probably an interrupted download. Delete it and download it again (Models tab).",
    ),
    _sig(
        r"GatedRepoError|Cannot access gated repo|401 Client Error|Access to model .* is restricted"
        r"|Unauthorized for url",
        "A model download was refused (gated model or missing token)",
        "Open the model's page on huggingface.co, accept its licence with your account, then save a read "
        "token in the Models tab (or set HF_TOKEN) and start again.",
    ),
    _sig(
        r"couldn't connect to 'https://huggingface\.co'|OfflineModeIsEnabled|LocalEntryNotFoundError",
        "sd-scripts needed a file from the Hugging Face Hub and could not reach it",
        "Usually the CLIP tokenizer: connect to the internet once, or set model.tokenizer_cache_dir to a "
        "folder holding the tokenizer.",
    ),
    _sig(
        r"avr_loss=nan|NaN detected|loss is nan",
        "The loss became NaN (training diverged)",
        "Lower optimizer.learning_rate (try half), use bf16 instead of fp16 (training.mixed_precision), "
        "and for SDXL in fp16 use a fixed VAE. Then start again; the saved files of this run are useless.",
        re.IGNORECASE,
    ),
    _sig(
        r"No bitsandbytes|No module named 'bitsandbytes'",
        "bitsandbytes is missing (needed by the 8-bit and paged optimizers)",
        "Install it in the trainer's environment (`python -m trainer.install`), or pick optimizer AdamW, "
        "Lion or Adafactor instead.",
    ),
    _sig(
        r"No xformers|No module named 'xformers'",
        "xformers is not installed",
        "Set memory.attention to 'sdpa' (as fast on current PyTorch), or install xformers in the trainer venv.",
    ),
    _sig(
        r"No module named 'lycoris'",
        "The LyCORIS package is missing (needed for LoCon, LoHa, LoKr and DoRA)",
        "Install lycoris-lora in the trainer's environment (`python -m trainer.install`), or set "
        "network.type to 'lora'.",
    ),
    _sig(
        r"AttributeError: module 'torch\.optim' has no attribute '(\w+)'",
        "Unknown optimizer",
        _unknown_optimizer,
    ),
    _sig(
        r"No module named 'networks\.(\w+)'",
        "The network module does not exist",
        "sd-scripts could not import the network module named in the config. Use networks.lora (SD1.5, "
        "SDXL), networks.lora_flux or networks.lora_sd3, or fix the name in extra.",
    ),
    _sig(
        r"TomlDecodeError|toml\.decoder",
        "A TOML file could not be parsed",
        "One of the run's TOML files is not valid TOML (often a hand edit, or a Windows path with "
        "backslashes outside quotes). Start the run from the studio again so the files are re-rendered, "
        "or fix the line named in the error.",
    ),
    _sig(
        r"MultipleInvalid: (.*)|Invalid user config",
        "sd-scripts rejected the dataset TOML",
        "A dataset setting is misplaced or has the wrong type (the error names the key). Re-render the "
        "run from the studio instead of editing dataset.toml by hand.",
    ),
    _sig(
        r"expected m1 and m2 to have the same dtype|fp16 mixed precision requires a GPU"
        r"|mixed dtype \(CPU\): expect parameter to have scalar type",
        "This precision does not work without a GPU",
        "On a CPU set training.mixed_precision to 'no' (fp16 needs CUDA; bf16 fails with clip_skip 2).",
    ),
    _sig(
        r"image too large, but cropping and bucketing are disabled",
        "An image is larger than the training resolution",
        "Turn on dataset.enable_bucket (with min_bucket_reso at or below the resolution) or "
        "dataset.random_crop, or resize the images.",
    ),
    _sig(
        r"caption file is empty",
        "A caption file is empty",
        "Write a caption into it or delete it (the pre-flight panel lists empty captions).",
    ),
    _sig(
        r"UnicodeDecodeError",
        "A caption or config file is not UTF-8 text",
        "Re-save the caption files as UTF-8 (the pre-flight panel lists them).",
    ),
    _sig(
        r"constant does not require num_warmup_steps",
        "The 'constant' scheduler cannot warm up",
        "Use optimizer.scheduler 'constant_with_warmup', or set optimizer.warmup_steps to 0.",
    ),
    _sig(
        r"CUDA driver version is insufficient|Found no NVIDIA driver|no CUDA GPUs are available",
        "The GPU cannot be used (driver or CUDA mismatch)",
        "Install a PyTorch build that matches the machine's NVIDIA driver in the trainer venv, or update "
        "the driver (`nvidia-smi` shows its CUDA version).",
    ),
)

_KILLED = {-9, 137}


def explain_failure(
    lines: Sequence[str],
    exit_code: int | None,
    *,
    config: TrainingConfig | None = None,
    presets: Sequence[tuple[str, TrainingConfig]] = (),
) -> FailureExplanation | None:
    """Explain a failed run from its log; None when the log shows no failure and the exit code is 0/None.

    ``config`` and ``presets`` make the out-of-memory advice concrete (the next lower preset's savers).
    """
    context = _Context(config, presets)
    text = "\n".join(lines)
    for signature in SIGNATURES:
        match = signature.pattern.search(text)
        if match is not None:
            fix = signature.fix if isinstance(signature.fix, str) else signature.fix(match, context)
            return FailureExplanation(signature.title, fix, _evidence(text, match))
    if exit_code in _KILLED:
        return FailureExplanation(
            "The trainer was killed, most likely because the machine ran out of RAM",
            "Lower training.max_data_loader_n_workers, turn on memory.cache_latents_to_disk, or close "
            "other programs; a larger swap file also helps.",
        )
    if exit_code is None or exit_code == 0:
        return None
    error = last_error_line(list(lines))
    return FailureExplanation(
        f"Training failed (exit code {exit_code})",
        "No known cause matched. The last error in the log is shown below; the full log has the details.",
        error,
    )


def _evidence(text: str, match: re.Match[str]) -> str:
    """The whole log line around a match, trimmed (a tqdm line can be very long)."""
    start = max(text.rfind("\n", 0, match.start()), text.rfind("\r", 0, match.start())) + 1
    end_candidates = [pos for pos in (text.find("\n", match.end()), text.find("\r", match.end())) if pos >= 0]
    end = min(end_candidates) if end_candidates else len(text)
    return text[start:end].strip()[:400]
