"""TrainingConfig: the one schema of a LoRA training run, for SD1.5, SDXL, SD3.5 and Flux.1.

Everything else derives from it: presets, the UI form, the rendered sd-scripts TOMLs and the
launch command. Sections live in ``training_parts``, choices in ``training_choices`` and the
cross-field rules in ``training_rules``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lora_studio.config.training_choices import script_for
from lora_studio.config.training_parts import (
    DatasetSettings,
    ExtraValue,
    FlowSettings,
    LaunchSettings,
    LoggingSettings,
    MemorySettings,
    ModelFiles,
    NetworkSettings,
    OptimizerSettings,
    SamplingSettings,
    SavingSettings,
    TrainingSettings,
)
from lora_studio.config.training_rules import structural_problems
from lora_studio.core.errors import ConfigInvalid
from lora_studio.core.types import ModelFamily

SCHEMA_VERSION: Literal[1] = 1
# Separates the problems of one cross-field check inside pydantic's single error message.
_PROBLEM_SEPARATOR = "\n* "


class TrainingConfig(BaseModel):
    """A complete, checked description of one LoRA training run (saved with ``schema_version``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    schema_version: Literal[1] = SCHEMA_VERSION
    description: str | None = Field(default=None, description="what this config is for")
    family: ModelFamily
    model: ModelFiles = Field(default_factory=ModelFiles)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    optimizer: OptimizerSettings = Field(default_factory=OptimizerSettings)
    training: TrainingSettings = Field(default_factory=lambda: TrainingSettings(max_train_epochs=10))
    dataset: DatasetSettings = Field(default_factory=DatasetSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    flow: FlowSettings = Field(default_factory=FlowSettings)
    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    saving: SavingSettings = Field(default_factory=SavingSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    launch: LaunchSettings = Field(default_factory=LaunchSettings)
    # sd-scripts options the schema does not cover, by their argparse names; checked like the rest.
    extra: dict[str, ExtraValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_field_rules(self) -> TrainingConfig:
        problems = structural_problems(self)
        if problems:
            raise ValueError(_PROBLEM_SEPARATOR + _PROBLEM_SEPARATOR.join(problems))
        return self

    @property
    def script(self) -> str:
        """The sd-scripts training script for this family (``train_network.py``, ...)."""
        return script_for(self.family)


def problems_from_validation(error: ValidationError) -> list[str]:
    """Turn pydantic's errors into one readable line per problem (cross-field ones split apart)."""
    problems: list[str] = []
    for item in error.errors(include_url=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in item["loc"])
        if _PROBLEM_SEPARATOR in message:
            problems.extend(part for part in message.split(_PROBLEM_SEPARATOR) if part.strip())
        elif item["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown setting (check the spelling)")
        else:
            problems.append(f"{where}: {message}" if where else message)
    return problems


def validate_training_config(data: object) -> TrainingConfig:
    """Build a TrainingConfig from plain data (current schema version), or raise ConfigInvalid.

    Raises:
        ConfigInvalid: a field is wrong or a cross-field rule is broken; ``problems`` lists each.
    """
    try:
        return TrainingConfig.model_validate(data)
    except ValidationError as error:
        raise config_invalid(problems_from_validation(error)) from None


def config_invalid(problems: list[str], intro: str = "The training config is not valid") -> ConfigInvalid:
    """One ConfigInvalid whose message shows every problem (a single one inline)."""
    if len(problems) == 1:
        return ConfigInvalid(f"{intro}: {problems[0]}", problems=problems)
    return ConfigInvalid(f"{intro}:", problems=problems)
