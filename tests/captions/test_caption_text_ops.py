"""Pure tag functions and bulk operations over caption text."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from lora_studio.core.errors import InvalidInput
from lora_studio.services.captions import (
    AddTags,
    AddTrigger,
    BulkOperation,
    FindReplace,
    NormaliseSeparators,
    RemoveDuplicateTags,
    RemoveTags,
    ReplaceTag,
    UnderscoresToSpaces,
)
from lora_studio.services.captions.tags import (
    normalise_text,
    one_line,
    parse_tag_list,
    split_tags,
    tag_key,
    underscores_to_spaces,
)


def test_split_and_normalise():
    assert split_tags(" a ,b,,  c   d ,") == ["a", "b", "c d"]
    assert normalise_text("a ,b，c、 d\n e") == "a, b, c, d, e"
    assert one_line("\ufeffa, b\r\nc\n") == "a, b, c"
    assert one_line("A cat.\nIt sits.") == "A cat. It sits."
    assert parse_tag_list("a, b, a") == ("a", "b")


def test_tag_key_and_underscores():
    assert tag_key("Long_Hair") == tag_key("long  hair") == "long hair"
    assert tag_key("foo_\\(bar\\)") == "foo (bar)"
    assert underscores_to_spaces("long_hair") == "long hair"
    assert underscores_to_spaces("^_^") == "^_^"


@pytest.mark.parametrize(
    ("operation", "before", "after"),
    [
        (AddTrigger(word="ohwx"), "a, b", "ohwx, a, b"),
        (AddTrigger(word="ohwx"), "a, ohwx, b, ohwx", "ohwx, a, b"),
        (AddTrigger(word="ohwx"), "ohwx,a", "ohwx,a"),  # already first: untouched byte for byte
        (AddTrigger(word="ohwx", position="end"), "ohwx, a", "a, ohwx"),
        (AddTrigger(word="ohwx"), "", "ohwx"),
        (AddTags(tags="x, a"), "a, b", "a, b, x"),
        (AddTags(tags=("x",), position="start"), "a", "x, a"),
        (AddTags(tags="a"), "a ,b", "a ,b"),
        (RemoveTags(tags="a, c"), "a, b, c, a", "b"),
        (RemoveTags(tags="z"), "a,  b", "a,  b"),
        (ReplaceTag(old="long_hair", new="long hair"), "long_hair, x", "long hair, x"),
        (ReplaceTag(old="a", new="b"), "a, b, c", "b, c"),
        (FindReplace(find="cat", replace="dog"), "a cat, cats", "a dog, dogs"),
        (FindReplace(find="CAT", replace="dog", ignore_case=True), "Cat", "dog"),
        (FindReplace(find=r"(\w+)_(\w+)", replace=r"\2 \1", regex=True), "long_hair", "hair long"),
        (FindReplace(find="\\", replace="/"), "a\\b", "a/b"),
        (FindReplace(find=".", replace=r"\1"), "a.b", r"a\1b"),  # plain mode: no regex meaning
        (RemoveDuplicateTags(), "a, b, a, c, b", "a, b, c"),
        (NormaliseSeparators(), "a ,b,,  c", "a, b, c"),
        (UnderscoresToSpaces(), "long_hair, ^_^, long hair", "long hair, ^_^"),
    ],
)
def test_operations(operation, before, after):
    operation.check()
    assert operation.apply(before) == after


@pytest.mark.parametrize(
    "operation",
    [
        FindReplace(find="(", regex=True),
        FindReplace(find="a", replace=r"\9", regex=True),
        FindReplace(find=""),
        AddTags(tags=""),
        AddTrigger(word="  "),
        RemoveTags(tags=()),
        ReplaceTag(old="a", new=" "),
    ],
)
def test_invalid_operations_raise_invalid_input(operation):
    with pytest.raises(InvalidInput):
        operation.check()


def test_invalid_regex_message_is_actionable():
    with pytest.raises(InvalidInput, match="not a valid regular expression"):
        FindReplace(find="[a-", regex=True).check()


def test_operations_round_trip_through_json():
    adapter = TypeAdapter(BulkOperation)
    for operation in (AddTags(tags="a, b"), FindReplace(find="x", regex=True), UnderscoresToSpaces()):
        assert adapter.validate_json(operation.model_dump_json()) == operation


def test_operations_forbid_unknown_fields():
    with pytest.raises(ValueError, match="extra"):
        AddTags(tags="a", where="end")  # type: ignore[call-arg]
