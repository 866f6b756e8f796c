"""The Datasets tab: create, rename and delete datasets, set each concept's repeats, add images
(uploads, zips, a server folder), browse them page by page and check their statistics.

A person sees datasets, concepts and repeats; the ``<repeats>_<concept>`` folders stay the service's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.components import Component

from lora_studio.services import Services
from lora_studio.services.datasets import DEFAULT_REPEATS
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs.datasets_common import dataset_choices, dataset_dropdown
from lora_studio.ui.tabs.datasets_gallery import (
    ALL_CONCEPTS,
    GalleryParts,
    build_gallery,
    gallery_values,
    wire_gallery,
)
from lora_studio.ui.tabs.datasets_rows import (
    CONCEPT_HEADERS,
    DATASET_HEADERS,
    concept_rows,
    dataset_notes,
    dataset_rows,
)
from lora_studio.ui.tabs.datasets_stats import build_stats, wire_stats
from lora_studio.ui.tabs.datasets_upload import build_upload, wire_upload

CONFIRM_DELETE_JS = """(name) => (name && confirm('Delete dataset "' + name + '" with all its images and captions? '
  + 'This cannot be undone.')) ? name : null"""
PRIVATE: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}


@dataclass
class OverviewParts:
    new_name: gr.Textbox
    new_concept: gr.Textbox
    new_repeats: gr.Number
    create: gr.Button
    notes: gr.Markdown
    concepts: gr.Dataframe
    concept_pick: gr.Dropdown
    repeats: gr.Number
    set_repeats: gr.Button
    rename_to: gr.Textbox
    rename: gr.Button
    table: gr.Dataframe
    add_name: gr.Textbox
    add_repeats: gr.Number
    add: gr.Button


def build(services: Services, demo: gr.Blocks, tab: gr.Tab) -> None:
    with gr.Row(equal_height=True):
        # Custom values: API callers name datasets made after this page was built; the service checks names.
        picker = gr.Dropdown(
            label="Dataset",
            choices=dataset_choices(services),
            value=None,
            allow_custom_value=True,
            elem_id="datasets-picker",
            scale=4,
        )
        refresh = gr.Button("Refresh", elem_id="datasets-refresh", scale=1)
        delete = gr.Button("Delete dataset", variant="stop", elem_id="datasets-delete", scale=1)
    status = gr.Markdown(elem_id="datasets-status")
    with gr.Tabs(elem_id="datasets-sections"):
        with gr.Tab("Overview", id="datasets-overview", elem_id="datasets-overview-tab"):
            overview = _overview_section()
        with gr.Tab("Add images", id="datasets-add", elem_id="datasets-add-tab"):
            upload = build_upload(services)
        with gr.Tab("Gallery", id="datasets-gallery", elem_id="datasets-gallery-tab"):
            gallery = build_gallery()
        with gr.Tab("Statistics", id="datasets-stats", elem_id="datasets-stats-tab") as stats_tab:
            stats = build_stats()

    listing = [overview.table, picker]
    shown: list[Component] = [overview.notes, overview.concepts, overview.concept_pick, overview.repeats]
    shown += [gallery.concept, *gallery.outputs]
    shown_inputs = [picker, overview.concept_pick, gallery.concept, gallery.page, gallery.page_size]

    @ui_errors
    def list_all(selected: str | None) -> tuple[Any, Any]:
        return dataset_rows(services.datasets.list_datasets()), dataset_dropdown(services, selected)

    @ui_errors
    def show(
        name: str | None, picked: str | None, concept: str | None, page: float | None, size: float | None
    ) -> tuple[Any, ...]:
        return _shown_values(services, gallery, name, picked=picked, concept=concept, page=page, size=size)

    @ui_errors
    def show_first(name: str | None, concept: str | None, size: float | None) -> tuple[Any, ...]:
        return _shown_values(services, gallery, name, picked=None, concept=concept, page=1, size=size)

    def then_refresh(event: gr.events.Dependency) -> None:
        event.then(list_all, picker, listing, **PRIVATE).then(show, shown_inputs, shown, **PRIVATE)

    then_refresh(refresh.click(list_all, picker, listing, api_name="datasets_list", show_progress="hidden"))
    picker.input(show_first, [picker, gallery.concept, gallery.page_size], shown, **PRIVATE)

    def list_on_page_load(selected: str | None) -> tuple[Any, Any]:
        # The checking processes start with the first page (after the server, not during its start),
        # seconds before anyone can upload.
        services.datasets.prepare_imports()
        return list_all(selected)

    demo.load(list_on_page_load, picker, listing, **PRIVATE).then(show, shown_inputs, shown, **PRIVATE)
    then_refresh(
        delete.click(_delete(services), picker, status, js=CONFIRM_DELETE_JS, api_name="datasets_delete")
    )
    for event in _wire_overview(services, picker, status, overview):
        then_refresh(event)
    then_refresh(_wire_add_concept(services, picker, status, overview, upload.concept))
    for event in wire_upload(services, picker, upload):
        then_refresh(event)
    then_refresh(wire_gallery(services, picker, gallery, status))
    wire_stats(services, picker, stats, stats_tab)


def _overview_section() -> OverviewParts:
    with gr.Row(equal_height=True, variant="panel"):
        new_name = gr.Textbox(label="New dataset", placeholder="name", elem_id="datasets-new-name", scale=3)
        new_concept = gr.Textbox(
            label="First concept (optional)",
            placeholder="e.g. mychar",
            elem_id="datasets-new-concept",
            scale=3,
        )
        new_repeats = gr.Number(
            label="Repeats",
            value=DEFAULT_REPEATS,
            precision=0,
            minimum=1,
            elem_id="datasets-new-repeats",
            scale=1,
        )
        create = gr.Button("Create", variant="primary", elem_id="datasets-create", scale=1)
    notes = gr.Markdown("No dataset yet: create one above.", elem_id="datasets-notes")
    concepts = gr.Dataframe(
        headers=CONCEPT_HEADERS,
        value=[],
        interactive=False,
        max_height=300,
        elem_id="datasets-concepts",
        label="Concepts (click a row to edit its repeats)",
    )
    with gr.Row(equal_height=True):
        concept_pick = gr.Dropdown(
            label="Concept",
            choices=[],
            value=None,
            allow_custom_value=True,
            elem_id="datasets-concept",
            scale=3,
        )
        repeats = gr.Number(
            label="Repeats (how often each image is seen per epoch)",
            value=None,
            precision=0,
            elem_id="datasets-repeats",
            scale=2,
        )
        set_repeats = gr.Button("Set repeats", elem_id="datasets-set-repeats", scale=1)
    with gr.Row(equal_height=True):
        add_name = gr.Textbox(
            label="New concept", placeholder="e.g. outfit2", elem_id="datasets-add-concept-name", scale=3
        )
        add_repeats = gr.Number(
            label="Its repeats",
            value=DEFAULT_REPEATS,
            precision=0,
            minimum=1,
            elem_id="datasets-add-concept-repeats",
            scale=2,
        )
        add = gr.Button("Add concept", elem_id="datasets-add-concept", scale=1)
    with gr.Row(equal_height=True):
        rename_to = gr.Textbox(label="Rename the dataset to", elem_id="datasets-rename-to", scale=4)
        rename = gr.Button("Rename", elem_id="datasets-rename", scale=1)
    table = gr.Dataframe(
        headers=DATASET_HEADERS,
        value=[],
        interactive=False,
        wrap=True,
        max_height=400,
        elem_id="datasets-table",
        label="All datasets",
    )
    return OverviewParts(
        new_name, new_concept, new_repeats, create, notes, concepts, concept_pick, repeats, set_repeats,
        rename_to, rename, table, add_name, add_repeats, add,
    )  # fmt: skip


def _shown_values(
    services: Services,
    gallery: GalleryParts,
    name: str | None,
    *,
    picked: str | None,
    concept: str | None,
    page: float | None,
    size: float | None,
) -> tuple[Any, ...]:
    """Notes, concepts, the repeats editor, the gallery's concept filter and one gallery page for ``name``.

    ``picked`` (the concept in the repeats editor) and ``concept`` (the gallery filter) stay when they still exist.
    """
    if not name or name not in services.datasets.dataset_names():
        notes = "No dataset yet: create one above." if not name else f"Dataset {name!r} is gone."
        no_filter = gr.Dropdown(choices=[("All concepts", ALL_CONCEPTS)], value=ALL_CONCEPTS)
        nothing = gr.Dropdown(choices=[], value=None)
        return notes, [], nothing, None, no_filter, *gallery_values(services, None, None, 1, size)
    summary = services.datasets.get_dataset(name)
    repeats = {item.concept: item.repeats for item in summary.concepts}
    names = list(repeats)
    chosen = picked if picked in repeats else (names[0] if len(names) == 1 else None)
    kept = concept if concept in repeats else ALL_CONCEPTS
    concept_filter = gr.Dropdown(
        choices=[("All concepts", ALL_CONCEPTS), *((n, n) for n in names)], value=kept
    )
    page_values = gallery_values(services, name, kept, page if kept == concept else 1, size)
    editor = (gr.Dropdown(choices=names, value=chosen), repeats.get(chosen or ""))
    return dataset_notes(summary), concept_rows(summary), *editor, concept_filter, *page_values


def _delete(services: Services) -> Any:
    @ui_errors
    def delete(name: str | None) -> Any:
        if not name:  # nothing picked, or the person said no
            return gr.skip()
        services.datasets.delete_dataset(name)
        gr.Info(f"Deleted dataset {name}.")
        return f"Deleted dataset **{name}**."

    return delete


def _wire_overview(
    services: Services, picker: gr.Dropdown, status: gr.Markdown, parts: OverviewParts
) -> list[gr.events.Dependency]:
    """Create, rename, repeats; returns the events that change datasets, to chain a refresh."""

    @ui_errors
    def create(name: str, concept: str, repeats: float | None) -> tuple[str, Any, str, str]:
        summary = services.datasets.create_dataset(
            name.strip(), concept=concept.strip() or None, repeats=int(repeats or DEFAULT_REPEATS)
        )
        return (
            f"Created dataset **{summary.name}**. Add images next.",
            dataset_dropdown(services, summary.name),
            "",
            "",
        )

    @ui_errors
    def rename(name: str | None, new_name: str) -> tuple[str, Any, str]:
        if not name:
            raise gr.Error("Pick the dataset to rename first.")
        summary = services.datasets.rename_dataset(name, new_name=new_name.strip())
        return f"Renamed **{name}** to **{summary.name}**.", dataset_dropdown(services, summary.name), ""

    @ui_errors
    def set_repeats(name: str | None, concept: str | None, repeats: float | None) -> str:
        if not name or not concept or repeats is None:
            raise gr.Error("Pick a dataset and a concept, and type the repeats.")
        services.datasets.set_repeats(name, concept=concept, repeats=int(repeats))
        return f"Concept **{concept}** of **{name}** now repeats **{int(repeats)}** times."

    @ui_errors
    def pick_concept(event: gr.SelectData) -> tuple[Any, Any]:
        row = event.row_value
        return (str(row[0]), int(row[1])) if row else (gr.skip(), gr.skip())

    parts.concepts.select(pick_concept, None, [parts.concept_pick, parts.repeats], api_visibility="private")
    return [
        parts.create.click(
            create,
            [parts.new_name, parts.new_concept, parts.new_repeats],
            [status, picker, parts.new_name, parts.new_concept],
            api_name="datasets_create",
        ),
        parts.rename.click(
            rename, [picker, parts.rename_to], [status, picker, parts.rename_to], api_name="datasets_rename"
        ),
        parts.set_repeats.click(
            set_repeats, [picker, parts.concept_pick, parts.repeats], status, api_name="datasets_set_repeats"
        ),
    ]


def _wire_add_concept(
    services: Services,
    picker: gr.Dropdown,
    status: gr.Markdown,
    parts: OverviewParts,
    upload_concept: gr.Textbox,
) -> gr.events.Dependency:
    """A new, empty concept; the upload form then points at it, so the next images go there."""

    @ui_errors
    def add_concept(name: str | None, concept: str | None, repeats: float | None) -> tuple[str, str, str]:
        if not name:
            raise gr.Error("Pick or create a dataset first.")
        concept = (concept or "").strip()
        if not concept:
            raise gr.Error("Type the new concept's name.")
        count = DEFAULT_REPEATS if repeats is None else int(repeats)  # the service refuses 0
        services.datasets.add_concept(name, concept=concept, repeats=count)
        message = (
            f"Added concept **{concept}** with **{count}** repeats to **{name}**. Add images to it next."
        )
        return message, "", concept

    return parts.add.click(
        add_concept,
        [picker, parts.add_name, parts.add_repeats],
        [status, parts.add_name, upload_concept],
        api_name="datasets_add_concept",
    )
