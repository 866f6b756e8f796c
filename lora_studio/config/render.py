"""Pure rendering: TrainingConfig + concepts -> sd-scripts training TOML, dataset TOML, prompts file.

Gotchas honoured (shared/reference/sd-scripts.md §12): keys are argparse dest names; only ``None``
is omitted (0, 0.0 and False are written); floats stay floats; arrays are never mixed;
``resolution`` is a string in the training TOML and ``[w, h]`` in the dataset TOML;
``caption_extension`` is always explicit. Text comes from ``toml.dumps`` (the parser sd-scripts uses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import toml

from lora_studio.config.concepts import Concept
from lora_studio.config.trainer_args import check_trainer_args, dataset_key_problems, load_args_table
from lora_studio.config.training import TrainingConfig, config_invalid
from lora_studio.config.training_choices import DIT_FAMILIES, TE_CACHE_FAMILIES
from lora_studio.config.training_parts import SamplePrompt
from lora_studio.config.training_rules import effective_bucket_steps
from lora_studio.core.types import ModelFamily

Section = dict[str, Any]
_HEADER = "# Rendered by LoRA Studio from a TrainingConfig (schema_version {version}) for {script}.\n"


@dataclass(frozen=True)
class RenderPaths:
    """Where the run's files live, as the trainer process will see them (absolute is safest)."""

    output_dir: str
    logging_dir: str | None = None
    sample_prompts: str | None = None


@dataclass(frozen=True)
class RenderedRun:
    script: str
    train: dict[str, Section]  # sections of the training TOML (sd-scripts flattens them)
    dataset: dict[str, Any]
    prompts: str | None
    train_toml: str
    dataset_toml: str

    def flat_train(self) -> dict[str, Any]:
        """The training TOML as sd-scripts sees it: every section merged into one namespace."""
        return {key: value for section in self.train.values() for key, value in section.items()}


def _drop_none(section: Mapping[str, Any]) -> Section:
    return {key: value for key, value in section.items() if value is not None}


def _fmt(value: float | int) -> str:
    return repr(value)


def network_args(config: TrainingConfig) -> list[str]:
    network = config.network
    args = network.type.lycoris_args()
    for name in ("conv_dim", "conv_alpha", "rank_dropout", "module_dropout"):
        value = getattr(network, name)
        if value is not None:
            args.append(f"{name}={_fmt(value)}")
    return args + list(network.args)


def _model_section(config: TrainingConfig) -> Section:
    model, sd15 = config.model, config.family is ModelFamily.SD15
    return {
        "pretrained_model_name_or_path": model.base,
        "vae": model.vae,
        "clip_l": model.clip_l,
        "clip_g": model.clip_g,
        "t5xxl": model.t5xxl,
        "ae": model.ae,
        "v2": model.v2 if sd15 else None,
        "v_parameterization": model.v_parameterization if sd15 else None,
        "tokenizer_cache_dir": model.tokenizer_cache_dir,
    }


def _network_section(config: TrainingConfig) -> Section:
    network, args = config.network, network_args(config)
    return {
        "network_module": network.type.network_module(config.family),
        "network_dim": network.dim,
        "network_alpha": network.alpha,
        "network_dropout": network.dropout,
        "network_args": args if args else None,
        "network_train_unet_only": network.train_unet_only,
        "network_weights": network.weights,
    }


def _optimizer_section(config: TrainingConfig) -> Section:
    opt = config.optimizer
    return {
        "optimizer_type": str(opt.type),
        "optimizer_args": list(opt.args) if opt.args else None,
        "learning_rate": opt.learning_rate,
        "unet_lr": opt.unet_lr,
        # nargs="*" in the parser: a list, even for one value.
        "text_encoder_lr": [opt.text_encoder_lr] if opt.text_encoder_lr is not None else None,
        "lr_scheduler": str(opt.scheduler),
        "lr_warmup_steps": opt.warmup_steps,
        "lr_scheduler_num_cycles": opt.scheduler_num_cycles,
        "lr_scheduler_power": opt.scheduler_power,
        "max_grad_norm": opt.max_grad_norm,
    }


