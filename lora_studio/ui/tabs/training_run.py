"""The run shown in the Training tab: loss chart, samples grid, LoRA files with download, the failure
explanation and Resume. A timer refreshes them only while the run is active."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gradio as gr

from lora_studio.core.types import JobKind
from lora_studio.services import Services
from lora_studio.services.system import detect_gpus
from lora_studio.services.training import RunOutputs, SampleImage
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.job_view import STREAM_EVENT, JobView, newest_active
from lora_studio.ui.tabs.training_format import explanation_markdown, lora_rows, loss_frame, loss_note
from lora_studio.ui.tabs.training_layout import RunPanel

# Sample rows (epochs or steps) per gallery page: a page stays a readable epoch x prompt grid.
ROWS_PER_PAGE = 6
HIDDEN: dict[str, Any] = {"api_visibility": "private", **STREAM_EVENT}


def panel_outputs(panel: RunPanel) -> list[Any]:
    return [
        panel.explanation, panel.loss, panel.loss_note, panel.samples, panel.samples_note,
        panel.loras, panel.lora_pick, panel.resume, panel.timer,
    ]  # fmt: skip


def empty_panel() -> tuple[Any, ...]:
    return (
        gr.Markdown("", visible=False), loss_frame([]), loss_note([]), gr.Gallery(value=[], columns=4), "",
        [], gr.Dropdown(choices=[], value=None), gr.Button(visible=False), gr.Timer(active=False),
    )  # fmt: skip


def sample_page(images: list[SampleImage], page: int | float | None) -> tuple[list[SampleImage], str, int]:
    """The images of one page of rows, a note ("page 1 of 3 · 24 samples") and the prompt count (columns)."""
    rows = list(dict.fromkeys(image.row for image in images))
    if not rows:
        return [], "No samples yet (set sample prompts and sample every N epochs or steps).", 4
    pages = math.ceil(len(rows) / ROWS_PER_PAGE)
    current = min(max(int(page or 1), 1), pages)
    shown = set(rows[(current - 1) * ROWS_PER_PAGE : current * ROWS_PER_PAGE])
    chosen = [image for image in images if image.row in shown]
    columns = max(image.prompt_index for image in images) + 1
    return chosen, f"page {current} of {pages} · {len(images)} samples", columns


def panel_values(outputs: RunOutputs, page: int | float | None) -> tuple[Any, ...]:
    chosen, note, columns = sample_page(outputs.samples, page)
    explanation = explanation_markdown(outputs.explanation)
    names = [lora.path.name for lora in outputs.loras]
    return (
        gr.Markdown(explanation, visible=bool(explanation)),
        loss_frame(outputs.loss),
        loss_note(outputs.loss),
        gr.Gallery(value=[(str(image.path), image.caption) for image in chosen], columns=min(columns, 6)),
        note,
        lora_rows(outputs.loras),
        gr.Dropdown(choices=names, value=names[-1] if names else None),
        gr.Button(visible=outputs.resumable),
        gr.Timer(active=outputs.record.status.is_active),
    )


def wire_run_panel(
    services: Services, demo: gr.Blocks, panel: RunPanel, view: JobView
) -> Callable[[Any], None]:
    """Show the run whose id is in the job view; refresh on a timer while it runs; download, resume.

    Returns ``then_refresh(event)``: chain it to any other event that puts a job id into the view.
    """
    outputs = [*panel_outputs(panel), panel.runs]  # the runs list shows each run's status: refresh it too

    @ui_errors
    def refresh(job_id: str | None, page: float | None) -> tuple[Any, ...]:
        if not job_id:
            return (*empty_panel(), run_choices(services))
        return (*panel_values(services.training.run_outputs(job_id), page), run_choices(services, job_id))

    @ui_errors
    def show_run(job_id: str | None) -> str:
        return job_id or ""

    @ui_errors
    def download(job_id: str | None, file_name: str | None) -> Any:
        if not job_id or not file_name:
            raise gr.Error("Pick a run and one of its LoRA files first.")
        return gr.File(value=str(services.training.lora_download(job_id, file_name)), visible=True)

    @ui_errors
    def resume(job_id: str | None) -> str:
        if not job_id:
            raise gr.Error("Pick a finished run first.")
        launch = services.training.resume(job_id, gpu_available=bool(detect_gpus()))
        gr.Info(f"Resumed: {launch.job.title}")
        return launch.job.id

    inputs = [view.job_id, panel.samples_page]

    def then_refresh(event: Any) -> None:
        # Not on view.job_id.change: the browser runs a trigger's listeners one after the other, and the
        # job view's log stream on that trigger only returns when the job ends.
        event.success(refresh, inputs, outputs, api_visibility="private", **STREAM_EVENT)

    # A fresh page: reattach (job view) shows the newest active run's log; this shows its outputs.
    demo.load(
        lambda page: refresh(newest_active(services, [JobKind.TRAIN]), page),
        panel.samples_page,
        outputs,
        **HIDDEN,
    )
    panel.timer.tick(refresh, inputs, outputs, api_visibility="private", **STREAM_EVENT)
    panel.samples_page.submit(refresh, inputs, outputs, api_visibility="private", **STREAM_EVENT)
    then_refresh(panel.runs.input(show_run, panel.runs, view.job_id, **HIDDEN))
    panel.download.click(
        download, [view.job_id, panel.lora_pick], panel.lora_file, api_name="training_lora_download"
    )
    then_refresh(panel.resume.click(resume, view.job_id, view.job_id, api_name="training_resume"))
    return then_refresh


def run_choices(services: Services, selected: str | None = None) -> Any:
    """The training runs, newest first, labelled with their status."""
    runs = services.training.runs()
    choices = [(f"{record.title} · {record.status.value} · {record.id}", record.id) for record in runs]
    ids = {record.id for record in runs}
    return gr.Dropdown(choices=choices, value=selected if selected in ids else None)
