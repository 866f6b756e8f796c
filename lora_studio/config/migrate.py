"""Bring a saved training config up to the current schema, then validate it.

``MIGRATIONS[n]`` turns a version-``n`` dict into a version-``n + 1`` dict; they run in order.
A config without ``schema_version`` is taken as version 1 (the first one).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from lora_studio.config.training import SCHEMA_VERSION, TrainingConfig, validate_training_config
from lora_studio.core.errors import ConfigInvalid

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# Version 1 is the first schema: nothing to migrate yet.
MIGRATIONS: dict[int, Migration] = {}


def migrate(data: Mapping[str, Any], migrations: Mapping[int, Migration] | None = None) -> dict[str, Any]:
    """Return a copy of ``data`` at the current schema version.

    Raises:
        ConfigInvalid: the version is not a whole number, is newer than this LoRA Studio, or has no
            migration path.
    """
    steps = MIGRATIONS if migrations is None else migrations
    result = copy.deepcopy(dict(data))
    version = result.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigInvalid(f"schema_version must be a whole number from 1 up, not {version!r}.")
    if version > SCHEMA_VERSION:
        raise ConfigInvalid(
            f"This config has schema_version {version}, newer than this LoRA Studio understands "
            f"({SCHEMA_VERSION}). Update LoRA Studio to load it."
        )
    while version < SCHEMA_VERSION:
        if version not in steps:
            raise ConfigInvalid(f"No migration from schema_version {version}; this config cannot be loaded.")
        result = steps[version](result)
        version += 1
        result["schema_version"] = version
    result["schema_version"] = SCHEMA_VERSION
    return result


def load_training_config(data: Mapping[str, Any]) -> TrainingConfig:
    """Migrate saved config data to the current schema and validate it.

    Raises:
        ConfigInvalid: the data cannot be migrated or breaks the schema; ``problems`` lists each issue.
    """
    if not isinstance(data, Mapping):
        raise ConfigInvalid("A training config must be a table of settings.")
    return validate_training_config(migrate(data))
