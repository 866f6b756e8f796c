"""Bulk caption operations as pure functions over caption text.

Each operation is a small pydantic model (saved in its undo record) with ``check()`` (raises
InvalidInput before anything is read or written), ``describe()`` and ``apply(text) -> text``.
Tag operations leave a caption byte-for-byte alone when its tag list would not change, so the
"changed" counts are honest.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lora_studio.core.errors import InvalidInput
from lora_studio.services.captions.tags import (
    clean_tag,
    dedupe,
    join_tags,
    normalise_text,
    one_line,
    parse_tag_list,
    split_tags,
    underscores_to_spaces,
)

Position = Literal["start", "end"]


class OperationBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    def check(self) -> None:
        """Raise InvalidInput when the operation cannot run; nothing has been touched yet."""

    def describe(self) -> str:
        raise NotImplementedError

    def apply(self, text: str) -> str:
        raise NotImplementedError

    def apply_split(self, text: str, tags: list[str]) -> str:
        """``apply`` for a caption already split (``tags == split_tags(text)``); tag operations
        override it to skip splitting again (the scan has split every caption)."""
        return self.apply(text)


class TagOperation(OperationBase):
    """An operation on the tag list: ``apply_split`` does the work."""

    def apply(self, text: str) -> str:
        return self.apply_split(text, split_tags(text))

    def apply_split(self, text: str, tags: list[str]) -> str:
        raise NotImplementedError


def _tags_field(value: object) -> object:
    return parse_tag_list(value) if isinstance(value, str) else value


def _require_tags(tags: tuple[str, ...], what: str) -> None:
    if not tags:
        raise InvalidInput(f"Give at least one tag to {what}.")
    for tag in tags:
        if "," in tag or "\n" in tag:
            raise InvalidInput(f"The tag {tag!r} contains a comma or a line break; give tags one by one.")


def _retag(text: str, tags: list[str], new_tags: list[str]) -> str:
    """Join ``new_tags``; keep ``text`` untouched when they equal its ``tags`` (already split)."""
    return text if new_tags == tags else join_tags(new_tags)


def _place(tags: list[str], add: tuple[str, ...], position: Position) -> list[str]:
    return [*add, *tags] if position == "start" else [*tags, *add]


class AddTrigger(TagOperation):
    """Put the trigger word first (or last); any other occurrence is removed, never duplicated."""

    kind: Literal["add_trigger"] = "add_trigger"
    word: str
    position: Position = "start"

    def check(self) -> None:
        _require_tags((clean_tag(self.word),) if clean_tag(self.word) else (), "use as trigger word")

    def describe(self) -> str:
        return f"add trigger word {clean_tag(self.word)!r} at the {self.position}"

    def apply_split(self, text: str, tags: list[str]) -> str:
        word = clean_tag(self.word)
        return _retag(text, tags, _place([tag for tag in tags if tag != word], (word,), self.position))


class AddTags(TagOperation):
    """Add tags a caption lacks, at the start or the end."""

    kind: Literal["add_tags"] = "add_tags"
    tags: tuple[str, ...]
    position: Position = "end"

    _split = field_validator("tags", mode="before")(_tags_field)

    def check(self) -> None:
        _require_tags(self.tags, "add")

    def describe(self) -> str:
        return f"add tags {join_tags(self.tags)!r} at the {self.position}"

    def apply_split(self, text: str, tags: list[str]) -> str:
        missing = tuple(tag for tag in self.tags if tag not in tags)
        return _retag(text, tags, _place(tags, missing, self.position)) if missing else text


class RemoveTags(TagOperation):
    kind: Literal["remove_tags"] = "remove_tags"
    tags: tuple[str, ...]

    _split = field_validator("tags", mode="before")(_tags_field)

    def check(self) -> None:
        _require_tags(self.tags, "remove")

    def describe(self) -> str:
        return f"remove tags {join_tags(self.tags)!r}"

    def apply_split(self, text: str, tags: list[str]) -> str:
        drop = set(self.tags)
        return _retag(text, tags, [tag for tag in tags if tag not in drop])


class ReplaceTag(TagOperation):
    """Rename one tag in place; if the new tag is already there the duplicate is dropped."""

    kind: Literal["replace_tag"] = "replace_tag"
    old: str
    new: str

    def check(self) -> None:
        _require_tags(tuple(t for t in (clean_tag(self.old),) if t), "replace")
        _require_tags(tuple(t for t in (clean_tag(self.new),) if t), "replace it with")

    def describe(self) -> str:
        return f"replace tag {clean_tag(self.old)!r} with {clean_tag(self.new)!r}"

    def apply_split(self, text: str, tags: list[str]) -> str:
        old, new = clean_tag(self.old), clean_tag(self.new)
        if old not in tags:
            return text
        return _retag(text, tags, dedupe(new if tag == old else tag for tag in tags))


class FindReplace(OperationBase):
    """Plain or regular-expression find/replace over the whole caption line."""

    kind: Literal["find_replace"] = "find_replace"
    find: str
    replace: str = ""
    regex: bool = False
    ignore_case: bool = False

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        source = self.find if self.regex else re.escape(self.find)
        try:
            return re.compile(source, re.IGNORECASE if self.ignore_case else 0)
        except re.error as error:
            raise InvalidInput(
                f"{self.find!r} is not a valid regular expression: {error}.",
                hint="Fix the pattern, or turn off 'regular expression' to search for the text as typed.",
            ) from error

    def check(self) -> None:
        if not self.find:
            raise InvalidInput("Give the text to find.")
        if self.regex:
            try:
                self.pattern.sub(self.replace, "")
            except (re.error, IndexError) as error:
                raise InvalidInput(f"The replacement {self.replace!r} is not valid: {error}.") from error
        else:
            self.pattern  # noqa: B018  compile now so a bad pattern fails before any read

    def describe(self) -> str:
        mode = "regex" if self.regex else "text"
        return f"find {mode} {self.find!r} and replace with {self.replace!r}"

    def apply(self, text: str) -> str:
        if self.regex:
            return one_line(self.pattern.sub(self.replace, text))
        if self.ignore_case:
            return one_line(self.pattern.sub(lambda _: self.replace, text))
        return one_line(text.replace(self.find, self.replace))


class RemoveDuplicateTags(TagOperation):
    kind: Literal["remove_duplicate_tags"] = "remove_duplicate_tags"

    def describe(self) -> str:
        return "remove duplicate tags"

    def apply_split(self, text: str, tags: list[str]) -> str:
        return _retag(text, tags, dedupe(tags))


class NormaliseSeparators(OperationBase):
    """``"a ,b,,  c"`` → ``"a, b, c"``: one ``", "`` between tags, no empty tags, single spaces."""

    kind: Literal["normalise_separators"] = "normalise_separators"

    def describe(self) -> str:
        return "normalise separators and white space"

    def apply(self, text: str) -> str:
        return normalise_text(text)


class UnderscoresToSpaces(TagOperation):
    """``long_hair`` → ``long hair`` (kaomoji such as ``^_^`` are kept)."""

    kind: Literal["underscores_to_spaces"] = "underscores_to_spaces"

    def describe(self) -> str:
        return "replace underscores with spaces"

    def apply_split(self, text: str, tags: list[str]) -> str:
        return _retag(text, tags, dedupe(underscores_to_spaces(tag) for tag in tags))


BulkOperation = Annotated[
    AddTrigger
    | AddTags
    | RemoveTags
    | ReplaceTag
    | FindReplace
    | RemoveDuplicateTags
    | NormaliseSeparators
    | UnderscoresToSpaces,
    Field(discriminator="kind"),
]
