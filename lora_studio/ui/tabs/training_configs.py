"""Configs into and out of the Training tab's form: presets, saved configs, import and export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from lora_studio.config.presets import load_preset
from lora_studio.services import Services
from lora_studio.ui.binding import ConfigForm
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs.training_layout import Configs, Setup
from lora_studio.ui.tabs.training_models import sync_handler

QUIET: dict[str, Any] = {"show_progress": "hidden"}


def saved_choices(services: Services, selected: str | None = None) -> Any:
    names = services.training.saved_configs()
    return gr.Dropdown(choices=names, value=selected if selected in names else None)


def wire_configs(
    services: Services, setup: Setup, configs: Configs, form: ConfigForm, sync: tuple[list[Any], list[Any]]
) -> None:
    """Load preset / saved / imported configs into the form (then the model pickers follow); save, export."""
    fields = form.components
    sync_inputs, sync_outputs = sync

    @ui_errors
    def from_preset(name: str | None) -> list[Any]:
        if not name:
            raise gr.Error("Pick a preset first.")
        return form.values(load_preset(name))

    @ui_errors
    def from_saved(name: str | None) -> list[Any]:
        if not name:
            raise gr.Error("Pick a saved config first.")
        return form.values(services.training.load_config(name))

    @ui_errors
    def from_upload(path: str | None) -> list[Any]:
        if not path:
            raise gr.Error("Choose a .toml file to import.")
        return form.values(services.training.import_config(Path(path)))

    @ui_errors
    def save(name: str, overwrite: bool, *values: Any) -> Any:
        if not (name or "").strip():
            raise gr.Error("Type a name to save the config under.")
        path = services.training.save_config(form.config(values), name.strip(), overwrite=overwrite)
        gr.Info(f"Saved as {path.stem}.")
        return saved_choices(services, path.stem)

    @ui_errors
    def export(name: str, *values: Any) -> Any:
        path = services.training.export_config(form.config(values), (name or "").strip() or None)
        return gr.File(value=str(path), visible=True)

    sync = sync_handler(services)
    loads = (
        (setup.load_preset.click, from_preset, setup.preset, "training_load_preset"),
        (configs.load.click, from_saved, configs.saved, "training_load_config"),
        (configs.upload.upload, from_upload, configs.upload, "training_import_config"),
    )
    for trigger, handler, source, api_name in loads:
        trigger(handler, source, fields, api_name=api_name, **QUIET).success(
            sync, sync_inputs, sync_outputs, api_visibility="private", **QUIET
        )
    configs.save.click(
        save, [configs.name, configs.overwrite, *fields], configs.saved, api_name="training_save_config"
    )
    configs.export.click(export, [configs.name, *fields], configs.file, api_name="training_export_config")
