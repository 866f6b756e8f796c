"""The caption browser's per-session state and editor: where the person is, what the editor loaded,
and the rule that nothing that reloads the editor drops an unsaved edit (it is saved first).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from lora_studio.services import Services
from lora_studio.services.captions import ALL, CaptionFilter, CaptionItem, CaptionPage, CaptionState
from lora_studio.services.captions.tags import one_line

PAGE_SIZE = 24
EDITOR_OUTPUTS = 7  # the length of editor_outputs(...)
LABEL_CHARS = 90


@dataclass(frozen=True)
class Cursor:
    """Where one browser session is: dataset, active filter, and the selected image's index in it."""

    dataset: str
    selection: CaptionFilter = ALL
    position: int = 0
    page_size: int = PAGE_SIZE

    @property
    def page_start(self) -> int:
        return self.position // self.page_size * self.page_size


@dataclass(frozen=True)
class Loaded:
    """The caption as the editor loaded it: the ``expected_text`` of the save, and the dirty check.

    It lives in the page (a hidden JSON component), not in a server-side ``gr.State``, so the
    browser always sends it with the text box it describes. A click made before the previous load
    arrived then carries the old image with the old text, never the new image with the old text
    (which made a quick dataset switch try to save an empty caption, or could save one caption's
    text over another's).
    """

    dataset: str
    image: str
    text: str
    state: CaptionState

    def to_json(self) -> dict[str, str]:
        return {"dataset": self.dataset, "image": self.image, "text": self.text, "state": self.state.value}

    @classmethod
    def of(cls, value: object) -> Loaded | None:
        """From the page's JSON (or a Loaded); None for nothing loaded or a malformed value."""
        if value is None or isinstance(value, Loaded):
            return value
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                str(value["dataset"]), str(value["image"]), str(value["text"]), CaptionState(value["state"])
            )
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class View:
    cursor: Cursor | None
    page: CaptionPage | None = None
    thumbs: tuple[Path, ...] = ()
    current: CaptionItem | None = None


def is_modified(loaded: Loaded | None, text: str | None) -> bool:
    return loaded is not None and one_line(text or "") != loaded.text


def save_if_modified(
    services: Services, cursor: Cursor | None, loaded: object, text: str | None, overwrite: bool
) -> str | None:
    """Save a modified edit before the editor moves on; returns the saved image, else None.

    The edit goes to the image (and dataset) it was loaded for, whatever the cursor says now.
    Any refusal (conflict, not UTF-8, empty text, image gone) propagates: the caller then changes
    nothing, so the edit stays in the box.
    """
    edit = Loaded.of(loaded)
    if cursor is None or edit is None or not is_modified(edit, text):
        return None
    services.captions.save_caption(
        edit.dataset, edit.image, text or "", expected_text=edit.text, overwrite_non_utf8=overwrite
    )
    gr.Info(f"Saved your edit of {edit.image} first.")
    return edit.image


def load_view(services: Services, cursor: Cursor | None) -> View:
    """The page holding ``cursor.position`` (clamped to the filtered list) with thumbnails."""
    if cursor is None:
        return View(None)
    page = services.captions.page(
        cursor.dataset, selection=cursor.selection, offset=cursor.page_start, limit=cursor.page_size
    )
    position = max(0, min(cursor.position, page.total - 1))
    if position != cursor.position:
        return load_view(services, replace(cursor, position=position))
    thumbs = services.captions.thumbnails(cursor.dataset, [item.image for item in page.items])
    index = position - page.offset
    current = page.items[index] if 0 <= index < len(page.items) else None
    return View(cursor, page, thumbs, current)


def move(
    services: Services,
    cursor: Cursor | None,
    loaded: object,
    text: str | None,
    overwrite: bool,
    target: int,
) -> View:
    """Go to image ``target`` of the filtered list, saving a modified edit first."""
    if cursor is None:
        return View(None)
    saved = save_if_modified(services, cursor, loaded, text, overwrite)
    if saved is not None and target > cursor.position and not _still_listed(services, cursor, saved):
        target -= 1  # the saved image left the filter ("no caption"): the list moved up by one
    return load_view(services, replace(cursor, position=max(0, target)))


def _still_listed(services: Services, cursor: Cursor, image: str) -> bool:
    page = services.captions.page(cursor.dataset, selection=cursor.selection, offset=cursor.position, limit=1)
    return bool(page.items) and page.items[0].image == image


def editor_outputs(view: View) -> tuple[Any, ...]:
    """(gallery, position text, preview image, caption box, loaded (JSON), cursor state, overwrite box)."""
    page, item = view.page, view.current
    gallery = [
        (str(thumb), _label(entry))
        for thumb, entry in zip(view.thumbs, page.items if page else (), strict=True)
    ]
    if page is None or item is None:
        empty = "No dataset picked." if view.cursor is None else "No image matches the filter."
        return (
            gr.Gallery(value=gallery, selected_index=None),
            empty,
            None,
            "",
            None,
            view.cursor,
            _overwrite(None),
        )
    assert view.cursor is not None  # a page is only loaded for a cursor
    index = view.cursor.position - page.offset
    return (
        gr.Gallery(value=gallery, selected_index=index),
        _position_text(view, item),
        str(view.thumbs[index]),
        item.text,
        Loaded(view.cursor.dataset, item.image, item.text, item.state).to_json(),
        view.cursor,
        _overwrite(item),
    )


def _overwrite(item: CaptionItem | None) -> Any:
    return gr.Checkbox(value=False, visible=item is not None and item.state is CaptionState.NOT_UTF8)


def _position_text(view: View, item: CaptionItem) -> str:
    assert view.cursor is not None and view.page is not None
    total = view.page.total
    pages = (total + view.cursor.page_size - 1) // view.cursor.page_size
    page_no = view.cursor.page_start // view.cursor.page_size + 1
    line = (
        f"**{item.image}** · image {view.cursor.position + 1} of {total} · page {page_no} of {pages} · "
        f"caption file `{item.caption_file}`"
    )
    return f"{line}\n\n{item.message}" if item.message else line


def _label(item: CaptionItem) -> str:
    text = item.text if item.state is CaptionState.OK else f"({item.state.value.replace('_', ' ')})"
    name = item.image.rsplit("/", 1)[-1]
    label = f"{name}: {text}"
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def page_target(cursor: Cursor | None, pages: int) -> int:
    """The first image of the page ``pages`` away from the current one (negative goes back)."""
    if cursor is None:
        return 0
    return max(0, cursor.page_start + pages * cursor.page_size)
