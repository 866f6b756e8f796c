"""The option table of the pinned sd-scripts (configs/sd_scripts_args.json) and checks against it.

sd-scripts silently ignores unknown keys in the training TOML and checks neither types nor choices
there, so every rendered key goes through ``check_trainer_args`` before a launch.
Regenerate the table with ``trainer/dump_args.py`` (see trainer/README.md).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lora_studio.core.errors import ConfigInvalid, UnknownTrainerArgs

ARGS_TABLE = Path(__file__).resolve().parents[2] / "configs" / "sd_scripts_args.json"

# Keys the dataset TOML accepts at each level (library/config_util.py, DreamBooth-style subsets).
_COMMON_DATASET_KEYS = frozenset(
    {
        "resize_interpolation", "num_repeats", "shuffle_caption", "caption_separator", "keep_tokens",
        "keep_tokens_separator", "secondary_separator", "enable_wildcard", "caption_prefix",
        "caption_suffix", "color_aug", "flip_aug", "random_crop", "face_crop_aug_range",
        "token_warmup_min", "token_warmup_step", "custom_attributes", "caption_dropout_rate",
        "caption_tag_dropout_rate", "caption_dropout_every_n_epochs", "caption_extension",
        "class_tokens", "cache_info",
    }
)  # fmt: skip
_DATASET_ONLY_KEYS = frozenset(
    {
        "resolution", "batch_size", "enable_bucket", "min_bucket_reso", "max_bucket_reso",
        "bucket_reso_steps", "bucket_no_upscale", "network_multiplier", "validation_split",
        "validation_seed",
    }
)  # fmt: skip
DATASET_KEYS: dict[str, frozenset[str]] = {
    "general": _COMMON_DATASET_KEYS | _DATASET_ONLY_KEYS,
    "datasets": _COMMON_DATASET_KEYS | _DATASET_ONLY_KEYS,
    "subsets": _COMMON_DATASET_KEYS | {"image_dir", "is_reg", "alpha_mask"},
}


@dataclass(frozen=True)
class OptionSpec:
    """One option of a script: its value type and, for some, the allowed values."""

    dest: str
    type: str
    choices: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class ArgsTable:
    commit: str
    scripts: Mapping[str, Mapping[str, OptionSpec]]

    def options(self, script: str) -> Mapping[str, OptionSpec]:
        try:
            return self.scripts[script]
        except KeyError:
            raise ConfigInvalid(
                f"No option table for {script!r}; known scripts: {', '.join(sorted(self.scripts))}."
            ) from None


def _spec(dest: str, entry: Any) -> OptionSpec:
    if isinstance(entry, str):
        return OptionSpec(dest, entry)
    return OptionSpec(dest, entry["type"], tuple(entry["choices"]))


def parse_args_table(data: Mapping[str, Any]) -> ArgsTable:
    """Expand the compact JSON (a base script plus what the others add, change or drop)."""
    raw = data["scripts"]
    scripts: dict[str, dict[str, OptionSpec]] = {}
    for name, spec in raw.items():
        options: dict[str, OptionSpec] = {}
        if "base" in spec:
            options.update({d: _spec(d, e) for d, e in raw[spec["base"]]["options"].items()})
            for dest in spec.get("removed", []):
                options.pop(dest, None)
        options.update({d: _spec(d, e) for d, e in spec["options"].items()})
        scripts[name] = options
    return ArgsTable(commit=str(data.get("commit", "")), scripts=scripts)


@cache
def load_args_table(path: Path = ARGS_TABLE) -> ArgsTable:
    """Read and expand the option table (cached per path).

    Raises:
        ConfigInvalid: the file is missing or not a valid table.
    """
    try:
        return parse_args_table(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigInvalid(
            f"Cannot read the sd-scripts option table {path}: {error}. "
            "Regenerate it with trainer/dump_args.py (see trainer/README.md)."
        ) from error


def _type_ok(kind: str, value: Any) -> bool:
    if kind.startswith("list[") and kind.endswith("]"):
        item = kind[5:-1]
        return isinstance(value, list) and all(_type_ok(item, element) for element in value)
    if isinstance(value, bool):
        return kind in ("bool", "any")
    checks: dict[str, tuple[type, ...]] = {
        "bool": (),
        "int": (int,),
        "float": (float,),
        "int_or_float": (int, float),
        "str": (str,),
        "path": (str,),
    }
    return kind == "any" or isinstance(value, checks.get(kind, (object,)))


def _choice_ok(spec: OptionSpec, value: Any) -> bool:
    if spec.choices is None:
        return True
    values = value if isinstance(value, list) else [value]
    return all(element in spec.choices for element in values)


def trainer_arg_problems(script: str, values: Mapping[str, Any], table: ArgsTable | None = None) -> list[str]:
    """Every key of a training TOML dict that ``script`` does not know, or whose value it would misread."""
    options = (table or load_args_table()).options(script)
    problems = []
    for key, value in values.items():
        spec = options.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(options), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{key}: {script} has no such option{hint}")
        elif not _type_ok(spec.type, value):
            problems.append(f"{key}: expected {spec.type}, got {type(value).__name__} {value!r}")
        elif not _choice_ok(spec, value):
            allowed = ", ".join(repr(choice) for choice in spec.choices or () if choice is not None)
            problems.append(f"{key}: {value!r} is not one of {allowed}")
    return problems


def check_trainer_args(script: str, values: Mapping[str, Any], table: ArgsTable | None = None) -> None:
    """Raise UnknownTrainerArgs listing every key or value the pinned ``script`` would not take."""
    problems = trainer_arg_problems(script, values, table)
    intro = f"sd-scripts' {script} would not take this training TOML"
    if len(problems) == 1:
        raise UnknownTrainerArgs(f"{intro}: {problems[0]}", problems=problems)
    if problems:
        raise UnknownTrainerArgs(f"{intro}:", problems=problems)


def dataset_key_problems(dataset: Mapping[str, Any]) -> list[str]:
    """Keys of a dataset TOML dict that sd-scripts' schema (voluptuous) rejects."""
    problems = [f"top level: {key!r} is not allowed" for key in dataset if key not in ("general", "datasets")]
    levels = [("general", dataset.get("general", {}))]
    for index, block in enumerate(dataset.get("datasets", [])):
        levels.append((f"datasets[{index}]", {k: v for k, v in block.items() if k != "subsets"}))
        levels += [(f"datasets[{index}].subsets[{i}]", sub) for i, sub in enumerate(block.get("subsets", []))]
    for where, keys in levels:
        allowed = DATASET_KEYS[where.rsplit(".", 1)[-1].split("[")[0]]
        problems += [f"{where}: {key!r} is not a dataset option" for key in keys if key not in allowed]
    return problems
