"""The Models tab: download base models (catalog, any Hub file, a direct link) as jobs, save a Hugging Face
token, list and delete local model files (and extra folders), list, download and upload trained LoRAs.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

import gradio as gr

from lora_studio.core.errors import JobNotFound
from lora_studio.core.types import JobKind
from lora_studio.services import Services
from lora_studio.services.models import (
    CatalogDownload,
    DownloadRequest,
    download_outcome,
    hub_request,
    upload_outcome,
    upload_request,
    url_request,
)
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.job_view import STREAM_EVENT, JobView, build_job_view, reattach
from lora_studio.ui.tabs.models_layout import (
    CONFIRM_DELETE_JS,
    PREFIX,
    DownloadParts,
    FilesParts,
    download_section,
    files_section,
    token_section,
)

QUIET = STREAM_EVENT  # background events: no spinner, never queued behind each other


def build(services: Services, demo: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(
        "Get base models, VAEs and text encoders onto this machine. Downloads run as jobs (also listed "
        "in the Jobs tab); finished files appear under **Local models** and in the Training tab."
    )
    downloads = download_section(services)
    token_box, token_save, token_status = token_section()
    gr.Markdown("### Download and upload progress")
    view = build_job_view(services, PREFIX, lines=8)
    outcome = gr.Markdown(elem_id=f"{PREFIX}-download-outcome")
    files = files_section()
    _wire_downloads(services, downloads, view, outcome)
    _wire_token(services, token_box, token_save, token_status)
    _wire_files(services, files)
    _wire_upload(services, files, view, outcome)
    _wire_job_end(services, view, outcome, files)
    reattach(demo, services, view, [JobKind.DOWNLOAD, JobKind.UPLOAD])

    @ui_errors
    def load_lists() -> tuple[Any, ...]:
        folders = "\n".join(str(folder) for folder in services.models.saved_folders())
        return (*local_values(services), folders, *lora_values(services), token_text(services))

    demo.load(
        load_lists,
        None,
        [files.local_table, files.local_pick, files.folders, files.lora_table, files.lora_pick, token_status],
        api_visibility="private",
        **QUIET,
    )


# --- values --------------------------------------------------------------------------------------------


def local_values(services: Services) -> tuple[list[list[str]], Any]:
    """The local models table and its picker (values are the shown paths, which the service resolves)."""
    listed = services.models.local_rows()
    files = [row.file for row, _path in listed]
    return [list(astuple(row)) for row, _path in listed], gr.Dropdown(choices=files, value=None)


def lora_values(services: Services) -> tuple[list[list[str]], Any]:
    rows = services.models.lora_rows()
    return [list(astuple(row)) for row in rows], gr.Dropdown(choices=[row.file for row in rows], value=None)


def token_text(services: Services) -> str:
    if services.models.hf_token_available():
        return "A Hugging Face token is set; gated downloads use it."
    return "No Hugging Face token yet: gated models (FLUX.1 [dev], SD 3.5) need one."


@ui_errors
def _first_cell(event: gr.SelectData) -> Any:
    row = event.row_value
    return str(row[0]) if row else gr.skip()


# --- events --------------------------------------------------------------------------------------------


def _wire_downloads(services: Services, parts: DownloadParts, view: JobView, outcome: gr.Markdown) -> None:
    def start(request: DownloadRequest, token: str | None = None) -> tuple[str, str]:
        record = services.jobs.submit(services.models.download_spec(request, token=token))
        gr.Info(f"Started: {record.title}")
        return record.id, ""

    @ui_errors
    def download_catalog(entry_id: str | None) -> tuple[str, str]:
        if not entry_id:
            raise gr.Error("Pick a catalog model first (click its row).")
        return start(CatalogDownload(entry_id=entry_id))

    @ui_errors
    def download_hub(repo_id: str, filename: str, kind: str, family: str) -> tuple[str, str]:
        return start(hub_request(repo_id, filename, kind=kind, family=family))

    @ui_errors
    def download_url(url: str, token: str, name: str, kind: str, family: str) -> tuple[str, str, str]:
        request = url_request(url, filename=name, kind=kind, family=family)
        return (*start(request, token=token.strip() or None), "")

    started = [view.job_id, outcome]
    parts.catalog_table.select(_first_cell, None, parts.catalog_pick, api_visibility="private")
    parts.catalog_go.click(download_catalog, parts.catalog_pick, started, api_name="models_download")
    parts.hub_go.click(
        download_hub,
        [parts.repo_id, parts.repo_file, parts.hub_kind, parts.hub_family],
        started,
        api_name="models_download_hub",
    )
    parts.url_go.click(
        download_url,
        [parts.url, parts.url_token, parts.url_name, parts.url_kind, parts.url_family],
        [*started, parts.url_token],
        api_name="models_download_url",
    )


def _wire_token(services: Services, box: gr.Textbox, save: gr.Button, status: gr.Markdown) -> None:
    @ui_errors
    def save_token(token: str | None) -> tuple[str, str]:
        account = services.models.save_hf_token(token or "")
        gr.Info(f"Token saved for {account}.")
        return "", f"Token saved for the Hugging Face account **{account}**; gated downloads use it."

    save.click(save_token, box, [box, status], api_name="models_hf_token")


def _wire_files(services: Services, parts: FilesParts) -> None:
    @ui_errors
    def refresh_local() -> tuple[Any, Any]:
        return local_values(services)

    @ui_errors
    def delete_local(path: str | None, name: str | None) -> tuple[Any, Any]:
        if not path:  # nothing picked, or the person cancelled the confirmation
            return gr.skip(), gr.skip()
        deleted = services.models.delete_model(path, confirm=name or "")
        gr.Info(f"Deleted {deleted.name}.")
        return local_values(services)

    @ui_errors
    def save_folders(text: str | None) -> tuple[Any, Any, str]:
        saved = services.models.save_folders((text or "").splitlines())
        gr.Info(f"Listing {len(saved)} extra folder(s).")
        return (*local_values(services), "\n".join(str(folder) for folder in saved))

    @ui_errors
    def refresh_loras() -> tuple[Any, Any]:
        return lora_values(services)

    @ui_errors
    def download_lora(relative: str | None) -> Any:
        if not relative:
            raise gr.Error("Pick a LoRA first (click its row).")
        return gr.File(value=str(services.models.lora_download(relative)), visible=True)

    local = [parts.local_table, parts.local_pick]
    loras = [parts.lora_table, parts.lora_pick]
    parts.local_table.select(_first_cell, None, parts.local_pick, api_visibility="private")
    parts.local_refresh.click(refresh_local, None, local, api_name="models_local", **QUIET)
    parts.local_delete.click(
        delete_local,
        [parts.local_pick, parts.delete_name],
        local,
        js=CONFIRM_DELETE_JS,
        api_name="models_delete",
    )
    parts.folders_save.click(
        save_folders, parts.folders, [*local, parts.folders], api_name="models_folders", **QUIET
    )
    parts.lora_table.select(_first_cell, None, parts.lora_pick, api_visibility="private")
    parts.lora_refresh.click(refresh_loras, None, loras, api_name="models_loras", **QUIET)
    parts.lora_get.click(download_lora, parts.lora_pick, parts.lora_file, api_name="models_lora_file")


def _wire_upload(services: Services, parts: FilesParts, view: JobView, outcome: gr.Markdown) -> None:
    @ui_errors
    def upload(relative: str | None, repo_id: str, path: str, private: bool) -> tuple[str, str]:
        request = upload_request(relative, repo_id, path_in_repo=path, private=private)
        record = services.jobs.submit(services.models.upload_spec(request))
        gr.Info(f"Started: {record.title}")
        return record.id, ""

    parts.upload_go.click(
        upload,
        [parts.lora_pick, parts.upload_repo, parts.upload_path, parts.upload_private],
        [view.job_id, outcome],
        api_name="models_upload",
    )


def _wire_job_end(services: Services, view: JobView, outcome: gr.Markdown, parts: FilesParts) -> None:
    """When the followed download (or upload) ends: say how (the worker's own explanation) and refresh the local list."""
    handled = gr.State("")

    @ui_errors
    def on_status(job_id: str | None, done: str) -> tuple[Any, Any, Any, Any]:
        skip = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
        if not job_id or job_id == done:
            return skip
        try:
            record = services.jobs.get(job_id)
        except JobNotFound:  # deleted in the Jobs tab meanwhile: nothing left to report
            return skip
        if record.status.is_active:
            return skip
        ended = upload_outcome if record.kind is JobKind.UPLOAD else download_outcome
        message = ended(record.status, record.reason, services.jobs.tail(job_id))
        return (message, *local_values(services), job_id)

    view.status.change(
        on_status,
        [view.job_id, handled],
        [outcome, parts.local_table, parts.local_pick, handled],
        api_visibility="private",
        **STREAM_EVENT,
    )
