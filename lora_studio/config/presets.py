"""Presets (configs/presets/*.toml) and people's own configs: list, load, save, import, export.

A config file is the TrainingConfig as TOML (``None`` fields left out); presets carry comments.
Every load goes through the migrations and the schema, so an old file keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import toml

from lora_studio.config.migrate import load_training_config
from lora_studio.config.training import TrainingConfig, config_invalid
from lora_studio.core.atomic import write_text_atomic
from lora_studio.core.errors import AlreadyExists, ConfigInvalid, NotFound, PresetNotFound
from lora_studio.core.paths import child_path, safe_name

PRESETS_DIR = Path(__file__).resolve().parents[2] / "configs" / "presets"
CONFIG_SUFFIX = ".toml"


@dataclass(frozen=True)
class PresetInfo:
    name: str
    family: str
    description: str


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_strip_none(item) for item in value]
    return value


def config_to_toml(config: TrainingConfig) -> str:
    """The config as TOML text (what export and save write); loads back to an equal config."""
    data = _strip_none(config.model_dump(mode="json"))
    return "# LoRA Studio training config\n" + toml.dumps(data)


def config_from_toml(text: str, *, source: str = "config") -> TrainingConfig:
    """Parse TOML text (an import, a saved config or a preset) into a checked TrainingConfig.

    Raises:
        ConfigInvalid: the text is not TOML or not a valid training config.
    """
    try:
        data = toml.loads(text)
    except toml.TomlDecodeError as error:
        raise ConfigInvalid(f"{source} is not valid TOML: {error}") from None
    try:
        return load_training_config(data)
    except ConfigInvalid as error:
        raise config_invalid(error.problems, f"{source} is not a valid training config") from None


def list_presets(folder: Path = PRESETS_DIR) -> list[PresetInfo]:
    """Every preset, sorted by name (each is loaded, so a broken preset fails loudly here)."""
    infos = []
    for path in sorted(folder.glob(f"*{CONFIG_SUFFIX}")):
        config = load_preset(path.stem, folder=folder)
        infos.append(PresetInfo(path.stem, str(config.family), config.description or ""))
    return infos


def load_preset(name: str, *, folder: Path = PRESETS_DIR) -> TrainingConfig:
    """Load preset ``name`` (file stem in configs/presets/).

    Raises:
        PresetNotFound: no such preset. ConfigInvalid: the preset file is broken.
    """
    path = child_path(folder, safe_name(name) + CONFIG_SUFFIX)
    if not path.is_file():
        known = ", ".join(path.stem for path in sorted(folder.glob(f"*{CONFIG_SUFFIX}")))
        raise PresetNotFound(name, hint=f"Known presets: {known}.")
    return config_from_toml(path.read_text(encoding="utf-8"), source=f"preset {name!r}")


def save_user_config(config: TrainingConfig, *, folder: Path, name: str, overwrite: bool = False) -> Path:
    """Save ``config`` as ``folder/<name>.toml`` atomically.

    Raises:
        InvalidName: ``name`` cannot be a file name. AlreadyExists: it exists and ``overwrite`` is False.
    """
    path = child_path(folder, safe_name(name) + CONFIG_SUFFIX)
    if path.exists() and not overwrite:
        raise AlreadyExists("config", name)
    write_text_atomic(path, config_to_toml(config))
    return path


def load_user_config(*, folder: Path, name: str) -> TrainingConfig:
    """Load a config saved with ``save_user_config``.

    Raises:
        NotFound: no such config. ConfigInvalid: the file is not a valid config.
    """
    path = child_path(folder, safe_name(name) + CONFIG_SUFFIX)
    if not path.is_file():
        raise NotFound(name, hint=f"No saved config {name!r} in {folder}.")
    return config_from_toml(path.read_text(encoding="utf-8"), source=f"config {name!r}")


def list_user_configs(folder: Path) -> list[str]:
    return sorted(path.stem for path in folder.glob(f"*{CONFIG_SUFFIX}")) if folder.is_dir() else []


def _parse_value(text: str) -> Any:
    """A TOML value (``32``, ``1e-4``, ``true``, ``[1, 2]``, ``"x"``), else the bare text as a string."""
    try:
        return toml.loads(f"value = {text}")["value"]
    except toml.TomlDecodeError:
        return text


def apply_overrides(config: TrainingConfig, assignments: Sequence[str]) -> TrainingConfig:
    """Apply ``section.field=value`` assignments (the CLI's ``--set``) and re-check the result.

    Only keys under ``extra.`` may be new; any other unknown path is an error.

    Raises:
        ConfigInvalid: a malformed assignment, an unknown key, or a result that breaks the schema.
    """
    data = config.model_dump(mode="json")
    problems = []
    for assignment in assignments:
        path, sep, raw = assignment.partition("=")
        keys = [key.strip() for key in path.split(".")]
        if not sep or not all(keys):
            problems.append(f"{assignment!r}: expected key=value, e.g. network.dim=32")
            continue
        target: Any = data
        for key in keys[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        is_new = not isinstance(target, dict) or keys[-1] not in target
        if target is None or not isinstance(target, dict) or (is_new and keys[0] != "extra"):
            problems.append(f"{path}: no such setting")
            continue
        value = _parse_value(raw.strip())
        # A text field keeps the text as typed (--set saving.output_name=2024 stays "2024").
        if isinstance(target.get(keys[-1]), str) and not isinstance(value, str):
            value = raw.strip()
        target[keys[-1]] = value
    if problems:
        raise config_invalid(problems, "Cannot apply the settings")
    return load_training_config(data)
