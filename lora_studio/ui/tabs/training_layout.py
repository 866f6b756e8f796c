"""The Training tab's components, grouped by what they are for; ``training.py`` wires them."""

from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from lora_studio.services.training import PresetChoice
from lora_studio.services.training.choices import ALL_MODEL_FIELDS
from lora_studio.ui.tabs.training_format import LORA_HEADERS, NO_CHECK, loss_frame, loss_note

PREFIX = "training"
FIELD_LABELS = {
    "vae": "VAE (optional)",
    "clip_l": "CLIP-L text encoder",
    "clip_g": "CLIP-G text encoder",
    "t5xxl": "T5-XXL text encoder",
    "ae": "Flux autoencoder (ae)",
}


@dataclass
class Trainer:
    status: gr.Markdown
    install: gr.Button
    gpu: gr.Markdown


@dataclass
class Setup:
    preset: gr.Dropdown
    load_preset: gr.Button
    dataset: gr.Dropdown
    refresh: gr.Button
    trigger: gr.Textbox
    base: gr.Dropdown
    files: dict[str, gr.Dropdown] = field(default_factory=dict)


@dataclass
class Configs:
    name: gr.Textbox
    overwrite: gr.Checkbox
    save: gr.Button
    saved: gr.Dropdown
    load: gr.Button
    upload: gr.UploadButton
    export: gr.Button
    file: gr.File


@dataclass
class Check:
    button: gr.Button
    start: gr.Button
    doctor: gr.Markdown
    train_toml: gr.Code
    dataset_toml: gr.Code
    prompts: gr.Code
    command: gr.Textbox


@dataclass
class RunPanel:
    runs: gr.Dropdown
    resume: gr.Button
    explanation: gr.Markdown
    loss: gr.LinePlot
    loss_note: gr.Markdown
    samples: gr.Gallery
    samples_page: gr.Number
    samples_note: gr.Markdown
    loras: gr.Dataframe
    lora_pick: gr.Dropdown
    download: gr.Button
    lora_file: gr.File
    timer: gr.Timer


def trainer_row() -> Trainer:
    with gr.Row(equal_height=True):
        status = gr.Markdown(elem_id=f"{PREFIX}-trainer")
        install = gr.Button(
            "Install sd-scripts", elem_id=f"{PREFIX}-install", size="sm", scale=0, min_width=180
        )
    gpu = gr.Markdown(elem_id=f"{PREFIX}-gpu")
    return Trainer(status, install, gpu)


def setup_rows(presets: list[PresetChoice]) -> Setup:
    default = presets[0].name if presets else None
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            preset = gr.Dropdown(
                label="Preset (★ fits this machine)",
                choices=[(choice.label, choice.name) for choice in presets],
                value=default,
                elem_id=f"{PREFIX}-preset",
            )
            load_preset = gr.Button("Load preset", elem_id=f"{PREFIX}-load-preset", size="sm")
        with gr.Column(scale=2):
            dataset = gr.Dropdown(label="Dataset", choices=[], value=None, elem_id=f"{PREFIX}-dataset")
            refresh = gr.Button("Refresh datasets and models", elem_id=f"{PREFIX}-refresh", size="sm")
        trigger = gr.Textbox(
            label="Trigger word",
            info="checked to be in every caption",
            placeholder="ohwx",
            elem_id=f"{PREFIX}-trigger",
            scale=2,
        )
    with gr.Row(equal_height=False):
        base = gr.Dropdown(
            label="Base model (fills model.base)",
            choices=[],
            value=None,
            info="model files in the Models tab's folders, of this config's family",
            elem_id=f"{PREFIX}-base",
            scale=3,
        )
        files = {
            name: gr.Dropdown(
                label=FIELD_LABELS[name], choices=[], value=None, visible=False, elem_id=f"{PREFIX}-{name}"
            )
            for name in ALL_MODEL_FIELDS
        }
    return Setup(preset, load_preset, dataset, refresh, trigger, base, files)


def configs_accordion() -> Configs:
    title = "My saved configs: save, load, import, export"
    with gr.Accordion(title, open=False, elem_id=f"{PREFIX}-configs"), gr.Row(equal_height=False):
        with gr.Column():
            name = gr.Textbox(label="Save the current config as", elem_id=f"{PREFIX}-config-name")
            overwrite = gr.Checkbox(label="replace a saved config of that name", value=False)
            save = gr.Button("Save", elem_id=f"{PREFIX}-config-save", size="sm")
        with gr.Column():
            saved = gr.Dropdown(label="Saved configs", choices=[], elem_id=f"{PREFIX}-config-saved")
            load = gr.Button("Load", elem_id=f"{PREFIX}-config-load", size="sm")
        with gr.Column():
            upload = gr.UploadButton(
                "Import a .toml file", file_types=[".toml"], elem_id=f"{PREFIX}-config-import", size="sm"
            )
            export = gr.Button("Export the current config", elem_id=f"{PREFIX}-config-export", size="sm")
            file = gr.File(label="Exported config", visible=False, elem_id=f"{PREFIX}-config-file")
    return Configs(name, overwrite, save, saved, load, upload, export, file)


