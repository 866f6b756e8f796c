"""The step math of a run: images x repeats x epochs / batch / gradient accumulation = steps."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lora_studio.config.training import TrainingConfig


@dataclass(frozen=True)
class StepMath:
    """How many optimizer steps a config makes over a dataset, and how long that takes once measured."""

    images: int
    images_with_repeats: int
    batch_size: int
    gradient_accumulation: int
    processes: int
    steps_per_epoch: int
    epochs: int
    total_steps: int
    by_epochs: bool = True  # False: max_train_steps sets the length, epochs is derived
    seconds_per_step: float | None = None

    @property
    def estimate_s(self) -> float | None:
        """Training time without start-up, from a measured speed; None until a run has measured one."""
        return None if self.seconds_per_step is None else self.seconds_per_step * self.total_steps

    def explain(self) -> str:
        """The formula with this run's numbers, as shown in the pre-flight panel."""
        parts = [f"{self.images} images with repeats = {self.images_with_repeats} per epoch"]
        parts.append(f"/ batch {self.batch_size}")
        if self.gradient_accumulation > 1:
            parts.append(f"/ accumulation {self.gradient_accumulation}")
        if self.processes > 1:
            parts.append(f"/ {self.processes} GPUs")
        parts.append(f"= {self.steps_per_epoch} steps per epoch")
        if self.by_epochs:
            parts.append(f"x {self.epochs} epochs = {self.total_steps} steps")
        else:
            parts.append(f"; max_train_steps = {self.total_steps} (about {self.epochs} epochs)")
        return " ".join(parts)


def step_math(
    config: TrainingConfig, repeats_by_count: list[tuple[int, int]], *, seconds_per_step: float | None = None
) -> StepMath:
    """Steps for ``config`` over concepts given as (image count, repeats) pairs.

    Mirrors sd-scripts: batches per epoch = ceil(images with repeats / batch) (buckets can add a few
    partial batches, so the real count may be slightly higher), steps per epoch = ceil(batches /
    processes / accumulation); ``max_train_epochs`` overrides ``max_train_steps``.
    """
    training, processes = config.training, config.launch.num_processes
    images = sum(count for count, _ in repeats_by_count)
    with_repeats = sum(count * repeats for count, repeats in repeats_by_count)
    batches = math.ceil(with_repeats / training.batch_size)
    per_epoch = math.ceil(batches / processes / training.gradient_accumulation_steps)
    if training.max_train_epochs is not None:
        epochs, total = training.max_train_epochs, training.max_train_epochs * per_epoch
    else:
        total = training.max_train_steps or 0
        epochs = math.ceil(total / per_epoch) if per_epoch else 0
    return StepMath(
        images=images,
        images_with_repeats=with_repeats,
        batch_size=training.batch_size,
        gradient_accumulation=training.gradient_accumulation_steps,
        processes=processes,
        steps_per_epoch=per_epoch,
        epochs=epochs,
        total_steps=total,
        by_epochs=training.max_train_epochs is not None,
        seconds_per_step=seconds_per_step,
    )