def _training_section(config: TrainingConfig) -> Section:
    training, (width, height) = config.training, config.dataset.resolution
    return {
        "max_train_epochs": training.max_train_epochs,
        "max_train_steps": training.max_train_steps,
        "train_batch_size": training.batch_size,
        "gradient_accumulation_steps": training.gradient_accumulation_steps,
        "seed": training.seed,
        "mixed_precision": training.mixed_precision,
        "full_bf16": training.full_bf16,
        "noise_offset": training.noise_offset,
        "min_snr_gamma": training.min_snr_gamma,
        "clip_skip": training.clip_skip,
        "max_token_length": training.max_token_length,
        "max_data_loader_n_workers": training.max_data_loader_n_workers,
        "persistent_data_loader_workers": training.persistent_data_loader_workers,
        # A string here (sd-scripts calls .split(",") on it); the dataset TOML takes [w, h].
        "resolution": f"{width},{height}",
    }


def _memory_section(config: TrainingConfig) -> Section:
    memory, te_cache = config.memory, config.family in TE_CACHE_FAMILIES
    return {
        "gradient_checkpointing": memory.gradient_checkpointing,
        "cache_latents": memory.cache_latents,
        "cache_latents_to_disk": memory.cache_latents_to_disk,
        "cache_text_encoder_outputs": memory.cache_text_encoder_outputs if te_cache else None,
        "cache_text_encoder_outputs_to_disk": memory.cache_text_encoder_outputs_to_disk if te_cache else None,
        "fp8_base": memory.fp8_base,
        "blocks_to_swap": memory.blocks_to_swap if config.family in DIT_FAMILIES else None,
        "sdpa": memory.attention == "sdpa",
        "xformers": memory.attention == "xformers",
    }


def _saving_section(config: TrainingConfig, paths: RenderPaths) -> Section:
    saving = config.saving
    return {
        "output_dir": paths.output_dir,
        "output_name": saving.output_name,
        "save_model_as": saving.save_model_as,
        "save_precision": saving.save_precision,
        "save_every_n_epochs": saving.save_every_n_epochs,
        "save_every_n_steps": saving.save_every_n_steps,
        "save_last_n_epochs": saving.keep_last_n_epochs,
        "save_last_n_steps": saving.keep_last_n_steps,
        "save_state": saving.save_state,
    }


def _sampling_section(config: TrainingConfig, paths: RenderPaths) -> Section:
    sampling = config.sampling
    on = bool(sampling.prompts) and paths.sample_prompts is not None
    # FLUX and SD3 ignore the sampler option; leave it out there.
    uses_sampler = config.family in (ModelFamily.SD15, ModelFamily.SDXL)
    return {
        "sample_prompts": paths.sample_prompts if on else None,
        "sample_every_n_epochs": sampling.every_n_epochs if on else None,
        "sample_every_n_steps": sampling.every_n_steps if on else None,
        "sample_at_first": sampling.at_first if on else None,
        "sample_sampler": sampling.sampler if on and uses_sampler else None,
    }


def _logging_section(config: TrainingConfig, paths: RenderPaths) -> Section:
    on = config.logging.tensorboard
    return {
        "log_with": "tensorboard" if on else None,
        "logging_dir": paths.logging_dir if on else None,
        "log_prefix": config.logging.log_prefix,
    }


def _extra_section(config: TrainingConfig, taken: set[str]) -> Section:
    """The escape hatch: options the schema does not cover, with ints widened for float options."""
    options = load_args_table().options(config.script)
    clashes = sorted(set(config.extra) & taken)
    if clashes:
        raise config_invalid([f"extra.{key}: set it through its own field, not extra" for key in clashes])
    extra: Section = {}
    for key, value in config.extra.items():
        spec = options.get(key)
        widen = spec is not None and spec.type == "float" and type(value) is int
        extra[key] = float(value) if widen and isinstance(value, int) else value
    return extra


