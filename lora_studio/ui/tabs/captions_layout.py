"""The Captions tab's components: the browser (dataset, filter, gallery, editor), the bulk-edit form and
the tag panels, each returned as a small dataclass of handles that ``captions`` wires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from lora_studio.ui.tabs import captions_bulk as bulk
from lora_studio.ui.tabs import captions_tags as tags

PREFIX = "captions"
ALL_CONCEPTS = ""


@dataclass
class Browser:
    dataset: gr.Dropdown
    refresh: gr.Button
    concept: gr.Dropdown
    extension: gr.Radio
    style_set: gr.Checkbox
    stats: gr.Markdown
    no_caption: gr.Checkbox
    has_tags: gr.Textbox
    lacks_tags: gr.Textbox
    search: gr.Textbox
    filter_apply: gr.Button
    filter_clear: gr.Button
    gallery: gr.Gallery
    page_prev: gr.Button
    page_next: gr.Button
    position: gr.Markdown
    preview: gr.Image
    text: gr.Textbox
    overwrite: gr.Checkbox
    prev: gr.Button
    save: gr.Button
    revert: gr.Button
    next: gr.Button
    cursor: gr.State
    loaded: gr.JSON  # in the page, sent with the text box: see captions_browse.Loaded

    def editor(self) -> list[Any]:
        """The outputs of ``editor_outputs``, in its order."""
        return [
            self.gallery,
            self.position,
            self.preview,
            self.text,
            self.loaded,
            self.cursor,
            self.overwrite,
        ]

    def unsaved(self) -> list[Any]:
        """The inputs every editor-reloading handler takes, to save a modified edit first."""
        return [self.cursor, self.loaded, self.text, self.overwrite]

    def filter_fields(self) -> list[Any]:
        return [self.concept, self.no_caption, self.has_tags, self.lacks_tags, self.search]


@dataclass
class Bulk:
    operation: gr.Dropdown
    main: gr.Textbox
    other: gr.Textbox
    position: gr.Radio
    regex: gr.Checkbox
    ignore_case: gr.Checkbox
    scope: gr.Radio
    skip_non_utf8: gr.Checkbox
    preview: gr.Button
    apply: gr.Button
    outcome: gr.Markdown
    examples: gr.Dataframe
    history: gr.Dataframe
    undo_force: gr.Checkbox
    undo: gr.Button

    def form(self) -> list[Any]:
        return [
            self.operation,
            self.main,
            self.other,
            self.position,
            self.regex,
            self.ignore_case,
            self.scope,
        ]


@dataclass
class Tags:
    search: gr.Textbox
    sort: gr.Radio
    summary: gr.Markdown
    table: gr.Dataframe
    suggestions: gr.Markdown


def browser_section() -> Browser:
    with gr.Row(equal_height=True):
        dataset = gr.Dropdown(label="Dataset", choices=[], value=None, elem_id=f"{PREFIX}-dataset", scale=3)
        concept = gr.Dropdown(
            label="Concept", choices=[("All concepts", ALL_CONCEPTS)], value=ALL_CONCEPTS,
            elem_id=f"{PREFIX}-concept", scale=3,
        )  # fmt: skip
        extension = gr.Radio(
            [".txt", ".caption"], value=".txt", label="Caption files", elem_id=f"{PREFIX}-extension", scale=2
        )
        with gr.Column(scale=1, min_width=120):
            style_set = gr.Checkbox(label="Style set (no characters)", elem_id=f"{PREFIX}-style-set")
            refresh = gr.Button("Refresh", size="sm", elem_id=f"{PREFIX}-refresh")
    stats = gr.Markdown(tags.NO_DATASET, elem_id=f"{PREFIX}-stats")
    with gr.Row(equal_height=True):
        no_caption = gr.Checkbox(label="Only without caption", elem_id=f"{PREFIX}-filter-no-caption", scale=1)
        has_tags = gr.Textbox(
            label="Has tags", placeholder="tag, tag", elem_id=f"{PREFIX}-filter-has", scale=2
        )
        lacks_tags = gr.Textbox(label="Lacks tags", elem_id=f"{PREFIX}-filter-lacks", scale=2)
        search = gr.Textbox(label="Caption contains", elem_id=f"{PREFIX}-filter-text", scale=2)
        with gr.Column(scale=1, min_width=120):
            filter_apply = gr.Button("Filter", variant="primary", size="sm", elem_id=f"{PREFIX}-filter-apply")
            filter_clear = gr.Button("Clear filter", size="sm", elem_id=f"{PREFIX}-filter-clear")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            gallery = gr.Gallery(
                label="Images (click one to edit its caption)", columns=6, height=460, allow_preview=False,
                object_fit="contain", elem_id=f"{PREFIX}-gallery",
            )  # fmt: skip
            with gr.Row():
                page_prev = gr.Button("◀ Previous page", size="sm", elem_id=f"{PREFIX}-page-prev")
                page_next = gr.Button("Next page ▶", size="sm", elem_id=f"{PREFIX}-page-next")
        with gr.Column(scale=2):
            position = gr.Markdown("No dataset picked.", elem_id=f"{PREFIX}-position")
            preview = gr.Image(
                show_label=False, interactive=False, height=280, elem_id=f"{PREFIX}-preview", buttons=[]
            )
            text = gr.Textbox(label="Caption", lines=4, max_lines=8, elem_id=f"{PREFIX}-text")
            overwrite = gr.Checkbox(
                label="Replace the unreadable (not UTF-8) caption file with this text",
                visible=False, elem_id=f"{PREFIX}-overwrite-non-utf8",
            )  # fmt: skip
            with gr.Row():
                prev = gr.Button("◀ Previous", size="sm", elem_id=f"{PREFIX}-prev")
                save = gr.Button("Save", variant="primary", size="sm", elem_id=f"{PREFIX}-save")
                revert = gr.Button("Revert", size="sm", elem_id=f"{PREFIX}-revert")
                nxt = gr.Button("Next ▶", size="sm", elem_id=f"{PREFIX}-next")
    return Browser(
        dataset, refresh, concept, extension, style_set, stats, no_caption, has_tags, lacks_tags, search,
        filter_apply, filter_clear, gallery, page_prev, page_next, position, preview, text, overwrite,
        prev, save, revert, nxt, gr.State(None), gr.JSON(None, visible=False, elem_id=f"{PREFIX}-loaded"),
    )  # fmt: skip


def bulk_section() -> Bulk:
    gr.Markdown("### Bulk edit")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            with gr.Row():
                operation = gr.Dropdown(
                    label="Operation", choices=bulk.OPERATION_CHOICES, value="add_trigger",
                    elem_id=f"{PREFIX}-op", scale=2,
                )  # fmt: skip
                scope = gr.Radio(
                    bulk.SCOPES, value="dataset", label="Apply to", elem_id=f"{PREFIX}-op-scope", scale=3
                )
            with gr.Row():
                main = gr.Textbox(label="Trigger word", elem_id=f"{PREFIX}-op-main")
                other = gr.Textbox(label="", visible=False, elem_id=f"{PREFIX}-op-other")
            with gr.Row():
                position = gr.Radio(
                    [("At the start", "start"), ("At the end", "end")], value="start", label="Where",
                    elem_id=f"{PREFIX}-op-position",
                )  # fmt: skip
                regex = gr.Checkbox(label="Regular expression", visible=False, elem_id=f"{PREFIX}-op-regex")
                ignore_case = gr.Checkbox(
                    label="Ignore case", visible=False, elem_id=f"{PREFIX}-op-ignore-case"
                )
                skip = gr.Checkbox(label="Skip captions that are not UTF-8", elem_id=f"{PREFIX}-op-skip")
            with gr.Row():
                preview = gr.Button("Preview", elem_id=f"{PREFIX}-op-preview")
                apply = gr.Button("Apply", variant="primary", elem_id=f"{PREFIX}-op-apply")
            outcome = gr.Markdown(elem_id=f"{PREFIX}-op-outcome")
            examples = gr.Dataframe(
                headers=bulk.EXAMPLE_HEADERS, value=[], interactive=False, wrap=True, max_height=300,
                label="Examples (before → after)", elem_id=f"{PREFIX}-op-examples",
            )  # fmt: skip
        with gr.Column(scale=2):
            history = gr.Dataframe(
                headers=bulk.HISTORY_HEADERS, value=[], interactive=False, wrap=True, max_height=300,
                column_widths=["24%", "42%", "16%", "18%"],
                label="Recent bulk operations", elem_id=f"{PREFIX}-history",
            )  # fmt: skip
            undo_force = gr.Checkbox(
                label="Also restore captions edited since (those edits are lost)",
                elem_id=f"{PREFIX}-undo-force",
            )
            undo = gr.Button("Undo last", variant="stop", elem_id=f"{PREFIX}-undo")
    return Bulk(
        operation, main, other, position, regex, ignore_case, scope, skip, preview, apply, outcome,
        examples, history, undo_force, undo,
    )  # fmt: skip


def tags_section() -> Tags:
    gr.Markdown("### Tags")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            with gr.Row():
                search = gr.Textbox(label="Search tags", elem_id=f"{PREFIX}-freq-search", scale=3)
                sort = gr.Radio(
                    tags.SORTS, value="count", label="Order", elem_id=f"{PREFIX}-freq-sort", scale=2
                )
            summary = gr.Markdown(elem_id=f"{PREFIX}-freq-summary")
            table = gr.Dataframe(
                headers=tags.FREQUENCY_HEADERS, value=[], interactive=False, max_height=420,
                label="Tag frequencies", elem_id=f"{PREFIX}-freq",
            )  # fmt: skip
        with gr.Column(scale=2):
            gr.Markdown("**Suggestions**")
            suggestions = gr.Markdown(elem_id=f"{PREFIX}-suggestions")
    return Tags(search, sort, summary, table, suggestions)