def check_section(*, dry_run_only: bool = False) -> Check:
    """``dry_run_only``: a Space without a GPU, where Check works and Start cannot."""
    with gr.Row():
        button = gr.Button("Check (pre-flight + preview)", elem_id=f"{PREFIX}-check")
        start = gr.Button(
            "Start training (not on this Space: no GPU, dry run only)" if dry_run_only else "Start training",
            variant="primary",
            interactive=not dry_run_only,
            elem_id=f"{PREFIX}-start",
        )
    doctor = gr.Markdown(NO_CHECK, elem_id=f"{PREFIX}-doctor")
    with gr.Accordion("What Start runs: the TOML files and the exact command", open=True):
        with gr.Row(equal_height=False):
            train_toml = gr.Code(
                label="Training TOML (--config_file)", language=None, interactive=False, max_lines=30,
                elem_id=f"{PREFIX}-train-toml",
            )  # fmt: skip
            with gr.Column():
                dataset_toml = gr.Code(
                    label="Dataset TOML (--dataset_config)", language=None, interactive=False, max_lines=20,
                    elem_id=f"{PREFIX}-dataset-toml",
                )  # fmt: skip
                prompts = gr.Code(
                    label="Sample prompts", language=None, interactive=False, max_lines=8,
                    elem_id=f"{PREFIX}-prompts",
                )  # fmt: skip
        command = gr.Textbox(
            label="Command", lines=2, interactive=False, buttons=["copy"], elem_id=f"{PREFIX}-command"
        )
    return Check(button, start, doctor, train_toml, dataset_toml, prompts, command)


def runs_row() -> tuple[gr.Dropdown, gr.Button]:
    with gr.Row(equal_height=True):
        runs = gr.Dropdown(
            label="Run shown below", choices=[], value=None, elem_id=f"{PREFIX}-runs", scale=4,
            info="the newest runs first; pick one to see its log, loss, samples and LoRA files",
        )  # fmt: skip
        resume = gr.Button(
            "Resume from saved state", visible=False, elem_id=f"{PREFIX}-resume", scale=1, size="sm"
        )
    return runs, resume


def outputs_section(runs: gr.Dropdown, resume: gr.Button) -> RunPanel:
    explanation = gr.Markdown("", elem_id=f"{PREFIX}-explanation", elem_classes=["ls-banner"], visible=False)
    with gr.Row(equal_height=False):
        with gr.Column():
            loss = gr.LinePlot(
                loss_frame([]), x="step", y="loss", title="Loss (avr_loss)", height=260,
                elem_id=f"{PREFIX}-loss",
            )  # fmt: skip
            note = gr.Markdown(loss_note([]), elem_id=f"{PREFIX}-loss-note")
        with gr.Column():
            samples = gr.Gallery(
                label="Samples (epoch × prompt)", columns=4, height=300, object_fit="contain",
                elem_id=f"{PREFIX}-samples",
            )  # fmt: skip
            with gr.Row():
                page = gr.Number(label="Sample page", value=1, precision=0, minimum=1, scale=0, min_width=120)
                samples_note = gr.Markdown("", elem_id=f"{PREFIX}-samples-note")
    loras = gr.Dataframe(
        headers=LORA_HEADERS, value=[], interactive=False, label="Saved LoRA files", max_height=240,
        elem_id=f"{PREFIX}-loras",
    )  # fmt: skip
    with gr.Row(equal_height=True):
        pick = gr.Dropdown(
            label="LoRA file",
            choices=[],
            value=None,
            allow_custom_value=True,
            elem_id=f"{PREFIX}-lora-pick",
            scale=3,
        )
        download = gr.Button("Download", elem_id=f"{PREFIX}-lora-download", scale=1)
    lora_file = gr.File(label="Download", visible=False, elem_id=f"{PREFIX}-lora-file")
    timer = gr.Timer(2.0, active=False)
    return RunPanel(
        runs,
        resume,
        explanation,
        loss,
        note,
        samples,
        page,
        samples_note,
        loras,
        pick,
        download,
        lora_file,
        timer,
    )
