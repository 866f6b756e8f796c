"""The Datasets tab's gallery: one page of thumbnails, details per image, and deleting selected images.

Thumbnails are files under ``<workspace>/.cache/thumbs`` (served as static files by ``ui.launch``);
the originals are never sent to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.components import Component

from lora_studio.services import Services
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs.datasets_rows import DETAIL_HEADERS, gallery_view

PAGE_SIZES = [24, 48, 96, 192]
DEFAULT_PAGE_SIZE = 48
ALL_CONCEPTS = ""
# Passes the selection on only when the person agrees; an empty list means "do nothing".
CONFIRM_DELETE_JS = """(name, paths) => {
  if (!name || !paths || !paths.length) return [name, []];
  const ok = confirm('Delete ' + paths.length + ' image(s) and their captions from "' + name + '"? This cannot be undone.');
  return ok ? [name, paths] : [name, []];
}"""


@dataclass
class GalleryParts:
    concept: gr.Dropdown
    page_size: gr.Dropdown
    prev: gr.Button
    page: gr.Number
    next: gr.Button
    page_text: gr.Markdown
    gallery: gr.Gallery
    paths: gr.State
    selection: gr.CheckboxGroup
    delete: gr.Button
    details: gr.Dataframe

    @property
    def outputs(self) -> list[Component]:
        """What ``gallery_values`` fills, in order."""
        return [self.gallery, self.paths, self.selection, self.details, self.page_text, self.page]


def build_gallery() -> GalleryParts:
    with gr.Row(equal_height=True):
        concept = gr.Dropdown(
            label="Concept",
            choices=[("All concepts", ALL_CONCEPTS)],
            value=ALL_CONCEPTS,
            allow_custom_value=True,
            elem_id="datasets-gallery-concept",
            scale=2,
        )
        page_size = gr.Dropdown(
            label="Per page",
            choices=PAGE_SIZES,
            value=DEFAULT_PAGE_SIZE,
            allow_custom_value=True,  # any size the service accepts (1..500), e.g. from the API
            elem_id="datasets-page-size",
            scale=1,
        )
        prev = gr.Button("◀ Previous", elem_id="datasets-page-prev", scale=1)
        page = gr.Number(label="Page", value=1, precision=0, minimum=1, elem_id="datasets-page", scale=1)
        next_ = gr.Button("Next ▶", elem_id="datasets-page-next", scale=1)
    page_text = gr.Markdown("No images yet.", elem_id="datasets-page-text")
    gallery = gr.Gallery(
        label="Images (click one to tick it for deletion)",
        columns=8,
        height="auto",
        object_fit="contain",
        allow_preview=False,
        interactive=False,
        elem_id="datasets-gallery",
    )
    paths = gr.State([])
    with gr.Row(equal_height=False):
        selection = gr.CheckboxGroup(
            label="Selected images",
            choices=[],
            value=[],
            show_select_all=True,
            elem_id="datasets-selection",
            scale=5,
        )
        delete = gr.Button("Delete selected", variant="stop", elem_id="datasets-delete-images", scale=1)
    details = gr.Dataframe(
        headers=DETAIL_HEADERS,
        value=[],
        interactive=False,
        wrap=True,
        max_height=420,
        elem_id="datasets-details",
        label="Images on this page",
    )
    return GalleryParts(
        concept, page_size, prev, page, next_, page_text, gallery, paths, selection, delete, details
    )


def gallery_values(
    services: Services, name: str | None, concept: str | None, page: float | None, page_size: float | None
) -> tuple[Any, ...]:
    """Values for ``GalleryParts.outputs``; a page past the end shows the last page."""
    if not name:
        return [], [], gr.CheckboxGroup(choices=[], value=[]), [], "No dataset selected.", 1
    number, size = max(1, int(page or 1)), int(page_size or DEFAULT_PAGE_SIZE)
    found = services.datasets.gallery_page(name, page=number, page_size=size, concept=concept or None)
    if found.page > found.pages:
        found = services.datasets.gallery_page(
            name, page=found.pages, page_size=size, concept=concept or None
        )
    view = gallery_view(found)
    selection = gr.CheckboxGroup(choices=view.choices, value=[])
    return view.images, view.image_paths, selection, view.details, view.page_text, found.page


def wire_gallery(
    services: Services, picker: gr.Dropdown, parts: GalleryParts, status: gr.Markdown
) -> gr.events.Dependency:
    """Page controls and clicks; returns the delete event, so the tab can chain a refresh to it."""

    def turn(step: int) -> Any:
        @ui_errors
        def handler(name: str | None, concept: str | None, page: float | None, size: float | None) -> Any:
            return gallery_values(services, name, concept, max(1, int(page or 1) + step), size)

        return handler

    @ui_errors
    def first_page(name: str | None, concept: str | None, size: float | None) -> tuple[Any, ...]:
        return gallery_values(services, name, concept, 1, size)

    @ui_errors
    def toggle(paths: list[str], selected: list[str] | None, event: gr.SelectData) -> Any:
        index = event.index if isinstance(event.index, int) else -1
        if not 0 <= index < len(paths):
            return gr.skip()
        chosen, current = paths[index], list(selected or [])
        return [item for item in current if item != chosen] if chosen in current else [*current, chosen]

    @ui_errors
    def delete_images(name: str | None, paths: list[str] | None) -> str:
        if not name or not paths:
            return "Nothing deleted (tick images first, then confirm)."
        report = services.datasets.delete_images(name, images=paths)
        gr.Info(f"Deleted {len(report.deleted)} image(s).")
        missing = f"; {len(report.missing)} were already gone" if report.missing else ""
        return (
            f"Deleted {len(report.deleted)} image(s) and {len(report.captions_deleted)} caption file(s) "
            f"from **{name}**{missing}."
        )

    inputs = [picker, parts.concept, parts.page, parts.page_size]
    quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "minimal"}
    parts.prev.click(turn(-1), inputs, parts.outputs, **quiet)
    parts.next.click(turn(1), inputs, parts.outputs, **quiet)
    parts.page.submit(turn(0), inputs, parts.outputs, api_name="datasets_gallery")
    for control in (parts.concept, parts.page_size):
        control.input(first_page, [picker, parts.concept, parts.page_size], parts.outputs, **quiet)
    parts.gallery.select(toggle, [parts.paths, parts.selection], parts.selection, api_visibility="private")
    return parts.delete.click(
        delete_images,
        [picker, parts.selection],
        status,
        js=CONFIRM_DELETE_JS,
        api_name="datasets_delete_images",
    )
