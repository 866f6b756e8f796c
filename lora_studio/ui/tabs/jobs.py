"""The Jobs tab: every job (tagging, training, downloads), its live log and progress, stop and delete."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Any

import gradio as gr

from lora_studio.services import Services
from lora_studio.services.jobs import JobRow
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.job_view import PIN_LOG_JS, STREAM_EVENT
from lora_studio.ui.streaming import follow_job

CHANNEL = "jobs"
HEADERS = [field.name for field in fields(JobRow)]
CONFIRM_DELETE_JS = "(job) => (job && confirm('Delete job ' + job + ' and its log?')) ? job : null"


@dataclass
class JobsTab:
    table: gr.Dataframe
    select: gr.Dropdown
    status: gr.Markdown
    progress: gr.HTML
    log: gr.Textbox


def build(services: Services) -> JobsTab:
    with gr.Row():
        select = gr.Dropdown(label="Job", choices=[], value=None, elem_id="job-select", scale=4)
        refresh = gr.Button("Refresh", elem_id="jobs-refresh", scale=1, size="sm")
    status = gr.Markdown("No job selected.", elem_id="job-status")
    progress = gr.HTML(elem_id="job-progress")
    log = gr.Textbox(
        label="Log", lines=20, max_lines=20, interactive=False, elem_id="job-log", elem_classes=["ls-log"]
    )
    with gr.Row():
        stop = gr.Button("Stop", variant="stop", elem_id="job-stop")
        delete = gr.Button("Delete", elem_id="job-delete")
        download = gr.Button("Download full log", elem_id="job-log-download")
    log_file = gr.File(label="Full log", visible=False, elem_id="job-log-file")
    table = gr.Dataframe(
        headers=HEADERS, value=[], interactive=False, elem_id="jobs-table", label="All jobs", max_height=400
    )
    # Each table update costs the browser tens of milliseconds in an app this size: poll gently and
    # send nothing when nothing changed.
    timer = gr.Timer(3.0)
    shown = gr.State("")
    tab = JobsTab(table, select, status, progress, log)

    @ui_errors
    def refresh_list(current: str | None) -> tuple[Any, Any]:
        rows = services.jobs.rows()
        ids = [row.id for row in rows]
        value = current if current in ids else None
        return [list(astuple(row)) for row in rows], gr.Dropdown(choices=ids, value=value)

    @ui_errors
    def follow(job_id: str | None, request: gr.Request) -> Any:
        yield from follow_job(services, job_id, request.session_hash or "", CHANNEL)

    @ui_errors
    def stop_job(job_id: str | None) -> str:
        if not job_id:
            raise gr.Error("Select a job first.")
        record = services.jobs.stop(job_id)
        return f"**stopping** · {record.title}" if record.status.is_active else f"**{record.status.value}**"

    @ui_errors
    def delete_job(job_id: str | None) -> tuple[Any, Any]:
        if job_id:
            services.jobs.delete(job_id)
            gr.Info(f"Deleted job {job_id}.")
        return refresh_list(None)

    @ui_errors
    def pick_row(event: gr.SelectData) -> str:
        row = event.row_value
        return str(row[0]) if row else gr.skip()

    @ui_errors
    def download_log(job_id: str | None) -> Any:
        if not job_id:
            raise gr.Error("Select a job first.")
        return gr.File(value=str(services.jobs.log_copy(job_id)), visible=True)

    @ui_errors
    def poll_list(current: str | None, last: str) -> tuple[Any, Any, str]:
        rows = services.jobs.rows()
        digest = repr(rows)
        if digest == last:
            return gr.skip(), gr.skip(), last
        table_rows, dropdown = refresh_list(current)
        return table_rows, dropdown, digest

    list_outputs = [table, select]
    hidden = STREAM_EVENT
    refresh.click(refresh_list, select, list_outputs, api_name="jobs_list", **hidden)
    timer.tick(poll_list, [select, shown], [table, select, shown], api_visibility="private", **hidden)
    select.change(follow, select, [log, progress, status], api_name="job_follow", **hidden)
    log.change(None, js=PIN_LOG_JS, queue=False)
    stop.click(stop_job, select, status, api_name="job_stop", **hidden).then(
        refresh_list, select, list_outputs, api_visibility="private", **hidden
    )
    delete.click(delete_job, select, list_outputs, js=CONFIRM_DELETE_JS, api_name="job_delete")
    download.click(download_log, select, log_file, api_name="job_log")
    table.select(pick_row, None, select, api_visibility="private")
    return tab


def initial_state(services: Services) -> tuple[Any, Any]:
    """Table rows and the job to select when a page loads."""
    rows = services.jobs.rows()
    ids = [row.id for row in rows]
    return [list(astuple(row)) for row in rows], gr.Dropdown(choices=ids, value=newest_job(services))


def newest_job(services: Services) -> str | None:
    """The job a fresh page should show: the newest running or queued one, else the newest one."""
    jobs = services.jobs.list_jobs()
    active = [record for record in jobs if record.status.is_active]
    chosen = active or jobs
    return chosen[0].id if chosen else None
