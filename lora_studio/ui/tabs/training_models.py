"""The model pickers of the Training tab: the base model and the files a family takes besides it.

Each picker fills one ``model.<field>`` box of the generated form. The form holds the truth (it is what
Check and Start read); after a config is loaded the pickers follow the form, and a field the loaded
config leaves empty keeps what the person picked before, when it suits the new family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from lora_studio.config.catalog import ModelKind
from lora_studio.core.types import ModelFamily
from lora_studio.services import Services
from lora_studio.services.training.choices import ALL_MODEL_FIELDS, model_fields
from lora_studio.ui.binding import ConfigForm
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs.training_layout import Setup

FIELDS = ("base", *ALL_MODEL_FIELDS)


def form_component(form: ConfigForm, key: str) -> Any:
    """The generated control of ``key`` ("model.base", "family", ...)."""
    for binding in form.fields:
        if binding.key == key:
            return binding.component
    raise KeyError(key)


def _family(text: str | None) -> ModelFamily | None:
    try:
        return ModelFamily(text) if text else None
    except ValueError:
        return None


def picker_updates(
    services: Services, family_text: str | None, picks: Sequence[str | None], texts: Sequence[str | None]
) -> list[Any]:
    """New form texts for every model field, then an update for every picker (choices of the family)."""
    family = _family(family_text)
    wanted = {"base": ModelKind.CHECKPOINT, **dict(model_fields(family))}
    new_texts, pickers = [], []
    for name, pick, text in zip(FIELDS, picks, texts, strict=True):
        kind = wanted.get(name)
        choices = services.models.model_choices(kind, family) if kind is not None else []
        paths = {path for _label, path in choices}
        value = (text or "").strip() or (pick if kind is not None and pick in paths else "")
        if value and value not in paths:
            choices = [*choices, (value, value)]  # a path typed by hand or from an imported config
        new_texts.append(value)
        pickers.append(gr.Dropdown(choices=choices, value=value or None, visible=kind is not None))
    return [*new_texts, *pickers]


def wire_model_pickers(services: Services, setup: Setup, form: ConfigForm) -> tuple[list[Any], list[Any]]:
    """A pick fills its form box; returns (sync inputs, sync outputs) for ``sync`` after a config loads."""
    pickers = [setup.base, *(setup.files[name] for name in ALL_MODEL_FIELDS)]
    boxes = [form_component(form, f"model.{name}") for name in FIELDS]
    family = form_component(form, "family")

    @ui_errors
    def take(pick: str | None) -> str:
        return pick or ""

    for picker, box in zip(pickers, boxes, strict=True):
        picker.input(take, picker, box, api_visibility="private", show_progress="hidden")
    inputs, outputs = [family, *pickers, *boxes], [*boxes, *pickers]
    family.input(sync_handler(services), inputs, outputs, api_visibility="private", show_progress="hidden")
    return inputs, outputs


def sync_handler(services: Services) -> Any:
    count = len(FIELDS)

    @ui_errors
    def sync(family: str | None, *values: str | None) -> list[Any]:
        return picker_updates(services, family, values[:count], values[count:])

    return sync
