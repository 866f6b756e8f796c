"""The Tagging tab's option controls, built from ``TaggingOptions``: defaults, bounds, choices and help
text all come from the model's fields, and the form's values go back through the same model.

Only the layout lives here (which section a field sits in, a friendlier label for a few); a field that
no section names still gets a control, under "More options", so a new option can never be lost.
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Union, cast, get_args, get_origin

import gradio as gr
from annotated_types import Ge, Le
from pydantic.fields import FieldInfo

from lora_studio.config.tagging import TaggingOptions, parse_tagging_options
from lora_studio.core.errors import ConfigInvalid

PREFIX = "tagging"
# Chosen with their own controls (model picker, the dataset's concept list), or not a person's choice.
SPECIAL_FIELDS = ("schema_version", "model", "concepts")
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Thresholds", ("general_threshold", "character_threshold", "general_mcut", "character_mcut")),
    (
        "Tags",
        ("rating", "character_first", "underscores_to_spaces", "blacklist", "always_first", "trigger_words"),
    ),
    ("Caption files", ("existing", "separator", "caption_extension")),
    ("Speed", ("batch_size", "device", "workers")),
)
MORE_OPTIONS = "More options"
LABELS = {
    "general_mcut": "MCut for general tags",
    "character_mcut": "MCut for character tags",
    "rating": "Add a rating tag",
    "character_first": "Character tags first",
    "blacklist": "Undesired tags",
    "always_first": "Tags always first",
    "existing": "Existing captions",
    "workers": "Decoding workers",
}


def option_fields() -> list[str]:
    """The fields the form shows as plain controls, in the model's order."""
    return [name for name in TaggingOptions.model_fields if name not in SPECIAL_FIELDS]


def layout() -> list[tuple[str, list[str]]]:
    """``(section title, field names)`` in display order, with unplaced fields in a last section."""
    fields = option_fields()
    placed = [(title, [name for name in names if name in fields]) for title, names in SECTIONS]
    seen = {name for _, names in placed for name in names}
    rest = [name for name in fields if name not in seen]
    return placed + ([(MORE_OPTIONS, rest)] if rest else [])


def label_of(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def elem_id_of(name: str) -> str:
    return f"{PREFIX}-{name.replace('_', '-')}"


def default_of(name: str) -> Any:
    return TaggingOptions.model_fields[name].default


def _base_type(annotation: Any) -> Any:
    """``int | None`` → int; other annotations unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        return next(arg for arg in get_args(annotation) if arg is not type(None))
    return annotation


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
    return cast(float | None, low), cast(float | None, high)  # our fields bound numbers only


def option_control(name: str) -> gr.components.Component:
    """One control for one field, its default, bounds and help text taken from the field."""
    info = TaggingOptions.model_fields[name]
    kind = _base_type(info.annotation)
    common: dict[str, Any] = {"label": label_of(name), "info": info.description, "elem_id": elem_id_of(name)}
    default = info.default
    low, high = _bounds(info)
    if kind is bool:
        return gr.Checkbox(value=default, **common)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return gr.Radio(choices=[member.value for member in kind], value=default.value, **common)
    if get_origin(kind) is tuple:
        return gr.Textbox(
            value=", ".join(default), placeholder="comma-separated, e.g. tag one, tag two", **common
        )
    if kind is float and low is not None and high is not None:
        return gr.Slider(minimum=low, maximum=high, step=0.01, value=default, **common)
    if kind is int:
        return gr.Number(value=default, precision=0, minimum=low, maximum=high, placeholder="auto", **common)
    return gr.Textbox(value=default, **common)


@dataclass
class OptionsForm:
    """The option controls, keyed by field name."""

    controls: dict[str, gr.components.Component]

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The controls in ``option_fields()`` order: what ``options_from_form`` expects."""
        return [self.controls[name] for name in option_fields()]


def render_section(form: OptionsForm, names: Sequence[str]) -> None:
    """Create the controls of ``names`` at this point of the layout."""
    for name in names:
        form.controls[name] = option_control(name)


_PROBLEM = re.compile(r"^(\w+)(?:\.\d+)?: ")


def options_from_form(values: Sequence[Any], *, model: str, concepts: Sequence[str]) -> TaggingOptions:
    """The form's values (in ``option_fields()`` order) → TaggingOptions; unset numbers keep the default.

    Raises:
        ConfigInvalid: every bad value, named by its label.
    """
    fields = option_fields()
    if len(values) != len(fields):
        raise ConfigInvalid(f"Expected {len(fields)} option values, got {len(values)}.")
    data: dict[str, Any] = {"model": model.strip(), "concepts": tuple(concepts)}
    for name, value in zip(fields, values, strict=True):
        if value is None:
            continue  # an empty number box means "unset": the model's default
        data[name] = int(value) if _field_kind(name) is int else value
    try:
        return parse_tagging_options(data)
    except ConfigInvalid as error:
        problems = [_PROBLEM.sub(lambda m: f"{label_of(m.group(1))}: ", p) for p in error.problems]
        raise ConfigInvalid(f"Check the tagging options: {'; '.join(problems)}") from None


def _field_kind(name: str) -> Any:
    return _base_type(TaggingOptions.model_fields[name].annotation)
