"""Caption files: read, merge without duplicates, and write atomically."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from lora_studio.config.tagging import ExistingCaption, TaggingOptions
from lora_studio.core.atomic import write_text_atomic
from lora_studio.workers.wd14.labels import unique_tags


class CaptionResult(StrEnum):
    WRITTEN = "written"
    MERGED = "merged"


class UnreadableCaption(Exception):
    """An existing caption cannot be read; it is left untouched and the image is skipped."""


def split_caption(text: str, separator: str) -> list[str]:
    """Tags of an existing caption; a separator like ", " splits on its visible part ","."""
    mark = separator.strip() or separator
    return [tag.strip() for line in text.splitlines() for tag in line.split(mark) if tag.strip()]


def merged_tags(existing: list[str], new: list[str], options: TaggingOptions) -> list[str]:
    """Trigger words first, then the existing tags, then new tags not already there."""
    return unique_tags([*options.trigger_words, *existing, *new])


def write_caption(path: Path, tags: list[str], options: TaggingOptions) -> CaptionResult:
    """Write ``tags`` to ``path`` as one line, merging with what is there when asked.

    Raises:
        UnreadableCaption: merge mode and the existing file is not UTF-8 text (it is kept as is).
    """
    result = CaptionResult.WRITTEN
    if options.existing is ExistingCaption.MERGE and path.exists():
        try:
            existing = split_caption(path.read_text(encoding="utf-8"), options.separator)
        except UnicodeDecodeError:
            raise UnreadableCaption(
                f"existing caption {path.name} is not UTF-8 text; left unchanged"
            ) from None
        except OSError as error:
            raise UnreadableCaption(f"cannot read existing caption {path.name}: {error.strerror}") from None
        tags = merged_tags(existing, tags, options)
        result = CaptionResult.MERGED
    write_text_atomic(path, options.separator.join(tags) + "\n")
    return result
