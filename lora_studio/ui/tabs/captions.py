"""The Captions tab: browse and edit captions one by one, bulk-edit them with preview and undo, and read
tag frequencies and suggestions. Anything that reloads the editor saves a modified edit first.

Components live in ``captions_layout``, handlers in ``captions_handlers``; this module wires them.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from lora_studio.services import Services
from lora_studio.ui.tabs.captions_handlers import CaptionHandlers
from lora_studio.ui.tabs.captions_layout import (
    Browser,
    Bulk,
    Tags,
    browser_section,
    bulk_section,
    tags_section,
)

QUIET: dict[str, Any] = {"show_progress": "hidden"}
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
# Passes the dataset only when the person agrees; the handler does nothing for None.
CONFIRM_UNDO_JS = """(dataset, ...rest) => (dataset && confirm(
  'Undo the last bulk caption operation of ' + dataset + '? Its captions go back to how they were.'
)) ? [dataset, ...rest] : [null, ...rest]"""


def build(services: Services, demo: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown(
        "Edit captions one by one or thousands at once. Moving to another image, page or filter saves an "
        "edit you made first; every bulk operation can be undone."
    )
    browser = browser_section()
    ops = bulk_section()
    tag_parts = tags_section()
    handlers = CaptionHandlers(services)
    panels = [browser.stats, tag_parts.summary, tag_parts.table, tag_parts.suggestions, ops.history]
    panel_inputs = [browser.cursor, tag_parts.search, tag_parts.sort]

    def then_panels(event: Any) -> None:
        """After an event that may change captions or the view, refresh stats, tags and history."""
        event.success(handlers.panels, panel_inputs, panels, **PRIVATE, **QUIET)

    demo.load(handlers.refresh, None, browser.dataset, **PRIVATE, **QUIET)
    _wire_browser(handlers, browser, then_panels)
    # Opening the tab refreshes the dataset list (a dataset made elsewhere appears); the editor stays.
    tab.select(handlers.refresh, browser.dataset, browser.dataset, **PRIVATE, **QUIET)
    _wire_editor(handlers, browser, then_panels)
    _wire_bulk(handlers, browser, ops, then_panels)
    _wire_tags(handlers, browser, tag_parts, then_panels)


def _wire_browser(handlers: CaptionHandlers, ui: Browser, then_panels: Any) -> None:
    """Dataset picking, settings, and the filter."""
    editor, unsaved = ui.editor(), ui.unsaved()
    controls = [ui.concept, ui.no_caption, ui.has_tags, ui.lacks_tags, ui.search, ui.extension, ui.style_set]
    opened = ui.dataset.change(
        handlers.open_dataset, [ui.dataset, *unsaved], [*editor, *controls], api_name="captions_open"
    )
    then_panels(opened)
    refreshed = ui.refresh.click(handlers.refresh, ui.dataset, ui.dataset, api_name="captions_datasets")
    then_panels(refreshed.success(handlers.reload, [ui.dataset, *unsaved], editor, **PRIVATE, **QUIET))
    settings = [ui.extension, ui.style_set, *unsaved]
    then_panels(ui.extension.input(handlers.change_settings, settings, editor, api_name="captions_settings"))
    then_panels(ui.style_set.input(handlers.change_settings, settings, editor, **PRIVATE))

    filter_inputs = [*unsaved, *ui.filter_fields()]
    then_panels(
        ui.filter_apply.click(handlers.apply_filter, filter_inputs, editor, api_name="captions_filter")
    )
    for trigger in (ui.concept.input, ui.no_caption.input, ui.has_tags.submit, ui.lacks_tags.submit):
        then_panels(trigger(handlers.apply_filter, filter_inputs, editor, **PRIVATE))
    then_panels(ui.search.submit(handlers.apply_filter, filter_inputs, editor, **PRIVATE))
    cleared = ui.filter_clear.click(
        handlers.clear_filter, None, [ui.no_caption, ui.has_tags, ui.lacks_tags, ui.search], **PRIVATE
    )
    then_panels(cleared.success(handlers.apply_filter, filter_inputs, editor, **PRIVATE))


def _wire_editor(handlers: CaptionHandlers, ui: Browser, then_panels: Any) -> None:
    """Paging, picking, saving and reverting one caption."""
    editor, unsaved = ui.editor(), ui.unsaved()
    moves = (
        (ui.prev, handlers.go(step=-1), "captions_prev"),
        (ui.next, handlers.go(step=1), "captions_next"),
        (ui.page_prev, handlers.go(pages=-1), "captions_page_prev"),
        (ui.page_next, handlers.go(pages=1), "captions_page_next"),
    )
    for button, handler, api_name in moves:
        then_panels(button.click(handler, unsaved, editor, api_name=api_name))
    then_panels(ui.gallery.select(handlers.pick, unsaved, editor, **PRIVATE))
    then_panels(ui.save.click(handlers.save, unsaved, editor, api_name="captions_save"))
    ui.revert.click(handlers.revert, ui.loaded, ui.text, **PRIVATE)


def _wire_bulk(handlers: CaptionHandlers, browser: Browser, ui: Bulk, then_panels: Any) -> None:
    editor, unsaved = browser.editor(), browser.unsaved()
    ui.operation.change(
        handlers.operation_form, ui.operation, [ui.main, ui.other, ui.position, ui.regex, ui.ignore_case],
        **PRIVATE, queue=False,
    )  # fmt: skip
    results = [ui.outcome, ui.examples]
    ui.preview.click(handlers.preview, [browser.cursor, *ui.form()], results, api_name="captions_preview")
    # A thousands-caption apply runs in a worker thread with a progress bar over its outcome box;
    # the rest of the page stays usable.
    applied = ui.apply.click(
        handlers.apply,
        [*unsaved, ui.skip_non_utf8, *ui.form()],
        [*results, *editor],
        api_name="captions_apply",
        show_progress_on=[ui.outcome],
    )
    then_panels(applied)
    undone = ui.undo.click(
        handlers.undo, [browser.dataset, *unsaved, ui.undo_force], [*results, *editor],
        js=CONFIRM_UNDO_JS, api_name="captions_undo",
    )  # fmt: skip
    then_panels(undone)


def _wire_tags(handlers: CaptionHandlers, browser: Browser, ui: Tags, then_panels: Any) -> None:
    inputs, outputs = [browser.cursor, ui.search, ui.sort], [ui.summary, ui.table]
    ui.search.submit(handlers.frequencies, inputs, outputs, api_name="captions_frequencies", **QUIET)
    ui.sort.input(handlers.frequencies, inputs, outputs, **PRIVATE, **QUIET)
    # Clicking a tag filters the gallery to the images that have it (saving an open edit first).
    picked = ui.table.select(handlers.pick_tag, None, browser.has_tags, **PRIVATE)
    filter_inputs = [*browser.unsaved(), *browser.filter_fields()]
    then_panels(picked.success(handlers.apply_filter, filter_inputs, browser.editor(), **PRIVATE))
