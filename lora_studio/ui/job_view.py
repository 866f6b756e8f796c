"""A live view of one job (status, progress bar, log) that any tab can embed.

A tab puts the id of the job it started into ``view.job_id`` (a hidden textbox); that starts the
stream. ``reattach`` re-selects the newest active job of the given kinds when the page loads, so a
reload or an app restart picks the stream up again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from lora_studio.core.types import JobKind
from lora_studio.services import Services
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.streaming import follow_job

# Keeps every log box pinned to its bottom unless the person scrolled up (Gradio 6.31 does not autoscroll).
PIN_LOG_JS = """
(...args) => {
  for (const t of document.querySelectorAll('.ls-log textarea')) {
    if (!t.dataset.pinInit) {
      t.dataset.pinInit = '1'; t.dataset.pinned = '1';
      t.addEventListener('scroll', () => {
        t.dataset.pinned = (t.scrollHeight - t.scrollTop - t.clientHeight < 40) ? '1' : '0';
      });
    }
    if (t.dataset.pinned !== '0') t.scrollTop = t.scrollHeight;
  }
  return [];
}
"""
STREAM_EVENT: dict[str, Any] = {"show_progress": "hidden", "concurrency_limit": None}


@dataclass
class JobView:
    job_id: gr.Textbox
    status: gr.Markdown
    progress: gr.HTML
    log: gr.Textbox
    stop: gr.Button


def build_job_view(services: Services, prefix: str, *, lines: int = 16) -> JobView:
    """Status line, progress bar, log and Stop button for the job whose id lands in ``job_id``.

    Element ids: ``{prefix}-job-id``, ``{prefix}-status``, ``{prefix}-progress``, ``{prefix}-log``,
    ``{prefix}-stop``.
    """
    job_id = gr.Textbox(visible=False, elem_id=f"{prefix}-job-id")
    status = gr.Markdown("", elem_id=f"{prefix}-status")
    progress = gr.HTML(elem_id=f"{prefix}-progress")
    log = gr.Textbox(
        label="Log",
        lines=lines,
        max_lines=lines,
        interactive=False,
        elem_id=f"{prefix}-log",
        elem_classes=["ls-log"],
    )
    stop = gr.Button("Stop", variant="stop", elem_id=f"{prefix}-stop", size="sm")
    view = JobView(job_id, status, progress, log, stop)

    @ui_errors
    def follow(current: str | None, request: gr.Request) -> Any:
        yield from follow_job(services, current or None, request.session_hash or "", prefix)

    @ui_errors
    def stop_job(current: str | None) -> None:
        # No output: the log stream shows "stopping" and then the outcome, in order.
        if not current:
            raise gr.Error("No job is running here.")
        services.jobs.stop(current)

    job_id.change(follow, job_id, [log, progress, status], api_visibility="private", **STREAM_EVENT)
    log.change(None, js=PIN_LOG_JS, queue=False)
    stop.click(stop_job, job_id, None, api_visibility="private", **STREAM_EVENT)
    return view


def newest_active(services: Services, kinds: Iterable[JobKind]) -> str:
    """The newest queued or running job of ``kinds`` ("" when none): what a fresh page re-attaches to."""
    wanted = set(kinds)
    for record in services.jobs.list_jobs():
        if record.kind in wanted and record.status.is_active:
            return record.id
    return ""


def reattach(demo: gr.Blocks, services: Services, view: JobView, kinds: Iterable[JobKind]) -> None:
    """On every page load, show the newest active job of ``kinds`` in ``view``."""
    chosen = tuple(kinds)
    demo.load(
        lambda: newest_active(services, chosen), None, view.job_id, api_visibility="private", **STREAM_EVENT
    )
