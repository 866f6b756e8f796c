"""The Gradio UI: one tab per area, composed here; each tab module owns its components and handlers.

A feature tab is a module in ``lora_studio.ui.tabs`` with ``build(services, demo, tab) -> None`` (``tab``
lets it refresh its lists when a person opens it, e.g. after creating a dataset elsewhere).
"""

from __future__ import annotations

import gradio as gr

from lora_studio import __version__
from lora_studio.core.sizes import format_size
from lora_studio.services import Services
from lora_studio.services.system import hardware_summary
from lora_studio.ui.streaming import REGISTRY
from lora_studio.ui.tabs import captions as captions_tab
from lora_studio.ui.tabs import datasets as datasets_tab
from lora_studio.ui.tabs import jobs as jobs_tab
from lora_studio.ui.tabs import models as models_tab
from lora_studio.ui.tabs import tagging as tagging_tab
from lora_studio.ui.tabs import training as training_tab

CSS = """
.ls-progress-track { height: 10px; background: var(--neutral-200); border-radius: 5px; overflow: hidden; }
.ls-progress-fill { height: 100%; background: var(--color-accent); transition: width .2s; }
.ls-progress-text { font-size: 0.9em; margin-top: 4px; font-variant-numeric: tabular-nums; }
.ls-log textarea { font-family: var(--font-mono); font-size: 12px; }
.ls-banner { padding: 6px 10px; border-radius: 6px; background: var(--color-accent-soft); }
"""

# (tab id, label, module); the Jobs tab comes last and is composed by hand (the page load needs it).
FEATURE_TABS = (
    ("datasets", "Datasets", datasets_tab),
    ("tagging", "Tagging", tagging_tab),
    ("captions", "Captions", captions_tab),
    ("training", "Training", training_tab),
    ("models", "Models", models_tab),
)


def _header(services: Services) -> None:
    gr.Markdown(
        f"# LoRA Studio\n<small>v{__version__} · workspace `{services.settings.workspace}` · "
        f"{hardware_summary()}</small>",
        elem_id="app-header",
    )
    settings = services.settings
    if settings.space_mode:
        gr.Markdown(
            "Hugging Face Space demo: CPU only. Datasets, tagging and captions work; training is a dry run "
            "(config, TOML preview, command and dataset doctor) because there is no GPU here. Uploads up to "
            f"{settings.max_upload}, workspace up to {format_size(settings.workspace_limit)}.",
            elem_classes=["ls-banner"],
            elem_id="space-banner",
        )
    elif settings.is_public:
        gr.Markdown(
            "This app is reachable from outside this machine. Keep the login on and the address private.",
            elem_classes=["ls-banner"],
            elem_id="public-banner",
        )


def build_ui(services: Services) -> gr.Blocks:
    """The whole app as one Blocks; ``lora_studio.ui.launch.serve`` serves it."""
    with gr.Blocks(title="LoRA Studio", delete_cache=(3600, 86400)) as demo:
        _header(services)
        with gr.Tabs(elem_id="main-tabs"):
            for tab_id, label, module in FEATURE_TABS:
                with gr.Tab(label, id=tab_id, elem_id=f"tab-{tab_id}") as tab:
                    module.build(services, demo, tab)
            with gr.Tab("Jobs", id="jobs", elem_id="tab-jobs"):
                jobs = jobs_tab.build(services)
        # A reload (or an app restart) re-attaches: the newest running job is selected, which starts its stream.
        demo.load(
            lambda: jobs_tab.initial_state(services),
            None,
            [jobs.table, jobs.select],
            api_visibility="private",
            concurrency_limit=None,
        )
        demo.unload(_forget_streams)
    return demo  # type: ignore[no-any-return]


def _forget_streams(request: gr.Request) -> None:
    REGISTRY.forget(request.session_hash or "")
