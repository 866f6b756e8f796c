"""Closed choice sets of the training config, with the behaviour that depends on each choice.

Values are sd-scripts' own spellings, so rendering is ``str(choice)``.
"""

from __future__ import annotations

from enum import StrEnum

from lora_studio.core.types import ModelFamily

# The LoRA training script of each family at the pinned sd-scripts commit.
SCRIPT_BY_FAMILY: dict[ModelFamily, str] = {
    ModelFamily.SD15: "train_network.py",
    ModelFamily.SDXL: "sdxl_train_network.py",
    ModelFamily.FLUX: "flux_train_network.py",
    ModelFamily.SD3: "sd3_train_network.py",
}

# The bundled LoRA module of each family (LyCORIS types use "lycoris.kohya" instead).
_LORA_MODULE: dict[ModelFamily, str] = {
    ModelFamily.SD15: "networks.lora",
    ModelFamily.SDXL: "networks.lora",
    ModelFamily.FLUX: "networks.lora_flux",
    ModelFamily.SD3: "networks.lora_sd3",
}

# bucket_reso_steps must be a multiple of this (sd-scripts asserts it per family).
BUCKET_STEP_MULTIPLE: dict[ModelFamily, int] = {
    ModelFamily.SD15: 64,
    ModelFamily.SDXL: 32,
    ModelFamily.FLUX: 64,
    ModelFamily.SD3: 32,
}

# Families whose script has the DiT options (blocks_to_swap, separate text-encoder files, ...).
DIT_FAMILIES = frozenset({ModelFamily.FLUX, ModelFamily.SD3})
# Families whose script can cache text-encoder outputs.
TE_CACHE_FAMILIES = frozenset({ModelFamily.SDXL, ModelFamily.FLUX, ModelFamily.SD3})


def script_for(family: ModelFamily) -> str:
    return SCRIPT_BY_FAMILY[family]


class NetworkType(StrEnum):
    """LoRA from sd-scripts' own modules; the rest through the LyCORIS package."""

    LORA = "lora"
    LOCON = "locon"
    LOHA = "loha"
    LOKR = "lokr"
    DORA = "dora"

    @property
    def uses_lycoris(self) -> bool:
        return self is not NetworkType.LORA

    def network_module(self, family: ModelFamily) -> str:
        return "lycoris.kohya" if self.uses_lycoris else _LORA_MODULE[family]

    def lycoris_args(self) -> list[str]:
        """The ``network_args`` that pick the LyCORIS algorithm (empty for plain LoRA)."""
        if self is NetworkType.LORA:
            return []
        if self is NetworkType.DORA:
            return ["algo=locon", "dora_wd=True"]
        return [f"algo={self.value}"]


class Optimizer(StrEnum):
    """``optimizer_type`` values sd-scripts knows by name (case-insensitive there, exact here)."""

    ADAMW = "AdamW"
    ADAMW_8BIT = "AdamW8bit"
    PAGED_ADAMW = "PagedAdamW"
    PAGED_ADAMW_8BIT = "PagedAdamW8bit"
    LION = "Lion"
    LION_8BIT = "Lion8bit"
    SGD_NESTEROV = "SGDNesterov"
    DADAPT_ADAM = "DAdaptAdam"
    PRODIGY = "Prodigy"
    ADAFACTOR = "Adafactor"
    ADAMW_SCHEDULE_FREE = "AdamWScheduleFree"
    RADAM_SCHEDULE_FREE = "RAdamScheduleFree"

    @property
    def needs_gpu(self) -> bool:
        """bitsandbytes' 8-bit and paged optimizers are GPU-oriented."""
        return "8bit" in self.value or self.value.startswith("Paged")

    @property
    def is_adaptive(self) -> bool:
        """These pick their own step size: the learning rate should be about 1.0."""
        return self in (Optimizer.DADAPT_ADAM, Optimizer.PRODIGY)


class LrScheduler(StrEnum):
    CONSTANT = "constant"
    CONSTANT_WITH_WARMUP = "constant_with_warmup"
    LINEAR = "linear"
    COSINE = "cosine"
    COSINE_WITH_RESTARTS = "cosine_with_restarts"
    POLYNOMIAL = "polynomial"
    COSINE_WITH_MIN_LR = "cosine_with_min_lr"
    WARMUP_STABLE_DECAY = "warmup_stable_decay"

    @property
    def allows_warmup(self) -> bool:
        # transformers' plain "constant" raises "constant does not require num_warmup_steps".
        return self is not LrScheduler.CONSTANT
