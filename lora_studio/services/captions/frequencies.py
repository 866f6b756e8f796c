"""Tag frequency tables and tag-hygiene suggestions (pure, over scanned entries)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from typing import Literal

from lora_studio.services.captions.models import (
    FrequencyTable,
    Suggestion,
    SuggestionKind,
    TagCount,
)
from lora_studio.services.captions.store import Entry
from lora_studio.services.captions.tags import tag_key

SortBy = Literal["count", "tag", "share"]
COMMON_SHARE = 0.9


def count_tags(entries: Sequence[Entry]) -> Counter[str]:
    """How many images hold each tag (a tag repeated in one caption counts once)."""
    counts: Counter[str] = Counter()
    for entry in entries:
        counts.update(entry.parsed.tag_set)
    return counts


def frequency_table(
    entries: Sequence[Entry],
    *,
    search: str = "",
    sort_by: SortBy = "count",
    descending: bool = True,
    limit: int | None = None,
) -> FrequencyTable:
    counts = count_tags(entries)
    images = len(entries)
    needle = search.strip().casefold()
    items = [(tag, n) for tag, n in counts.items() if needle in tag.casefold()] if needle else counts.items()
    if sort_by == "tag":
        ordered = sorted(items, key=lambda item: item[0].casefold(), reverse=descending)
    else:  # share is count / images, so both sort alike; ties by name for a stable table
        ordered = sorted(items, key=lambda item: (-item[1] if descending else item[1], item[0]))
    rows = tuple(TagCount(tag, n, n / images if images else 0.0) for tag, n in ordered[:limit])
    captioned = sum(1 for entry in entries if entry.parsed.tags)
    return FrequencyTable(rows=rows, images=images, captioned=captioned, distinct_tags=len(counts))


def suggest(
    entries: Sequence[Entry],
    *,
    character_tags: Collection[str] | None = None,
    style_set: bool = False,
    common_share: float = COMMON_SHARE,
) -> tuple[Suggestion, ...]:
    """Common tags, character tags in a style set, and near-duplicate spellings."""
    counts = count_tags(entries)
    images = len(entries)
    found = _common_tags(counts, images, common_share)
    if style_set and character_tags:
        found += _characters_in_style(counts, character_tags)
    found += _near_duplicates(counts)
    return tuple(found)


def _common_tags(counts: Counter[str], images: int, common_share: float) -> list[Suggestion]:
    if images < 2:
        return []
    found = []
    for tag, n in counts.most_common():
        if n / images < common_share:
            break
        found.append(
            Suggestion(
                SuggestionKind.COMMON_TAG,
                (tag,),
                n,
                f"{tag!r} is in {n} of {images} images ({n / images:.0%}): make it the trigger word, "
                "or remove it so the LoRA absorbs it into the trigger.",
            )
        )
    return found


def _characters_in_style(counts: Counter[str], character_tags: Collection[str]) -> list[Suggestion]:
    # The tagger's CSV spells "name_(series)"; captions may have "name (series)".
    character_keys = {tag_key(tag) for tag in character_tags}
    found = []
    for tag, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if tag_key(tag) in character_keys:
            found.append(
                Suggestion(
                    SuggestionKind.CHARACTER_IN_STYLE,
                    (tag,),
                    n,
                    f"{tag!r} is a character tag in {n} images of a style set: remove it, "
                    "or the style LoRA will also learn the character.",
                )
            )
    return found


def _near_duplicates(counts: Counter[str]) -> list[Suggestion]:
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for tag in counts:
        groups[tag_key(tag)].append(tag)
    found = []
    for spellings in groups.values():
        if len(spellings) < 2:
            continue
        spellings.sort(key=lambda tag: (-counts[tag], tag))
        listed = " and ".join(f"{tag!r} ({counts[tag]})" for tag in spellings)
        found.append(
            Suggestion(
                SuggestionKind.NEAR_DUPLICATE,
                tuple(spellings),
                sum(counts[tag] for tag in spellings),
                f"{listed} look like one tag: replace the others with {spellings[0]!r}.",
            )
        )
    found.sort(key=lambda s: -s.count)
    return found
