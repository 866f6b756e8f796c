"""Per-dataset caption settings, saved as ``<dataset>/.lora_studio/captions.json``.

sd-scripts skips hidden folders, so our state (settings, undo records) lives in ``.lora_studio``
inside the dataset and travels with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from lora_studio.core.atomic import write_json_atomic
from lora_studio.core.errors import ConfigInvalid

STATE_FOLDER = ".lora_studio"
SETTINGS_FILE = "captions.json"
SCHEMA_VERSION = 1

CaptionExtension = Literal[".txt", ".caption"]


class CaptionSettings(BaseModel):
    """Caption settings of one dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    caption_extension: CaptionExtension = ".txt"
    # A style LoRA must not learn characters: character tags in its captions become suggestions.
    style_set: bool = False


# {n: migrate a version-n dict to version n+1}; empty until the shape changes.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def settings_path(dataset_dir: Path) -> Path:
    return dataset_dir / STATE_FOLDER / SETTINGS_FILE


def load_caption_settings(dataset_dir: Path) -> CaptionSettings:
    """The dataset's settings, defaults when none were saved.

    Raises:
        ConfigInvalid: the file is not JSON, is from a newer version, or breaks the schema.
    """
    path = settings_path(dataset_dir)
    if not path.is_file():
        return CaptionSettings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigInvalid(f"{path} cannot be read ({error}); fix or delete it.") from error
    if not isinstance(data, dict):
        raise ConfigInvalid(f"{path} must hold a JSON object; fix or delete it.")
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ConfigInvalid(f"{path} has schema_version {version!r}, newer than this LoRA Studio knows.")
    while version in MIGRATIONS:
        data = MIGRATIONS[version](data)
        version += 1
    try:
        return CaptionSettings.model_validate(data)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ConfigInvalid(f"{path} is not valid; fix or delete it.", problems=problems) from error


def save_caption_settings(dataset_dir: Path, settings: CaptionSettings) -> None:
    write_json_atomic(settings_path(dataset_dir), settings.model_dump(mode="json"))
