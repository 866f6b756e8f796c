"""The bulk-operation form of the Captions tab: operation picker ⇄ ``BulkOperation``, scope, and the
texts that show previews, results and the undo history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import gradio as gr
from pydantic import TypeAdapter, ValidationError

from lora_studio.core.errors import InvalidInput
from lora_studio.services.captions import (
    ALL,
    BulkOperation,
    BulkPreview,
    BulkResult,
    CaptionFilter,
    OperationBase,
    UndoResult,
    UndoSummary,
)
from lora_studio.services.captions.dataset_settings import CaptionExtension
from lora_studio.ui.tabs.captions_browse import Cursor

_ADAPTER: TypeAdapter[BulkOperation] = TypeAdapter(BulkOperation)
SCOPES = [("Whole dataset", "dataset"), ("Selected concept", "concept"), ("Current filter", "filter")]
EXAMPLE_HEADERS = ["image", "before", "after"]
HISTORY_HEADERS = ["when (UTC)", "operation", "files", "status"]


@dataclass(frozen=True)
class OperationForm:
    """Which fields an operation uses: (model field, label) for the two text boxes, plus switches."""

    label: str
    main: tuple[str, str] | None = None
    other: tuple[str, str] | None = None
    position: bool = False
    regex: bool = False


OPERATIONS: dict[str, OperationForm] = {
    "add_trigger": OperationForm("Add a trigger word", main=("word", "Trigger word"), position=True),
    "add_tags": OperationForm("Add tags", main=("tags", "Tags to add (comma-separated)"), position=True),
    "remove_tags": OperationForm("Remove tags", main=("tags", "Tags to remove (comma-separated)")),
    "replace_tag": OperationForm("Replace a tag", main=("old", "Tag to replace"), other=("new", "New tag")),
    "find_replace": OperationForm(
        "Find and replace", main=("find", "Find"), other=("replace", "Replace with"), regex=True
    ),
    "remove_duplicate_tags": OperationForm("Remove duplicate tags"),
    "normalise_separators": OperationForm("Normalise separators and white space"),
    "underscores_to_spaces": OperationForm("Underscores to spaces (long_hair → long hair)"),
}
OPERATION_CHOICES = [(form.label, kind) for kind, form in OPERATIONS.items()]


def form_updates(kind: str) -> tuple[Any, ...]:
    """Show the fields ``kind`` uses, with its labels: (main, other, position, regex, ignore case)."""
    form = OPERATIONS[kind]
    return (
        gr.Textbox(visible=form.main is not None, label=form.main[1] if form.main else ""),
        gr.Textbox(visible=form.other is not None, label=form.other[1] if form.other else ""),
        gr.Radio(visible=form.position, value="end" if kind == "add_tags" else "start"),
        gr.Checkbox(visible=form.regex),
        gr.Checkbox(visible=form.regex),
    )


def build_operation(
    kind: str, main: str, other: str, position: str, regex: bool, ignore_case: bool
) -> OperationBase:
    """The operation the form describes. Raises InvalidInput for an unknown kind or a bad field."""
    form = OPERATIONS.get(kind)
    if form is None:
        raise InvalidInput(f"Unknown operation {kind!r}; pick one from the list.")
    fields: dict[str, Any] = {"kind": kind}
    if form.main:
        fields[form.main[0]] = main
    if form.other:
        fields[form.other[0]] = other
    if form.position:
        fields["position"] = position
    if form.regex:
        fields |= {"regex": regex, "ignore_case": ignore_case}
    try:
        operation: OperationBase = _ADAPTER.validate_python(fields)
    except ValidationError as error:
        raise InvalidInput(f"The operation is not complete: {error.errors()[0]['msg']}.") from error
    return operation


def scope_filter(scope: str, cursor: Cursor) -> CaptionFilter:
    """The images a bulk operation covers: the dataset, the filter's concept, or the whole filter."""
    if scope == "dataset":
        return ALL
    if scope == "concept":
        if cursor.selection.concept is None:
            raise InvalidInput("Pick a concept above first, or choose 'Whole dataset'.")
        return CaptionFilter(concept=cursor.selection.concept)
    if scope == "filter":
        return cursor.selection
    raise InvalidInput(f"Unknown scope {scope!r}.")


def _skipped(not_utf8: tuple[str, ...], empty: tuple[str, ...]) -> str:
    parts = []
    if not_utf8:
        parts.append(
            f"{len(not_utf8)} not UTF-8 ({', '.join(not_utf8[:3])}{'…' if len(not_utf8) > 3 else ''})"
        )
    if empty:
        parts.append(f"{len(empty)} that would become empty")
    return f"\n\nLeft alone: {'; '.join(parts)}." if parts else ""


def preview_text(preview: BulkPreview) -> str:
    return (
        f"**Preview:** {preview.description} would change **{preview.changed}** of {preview.matched} "
        f"captions. Nothing was written yet.{_skipped(preview.skipped_not_utf8, preview.skipped_empty)}"
    )


def example_rows(preview: BulkPreview) -> list[list[str]]:
    return [[example.image, example.before, example.after] for example in preview.examples]


def result_text(result: BulkResult) -> str:
    undo = " Use **Undo last** to restore them." if result.undo_id else ""
    return (
        f"**Done:** {result.description} changed **{result.changed}** of {result.matched} captions."
        f"{undo}{_skipped(result.skipped_not_utf8, result.skipped_empty)}"
    )


def undo_text(result: UndoResult) -> str:
    text = f"**Undone:** {result.description}: restored **{result.restored}** captions."
    if result.conflicts:
        text += f" {len(result.conflicts)} of them had been edited since; those edits were overwritten."
    return text


def history_rows(summaries: tuple[UndoSummary, ...]) -> list[list[Any]]:
    return [
        [summary.created[:19].replace("T", " "), summary.description, summary.captions, summary.status]
        for summary in summaries
    ]


def caption_extension(value: str) -> CaptionExtension:
    if value not in (".txt", ".caption"):
        raise InvalidInput(f"Caption files are .txt or .caption, not {value!r}.")
    return cast(CaptionExtension, value)
