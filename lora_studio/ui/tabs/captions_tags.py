"""What the Captions tab shows about a dataset as a whole: counts and problems, tag frequencies, and
tag-hygiene suggestions. Each function reads through the service and formats; nothing is written.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from lora_studio.services import Services
from lora_studio.services.captions import CaptionFilter, FrequencyTable, SuggestionKind
from lora_studio.ui.tabs.captions_browse import Cursor

NO_DATASET = "No dataset yet: create or import one on the **Datasets** tab, then press **Refresh**."
FREQUENCY_HEADERS = ["tag", "images", "share %"]
FREQUENCY_ROWS = 1000
SORTS = [("Most frequent first", "count"), ("Alphabetical", "tag")]
_SUGGESTION_TITLES = {
    SuggestionKind.COMMON_TAG: "In (nearly) every image",
    SuggestionKind.CHARACTER_IN_STYLE: "Character tags in a style set",
    SuggestionKind.NEAR_DUPLICATE: "Near-duplicate tags",
}


def concept_scope(cursor: Cursor) -> CaptionFilter:
    """The table and suggestions cover the picked concept (or dataset), not the narrower filter:
    clicking a tag then filters the gallery without shrinking the table."""
    return CaptionFilter(concept=cursor.selection.concept)


def stats_text(services: Services, cursor: Cursor | None) -> str:
    if cursor is None:
        return NO_DATASET
    stats = services.captions.stats(cursor.dataset, concept=cursor.selection.concept)
    line = (
        f"**{stats.images}** images · **{stats.captioned}** captioned · {stats.missing} without caption · "
        f"{stats.empty} empty · captions are `{stats.extension.configured}` files"
    )
    problems = "".join(f"\n- {message}" for message in stats.messages)
    return line + ("\n" + problems if problems else "")


def frequency_outputs(
    services: Services, cursor: Cursor | None, search: str, sort_by: str
) -> tuple[str, list[list[Any]]]:
    """(summary line, table rows) for the concept in view."""
    if cursor is None:
        return "", []
    table = services.captions.frequencies(
        cursor.dataset,
        selection=concept_scope(cursor),
        search=search or "",
        sort_by=cast(Literal["count", "tag"], sort_by if sort_by in ("count", "tag") else "count"),
        descending=sort_by != "tag",
        limit=FREQUENCY_ROWS,
    )
    return _summary(table, search), [[row.tag, row.count, round(row.share * 100, 1)] for row in table.rows]


def _summary(table: FrequencyTable, search: str) -> str:
    shown = f" · showing {len(table.rows)}" if search or len(table.rows) < table.distinct_tags else ""
    return (
        f"{table.distinct_tags} distinct tags over {table.images} images ({table.captioned} captioned)"
        f"{shown}. Click a tag to show only the images that have it."
    )


def suggestions_text(services: Services, cursor: Cursor | None) -> str:
    if cursor is None:
        return ""
    found = services.captions.suggestions(
        cursor.dataset,
        selection=concept_scope(cursor),
        character_tags=services.captions.known_character_tags(),
    )
    if not found:
        return "No suggestions: no tag is in nearly every image and no two tags look alike."
    lines = []
    for kind, title in _SUGGESTION_TITLES.items():
        messages = [suggestion.message for suggestion in found if suggestion.kind is kind]
        if messages:
            lines.append(f"**{title}**")
            lines.extend(f"- {message}" for message in messages)
    return "\n".join(lines)
