"""The Training tab: trainer status and install; preset, dataset, trigger word and model pickers; the
generated config form; Check (pre-flight doctor, the TOML files and the exact command); Start, then the
live run (log, progress, loss chart, samples grid, LoRA files with download, failure explanation, Stop,
Resume); saved configs.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from lora_studio.config.presets import load_preset
from lora_studio.config.training import TrainingConfig
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.types import JobKind
from lora_studio.services import Services
from lora_studio.services.system import detect_gpus
from lora_studio.ui.binding import ConfigForm, build_config_form
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.job_view import STREAM_EVENT as QUIET
from lora_studio.ui.job_view import JobView, build_job_view, newest_active, reattach
from lora_studio.ui.tabs.datasets_common import dataset_dropdown, dataset_list_refresh
from lora_studio.ui.tabs.training_configs import saved_choices, wire_configs
from lora_studio.ui.tabs.training_format import doctor_markdown, gpu_markdown, preview_texts, trainer_markdown
from lora_studio.ui.tabs.training_layout import (
    PREFIX,
    Check,
    Setup,
    Trainer,
    check_section,
    configs_accordion,
    outputs_section,
    runs_row,
    setup_rows,
    trainer_row,
)
from lora_studio.ui.tabs.training_models import sync_handler, wire_model_pickers
from lora_studio.ui.tabs.training_run import run_choices, wire_run_panel


def build(services: Services, demo: gr.Blocks, tab: gr.Tab) -> None:
    gpus = detect_gpus()
    presets = services.training.preset_menu(gpus)
    trainer = trainer_row()
    with gr.Accordion("sd-scripts installer log", open=False, elem_id=f"{PREFIX}-install-panel"):
        install_view = build_job_view(services, f"{PREFIX}-install", lines=10)
    setup = setup_rows(presets)
    configs = configs_accordion()
    gr.Markdown("### Settings")
    form = build_config_form()
    check = check_section(dry_run_only=services.settings.space_mode and not gpus)
    gr.Markdown("### Run")
    runs, resume = runs_row()
    view = build_job_view(services, PREFIX)
    panel = outputs_section(runs, resume)

    sync = wire_model_pickers(services, setup, form)
    wire_configs(services, setup, configs, form, sync)
    _wire_trainer(services, trainer, install_view)
    then_refresh = wire_run_panel(services, demo, panel, view)
    then_refresh(_wire_check_and_start(services, setup, form, check, view))
    reattach(demo, services, view, [JobKind.TRAIN])
    reattach(demo, services, install_view, [JobKind.INSTALL])
    _wire_load(
        services, demo, trainer, setup, form, configs.saved, runs, sync, presets[0].name if presets else None
    )
    _wire_refresh(services, tab, setup, sync)


def _wire_refresh(services: Services, tab: gr.Tab, setup: Setup, sync: tuple[list[Any], list[Any]]) -> None:
    """The Refresh button and opening the tab both refresh the datasets and models (one made a moment
    ago in another tab is then there)."""

    @ui_errors
    def refresh(current: str | None) -> Any:
        return dataset_dropdown(services, current)

    setup.refresh.click(refresh, setup.dataset, setup.dataset, api_name="training_datasets", **QUIET).success(
        sync_handler(services), *sync, api_visibility="private", **QUIET
    )

    @ui_errors
    def opened(current: str | None) -> Any:
        return dataset_list_refresh(services, current)

    tab.select(opened, setup.dataset, setup.dataset, api_visibility="private", **QUIET).success(
        sync_handler(services), *sync, api_visibility="private", **QUIET
    )


def _trainer_status(services: Services) -> str:
    paths = services.training.trainer
    return trainer_markdown(services.training.trainer_problems(), str(paths.checkout), str(paths.python))


def _wire_trainer(services: Services, trainer: Trainer, install_view: JobView) -> None:
    @ui_errors
    def install() -> str:
        record = services.training.install()
        gr.Info("Installing sd-scripts: the log is under 'sd-scripts installer log'.")
        return record.id

    @ui_errors
    def status(job_id: str | None) -> str:
        return _trainer_status(services)

    trainer.install.click(install, None, install_view.job_id, api_name="training_install")
    install_view.status.change(status, install_view.job_id, trainer.status, api_visibility="private", **QUIET)


def _wire_check_and_start(
    services: Services, setup: Setup, form: ConfigForm, check: Check, view: JobView
) -> Any:
    """Check and Start; returns the Start event (the run panel chains its refresh to it)."""

    @ui_errors
    def run_check(dataset: str | None, trigger: str, *values: Any) -> tuple[str, ...]:
        if not dataset:
            raise gr.Error("Pick a dataset first (create one in the Datasets tab).")
        config = form.config(values)
        result = services.training.check(
            config, dataset, trigger=trigger.strip() or None, gpu_available=bool(detect_gpus())
        )
        return (doctor_markdown(result), *preview_texts(result.preview))

    @ui_errors
    def start(dataset: str | None, trigger: str, *values: Any) -> str:
        if not dataset:
            raise gr.Error("Pick a dataset first (create one in the Datasets tab).")
        config = form.config(values)
        launch = services.training.start(
            config, dataset, trigger=trigger.strip() or None, gpu_available=bool(detect_gpus())
        )
        gr.Info(f"Started: {launch.job.title}")
        return launch.job.id  # the run panel's refresh then lists it in the runs dropdown

    inputs = [setup.dataset, setup.trigger, *form.components]
    previews = [check.doctor, check.train_toml, check.dataset_toml, check.prompts, check.command]
    check.button.click(run_check, inputs, previews, api_name="training_check")
    return check.start.click(start, inputs, view.job_id, api_name="training_start")


def _wire_load(
    services: Services,
    demo: gr.Blocks,
    trainer: Trainer,
    setup: Setup,
    form: ConfigForm,
    saved: gr.Dropdown,
    runs: gr.Dropdown,
    sync: tuple[list[Any], list[Any]],
    default_preset: str | None,
) -> None:
    """A fresh page: status lines, lists, and the form filled with the running run's config (a reload
    mid-run shows what is training), else with the preset that suits this machine."""

    @ui_errors
    def load(current: str | None) -> list[Any]:
        active = newest_active(services, [JobKind.TRAIN]) or None
        running = _running_config(services, active)
        if running is not None:
            config, current = running
            values = form.values(config)
        elif default_preset:
            values = form.values(load_preset(default_preset))
        else:
            values = [gr.skip()] * len(form.fields)
        lists = [dataset_dropdown(services, current), saved_choices(services)]
        status = [_trainer_status(services), gpu_markdown(detect_gpus())]
        return [*status, *lists, run_choices(services, active), *values]

    outputs = [trainer.status, trainer.gpu, setup.dataset, saved, runs, *form.components]
    demo.load(load, setup.dataset, outputs, api_visibility="private", **QUIET).success(
        sync_handler(services), *sync, api_visibility="private", **QUIET
    )


def _running_config(services: Services, job_id: str | None) -> tuple[TrainingConfig, str] | None:
    """The config and dataset of an active run, from its own copy in the run folder."""
    if not job_id:
        return None
    try:
        config = services.training.config(job_id, without_resume=True)
        return config, services.jobs.get(job_id).spec.meta.get("dataset", "")
    except (LoraStudioError, OSError):
        return None  # a run folder we cannot read: the preset is the better start