def render_train_sections(config: TrainingConfig, paths: RenderPaths) -> dict[str, Section]:
    full = {
        "model": _model_section(config),
        "network": _network_section(config),
        "optimizer": _optimizer_section(config),
        "training": _training_section(config),
        "memory": _memory_section(config),
        "flow": config.flow.model_dump(),
        "saving": _saving_section(config, paths),
        "sampling": _sampling_section(config, paths),
        "logging": _logging_section(config, paths),
    }
    taken = {key for section in full.values() for key in section}
    full["extra"] = _extra_section(config, taken)
    sections = {name: _drop_none(section) for name, section in full.items()}
    return {name: section for name, section in sections.items() if section}


def render_dataset(config: TrainingConfig, concepts: Sequence[Concept]) -> dict[str, Any]:
    data = config.dataset
    general = {
        "caption_extension": data.caption_extension,
        "shuffle_caption": data.shuffle_caption,
        "keep_tokens": data.keep_tokens,
        "keep_tokens_separator": data.keep_tokens_separator,
        "caption_dropout_rate": data.caption_dropout_rate,
        "caption_tag_dropout_rate": data.caption_tag_dropout_rate,
        "caption_dropout_every_n_epochs": data.caption_dropout_every_n_epochs,
        "flip_aug": data.flip_aug,
        "random_crop": data.random_crop,
    }
    bucket = data.enable_bucket
    subsets = [
        {
            "image_dir": concept.image_dir,
            "num_repeats": concept.repeats,
            "class_tokens": concept.class_tokens,
            "is_reg": concept.is_reg,
            "caption_extension": data.caption_extension,  # explicit: sd-scripts defaults to ".caption"
        }
        for concept in concepts
    ]
    block = {
        "resolution": list(data.resolution),
        "batch_size": config.training.batch_size,
        "enable_bucket": bucket,
        "min_bucket_reso": data.min_bucket_reso if bucket else None,
        "max_bucket_reso": data.max_bucket_reso if bucket else None,
        "bucket_reso_steps": effective_bucket_steps(config) if bucket else None,
        "bucket_no_upscale": data.bucket_no_upscale if bucket else None,
    }
    dataset_block = _drop_none(block) | {"subsets": [_drop_none(subset) for subset in subsets]}
    return {"general": _drop_none(general), "datasets": [dataset_block]}


def _prompt_line(prompt: SamplePrompt) -> str:
    options = [
        ("n", prompt.negative),
        ("w", prompt.width),
        ("h", prompt.height),
        ("d", prompt.seed),
        ("s", prompt.steps),
        ("l", prompt.cfg_scale),
        ("g", prompt.guidance),
    ]
    return prompt.text + "".join(f" --{flag} {value}" for flag, value in options if value is not None)


def render_prompts(config: TrainingConfig) -> str | None:
    """The ``.txt`` sample-prompt file: one prompt per line, options after `` --``."""
    if not config.sampling.prompts:
        return None
    lines = ["# Sample prompts rendered by LoRA Studio (one per line; options follow ' --')."]
    return "\n".join(lines + [_prompt_line(prompt) for prompt in config.sampling.prompts]) + "\n"


def render_run(config: TrainingConfig, concepts: Sequence[Concept], paths: RenderPaths) -> RenderedRun:
    """Render everything a run needs; nothing is checked against sd-scripts here (see check_rendered).

    Raises:
        ConfigInvalid: ``extra`` repeats an option the schema already sets, or there are no concepts.
    """
    if not concepts:
        raise config_invalid(["the dataset has no concept folder (<repeats>_<name>) with images"])
    train = render_train_sections(config, paths)
    dataset = render_dataset(config, concepts)
    header = _HEADER.format(version=config.schema_version, script=config.script)
    return RenderedRun(
        script=config.script,
        train=train,
        dataset=dataset,
        prompts=render_prompts(config),
        train_toml=header + toml.dumps(train),
        dataset_toml=header + toml.dumps(dataset),
    )


def check_rendered(rendered: RenderedRun) -> None:
    """Stop a launch that sd-scripts would misread.

    Raises:
        UnknownTrainerArgs: a training key the pinned script does not know, or a bad type or choice.
        ConfigInvalid: a dataset key that sd-scripts' dataset schema rejects.
    """
    check_trainer_args(rendered.script, rendered.flat_train())
    problems = dataset_key_problems(rendered.dataset)
    if problems:
        raise config_invalid(problems, "The dataset TOML would be rejected by sd-scripts")
