"""Cross-field rules of a TrainingConfig, each with a message that says what to change.

``structural_problems`` runs on every validation (a config that breaks one is never built);
``launch_problems`` needs facts about the machine and the model files, so it runs before a launch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lora_studio.config.training_choices import (
    BUCKET_STEP_MULTIPLE,
    DIT_FAMILIES,
    TE_CACHE_FAMILIES,
)
from lora_studio.core.errors import InvalidName
from lora_studio.core.paths import safe_name
from lora_studio.core.types import ModelFamily

if TYPE_CHECKING:
    from lora_studio.config.training import TrainingConfig

FAMILY_TITLE = {
    ModelFamily.SD15: "SD1.5",
    ModelFamily.SDXL: "SDXL",
    ModelFamily.FLUX: "Flux",
    ModelFamily.SD3: "SD3",
}
# network_args that the schema renders from its own fields.
_DERIVED_NETWORK_ARGS = frozenset(
    {"algo", "dora_wd", "conv_dim", "conv_alpha", "rank_dropout", "module_dropout"}
)
_FLUX_ONLY_FLOW = ("guidance_scale", "timestep_sampling", "discrete_flow_shift", "model_prediction_type")
_DIT_ONLY_FLOW = ("weighting_scheme", "t5xxl_max_token_length", "apply_t5_attn_mask")
# Model file fields and the families whose script accepts them.
_MODEL_FILE_FAMILIES: dict[str, frozenset[ModelFamily]] = {
    "vae": frozenset({ModelFamily.SD15, ModelFamily.SDXL}),
    "clip_l": frozenset(DIT_FAMILIES),
    "t5xxl": frozenset(DIT_FAMILIES),
    "clip_g": frozenset({ModelFamily.SD3}),
    "ae": frozenset({ModelFamily.FLUX}),
}


def effective_bucket_steps(config: TrainingConfig) -> int:
    steps = config.dataset.bucket_reso_steps
    return BUCKET_STEP_MULTIPLE[config.family] if steps is None else steps


def _length_rules(config: TrainingConfig) -> list[str]:
    training = config.training
    if (training.max_train_epochs is None) == (training.max_train_steps is None):
        return ["Set exactly one of training.max_train_epochs and training.max_train_steps."]
    return []


def _optimizer_rules(config: TrainingConfig) -> list[str]:
    optimizer = config.optimizer
    if optimizer.warmup_steps != 0 and not optimizer.scheduler.allows_warmup:
        return [
            "The 'constant' scheduler cannot warm up (sd-scripts raises 'constant does not require "
            "num_warmup_steps'): use 'constant_with_warmup' or set optimizer.warmup_steps = 0."
        ]
    return []


def _bucket_rules(config: TrainingConfig) -> list[str]:
    data, family = config.dataset, config.family
    steps, multiple = effective_bucket_steps(config), BUCKET_STEP_MULTIPLE[family]
    problems = []
    if steps % multiple:
        problems.append(
            f"{FAMILY_TITLE[family]} needs dataset.bucket_reso_steps to be a multiple of {multiple} (got {steps})."
        )
    if not data.enable_bucket:
        return problems
    if data.min_bucket_reso > data.max_bucket_reso:
        problems.append("dataset.min_bucket_reso must not exceed dataset.max_bucket_reso.")
    for name in ("min_bucket_reso", "max_bucket_reso"):
        if getattr(data, name) % steps:
            problems.append(f"dataset.{name} must be a multiple of the bucket step {steps}.")
    if not all(data.min_bucket_reso <= side <= data.max_bucket_reso for side in data.resolution):
        problems.append(
            f"dataset.resolution {data.resolution} must lie between min_bucket_reso "
            f"{data.min_bucket_reso} and max_bucket_reso {data.max_bucket_reso}."
        )
    return problems


def _family_option_rules(config: TrainingConfig) -> list[str]:
    family, title = config.family, FAMILY_TITLE[config.family]
    problems = []
    for field, families in _MODEL_FILE_FAMILIES.items():
        if getattr(config.model, field) is not None and family not in families:
            problems.append(f"model.{field} does not apply to {title}; remove it.")
    if family is not ModelFamily.SD15 and (config.model.v2 or config.model.v_parameterization):
        problems.append(f"model.v2 and model.v_parameterization are for SD 2.x only, not {title}.")
    if family is not ModelFamily.SD15 and config.training.clip_skip is not None:
        problems.append(f"training.clip_skip applies to SD1.5 only; {title} ignores it. Remove it.")
    if family in DIT_FAMILIES and config.training.max_token_length is not None:
        problems.append(f"{title} ignores training.max_token_length; use flow.t5xxl_max_token_length.")
    if family not in DIT_FAMILIES and config.memory.blocks_to_swap is not None:
        problems.append(f"memory.blocks_to_swap is for Flux and SD3 only, not {title}.")
    flow = config.flow
    for name in _FLUX_ONLY_FLOW:
        if getattr(flow, name) is not None and family is not ModelFamily.FLUX:
            problems.append(f"flow.{name} is a Flux option; {title} has no such option.")
    for name in _DIT_ONLY_FLOW:
        if getattr(flow, name) is not None and family not in DIT_FAMILIES:
            problems.append(f"flow.{name} is for Flux and SD3 only, not {title}.")
    if flow.training_shift is not None and family is not ModelFamily.SD3:
        problems.append(f"flow.training_shift is an SD3 option; {title} has no such option.")
    return problems


def _memory_rules(config: TrainingConfig) -> list[str]:
    memory, data, title = config.memory, config.dataset, FAMILY_TITLE[config.family]
    problems = []
    if memory.cache_latents_to_disk and not memory.cache_latents:
        problems.append("memory.cache_latents_to_disk needs memory.cache_latents = true.")
    if memory.cache_latents and data.random_crop:
        problems.append("dataset.random_crop changes the image every epoch: turn off memory.cache_latents.")
    if memory.cache_text_encoder_outputs_to_disk and not memory.cache_text_encoder_outputs:
        problems.append("memory.cache_text_encoder_outputs_to_disk needs memory.cache_text_encoder_outputs.")
    if memory.cache_text_encoder_outputs:
        if config.family not in TE_CACHE_FAMILIES:
            problems.append(
                f"{title} cannot cache text-encoder outputs; turn off cache_text_encoder_outputs."
            )
        if not config.network.train_unet_only:
            problems.append("Caching text-encoder outputs needs network.train_unet_only = true.")
        dropout = (
            data.caption_dropout_rate or data.caption_tag_dropout_rate or data.caption_dropout_every_n_epochs
        )
        if data.shuffle_caption or dropout:
            problems.append(
                "Cached text-encoder outputs are fixed: turn off caption shuffling and caption dropout, "
                "or stop caching them."
            )
    if memory.fp8_base and config.training.mixed_precision == "no":
        problems.append("memory.fp8_base needs training.mixed_precision fp16 or bf16.")
    if config.training.full_bf16 and config.training.mixed_precision != "bf16":
        problems.append("training.full_bf16 needs training.mixed_precision = 'bf16'.")
    return problems


def _network_rules(config: TrainingConfig) -> list[str]:
    network = config.network
    problems = []
    if network.conv_alpha is not None and network.conv_dim is None:
        problems.append("network.conv_alpha needs network.conv_dim.")
    clashes = sorted({arg.split("=", 1)[0].strip() for arg in network.args} & _DERIVED_NETWORK_ARGS)
    if clashes:
        problems.append(f"Set {', '.join(clashes)} through the network fields, not network.args.")
    return problems


def _output_rules(config: TrainingConfig) -> list[str]:
    saving, sampling = config.saving, config.sampling
    problems = []
    try:
        safe_name(saving.output_name)
    except InvalidName as error:
        problems.append(f"saving.output_name: {error}")
    if saving.keep_last_n_epochs is not None and saving.save_every_n_epochs is None:
        problems.append("saving.keep_last_n_epochs needs saving.save_every_n_epochs.")
    if saving.keep_last_n_steps is not None and saving.save_every_n_steps is None:
        problems.append("saving.keep_last_n_steps needs saving.save_every_n_steps.")
    wants_samples = sampling.every_n_epochs or sampling.every_n_steps or sampling.at_first
    if wants_samples and not sampling.prompts:
        problems.append("Sampling is switched on but sampling.prompts is empty: add a prompt.")
    return problems


def _launch_rules(config: TrainingConfig) -> list[str]:
    launch = config.launch
    problems = []
    if launch.gpu_ids is not None:
        if len(set(launch.gpu_ids)) != len(launch.gpu_ids) or min(launch.gpu_ids, default=0) < 0:
            problems.append("launch.gpu_ids must be distinct GPU numbers from 0 up.")
        if launch.num_machines == 1 and len(launch.gpu_ids) != launch.num_processes:
            problems.append(
                f"launch.gpu_ids names {len(launch.gpu_ids)} GPUs but launch.num_processes is "
                f"{launch.num_processes}: give one process per GPU."
            )
    if launch.machine_rank >= launch.num_machines:
        problems.append("launch.machine_rank must be below launch.num_machines.")
    if launch.num_machines > 1 and (launch.main_process_ip is None or launch.main_process_port is None):
        problems.append("Several machines need launch.main_process_ip and launch.main_process_port.")
    if launch.num_processes < launch.num_machines:
        problems.append("launch.num_processes counts all machines' processes: at least one per machine.")
    return problems


_STRUCTURAL_RULES: tuple[Callable[[TrainingConfig], list[str]], ...] = (
    _length_rules,
    _optimizer_rules,
    _bucket_rules,
    _family_option_rules,
    _memory_rules,
    _network_rules,
    _output_rules,
    _launch_rules,
)


def structural_problems(config: TrainingConfig) -> list[str]:
    """Every rule the config itself breaks (no file system, no hardware facts)."""
    return [problem for rule in _STRUCTURAL_RULES for problem in rule(config)]


def launch_problems(config: TrainingConfig, *, gpu_available: bool, check_files: bool = True) -> list[str]:
    """What stops this config from training on this machine: missing model files, GPU-only options."""
    problems = _missing_model_fields(config)
    if check_files:
        for field in ("base", "vae", "clip_l", "clip_g", "t5xxl", "ae"):
            value = getattr(config.model, field)
            if value is not None and not Path(value).is_file():
                problems.append(f"model.{field}: no file at {value} (download it or fix the path).")
    if not gpu_available:
        problems.extend(_cpu_problems(config))
    return problems


def _missing_model_fields(config: TrainingConfig) -> list[str]:
    model = config.model
    problems = []
    if model.base is None:
        problems.append("Set model.base to the base model file.")
    if config.family is ModelFamily.FLUX:
        missing = [name for name in ("clip_l", "t5xxl", "ae") if getattr(model, name) is None]
        if missing:
            problems.append(
                "Flux needs its three encoder files (model.clip_l, model.t5xxl, model.ae); "
                f"missing: {', '.join(missing)}."
            )
    return problems


def _cpu_problems(config: TrainingConfig) -> list[str]:
    problems = []
    if config.training.mixed_precision == "fp16":
        problems.append(
            "fp16 needs a GPU (on a CPU it fails at the first step): set training.mixed_precision to 'no'."
        )
    if config.training.mixed_precision == "bf16" and config.training.clip_skip == 2:
        problems.append("bf16 with clip_skip 2 fails on a CPU: set training.mixed_precision to 'no'.")
    if config.optimizer.type.needs_gpu:
        problems.append(f"The {config.optimizer.type} optimizer needs a GPU; use AdamW on a CPU.")
    if config.memory.fp8_base:
        problems.append("memory.fp8_base needs a GPU.")
    if config.memory.attention == "xformers":
        problems.append("xformers needs a GPU: set memory.attention to 'sdpa'.")
    if config.launch.num_processes > 1:
        problems.append("Several processes need several GPUs: set launch.num_processes to 1.")
    return problems
