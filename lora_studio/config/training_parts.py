"""The sections of a TrainingConfig: one pydantic model per concern.

Rule for every field: an optional value defaults to ``None`` (= "let sd-scripts decide", never
rendered), so a config saved as TOML, where ``None`` cannot be written, loads back unchanged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lora_studio.config.training_choices import LrScheduler, NetworkType, Optimizer

MixedPrecision = Literal["no", "fp16", "bf16"]
SavePrecision = Literal["float", "fp16", "bf16"]
Attention = Literal["sdpa", "xformers", "none"]
SampleSampler = Literal[
    "ddim", "pndm", "lms", "euler", "euler_a", "heun", "dpm_2", "dpm_2_a", "dpmsolver", "dpmsolver++",
    "dpmsingle", "k_lms", "k_euler", "k_euler_a", "k_dpm_2", "k_dpm_2_a",
]  # fmt: skip
TimestepSampling = Literal["sigma", "uniform", "sigmoid", "shift", "flux_shift"]
ModelPredictionType = Literal["raw", "additive", "sigma_scaled"]
WeightingScheme = Literal["sigma_sqrt", "logit_normal", "mode", "cosmap", "none", "uniform"]
ExtraValue = str | int | float | bool | list[str]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ModelFiles(Section):
    """Paths of the model files; which ones a family needs is checked before launch."""

    base: str | None = Field(default=None, description="the base checkpoint (.safetensors file)")
    vae: str | None = Field(default=None, description="a separate VAE (SD1.5/SDXL)")
    clip_l: str | None = Field(
        default=None, description="CLIP-L text encoder (Flux; SD3 if not in the checkpoint)"
    )
    clip_g: str | None = Field(default=None, description="CLIP-G text encoder (SD3 if not in the checkpoint)")
    t5xxl: str | None = Field(
        default=None, description="T5-XXL text encoder (Flux; SD3 if not in the checkpoint)"
    )
    ae: str | None = Field(default=None, description="the Flux autoencoder (ae.safetensors)")
    v2: bool = Field(default=False, description="SD 2.x base model (SD1.5 family script only)")
    v_parameterization: bool = Field(default=False, description="v-prediction model (SD 2.x 768-v)")
    tokenizer_cache_dir: str | None = Field(default=None, description="offline CLIP tokenizer folder")


class NetworkSettings(Section):
    type: NetworkType = NetworkType.LORA
    dim: int = Field(default=16, ge=1, le=1024, description="network rank")
    alpha: float = Field(default=8.0, gt=0, description="network alpha (scales the update by alpha/dim)")
    conv_dim: int | None = Field(
        default=None, ge=1, le=1024, description="rank of the 3x3 conv layers (LoCon)"
    )
    conv_alpha: float | None = Field(default=None, gt=0)
    dropout: float | None = Field(default=None, ge=0, le=1, description="neuron dropout (network_dropout)")
    rank_dropout: float | None = Field(default=None, ge=0, le=1)
    module_dropout: float | None = Field(default=None, ge=0, le=1)
    train_unet_only: bool = Field(default=False, description="train no text-encoder LoRA")
    args: list[str] = Field(default_factory=list, description="more network_args, each key=value")
    weights: str | None = Field(default=None, description="start from these LoRA weights")

    @field_validator("args")
    @classmethod
    def _key_value(cls, args: list[str]) -> list[str]:
        for arg in args:
            if "=" not in arg:
                raise ValueError(f"network argument {arg!r} must look like key=value")
        return args


class OptimizerSettings(Section):
    type: Optimizer = Optimizer.ADAMW
    args: list[str] = Field(default_factory=list, description="optimizer_args, each key=value")
    learning_rate: float = Field(default=1e-4, gt=0)
    unet_lr: float | None = Field(default=None, gt=0)
    text_encoder_lr: float | None = Field(default=None, ge=0)
    scheduler: LrScheduler = LrScheduler.CONSTANT
    # int = steps; a float below 1 = a fraction of all steps (sd-scripts' int_or_float).
    warmup_steps: int | float = Field(default=0, ge=0)
    scheduler_num_cycles: int | None = Field(default=None, ge=1)
    scheduler_power: float | None = Field(default=None, gt=0)
    max_grad_norm: float | None = Field(default=None, ge=0)

    @field_validator("args")
    @classmethod
    def _key_value(cls, args: list[str]) -> list[str]:
        for arg in args:
            if "=" not in arg:
                raise ValueError(f"optimizer argument {arg!r} must look like key=value")
        return args

    @field_validator("warmup_steps")
    @classmethod
    def _ratio_below_one(cls, value: int | float) -> int | float:
        if isinstance(value, float) and value >= 1:
            raise ValueError("a fractional warmup must be below 1.0 (or give a whole number of steps)")
        return value


class TrainingSettings(Section):
    max_train_epochs: int | None = Field(default=None, ge=1)
    max_train_steps: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=1, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    seed: int = Field(default=42, ge=0)
    mixed_precision: MixedPrecision = "bf16"
    full_bf16: bool = False
    noise_offset: float | None = Field(default=None, ge=0)
    min_snr_gamma: float | None = Field(default=None, gt=0)
    clip_skip: int | None = Field(default=None, ge=1, le=12)
    max_token_length: Literal[150, 225] | None = None
    max_data_loader_n_workers: int = Field(default=2, ge=0)
    persistent_data_loader_workers: bool = False


class DatasetSettings(Section):
    resolution: tuple[int, int] = Field(default=(1024, 1024), description="width, height")
    enable_bucket: bool = True
    min_bucket_reso: int = Field(default=256, ge=64)
    max_bucket_reso: int = Field(default=2048, ge=64)
    bucket_reso_steps: int | None = Field(default=None, ge=8, description="None: the family's multiple")
    bucket_no_upscale: bool = False
    caption_extension: str = Field(default=".txt", pattern=r"^\.[A-Za-z0-9_-]+$")
    shuffle_caption: bool = False
    keep_tokens: int = Field(default=0, ge=0)
    keep_tokens_separator: str | None = None
    caption_dropout_rate: float = Field(default=0.0, ge=0, le=1)
    caption_tag_dropout_rate: float = Field(default=0.0, ge=0, le=1)
    caption_dropout_every_n_epochs: int = Field(default=0, ge=0)
    flip_aug: bool = False
    random_crop: bool = False

    @field_validator("resolution", mode="before")
    @classmethod
    def _square_from_int(cls, value: object) -> object:
        return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("resolution")
    @classmethod
    def _resolution_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not all(64 <= side <= 8192 for side in value):
            raise ValueError("each side of the resolution must be between 64 and 8192")
        return value


class MemorySettings(Section):
    gradient_checkpointing: bool = True
    cache_latents: bool = True
    cache_latents_to_disk: bool = False
    cache_text_encoder_outputs: bool = False
    cache_text_encoder_outputs_to_disk: bool = False
    fp8_base: bool = False
    blocks_to_swap: int | None = Field(
        default=None, ge=1, le=60, description="Flux/SD3: blocks kept on the CPU"
    )
    attention: Attention = "sdpa"


class FlowSettings(Section):
    """Options of the flow-matching families; each is checked against the family."""

    guidance_scale: float | None = Field(default=None, ge=0, description="Flux: 1.0 for dev training")
    timestep_sampling: TimestepSampling | None = None
    discrete_flow_shift: float | None = Field(default=None, gt=0)
    model_prediction_type: ModelPredictionType | None = None
    weighting_scheme: WeightingScheme | None = None
    t5xxl_max_token_length: int | None = Field(default=None, ge=1, le=512)
    apply_t5_attn_mask: bool | None = None
    training_shift: float | None = Field(default=None, gt=0, description="SD3 only")


class SamplePrompt(Section):
    text: str = Field(min_length=1)
    negative: str | None = None
    width: int | None = Field(default=None, ge=64, le=8192)
    height: int | None = Field(default=None, ge=64, le=8192)
    seed: int | None = Field(default=None, ge=0)
    steps: int | None = Field(default=None, ge=1, le=1000)
    cfg_scale: float | None = Field(default=None, gt=0)
    guidance: float | None = Field(default=None, ge=0, description="Flux embedded guidance")

    @field_validator("text", "negative")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # sd-scripts reads one prompt per line and splits options on " --".
        if value is not None and ("\n" in value or "\r" in value or " --" in value):
            raise ValueError("a sample prompt must be one line without ' --' in it")
        return value


class SamplingSettings(Section):
    prompts: list[SamplePrompt] = Field(default_factory=list)
    every_n_epochs: int | None = Field(default=None, ge=1)
    every_n_steps: int | None = Field(default=None, ge=1)
    at_first: bool = False
    sampler: SampleSampler = "euler_a"


class SavingSettings(Section):
    output_name: str = Field(default="my_lora", min_length=1, max_length=100)
    save_every_n_epochs: int | None = Field(default=None, ge=1)
    save_every_n_steps: int | None = Field(default=None, ge=1)
    keep_last_n_epochs: int | None = Field(default=None, ge=1)
    keep_last_n_steps: int | None = Field(default=None, ge=1)
    save_model_as: Literal["safetensors", "ckpt", "pt"] = "safetensors"
    save_precision: SavePrecision = "fp16"
    save_state: bool = False


class LoggingSettings(Section):
    tensorboard: bool = False
    log_prefix: str | None = None


class LaunchSettings(Section):
    """How accelerate starts the script: processes, GPUs, and (rarely) several machines."""

    num_processes: int = Field(default=1, ge=1, description="total processes (GPUs) across all machines")
    gpu_ids: list[int] | None = Field(default=None, description="GPU indices to use on this machine")
    num_cpu_threads_per_process: int = Field(default=2, ge=1)
    num_machines: int = Field(default=1, ge=1)
    machine_rank: int = Field(default=0, ge=0)
    main_process_ip: str | None = None
    main_process_port: int | None = Field(default=None, ge=1, le=65535)
