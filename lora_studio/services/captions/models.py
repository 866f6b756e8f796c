"""The shapes the captions service takes and returns.

Inputs that a person fills in (a filter) are pydantic models with ``extra="forbid"``; results are
small frozen dataclasses. Image and caption paths are always relative to the dataset folder with
``/`` separators (``"10_alice/001.png"``), which is what the UI and the CLI show.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from lora_studio.services.captions.tags import parse_tag_list


class CaptionState(StrEnum):
    """What the caption file of one image holds."""

    OK = "ok"
    MISSING = "missing"  # no caption file for the image
    EMPTY = "empty"  # a file with no text (sd-scripts stops on it)
    NOT_UTF8 = "not_utf8"  # unreadable as UTF-8; never overwritten without say-so

    @property
    def has_text(self) -> bool:
        return self is CaptionState.OK


class CaptionFilter(BaseModel):
    """Which images a page, a table or a bulk operation covers. Empty fields do not filter.

    ``concept`` is a concept folder name (``"10_alice"``); ``text`` is a case-insensitive
    substring of the caption; ``no_caption`` keeps images whose caption is missing or empty.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    concept: str | None = None
    no_caption: bool = False
    has_tags: tuple[str, ...] = ()
    lacks_tags: tuple[str, ...] = ()
    text: str = ""

    @field_validator("has_tags", "lacks_tags", mode="before")
    @classmethod
    def _split_text(cls, value: object) -> object:
        # A comma-separated string is accepted as well as a list (UI text boxes, CLI flags).
        return parse_tag_list(value) if isinstance(value, str) else value


ALL = CaptionFilter()


@dataclass(frozen=True)
class CaptionItem:
    """One image with its caption, as a page or an editor shows it."""

    image: str
    concept: str
    caption_file: str
    state: CaptionState
    text: str
    tags: tuple[str, ...]
    message: str | None = None  # why the caption cannot be shown or edited as is


@dataclass(frozen=True)
class CaptionPage:
    items: tuple[CaptionItem, ...]
    total: int  # images matching the filter
    offset: int
    limit: int


@dataclass(frozen=True)
class ConceptInfo:
    folder: str  # "10_alice"
    repeats: int
    name: str
    images: int
    captioned: int


@dataclass(frozen=True)
class ExtensionReport:
    """Which caption extension is configured and which ones the dataset actually holds."""

    configured: str
    txt_files: int
    caption_files: int
    message: str | None  # set when the files and the setting disagree or are mixed


@dataclass(frozen=True)
class CaptionStats:
    dataset: str
    images: int
    captioned: int
    missing: int
    empty: int
    not_utf8: tuple[str, ...]  # caption files that are not UTF-8
    orphans: tuple[str, ...]  # caption files whose image no longer exists
    extension: ExtensionReport
    messages: tuple[str, ...]  # one clear line per problem found


@dataclass(frozen=True)
class Example:
    image: str
    before: str
    after: str


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk operation would do; nothing is written."""

    description: str
    matched: int  # images the filter selected
    changed: int  # captions the operation would change
    examples: tuple[Example, ...]
    skipped_not_utf8: tuple[str, ...]
    skipped_empty: tuple[str, ...]  # would become empty (sd-scripts rejects empty captions)


@dataclass(frozen=True)
class BulkResult:
    description: str
    undo_id: str | None  # None when nothing changed
    matched: int
    changed: int
    skipped_not_utf8: tuple[str, ...]
    skipped_empty: tuple[str, ...]


@dataclass(frozen=True)
class UndoSummary:
    id: str
    created: str  # ISO 8601, UTC
    description: str
    captions: int
    status: str  # pending | applied | undone; "pending" after a crash means interrupted


@dataclass(frozen=True)
class UndoResult:
    id: str
    description: str
    restored: int
    conflicts: tuple[str, ...]  # captions edited since; restored only with force=True


@dataclass(frozen=True)
class TagCount:
    tag: str
    count: int  # images whose caption holds the tag
    share: float  # count / images in scope, 0..1


@dataclass(frozen=True)
class FrequencyTable:
    rows: tuple[TagCount, ...]
    images: int
    captioned: int
    distinct_tags: int


class SuggestionKind(StrEnum):
    COMMON_TAG = "common_tag"  # in (nearly) every image: trigger word or pruning candidate
    CHARACTER_IN_STYLE = "character_in_style"  # character tags leaking into a style set
    NEAR_DUPLICATE = "near_duplicate"  # "long hair" / "long_hair"


@dataclass(frozen=True)
class Suggestion:
    kind: SuggestionKind
    tags: tuple[str, ...]
    count: int
    message: str
