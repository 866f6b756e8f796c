"""Turn scans into the results and messages a person reads (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from lora_studio.core.errors import CaptionNotUtf8
from lora_studio.services.captions.models import (
    CaptionItem,
    CaptionState,
    CaptionStats,
    ExtensionReport,
)
from lora_studio.services.captions.store import Entry, Scan

_STATE_MESSAGES = {
    CaptionState.MISSING: "No caption file yet.",
    CaptionState.EMPTY: "The caption file is empty; sd-scripts stops on empty caption files.",
    CaptionState.NOT_UTF8: (
        "The caption file is not valid UTF-8. It is shown empty and is only overwritten if you confirm."
    ),
}


def item(entry: Entry) -> CaptionItem:
    parsed = entry.parsed
    return CaptionItem(
        image=entry.image,
        concept=entry.concept,
        caption_file=entry.caption,
        state=parsed.state,
        text=parsed.text,
        tags=parsed.tags,
        message=_STATE_MESSAGES.get(parsed.state),
    )


def _listed(paths: Sequence[str], limit: int = 5) -> str:
    return ", ".join(paths[:limit]) + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def not_utf8_error(captions: Sequence[str]) -> CaptionNotUtf8:
    return CaptionNotUtf8(
        f"{len(captions)} selected captions are not valid UTF-8 ({_listed(captions)}); nothing was changed.",
        hint="Re-save them as UTF-8, or run the operation again skipping them (skip_non_utf8 / --skip-non-utf8).",
    )


def extension_report(configured: str, scan: Scan) -> ExtensionReport:
    """Say when the files on disk and the configured extension disagree (sd-scripts reads one)."""
    txt, caption = scan.txt_files, scan.caption_files
    other, other_count = (".caption", caption) if configured == ".txt" else (".txt", txt)
    own_count = txt if configured == ".txt" else caption
    message = None
    if other_count and own_count:
        message = (
            f"This dataset mixes {txt} .txt and {caption} .caption files, but sd-scripts reads only one "
            f"extension ({configured} here): the {other} captions are ignored in training."
        )
    elif other_count:
        message = (
            f"This dataset holds {other} caption files ({other_count}) but captions are set to {configured}: "
            f"set the caption extension to {other}, or those captions are ignored "
            "(training passes this setting as caption_extension; sd-scripts alone defaults to .caption)."
        )
    return ExtensionReport(configured=configured, txt_files=txt, caption_files=caption, message=message)


def stats(dataset: str, scan: Scan, extension: ExtensionReport) -> CaptionStats:
    entries = scan.entries
    # Missing captions are named by their image; the others by the caption file to fix.
    by_state = {
        state: [
            e.image if state is CaptionState.MISSING else e.caption
            for e in entries
            if e.parsed.state is state
        ]
        for state in CaptionState
    }
    missing, empty = by_state[CaptionState.MISSING], by_state[CaptionState.EMPTY]
    not_utf8 = by_state[CaptionState.NOT_UTF8]
    messages = []
    if missing:
        messages.append(
            f"{len(missing)} images have no caption ({_listed(missing)}); "
            "sd-scripts trains them with the class tokens only."
        )
    if empty:
        messages.append(f"{len(empty)} caption files are empty ({_listed(empty)}); sd-scripts stops on them.")
    if not_utf8:
        messages.append(
            f"{len(not_utf8)} caption files are not valid UTF-8 ({_listed(not_utf8)}); "
            "re-save them as UTF-8. They are never overwritten without your confirmation."
        )
    if scan.orphans:
        messages.append(
            f"{len(scan.orphans)} caption files have no image ({_listed(scan.orphans)}): "
            "the image was deleted or renamed. They are left alone and not used in training."
        )
    if extension.message:
        messages.append(extension.message)
    return CaptionStats(
        dataset=dataset,
        images=len(entries),
        captioned=len(entries) - len(missing) - len(empty) - len(not_utf8),
        missing=len(missing),
        empty=len(empty),
        not_utf8=tuple(not_utf8),
        orphans=scan.orphans,
        extension=extension,
        messages=tuple(messages),
    )
