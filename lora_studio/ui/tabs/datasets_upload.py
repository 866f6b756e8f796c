"""The Datasets tab's "Add images" section: upload files and zips, or import a folder on the server.

Every file ends accepted, skipped as a duplicate, or rejected with a reason, shown in one table.
The service copies what it accepts into the dataset; nothing refers to Gradio's upload cache later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from lora_studio.services import Services
from lora_studio.services.datasets import DEFAULT_REPEATS, ImportReport
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs.datasets_common import progress_callback
from lora_studio.ui.tabs.datasets_rows import REPORT_HEADERS, report_rows, report_summary


@dataclass
class UploadParts:
    files: gr.File
    concept: gr.Textbox
    repeats: gr.Number
    upload: gr.Button
    folder: gr.Textbox
    folder_go: gr.Button
    summary: gr.Markdown
    report: gr.Dataframe


def build_upload(services: Services) -> UploadParts:
    gr.Markdown(
        "Images (png, jpg, webp, …), their caption files (`.txt` / `.caption` with the same name) and zip "
        "archives. Folders named like `10_cat` inside a zip become concept **cat** with **10** repeats; "
        "everything else joins the concept below. Duplicates are skipped, names never overwritten."
    )
    with gr.Row(equal_height=False):
        # No file_types: a wrong file must end as a rejected row in the report, not fail the whole upload.
        files = gr.File(
            label="Images, caption files and zips",
            file_count="multiple",
            elem_id="datasets-upload-files",
            scale=3,
        )
        with gr.Column(scale=2):
            concept = gr.Textbox(
                label="Concept",
                placeholder="empty: the dataset's only concept, else the dataset's name",
                elem_id="datasets-upload-concept",
            )
            # An empty box arrives as 0 from the browser: 0 and empty both mean "not given".
            repeats = gr.Number(
                label="Repeats for a new concept (an existing concept keeps its own)",
                value=DEFAULT_REPEATS,
                precision=0,
                minimum=0,
                elem_id="datasets-upload-repeats",
            )
            upload = gr.Button("Add to dataset", variant="primary", elem_id="datasets-upload")
    with gr.Row(equal_height=True):
        folder = gr.Textbox(
            label="…or import a folder that is already on the server",
            placeholder="/path/to/images (relative paths start at the workspace)",
            elem_id="datasets-folder",
            scale=4,
        )
        folder_go = gr.Button("Import folder", elem_id="datasets-folder-import", scale=1)
    if services.settings.is_public:
        gr.Markdown(
            "This app is reachable from other machines, so only folders inside the workspace "
            f"(`{services.settings.workspace}`) can be imported: anyone with the address could otherwise "
            "copy any folder of this server into a dataset.",
            elem_id="datasets-folder-note",
        )
    summary = gr.Markdown(elem_id="datasets-upload-summary")
    report = gr.Dataframe(
        headers=REPORT_HEADERS,
        value=[],
        interactive=False,
        wrap=True,
        max_height=420,
        elem_id="datasets-upload-report",
        label="What happened to each file",
    )
    return UploadParts(files, concept, repeats, upload, folder, folder_go, summary, report)


def _options(concept: str | None, repeats: float | None, progress: gr.Progress) -> dict[str, Any]:
    """The import's keyword arguments from the form: blank concept and 0 repeats mean "not given"."""
    return {
        "concept": (concept or "").strip() or None,
        "repeats": int(repeats) if repeats else None,
        "on_progress": progress_callback(progress),
    }


def _shown(report: ImportReport) -> tuple[str, list[list[Any]]]:
    gr.Info(f"{report.accepted} accepted, {report.duplicates} duplicate(s), {report.rejected} rejected.")
    return report_summary(report), report_rows(report)


@ui_errors
def _cleared() -> None:
    return None


def wire_upload(services: Services, picker: gr.Dropdown, parts: UploadParts) -> list[gr.events.Dependency]:
    """Both import events; returns them so the tab can chain a refresh of lists and gallery."""

    @ui_errors
    def upload(
        name: str | None,
        files: list[str] | None,
        concept: str | None,
        repeats: float | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects its progress tracker)
    ) -> tuple[str, list[list[Any]]]:
        if not name:
            raise gr.Error("Pick or create a dataset first.")
        if not files:
            raise gr.Error("Choose images, caption files or zip archives first.")
        paths = [Path(file) for file in files]
        report = services.datasets.import_files(name, paths, **_options(concept, repeats, progress))
        return _shown(report)

    @ui_errors
    def import_folder(
        name: str | None,
        folder: str | None,
        concept: str | None,
        repeats: float | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects its progress tracker)
    ) -> tuple[str, list[list[Any]]]:
        if not name:
            raise gr.Error("Pick or create a dataset first.")
        options = _options(concept, repeats, progress)
        report = services.datasets.import_server_folder(name, folder or "", **options)
        return _shown(report)

    results = [parts.summary, parts.report]
    uploaded = parts.upload.click(
        upload,
        [picker, parts.files, parts.concept, parts.repeats],
        results,
        api_name="datasets_upload",
        show_progress_on=[parts.summary],
    )
    # The files now live in the dataset: clear the picker so a second click cannot re-send them.
    uploaded.success(_cleared, None, parts.files, api_visibility="private", show_progress="hidden")
    imported = parts.folder_go.click(
        import_folder,
        [picker, parts.folder, parts.concept, parts.repeats],
        results,
        api_name="datasets_import_folder",
        show_progress_on=[parts.summary],
    )
    return [uploaded, imported]
