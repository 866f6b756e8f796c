"""The Gradio UI: one tab per area, composed here; each tab module owns its components and handlers."""

from __future__ import annotations

import gradio as gr

from lora_studio import __version__
from lora_studio.services import Services
from lora_studio.ui.streaming import REGISTRY
from lora_studio.ui.tabs import jobs as jobs_tab

CSS = """
.ls-progress-track { height: 10px; background: var(--neutral-200); border-radius: 5px; overflow: hidden; }
.ls-progress-fill { height: 100%; background: var(--color-accent); transition: width .2s; }
.ls-progress-text { font-size: 0.9em; margin-top: 4px; font-variant-numeric: tabular-nums; }
.ls-log textarea { font-family: var(--font-mono); font-size: 12px; }
.ls-banner { padding: 6px 10px; border-radius: 6px; background: var(--color-accent-soft); }
"""

LATER = {
    "datasets": "Datasets: create datasets, upload images and zips, browse and check them.",
    "tagging": "Tagging: WD14 auto-tagging as a background job.",
    "captions": "Captions: edit one caption or thousands at once, with undo.",
    "training": "Training: configure, preview the Kohya TOML, start and watch a run.",
    "models": "Models: download and manage base models, VAEs and text encoders.",
}


def _header(services: Services) -> None:
    gr.Markdown(f"# LoRA Studio\n<small>v{__version__} · workspace `{services.settings.workspace}`</small>")
    if services.settings.is_public:
        gr.Markdown(
            "This app is reachable from outside this machine. Keep the login on and the address private.",
            elem_classes=["ls-banner"],
            elem_id="public-banner",
        )


def build_ui(services: Services) -> gr.Blocks:
    """The whole app as one Blocks; ``launch`` in ``lora_studio.ui.launch`` serves it."""
    with gr.Blocks(title="LoRA Studio", delete_cache=(3600, 86400)) as demo:
        _header(services)
        with gr.Tabs(elem_id="main-tabs"):
            for tab_id, text in LATER.items():
                with gr.Tab(tab_id.capitalize(), id=tab_id, elem_id=f"tab-{tab_id}"):
                    gr.Markdown(f"{text}\n\nThis part of LoRA Studio is not available in this version yet.")
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
