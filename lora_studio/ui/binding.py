"""The training form ⇄ TrainingConfig: the only place that knows both sides.

The form is generated from the pydantic sections of ``TrainingConfig``: a checkbox for a bool, a
dropdown for a Literal or an enum, a number for an int or a float, a textbox for text and lists.
Optional fields show empty for ``None`` ("let sd-scripts decide"); empty in the form means ``None``.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

import gradio as gr
import toml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from lora_studio.config.training import TrainingConfig, config_invalid, validate_training_config
from lora_studio.config.training_parts import SamplePrompt

UNSET = "(default)"  # dropdown entry that stands for None
# sd-scripts' own prompt-line options (library/train_util.py line_to_prompt_dict).
_PROMPT_FLAGS = {
    "n": "negative",
    "w": "width",
    "h": "height",
    "d": "seed",
    "s": "steps",
    "l": "cfg_scale",
    "g": "guidance",
}
_FLAG_OF = {name: flag for flag, name in _PROMPT_FLAGS.items()}


@dataclass
class FieldBinding:
    """One form control and how its value converts to and from the config's data."""

    section: str  # "" for top-level fields
    name: str
    component: Any
    to_data: Callable[[Any], Any]
    to_form: Callable[[Any], Any]

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}" if self.section else self.name


@dataclass
class ConfigForm:
    """Every generated control, in order; the handlers pass ``components`` as inputs/outputs."""

    fields: list[FieldBinding] = field(default_factory=list)

    @property
    def components(self) -> list[Any]:
        return [binding.component for binding in self.fields]

    def data(self, values: Sequence[Any]) -> dict[str, Any]:
        """The form's values as nested plain data (what ``validate_training_config`` takes)."""
        data: dict[str, Any] = {}
        problems = []
        for binding, value in zip(self.fields, values, strict=True):
            try:
                converted = binding.to_data(value)
            except ValueError as error:
                problems.append(f"{binding.key}: {error}")
                continue
            if converted is None:
                continue  # unset: the schema's default applies
            target = data.setdefault(binding.section, {}) if binding.section else data
            target[binding.name] = converted
        if problems:
            raise config_invalid(problems, "Some fields could not be read")
        return data

    def config(self, values: Sequence[Any]) -> TrainingConfig:
        """Raises ConfigInvalid with one line per problem."""
        return validate_training_config(self.data(values))

    def values(self, config: TrainingConfig) -> list[Any]:
        """What each control shows for ``config``."""
        dumped = config.model_dump(mode="json")
        result = []
        for binding in self.fields:
            value = (
                dumped.get(binding.section, {}).get(binding.name)
                if binding.section
                else dumped.get(binding.name)
            )
            result.append(binding.to_form(value))
        return result


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(args) < len(get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return Union[tuple(args)], optional  # noqa: UP007  # int | float stays a union
    return annotation, False


def _choices(annotation: Any) -> list[str] | None:
    if get_origin(annotation) is Literal:
        return [str(arg) for arg in get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return None


def _label(name: str, info: FieldInfo) -> dict[str, Any]:
    return {"label": name.replace("_", " "), "info": info.description}


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


def _literal_value(annotation: Any, text: str) -> Any:
    """A dropdown's text back to the Literal's own type (``"150"`` → 150 for Literal[150, 225])."""
    for arg in get_args(annotation) if get_origin(annotation) is Literal else ():
        if str(arg) == text:
            return arg
    return text


def _choice_data(annotation: Any, value: Any) -> Any:
    return None if value in (None, "", UNSET) else _literal_value(annotation, str(value))


def _number(text: Any, *, integer: bool, ratio: bool = False) -> Any:
    if text is None or text == "":
        return None
    number = float(text)
    if ratio and number < 1 and number != 0:
        return number  # a fraction of all steps
    if integer or ratio:
        if number != int(number):
            raise ValueError(f"{text} is not a whole number")
        return int(number)
    return number


def _binding_for(section: str, name: str, info: FieldInfo) -> FieldBinding:
    annotation, optional = _strip_optional(info.annotation)
    ui = _label(name, info)
    choices = _choices(annotation)
    if annotation is bool and optional:  # three states: unset, on, off
        return FieldBinding(
            section,
            name,
            gr.Dropdown(choices=[UNSET, "true", "false"], **ui),
            lambda v: None if v in (None, "", UNSET) else v == "true",
            lambda v: UNSET if v is None else str(v).lower(),
        )
    if annotation is bool:
        return FieldBinding(section, name, gr.Checkbox(**ui), bool, bool)
    if choices is not None:
        shown = [UNSET, *choices] if optional else choices
        return FieldBinding(
            section,
            name,
            gr.Dropdown(choices=shown, **ui),
            functools.partial(_choice_data, annotation),
            lambda v: UNSET if v is None else str(v),
        )
    if annotation in (int, float) or get_args(annotation) == (int, float):
        ratio = get_args(annotation) == (int, float)
        return FieldBinding(
            section,
            name,
            gr.Number(**ui),
            functools.partial(_number, integer=annotation is int, ratio=ratio),
            lambda v: v,
        )
    if name == "resolution":
        return FieldBinding(
            section,
            name,
            gr.Textbox(placeholder="1024,1024", **ui),
            lambda v: [int(part) for part in _split(v)] or None,
            lambda v: ",".join(str(part) for part in v) if v else "",
        )
    if get_origin(annotation) is list and get_args(annotation) == (int,):
        return FieldBinding(
            section,
            name,
            gr.Textbox(placeholder="0,1", **ui),
            lambda v: [int(part) for part in _split(v)] or None,
            lambda v: ",".join(str(part) for part in v) if v else "",
        )
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        return FieldBinding(
            section,
            name,
            gr.Textbox(lines=2, placeholder="key=value, one per line", **ui),
            lambda v: [line.strip() for line in (v or "").splitlines() if line.strip()],
            lambda v: "\n".join(v or []),
        )
    return FieldBinding(
        section,
        name,
        gr.Textbox(**ui),
        lambda v: None if v is None or not str(v).strip() else str(v).strip(),
        lambda v: "" if v is None else str(v),
    )


def prompt_line(prompt: dict[str, Any]) -> str:
    """A sample prompt as sd-scripts' own line syntax: ``text --n negative --w 512 --d 42``."""
    parts = [prompt["text"]]
    for key, value in prompt.items():
        if key != "text" and value is not None:
            parts.append(f"--{_FLAG_OF[key]} {value}")
    return " ".join(parts)


def parse_prompt_line(line: str) -> dict[str, Any]:
    text, *options = line.split(" --")
    prompt: dict[str, Any] = {"text": text.strip()}
    for option in options:
        flag, _, value = option.strip().partition(" ")
        if flag not in _PROMPT_FLAGS:
            raise ValueError(
                f"unknown prompt option --{flag} (use {', '.join('--' + f for f in _PROMPT_FLAGS)})"
            )
        prompt[_PROMPT_FLAGS[flag]] = value.strip()
    return SamplePrompt.model_validate(prompt).model_dump(exclude_none=True)


def _prompts_binding() -> FieldBinding:
    return FieldBinding(
        "sampling",
        "prompts",
        gr.Textbox(
            label="sample prompts",
            lines=3,
            info="one per line; options as in sd-scripts: --n negative --w 1024 --h 1024 --d seed --s steps --l cfg",
        ),
        lambda v: [parse_prompt_line(line) for line in (v or "").splitlines() if line.strip()],
        lambda v: "\n".join(prompt_line(prompt) for prompt in v or []),
    )


def _extra_value(text: str) -> Any:
    try:
        return toml.loads(f"v = {text}")["v"]
    except toml.TomlDecodeError:
        return text


def _extra_binding() -> FieldBinding:
    return FieldBinding(
        "",
        "extra",
        gr.Textbox(
            label="more sd-scripts options",
            lines=3,
            info="key = value per line, by sd-scripts' own option names; checked against the pinned script",
        ),
        lambda v: {
            key.strip(): _extra_value(value.strip())
            for key, _, value in (line.partition("=") for line in (v or "").splitlines() if "=" in line)
        },
        lambda v: "\n".join(
            f"{key} = {toml.dumps({'v': value})[4:].strip()}" for key, value in (v or {}).items()
        ),
    )


SECTION_TITLES = {
    "model": "Model files",
    "network": "Network",
    "optimizer": "Optimizer and learning rate",
    "training": "Training",
    "dataset": "Dataset and captions",
    "memory": "Memory savers",
    "flow": "Flux / SD3 options",
    "sampling": "Sample images",
    "saving": "Saving",
    "logging": "Logging",
    "launch": "GPUs and machines",
}


def _section_bindings(section: str, names: list[tuple[str, FieldInfo]]) -> list[FieldBinding]:
    """Controls of one section, three to a row (components must be created inside their row)."""
    bindings = []
    for start in range(0, len(names), 3):
        with gr.Row(equal_height=False):
            for name, info in names[start : start + 3]:
                if (section, name) == ("sampling", "prompts"):
                    bindings.append(_prompts_binding())
                else:
                    bindings.append(_binding_for(section, name, info))
    return bindings


def build_config_form(
    *, skip: frozenset[str] = frozenset(), open_sections: frozenset[str] = frozenset({"network", "training"})
) -> ConfigForm:
    """Render every section of TrainingConfig as an accordion of controls (``skip``: "section.field" keys)."""
    form = ConfigForm()
    family = TrainingConfig.model_fields["family"]
    with gr.Row():
        family_box = gr.Dropdown(choices=_choices(family.annotation) or [], label="model family")
        form.fields.append(FieldBinding("", "family", family_box, str, str))
        form.fields.append(_binding_for("", "description", TrainingConfig.model_fields["description"]))
    for section, title in SECTION_TITLES.items():
        model = TrainingConfig.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        names = [(name, info) for name, info in model.model_fields.items() if f"{section}.{name}" not in skip]
        with gr.Accordion(title, open=section in open_sections):
            form.fields.extend(_section_bindings(section, names))
    with gr.Accordion("More sd-scripts options", open=False):
        form.fields.append(_extra_binding())
    return form
