"""The options of one WD14 tagging run: the one schema behind the Tagging tab, the CLI and the worker's argv.

``tagger_args(options)`` turns the model into worker flags and ``add_tagging_arguments`` +
``options_from_namespace`` parse them back; both are derived from the model's fields, so a new
option needs no second list anywhere.
"""

from __future__ import annotations

import argparse
import re
import types
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lora_studio.core.errors import ConceptNotFound, ConfigInvalid
from lora_studio.core.layout import IMAGE_EXTENSIONS, parse_concept_folder

TAGGING_SCHEMA_VERSION: Literal[1] = 1
DEFAULT_TAGGER = "wd-vit-tagger-v3"

_EXTENSION = re.compile(r"^\.[A-Za-z0-9_-]{1,16}$")


class ExistingCaption(StrEnum):
    """What to do with an image that already has a caption file."""

    OVERWRITE = "overwrite"
    MERGE = "merge"  # keep the existing tags, add the new ones that are not there yet
    SKIP = "skip"


class TaggerDevice(StrEnum):
    AUTO = "auto"  # CUDA when onnxruntime offers it, else CPU
    CUDA = "cuda"
    CPU = "cpu"


def split_tag_list(text: str) -> tuple[str, ...]:
    """``"a, b ,,c"`` → ``("a", "b", "c")``: how the tab's text boxes become tag lists."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


class TaggingOptions(BaseModel):
    """Every option of a tagging run, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = TAGGING_SCHEMA_VERSION
    model: str = Field(
        DEFAULT_TAGGER,
        min_length=1,
        description="tagger: an id from configs/taggers.toml, a Hugging Face repo id, or a local folder "
        "holding model.onnx and selected_tags.csv",
    )
    general_threshold: float = Field(0.35, ge=0.0, le=1.0, description="keep general tags scoring above this")
    character_threshold: float = Field(
        0.85, ge=0.0, le=1.0, description="keep character tags scoring above this"
    )
    general_mcut: bool = Field(False, description="pick the general threshold per image with MCut")
    character_mcut: bool = Field(
        False, description="pick the character threshold per image with MCut (never below 0.15)"
    )
    rating: bool = Field(False, description="add the most likely rating tag (general, sensitive, ...)")
    character_first: bool = Field(False, description="put character tags before general tags")
    underscores_to_spaces: bool = Field(
        True, description="write 'long hair' instead of 'long_hair' (kaomoji like ^_^ are kept)"
    )
    blacklist: tuple[str, ...] = Field((), description="tags never written (matched with or without _)")
    always_first: tuple[str, ...] = Field(
        (), description="tags moved to the front when the tagger finds them"
    )
    trigger_words: tuple[str, ...] = Field((), description="words written first in every caption")
    separator: str = Field(", ", min_length=1, description="text between tags")
    caption_extension: str = Field(".txt", description="caption file extension")
    existing: ExistingCaption = Field(
        ExistingCaption.SKIP, description="images that already have a caption: overwrite, merge or skip"
    )
    batch_size: int | None = Field(
        None, ge=1, le=512, description="images per inference call (unset: 1 on CPU, 16 on CUDA)"
    )
    concepts: tuple[str, ...] = Field(
        (), description="concept folders to tag, e.g. 10_mychar (unset: all of them)"
    )
    device: TaggerDevice = Field(TaggerDevice.AUTO, description="where the model runs")
    workers: int | None = Field(
        None, ge=0, le=64, description="image decoding threads (unset: one per CPU core; 0: the main thread)"
    )

    @field_validator("blacklist", "always_first", "trigger_words", "concepts", mode="before")
    @classmethod
    def _split_text(cls, value: Any) -> Any:
        return split_tag_list(value) if isinstance(value, str) else value

    @field_validator("blacklist", "always_first", "trigger_words", "concepts")
    @classmethod
    def _clean_items(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(item.strip() for item in value if item.strip())
        for item in cleaned:
            if "\n" in item or "\r" in item:
                raise ValueError(f"{item!r} contains a line break")
        return tuple(dict.fromkeys(cleaned))

    @field_validator("separator")
    @classmethod
    def _check_separator(cls, value: str) -> str:
        if "\n" in value or "\r" in value or not value.strip():
            raise ValueError("the separator must contain a visible character and no line break, e.g. ', '")
        return value

    @field_validator("caption_extension")
    @classmethod
    def _check_extension(cls, value: str) -> str:
        value = value if value.startswith(".") else f".{value}"
        if not _EXTENSION.match(value):
            raise ValueError(f"{value!r} is not a file extension like .txt")
        if value.lower() in IMAGE_EXTENSIONS:
            raise ValueError(f"{value!r} is an image extension; captions would overwrite images")
        return value


def parse_tagging_options(data: dict[str, Any]) -> TaggingOptions:
    """Validate a dict (a form, a saved file) into TaggingOptions.

    Raises:
        ConfigInvalid: with one problem per bad field.
    """
    try:
        return TaggingOptions.model_validate(data)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in error.errors()]
        raise ConfigInvalid("The tagging options are not valid.", problems=problems) from None


