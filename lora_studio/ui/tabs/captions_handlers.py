"""The Captions tab's event handlers: thin methods that check input, call the captions service and
format the result. Every handler that reloads the editor saves a modified edit first (``move``,
``save_if_modified``), so no edit is ever dropped silently.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from lora_studio.core.errors import InvalidInput
from lora_studio.services import Services
from lora_studio.services.captions import CaptionFilter
from lora_studio.ui.errors import ui_errors
from lora_studio.ui.tabs import captions_bulk as bulk
from lora_studio.ui.tabs import captions_tags as tags
from lora_studio.ui.tabs.captions_browse import (
    EDITOR_OUTPUTS,
    Cursor,
    Loaded,
    editor_outputs,
    is_modified,
    load_view,
    move,
    page_target,
    save_if_modified,
)
from lora_studio.ui.tabs.captions_layout import ALL_CONCEPTS
from lora_studio.ui.tabs.datasets_common import dataset_dropdown, progress_callback

LoadedJson = dict[str, str] | None  # captions_browse.Loaded as the page holds it


def _skip(count: int) -> tuple[Any, ...]:
    return tuple(gr.skip() for _ in range(count))


class CaptionHandlers:
    """One instance per app; per-session data comes in through ``gr.State`` inputs."""

    def __init__(self, services: Services) -> None:
        self.services = services

    # -- datasets and settings -------------------------------------------------------------

    @ui_errors
    def refresh(self, dataset: str | None = None) -> Any:
        """The dataset picker: keeps ``dataset`` when it still exists, else the first one."""
        return dataset_dropdown(self.services, dataset)

    @ui_errors
    def open_dataset(self, dataset: str | None, *unsaved: Any) -> tuple[Any, ...]:
        """A new dataset: first image, concept choices, cleared filters, its caption settings.

        Never saves: it also runs when the page loads or the picker refreshes, often while an
        earlier load is still arriving. A real edit left in the box is named in a warning.
        """
        _, loaded, text, _ = unsaved
        edit = Loaded.of(loaded)
        if edit is not None and edit.dataset != dataset and is_modified(edit, text):
            gr.Warning(f"Your edit of {edit.image} ({edit.dataset}) was not saved: switching datasets.")
        cursor = Cursor(dataset) if dataset else None
        return (*editor_outputs(load_view(self.services, cursor)), *self._dataset_controls(dataset))

    def _dataset_controls(self, dataset: str | None) -> tuple[Any, ...]:
        concepts = [("All concepts", ALL_CONCEPTS)]
        extension, style_set = ".txt", False
        if dataset:
            concepts += [
                (f"{c.name} ({c.folder}: {c.images} images, {c.captioned} captioned)", c.folder)
                for c in self.services.captions.concepts(dataset)
            ]
            settings = self.services.captions.settings_for(dataset)
            extension, style_set = settings.caption_extension, settings.style_set
        concept = gr.Dropdown(choices=concepts, value=ALL_CONCEPTS)
        return concept, False, "", "", "", extension, style_set

    @ui_errors
    def reload(
        self, dataset: str | None, cursor: Cursor | None, loaded: LoadedJson, text: str, overwrite: bool
    ) -> tuple[Any, ...]:
        """Re-read the current page (new files, other tools); the dataset's change event handles a switch."""
        if cursor is None or dataset != cursor.dataset:
            return _skip(EDITOR_OUTPUTS)
        return editor_outputs(move(self.services, cursor, loaded, text, overwrite, cursor.position))

    @ui_errors
    def change_settings(self, extension: str, style_set: bool, *unsaved: Any) -> tuple[Any, ...]:
        cursor: Cursor | None = unsaved[0]
        if cursor is None:
            raise InvalidInput("Pick a dataset first.")
        save_if_modified(self.services, *unsaved)
        self.services.captions.update_settings(
            cursor.dataset, caption_extension=bulk.caption_extension(extension), style_set=style_set
        )
        return editor_outputs(load_view(self.services, cursor))

    # -- browsing and editing --------------------------------------------------------------

    @ui_errors
    def apply_filter(
        self, cursor: Cursor | None, loaded: LoadedJson, text: str, overwrite: bool, *fields: Any
    ) -> tuple[Any, ...]:
        """Inputs: the unsaved edit, then concept, no caption, has tags, lacks tags, caption text."""
        if cursor is None:
            raise InvalidInput("Pick a dataset first.")
        concept, no_caption, has_tags, lacks_tags, search = fields
        selection = CaptionFilter(
            concept=concept or None,
            no_caption=no_caption,
            has_tags=has_tags,
            lacks_tags=lacks_tags,
            text=search,
        )
        moved = move(self.services, replace(cursor, selection=selection), loaded, text, overwrite, 0)
        return editor_outputs(moved)

    @ui_errors
    def clear_filter(self) -> tuple[Any, ...]:
        return False, "", "", ""

    def go(self, *, step: int = 0, pages: int = 0) -> Any:
        """A handler that moves ``step`` images or ``pages`` pages."""

        @ui_errors
        def handler(cursor: Cursor | None, loaded: LoadedJson, text: str, overwrite: bool) -> tuple[Any, ...]:
            target = page_target(cursor, pages) if pages else (cursor.position + step if cursor else 0)
            return editor_outputs(move(self.services, cursor, loaded, text, overwrite, max(0, target)))

        return handler

    @ui_errors
    def pick(
        self, cursor: Cursor | None, loaded: LoadedJson, text: str, overwrite: bool, event: gr.SelectData
    ) -> tuple[Any, ...]:
        target = cursor.page_start + int(event.index) if cursor else 0
        return editor_outputs(move(self.services, cursor, loaded, text, overwrite, target))

    @ui_errors
    def save(self, cursor: Cursor | None, loaded: LoadedJson, text: str, overwrite: bool) -> tuple[Any, ...]:
        edit = Loaded.of(loaded)
        if cursor is None or edit is None:
            raise InvalidInput("Pick an image first.")
        item = self.services.captions.save_caption(
            edit.dataset, edit.image, text, expected_text=edit.text, overwrite_non_utf8=overwrite
        )
        gr.Info(f"Saved the caption of {item.image}.")
        return editor_outputs(load_view(self.services, cursor))

    @ui_errors
    def revert(self, loaded: LoadedJson) -> str:
        edit = Loaded.of(loaded)
        return edit.text if edit else ""

    # -- bulk operations -------------------------------------------------------------------

    @ui_errors
    def operation_form(self, kind: str) -> tuple[Any, ...]:
        if kind not in bulk.OPERATIONS:
            raise InvalidInput(f"Unknown operation {kind!r}; pick one from the list.")
        return bulk.form_updates(kind)

    @ui_errors
    def preview(self, cursor: Cursor | None, *form: Any) -> tuple[Any, ...]:
        """Inputs: cursor, then operation, main, other, position, regex, ignore case, scope."""
        if cursor is None:
            raise InvalidInput("Pick a dataset first.")
        operation = bulk.build_operation(*form[:-1])
        selection = bulk.scope_filter(form[-1], cursor)
        result = self.services.captions.preview(cursor.dataset, operation, selection=selection)
        return bulk.preview_text(result), bulk.example_rows(result)

    @ui_errors
    def apply(  # the parameters are spelled out: Gradio injects gr.Progress by position
        self,
        cursor: Cursor | None,
        loaded: LoadedJson,
        text: str,
        overwrite: bool,
        skip: bool,
        kind: str,
        main: str,
        other: str,
        position: str,
        regex: bool,
        ignore_case: bool,
        scope: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects its progress tracker)
    ) -> tuple[Any, ...]:
        """Inputs: the unsaved edit, skip non-UTF-8, then the form as for ``preview``."""
        if cursor is None:
            raise InvalidInput("Pick a dataset first.")
        operation = bulk.build_operation(kind, main, other, position, regex, ignore_case)
        selection = bulk.scope_filter(scope, cursor)
        save_if_modified(self.services, cursor, loaded, text, overwrite)
        result = self.services.captions.apply(
            cursor.dataset, operation, selection=selection, skip_non_utf8=skip,
            on_progress=progress_callback(progress),
        )  # fmt: skip
        return bulk.result_text(result), [], *editor_outputs(load_view(self.services, cursor))

    @ui_errors
    def undo(self, dataset: str | None, *rest: Any) -> tuple[Any, ...]:
        """Inputs: the dataset (None when the person cancelled), the unsaved edit, force."""
        *unsaved, force = rest
        cursor: Cursor | None = unsaved[0]
        if not dataset or cursor is None or dataset != cursor.dataset:
            return _skip(2 + EDITOR_OUTPUTS)
        save_if_modified(self.services, *unsaved)
        result = self.services.captions.undo_last(dataset, force=bool(force))
        return bulk.undo_text(result), [], *editor_outputs(load_view(self.services, cursor))

    # -- panels ----------------------------------------------------------------------------

    @ui_errors
    def panels(self, cursor: Cursor | None, search: str, sort_by: str) -> tuple[Any, ...]:
        """Stats, tag frequencies, suggestions and history for the dataset/concept in view."""
        summary, rows = tags.frequency_outputs(self.services, cursor, search, sort_by)
        history = self.services.captions.history(cursor.dataset) if cursor else ()
        stats, suggestions = (
            tags.stats_text(self.services, cursor),
            tags.suggestions_text(self.services, cursor),
        )
        return stats, summary, rows, suggestions, bulk.history_rows(history)

    @ui_errors
    def frequencies(self, cursor: Cursor | None, search: str, sort_by: str) -> tuple[Any, ...]:
        return tags.frequency_outputs(self.services, cursor, search, sort_by)

    @ui_errors
    def pick_tag(self, event: gr.SelectData) -> Any:
        row = event.row_value
        return str(row[0]) if row else gr.skip()