def select_concepts(available: list[str], wanted: tuple[str, ...]) -> list[str]:
    """The concept folders (``10_mychar``) a run covers: all, or those named by folder or concept name.

    Raises:
        ConceptNotFound: a wanted name matches no folder.
    """
    if not wanted:
        return list(available)
    chosen: list[str] = []
    for name in wanted:
        matches = [f for f in available if name in (f, getattr(parse_concept_folder(f), "concept", None))]
        if not matches:
            raise ConceptNotFound(name, hint=f"Concept folders here: {', '.join(available) or 'none'}.")
        chosen.extend(f for f in matches if f not in chosen)
    return chosen


# ---- argv <-> model, derived from the fields -------------------------------------------------------

_ARG_FIELDS = tuple(name for name in TaggingOptions.model_fields if name != "schema_version")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _base_type(annotation: Any) -> Any:
    """``int | None`` → int; other annotations unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        return next(arg for arg in get_args(annotation) if arg is not type(None))
    return annotation


def tagger_args(options: TaggingOptions) -> list[str]:
    """Options → worker flags; every field is spelled out (unset ones are omitted) so defaults never drift.

    Values ride in ``--flag=value`` form so that tags like ``-_-`` are not mistaken for flags.
    """
    args: list[str] = []
    for name in _ARG_FIELDS:
        value = getattr(options, name)
        flag = _flag(name)
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, tuple):
            args.extend(f"{flag}={item}" for item in value)
        elif value is not None:
            args.append(f"{flag}={value.value if isinstance(value, StrEnum) else value}")
    return args


def add_tagging_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare one flag per option; flags left out keep the model's default."""
    group = parser.add_argument_group("tagging options")
    for name in _ARG_FIELDS:
        info = TaggingOptions.model_fields[name]
        kind = _base_type(info.annotation)
        default = info.default.value if isinstance(info.default, StrEnum) else info.default
        help_text = f"{info.description} (default: {default if default not in (None, ()) else 'unset'})"
        common: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": help_text}
        if kind is bool:
            group.add_argument(_flag(name), action=argparse.BooleanOptionalAction, **common)
        elif get_origin(kind) is tuple:
            group.add_argument(_flag(name), action="append", metavar="TAG", **common)
        elif isinstance(kind, type) and issubclass(kind, StrEnum):
            group.add_argument(_flag(name), choices=[member.value for member in kind], **common)
        else:
            group.add_argument(_flag(name), type=kind, **common)


def options_from_namespace(namespace: argparse.Namespace) -> TaggingOptions:
    """The flags that were given (and only those) → TaggingOptions.

    Raises:
        ConfigInvalid: a value breaks the schema.
    """
    given = {name: value for name, value in vars(namespace).items() if name in _ARG_FIELDS}
    return parse_tagging_options(given)


def parse_tagger_args(argv: Sequence[str]) -> TaggingOptions:
    """The inverse of ``tagger_args``.

    Raises:
        ConfigInvalid: a value breaks the schema.
    """
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    add_tagging_arguments(parser)
    try:
        namespace, unknown = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as error:
        raise ConfigInvalid(f"Bad tagging flag: {error}") from None
    if unknown:
        raise ConfigInvalid(f"Unknown tagging flags: {' '.join(unknown)}")
    return options_from_namespace(namespace)
